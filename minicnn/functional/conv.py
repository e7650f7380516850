"""2-D convolution by im2col (or Winograd's transforms) and matrix multiplies.

Shapes (Keras layout): ``x`` (N, H, W, C) images, ``kernel`` (kh, kw, C, F)
in HWIO order, ``bias`` (F,), output ``y`` (N, OH, OW, F) with

    y[n, i, j, f] = b[f] + sum_{p, q, c} x_pad[n, i*sh + p, j*sw + q, c] * K[p, q, c, f]

which ``minicnn.tools.naive.conv2d`` computes with seven nested loops. im2col
copies every window into a row, ``cols`` (N*OH*OW, kh*kw*C), so the sum
becomes one matrix product ``cols @ K.reshape(kh*kw*C, F)``. Backward, with
``gy`` reshaped to (N*OH*OW, F):

    dK = cols.T @ gy         db = sum of gy over rows
    dcols = gy @ K.T         dx = col2im(dcols): each window's gradient added back

``Im2colConvolution`` is exactly that, in a few lines. ``ChunkedConvolution``,
the fast version that ``conv2d`` runs (but for 3x3 kernels at stride 1 over
16 channels or more on the CPU, which go to ``WinogradConvolution``: 2.25 times fewer
multiply-adds, see its docstring), computes the same thing a few images
at a time (``kernels.batch_parts``): on a CPU each slice's ``cols`` then
stays in cache between im2col and the matrix product, and backward unfolds
``x`` again rather than keeping the whole ``cols``, which is kh*kw times the
size of ``x`` (133 MB for the second layer of the seed-004 network), at the
cost of one more im2col. The cores share the slices (``map_parts``), each
slice's im2col, products and col2im on one core, rather than each kernel
and product inside them: they meet once per slice, not at every call. The
tests check the two against each other and against the loops.

Two options, as in Keras's Conv2D, change which pixels meet which weights:

* ``dilation_rate`` (dh, dw), atrous convolution: the taps of the window
  are spread apart, ``x_pad[n, i*sh + p*dh, j*sw + q*dw, c]``, so a kh-row
  kernel spans (kh - 1) * dh + 1 rows with no more weights; 'same' padding
  is computed for that span. im2col reads the spread-out taps, and nothing
  else changes.
* ``groups`` G: the C input channels and the F filters are each cut into G
  groups, and filter group g sees only channel group g, so the kernel is
  (kh, kw, C/G, F). That is G convolutions side by side; with ``cols_g``
  the columns of channel group g and ``K_g``, ``gy_g`` those of filter group g:

      y_g = cols_g @ K_g        dK_g = cols_g.T @ gy_g        dcols_g = gy_g @ K_g.T

  ``by_group`` stacks the G operands along a new first axis, and one
  matrix product (which broadcasts over that axis) does every group. For
  G = 1 the stacking is a reshape, not a copy: the plain products above.
"""


from minicnn import devices, kernels
from minicnn.arguments import positive_int_pair
from minicnn.autograd import Function, Tensor
from minicnn.devices import get_array_module
from minicnn.functional.geometry import check_rank, window_geometry
from minicnn.kernels.parallel import map_parts


def dilated_window(window, dilation):
    """The rows and columns a dilated window spans: (k - 1) * d + 1 each."""
    return tuple((k - 1) * d + 1 for k, d in zip(window, dilation))


def by_group(a, groups):
    """(M, k, G*n) -> (G, M, k*n): the last axis cut into G groups, which go first."""
    m, k, gn = a.shape
    return a.reshape(m, k, groups, gn // groups).transpose(2, 0, 1, 3).reshape(groups, m, -1)


def from_groups(a, k):
    """(G, M, k*n) -> (M, k, G*n): the inverse of ``by_group``."""
    groups, m, kn = a.shape
    return a.reshape(groups, m, k, kn // k).transpose(1, 2, 0, 3).reshape(m, k, -1)


class SlidingWindows(Function):
    """What every convolution shares: a kernel's (dilated) windows slid over
    NHWC images, unfolded by im2col and folded back by col2im.

    A subclass sets ``self.kernel`` (the window is its first two axes) and
    ``self.pad`` (from ``geometry``) in forward, before it unfolds or folds.
    """
    name = 'conv2d'  # what error messages call it

    def __init__(self, strides=1, padding='valid', dilation_rate=1):
        self.strides = positive_int_pair(self.name, 'strides', strides)
        self.dilation = positive_int_pair(self.name, 'dilation_rate', dilation_rate)
        self.padding = padding

    def geometry(self, x_shape, kernel_shape):
        """Padding (top, bottom, left, right) and output size (OH, OW) for x_shape."""
        window = dilated_window(kernel_shape[:2], self.dilation)
        return window_geometry(self.name, x_shape, window, self.strides, self.padding)

    def unfold(self, x, serial=False):
        """im2col: (B, H, W, C) -> (B, OH, OW, kh, kw, C); ``serial``: on this thread
        only, for one slice of a batch whose slices the cores share (``_map_parts``)."""
        k = kernels.for_array(x)
        im2col = k.im2col_serial if serial else k.im2col
        return im2col(x, self.kernel.shape[:2], self.strides, self.pad, self.dilation)

    def fold(self, g_cols, x_shape, serial=False):
        """col2im, the adjoint of ``unfold``: (B, OH, OW, kh, kw, C) -> x_shape."""
        k = kernels.for_array(g_cols)
        col2im = k.col2im_serial if serial else k.col2im
        return col2im(g_cols, x_shape, self.kernel.shape[:2], self.strides, self.pad,
                      self.dilation)

    def _map_parts(self, work):
        """[work(part) for part in the subclass's slices of the batch (``_parts``)], on as
        many threads as x's kernels run in parallel (one, this thread, for the references)."""
        return map_parts(work, self._parts(), kernels.for_array(self.x).parallel_threads())


class Im2colConvolution(SlidingWindows):
    """The plain convolution: unfold the whole batch, one product forward, two back."""

    def __init__(self, strides=1, padding='valid', dilation_rate=1, groups=1):
        super().__init__(strides, padding, dilation_rate)
        if not isinstance(groups, int) or groups < 1:
            raise ValueError(f'{self.name}: groups must be a positive int, got {groups!r}')
        self.groups = groups

    def forward(self, x, kernel, bias=None):
        check_shapes(x, kernel, bias, self.groups)
        self.pad, out_hw = self.geometry(x.shape, kernel.shape)
        self.x_shape, self.kernel = x.shape, kernel
        self.cols = self.unfold(x)                                          # (N, OH, OW, kh, kw, C)
        y = self.cols_times_kernel(self.cols).reshape(x.shape[0], *out_hw, kernel.shape[3])
        return y if bias is None else y + bias

    def backward(self, gy):
        g = gy.reshape(-1, gy.shape[-1])                                    # (N*OH*OW, F)
        g_cols = self.g_cols(g, self.cols.shape)
        return self.fold(g_cols, self.x_shape), self.g_kernel(self.cols, g), g.sum(axis=0)

    # -- The three products, each one per group (see the module docstring).

    def grouped_cols(self, cols):
        """(B, OH, OW, kh, kw, C) -> (G, B*OH*OW, kh*kw*C/G)."""
        kh, kw = self.kernel.shape[:2]
        return by_group(cols.reshape(-1, kh * kw, cols.shape[-1]), self.groups)

    def grouped_kernel(self):
        """(kh, kw, C/G, F) -> (G, kh*kw*C/G, F/G)."""
        return by_group(self.kernel.reshape(-1, 1, self.kernel.shape[3]), self.groups)

    def cols_times_kernel(self, cols):
        """y = cols @ K: -> (B*OH*OW, F)."""
        y = self.grouped_cols(cols) @ self.grouped_kernel()
        return from_groups(y, 1).reshape(-1, self.kernel.shape[3])

    def g_kernel(self, cols, g):
        """dK = cols.T @ gy, for g = gy as (B*OH*OW, F): -> (kh, kw, C/G, F)."""
        g_kernel = self.grouped_cols(cols).swapaxes(1, 2) @ by_group(g[:, None, :], self.groups)
        return from_groups(g_kernel, 1).reshape(self.kernel.shape)

    def g_cols(self, g, cols_shape):
        """dcols = gy @ K.T, for g = gy as (B*OH*OW, F): -> cols_shape (B, OH, OW, kh, kw, C)."""
        kh, kw = self.kernel.shape[:2]
        g_cols = by_group(g[:, None, :], self.groups) @ self.grouped_kernel().swapaxes(1, 2)
        return from_groups(g_cols, kh * kw).reshape(cols_shape)


class ChunkedConvolution(Im2colConvolution):
    """The fast version: the same products over cache-sized slices of the batch, the
    slices shared among the cores, each slice's im2col and products on one core."""

    def forward(self, x, kernel, bias=None):
        check_shapes(x, kernel, bias, self.groups)
        xp = get_array_module(x)
        self.pad, self.out_hw = self.geometry(x.shape, kernel.shape)
        self.x, self.kernel = x, kernel
        y = xp.empty((x.shape[0], *self.out_hw, kernel.shape[3]), dtype=xp.result_type(x, kernel))

        def forward_part(part):
            y_part = y[part]
            y_part[...] = self.cols_times_kernel(self.unfold(x[part], serial=True)).reshape(
                y_part.shape)
            if bias is not None:
                y_part += bias
        self._map_parts(forward_part)
        return y

    def backward(self, gy):
        xp = get_array_module(gy)
        # The first layer's images need no gradient, nor does a frozen kernel
        # (the fast recipe's whitening layer): both products can be skipped.
        gx = xp.empty(self.x.shape, dtype=gy.dtype) if self.needs_grad[0] else None

        def backward_part(part):
            """This slice's shares of dK and db; writes its rows of dx."""
            g = gy[part].reshape(-1, gy.shape[-1])
            g_kernel = None
            if gx is not None or self.needs_grad[1]:
                cols = self.unfold(self.x[part], serial=True)
                if gx is not None:
                    gx[part] = self.fold(self.g_cols(g, cols.shape), gx[part].shape, serial=True)
                if self.needs_grad[1]:
                    g_kernel = self.g_kernel(cols, g)
            return g_kernel, g.sum(axis=0)
        g_kernel, g_bias = zip(*self._map_parts(backward_part))
        return gx, added_up(g_kernel) if self.needs_grad[1] else None, added_up(g_bias)

    def _parts(self):
        """Slices of the batch, each unfolded into a few MB of ``cols``."""
        kh, kw = self.kernel.shape[:2]
        cols_per_image = self.out_hw[0] * self.out_hw[1] * kh * kw * self.x.shape[3]
        return kernels.batch_parts(self.x, cols_per_image * self.x.itemsize)


class WinogradConvolution(SlidingWindows):
    """3x3 convolutions at stride 1 by Winograd's minimal filtering F(2x2, 3x3)
    (Lavin & Gray, "Fast algorithms for convolutional neural networks", 2016).

    Two outputs of a 3-tap filter g over four inputs d, y0 = d0 g0 + d1 g1 +
    d2 g2 and y1 = d1 g0 + d2 g1 + d3 g2, take six multiplications as
    written; Winograd's F(2, 3) takes four:

        m0 = (d0 - d2) g0        m1 = (d1 + d2) (g0 + g1 + g2) / 2
        m3 = (d1 - d3) g2        m2 = (d2 - d1) (g0 - g1 + g2) / 2
        y0 = m0 + m1 + m2        y1 = m1 - m2 - m3

    that is y = A^T [(G g) * (B^T d)], * elementwise, with the matrices in
    ``kernels.winograd_reference``. Nested in two dimensions, it makes a
    2x2 tile of outputs from a 4x4 tile d of the input with 16
    multiplications where the sums take 36:

        Y = A^T [(G K G^T) * (B^T d B)] A

    With channels, the elementwise product becomes a sum over c for each of
    the 16 entries k of the transformed tiles, which is 16 matrix products:

        V = B^T d B   (16, tiles, C)     U = G K G^T   (16, C, F)
        M[k] = V[k] @ U[k]               Y = A^T M A of each tile

    16 C F multiply-adds per tile of four outputs, against im2col's 9 C F per
    output: 2.25 times fewer. The transforms are only additions, memory-bound
    work for the kernels (Numba loops or reference arrays). Backward runs
    the adjoint of each step, in reverse order:

        dM = A dY A^T          per tile (and db, the sum of dY, in the same pass)
        dU[k] = V[k].T @ dM[k]        dK = G^T dU G
        dV[k] = dM[k] @ U[k].T        dx = B dV B^T per tile, overlapping tiles added

    so the gradients take 2.25 times fewer multiply-adds as well. As in
    ``ChunkedConvolution``, the batch goes a few images at a time, so that V
    and M stay in cache, the cores share the slices (``map_parts``), and
    backward transforms x again rather than keeping V.

    The additions round differently from im2col's sums. Against exact sums,
    in float32, the tests measure y's error below im2col's and that of the
    gradients up to 2.5 times it: about 1e-7 to 1e-6 of the largest value.
    """

    def __init__(self, strides=1, padding='valid', dilation_rate=1, groups=1):
        super().__init__(strides, padding, dilation_rate)
        if (self.strides, self.dilation, groups) != ((1, 1), (1, 1), 1):
            raise ValueError(f'{self.name}: Winograd F(2x2, 3x3) takes stride 1, no dilation '
                             f'and one group, got strides={self.strides}, '
                             f'dilation_rate={self.dilation}, groups={groups}')

    def forward(self, x, kernel, bias=None):
        check_shapes(x, kernel, bias)
        if kernel.shape[:2] != (3, 3):
            raise ValueError(f'{self.name}: Winograd F(2x2, 3x3) takes a 3x3 kernel, got '
                             f'{kernel.shape[:2]}')
        xp, k = get_array_module(x), self._transforms(x)
        self.pad, out_hw = self.geometry(x.shape, kernel.shape)
        self.tiles = k.tile_counts(out_hw)
        self.x, self.kernel, self.u = x, kernel, k.kernel_transform(kernel)    # U (16, C, F)
        y = xp.empty((x.shape[0], *out_hw, kernel.shape[3]), dtype=xp.result_type(x, kernel))

        def forward_part(part):
            v = k.input_transform(x[part], self.pad, self.tiles)                # (16, T, C)
            k.output_transform(v @ self.u, bias, y[part])
        self._map_parts(forward_part)
        return y

    def backward(self, gy):
        xp, k = get_array_module(gy), self._transforms(gy)
        gx = xp.empty(self.x.shape, dtype=gy.dtype) if self.needs_grad[0] else None
        # U^T laid out as a matrix of its own: OpenBLAS multiplies by it 10-30% faster
        # than by the transposed view of U.
        u_t = xp.ascontiguousarray(self.u.swapaxes(1, 2))                       # (16, F, C)

        def backward_part(part):
            """This slice's shares of dU and db; writes its rows of dx."""
            g_m, g_bias = k.output_gradient_transform(gy[part], self.tiles)    # (16, T, F)
            if gx is not None:  # the first layer's images need no gradient
                k.input_gradient_transform(g_m @ u_t, self.pad, self.tiles, gx[part])
            if not self.needs_grad[1]:  # nor does a frozen kernel
                return None, g_bias
            v = k.input_transform(self.x[part], self.pad, self.tiles)
            return v.swapaxes(1, 2) @ g_m, g_bias
        g_u, g_bias = zip(*self._map_parts(backward_part))
        g_kernel = k.kernel_gradient(added_up(g_u)) if self.needs_grad[1] else None
        return gx, g_kernel, added_up(g_bias)

    @staticmethod
    def _transforms(x):
        """The transform kernels for x: the Numba loops where the Numba kernels are chosen."""
        return kernels.for_array(x).winograd

    def _parts(self):
        """Slices of the batch, each transformed into a few MB of V and M."""
        c, f = self.kernel.shape[2:]
        bytes_per_image = 16 * self.tiles[0] * self.tiles[1] * (c + f) * self.x.itemsize
        return kernels.batch_parts(self.x, bytes_per_image)


def added_up(arrays):
    """The sum of fresh arrays (the parts' shares), added into the first in order."""
    total = arrays[0]
    for array in arrays[1:]:
        total += array
    return total


# Below this many input channels the transforms cost more than the products they
# spare: at 31x31 and 64 filters on the 2-core VM, Winograd's forward and backward
# took 1.12x im2col's time at 3 channels, 1.05x at 8, 0.80x at 16 and 0.65x at 24.
WINOGRAD_MIN_CHANNELS = 16


def fastest_method(x, kernel, strides, dilation_rate, groups):
    """The convolution ``conv2d`` runs: ``WinogradConvolution`` for a 3x3 kernel at
    stride 1, undilated and ungrouped, over at least WINOGRAD_MIN_CHANNELS channels,
    on the CPU; else ``ChunkedConvolution``. On the GPU, one large im2col product
    per slice suits cuBLAS, and the transforms would need CUDA kernels of their own."""
    device = x.device if isinstance(x, Tensor) else devices.device_of(x)
    winograd = (tuple(kernel.shape[:2]) == (3, 3) and groups == 1 and device == 'cpu'
                and kernel.shape[2] >= WINOGRAD_MIN_CHANNELS
                and positive_int_pair('conv2d', 'strides', strides) == (1, 1)
                and positive_int_pair('conv2d', 'dilation_rate', dilation_rate) == (1, 1))
    return WinogradConvolution if winograd else ChunkedConvolution


def check_shapes(x, kernel, bias, groups=1):
    check_rank('conv2d', 'x', x, 4, '(N, H, W, C)')
    check_rank('conv2d', 'kernel', kernel, 4, '(kh, kw, in_channels / groups, out_channels)')
    expected = kernel.shape[2] * groups
    if x.shape[3] != expected:
        per_group = f' ({kernel.shape[2]} in each of {groups} groups)' if groups > 1 else ''
        raise ValueError(f'conv2d: x has {x.shape[3]} channels but the kernel expects '
                         f'{expected}{per_group} (x shape {x.shape}, kernel shape {kernel.shape})')
    if kernel.shape[3] % groups:
        raise ValueError(f'conv2d: the kernel\'s {kernel.shape[3]} filters do not split into '
                         f'groups={groups} (kernel shape {kernel.shape})')
    check_bias('conv2d', bias, kernel.shape[3])


def check_bias(fn_name, bias, filters):
    if bias is not None and bias.shape != (filters,):
        raise ValueError(f'{fn_name}: bias must have shape ({filters},), got {bias.shape}')


def conv2d(x, kernel, bias=None, strides=1, padding='valid', dilation_rate=1, groups=1,
           method=None):
    """Convolve NHWC images x with an HWIO kernel; see the module docstring.

    padding: 'valid' (none), 'same' (output ceil(H / stride), extra pixel at
    the bottom/right as in Keras) or an int or pair of ints (symmetric zeros).
    dilation_rate: an int or pair, the spacing of the kernel's taps.
    groups: how many groups the channels are cut into; kernel (kh, kw, C/groups, F).
    method: the Function that computes it: ``Im2colConvolution`` (plain),
    ``ChunkedConvolution`` (fast) or ``WinogradConvolution`` (3x3 at stride
    1 only); all equal ``minicnn.tools.naive.conv2d``. By default ``fastest_method``
    picks one.
    """
    inputs = (x, kernel) if bias is None else (x, kernel, bias)
    if method is None:
        method = fastest_method(x, kernel, strides, dilation_rate, groups)
    return method(strides, padding, dilation_rate, groups)(*inputs)
