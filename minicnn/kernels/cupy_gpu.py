"""CUDA twins of the reference kernels, compiled at run time through CuPy.

Same functions, signatures and results as ``reference``; the arrays are CuPy
arrays. Each function launches one kernel with one GPU thread per output
element. The flat index of that element is split into its coordinates,
innermost (the channel) first, so neighbouring threads touch neighbouring
channels: with NHWC arrays their memory accesses coalesce into few
transactions.

The gradients (``col2im`` and the pooling backwards) are *gathers*: one
thread per input element adds up the windows that cover it. Scattering from
each output instead would need atomic additions, which are slower and add in
an unpredictable order. The gathers visit the windows in the reference's
order, so their sums round as the reference's do (up to float32 subnormals,
which CuPy's default -ftz=true flushes to zero).

``erf``, which the exact GELU needs, is CUDA's own, as a one-line CuPy
elementwise kernel; ReLU is plain CuPy array calls.

The CUDA C++ source is plain text in this module (``CUDA_SOURCE``), one
template per kernel, instantiated for T = float or double and for a 32- or
64-bit ``Index`` (``NAME_EXPRESSIONS``). Importing the module does not import
CuPy: NVRTC compiles the source the first time a kernel runs. The tests
compile the same text with nvcc, NVRTC and the host C++ compiler, and run
it on the CPU, on machines without a GPU.
"""
import collections
import functools

import numpy as np

from minicnn import devices
# output_size and window_counts are part of every kernel module's interface.
from minicnn.kernels.reference import output_size, window_counts  # noqa: F401
# CuPy runs each of these as one elementwise CUDA kernel already.
from minicnn.kernels.reference import relu, relu_backward  # noqa: F401

# C++ element type T of each supported dtype.
_C_TYPES = {np.dtype(np.float32): 'float', np.dtype(np.float64): 'double'}

# C++ Index type of each index width, with the NumPy scalar that passes it.
_INDEX_TYPES = {32: ('int', np.int32), 64: ('long long', np.int64)}

_THREADS_PER_BLOCK = 256   # a multiple of the warp size (32); a common, safe choice
_MAX_BLOCKS = 65535        # fills any current GPU many times; past it, threads loop

# The window geometry every kernel receives, field for field as ``struct
# Window`` in the CUDA source (the tests check that the two agree).
_Window = collections.namedtuple('Window', 'h w c oh ow kh kw sh sw dh dw top left')

_COMMON_SOURCE = r'''
// ---- Shared by every kernel ------------------------------------------------
// Index is int when every flat index fits in 32 bits, else long long: GPUs
// divide integers in software, and 64-bit division costs several times more.

// A window sliding over the images of an NHWC batch; sizes count elements.
template <typename Index>
struct Window {
    Index h, w, c;      // input rows, columns, channels
    Index oh, ow;       // output rows, columns
    Index kh, kw;       // window rows, columns
    Index sh, sw;       // strides
    Index dh, dw;       // dilation: offset i of a window is i * dh rows below its first
    Index top, left;    // padding before the first row, before the first column

    // Flat offsets into input (N, H, W, C), output (N, OH, OW, C)
    // and cols (N, OH, OW, kh, kw, C).
    __device__ Index input_at(Index n, Index row, Index col, Index ch) const
    { return ((n * h + row) * w + col) * c + ch; }
    __device__ Index output_at(Index n, Index oy, Index ox, Index ch) const
    { return ((n * oh + oy) * ow + ox) * c + ch; }
    __device__ Index cols_at(Index n, Index oy, Index ox, Index i, Index j, Index ch) const
    { return ((((n * oh + oy) * ow + ox) * kh + i) * kw + j) * c + ch; }

    // The input row that offset i of output row oy reads (< 0 or >= h: padding),
    // and the same for columns.
    __device__ Index row_of(Index oy, Index i) const { return oy * sh + i * dh - top; }
    __device__ Index col_of(Index ox, Index j) const { return ox * sw + j * dw - left; }
    __device__ bool inside(Index row, Index col) const
    { return 0 <= row && row < h && 0 <= col && col < w; }
};

// Every kernel takes the geometry as these scalars, in the order of the
// fields above, and gathers them into a Window.
#define WINDOW_PARAMS Index h, Index w, Index c, Index oh, Index ow, Index kh, \
                      Index kw, Index sh, Index sw, Index dh, Index dw, Index top, Index left
#define WINDOW_FROM_PARAMS Window<Index>{h, w, c, oh, ow, kh, kw, sh, sw, dh, dw, top, left}

// Grid-stride loop: thread t of the grid handles elements t, t + stride, ...
template <typename Index>
__device__ Index first_index()
{ return Index(blockIdx.x) * Index(blockDim.x) + Index(threadIdx.x); }
template <typename Index>
__device__ Index grid_stride() { return Index(gridDim.x) * Index(blockDim.x); }

// -inf, which the reference pads max pooling with. NVRTC has no header that
// defines INFINITY, so reinterpret its IEEE bit pattern with CUDA intrinsics.
template <typename T> __device__ T minus_infinity();
template <> __device__ float minus_infinity<float>() { return -__int_as_float(0x7f800000); }
template <> __device__ double minus_infinity<double>()
{ return -__longlong_as_double(0x7ff0000000000000LL); }

// Remove the innermost coordinate, of extent `size`, from a flat index.
template <typename Index>
__device__ Index peel(Index& rest, Index size)
{
    const Index coordinate = rest % size;
    rest /= size;
    return coordinate;
}

// How many of the positions start, ..., start + k - 1 lie in [0, size).
template <typename Index>
__device__ Index overlap(Index start, Index k, Index size)
{
    const Index first = start > 0 ? start : 0;
    const Index end = start + k < size ? start + k : size;
    return end > first ? end - first : 0;
}

// Number of pixels of window (oy, ox) inside the image: the divisor of the
// average (Keras 'same' leaves the padding out). Pooling windows are never
// dilated, so their pixels are contiguous.
template <typename Index>
__device__ Index pixel_count(const Window<Index>& g, Index oy, Index ox)
{
    return overlap(g.row_of(oy, 0), g.kh, g.h) * overlap(g.col_of(ox, 0), g.kw, g.w);
}

// Call visit(i, j, row, col) for each offset (i, j) of window (oy, ox) that
// lies inside the image, in the reference's order (i, then j, ascending).
template <typename Index, typename Visit>
__device__ void for_each_pixel_in(const Window<Index>& g, Index oy, Index ox, Visit visit)
{
    for (Index i = 0; i < g.kh; ++i) {
        for (Index j = 0; j < g.kw; ++j) {
            const Index row = g.row_of(oy, i), col = g.col_of(ox, j);
            if (g.inside(row, col)) visit(i, j, row, col);
        }
    }
}

// The output position o whose window puts offset k on input position p, that
// is o * stride + k * dilation - before == p; -1 when no window does.
template <typename Index>
__device__ Index window_at(Index p, Index k, Index stride, Index dilation, Index before,
                           Index outputs)
{
    const Index shifted = p + before - k * dilation;
    if (shifted < 0 || shifted % stride != 0) return -1;
    return shifted / stride < outputs ? shifted / stride : -1;
}

// Call visit(oy, ox, i, j) for each window (oy, ox) whose offset (i, j) lands
// on input pixel (row, col), in the reference's order (i, then j, ascending).
template <typename Index, typename Visit>
__device__ void for_each_window_on(const Window<Index>& g, Index row, Index col, Visit visit)
{
    for (Index i = 0; i < g.kh; ++i) {
        const Index oy = window_at(row, i, g.sh, g.dh, g.top, g.oh);
        if (oy < 0) continue;
        for (Index j = 0; j < g.kw; ++j) {
            const Index ox = window_at(col, j, g.sw, g.dw, g.left, g.ow);
            if (ox >= 0) visit(oy, ox, i, j);
        }
    }
}
'''

_IM2COL_SOURCE = r'''
// cols[n, oy, ox, i, j, ch] = x[n, oy*sh + i*dh - top, ox*sw + j*dw - left, ch], 0 in the padding.
template <typename T, typename Index>
__global__ void im2col(const T* x, T* cols, Index total, WINDOW_PARAMS)
{
    const Window<Index> g = WINDOW_FROM_PARAMS;
    for (Index index = first_index<Index>(); index < total; index += grid_stride<Index>()) {
        Index rest = index;
        const Index ch = peel(rest, g.c);
        const Index j = peel(rest, g.kw);
        const Index i = peel(rest, g.kh);
        const Index ox = peel(rest, g.ow);
        const Index oy = peel(rest, g.oh);
        const Index n = rest;
        const Index row = g.row_of(oy, i), col = g.col_of(ox, j);
        cols[index] = g.inside(row, col) ? x[g.input_at(n, row, col, ch)] : T(0);
    }
}
'''

_COL2IM_SOURCE = r'''
// x[n, row, col, ch] = sum of cols[n, oy, ox, i, j, ch] over the windows whose
// offset (i, j) lands on (row, col).
template <typename T, typename Index>
__global__ void col2im(const T* cols, T* x, Index total, WINDOW_PARAMS)
{
    const Window<Index> g = WINDOW_FROM_PARAMS;
    for (Index index = first_index<Index>(); index < total; index += grid_stride<Index>()) {
        Index rest = index;
        const Index ch = peel(rest, g.c);
        const Index col = peel(rest, g.w);
        const Index row = peel(rest, g.h);
        const Index n = rest;
        T sum = T(0);
        for_each_window_on(g, row, col, [&](Index oy, Index ox, Index i, Index j) {
            sum += cols[g.cols_at(n, oy, ox, i, j, ch)];
        });
        x[index] = sum;
    }
}
'''

_MAX_POOL_SOURCE = r'''
// y[n, oy, ox, ch] = the largest in-image pixel of the window; argmax = its
// offset i * kw + j. Strict > keeps the first maximum; a window wholly in
// the padding gives -inf and 0, as the reference (which pads with -inf) does.
template <typename T, typename Index>
__global__ void max_pool(const T* x, T* y, int* argmax, Index total, WINDOW_PARAMS)
{
    const Window<Index> g = WINDOW_FROM_PARAMS;
    for (Index index = first_index<Index>(); index < total; index += grid_stride<Index>()) {
        Index rest = index;
        const Index ch = peel(rest, g.c);
        const Index ox = peel(rest, g.ow);
        const Index oy = peel(rest, g.oh);
        const Index n = rest;
        T best = minus_infinity<T>();
        int best_offset = 0;
        for_each_pixel_in(g, oy, ox, [&](Index i, Index j, Index row, Index col) {
            const T value = x[g.input_at(n, row, col, ch)];
            if (value > best) {
                best = value;
                best_offset = static_cast<int>(i * g.kw + j);
            }
        });
        y[index] = best;
        argmax[index] = best_offset;
    }
}
'''

_MAX_POOL_BACKWARD_SOURCE = r'''
// gx[n, row, col, ch] = sum of gy[n, oy, ox, ch] over the windows whose
// maximum is this pixel (argmax == the offset (i, j) that lands on it).
template <typename T, typename Index>
__global__ void max_pool_backward(const T* gy, const int* argmax, T* gx, Index total,
                                  WINDOW_PARAMS)
{
    const Window<Index> g = WINDOW_FROM_PARAMS;
    for (Index index = first_index<Index>(); index < total; index += grid_stride<Index>()) {
        Index rest = index;
        const Index ch = peel(rest, g.c);
        const Index col = peel(rest, g.w);
        const Index row = peel(rest, g.h);
        const Index n = rest;
        T sum = T(0);
        for_each_window_on(g, row, col, [&](Index oy, Index ox, Index i, Index j) {
            const Index out = g.output_at(n, oy, ox, ch);
            if (argmax[out] == i * g.kw + j) sum += gy[out];
        });
        gx[index] = sum;
    }
}
'''

_AVG_POOL_SOURCE = r'''
// y[n, oy, ox, ch] = (sum of the window's in-image pixels) / (how many there are).
template <typename T, typename Index>
__global__ void avg_pool(const T* x, T* y, Index total, WINDOW_PARAMS)
{
    const Window<Index> g = WINDOW_FROM_PARAMS;
    for (Index index = first_index<Index>(); index < total; index += grid_stride<Index>()) {
        Index rest = index;
        const Index ch = peel(rest, g.c);
        const Index ox = peel(rest, g.ow);
        const Index oy = peel(rest, g.oh);
        const Index n = rest;
        T sum = T(0);
        for_each_pixel_in(g, oy, ox, [&](Index, Index, Index row, Index col) {
            sum += x[g.input_at(n, row, col, ch)];
        });
        y[index] = sum / static_cast<T>(pixel_count(g, oy, ox));
    }
}
'''

_AVG_POOL_BACKWARD_SOURCE = r'''
// gx[n, row, col, ch] = sum of gy[n, oy, ox, ch] / pixel_count(oy, ox) over
// the windows that cover this pixel.
template <typename T, typename Index>
__global__ void avg_pool_backward(const T* gy, T* gx, Index total, WINDOW_PARAMS)
{
    const Window<Index> g = WINDOW_FROM_PARAMS;
    for (Index index = first_index<Index>(); index < total; index += grid_stride<Index>()) {
        Index rest = index;
        const Index ch = peel(rest, g.c);
        const Index col = peel(rest, g.w);
        const Index row = peel(rest, g.h);
        const Index n = rest;
        T sum = T(0);
        for_each_window_on(g, row, col, [&](Index oy, Index ox, Index, Index) {
            sum += gy[g.output_at(n, oy, ox, ch)] / static_cast<T>(pixel_count(g, oy, ox));
        });
        gx[index] = sum;
    }
}
'''

CUDA_SOURCE = ''.join([_COMMON_SOURCE, _IM2COL_SOURCE, _COL2IM_SOURCE, _MAX_POOL_SOURCE,
                       _MAX_POOL_BACKWARD_SOURCE, _AVG_POOL_SOURCE, _AVG_POOL_BACKWARD_SOURCE])

KERNEL_NAMES = ('im2col', 'col2im', 'max_pool', 'max_pool_backward',
                'avg_pool', 'avg_pool_backward')


def _name_expression(kernel, c_type, index_type):
    """The C++ name of one instantiation, e.g. 'im2col<float, int>'."""
    return f'{kernel}<{c_type}, {index_type}>'


# Every instantiation, compiled together (RawModule's name_expressions).
NAME_EXPRESSIONS = tuple(_name_expression(kernel, c_type, index_type)
                         for kernel in KERNEL_NAMES
                         for c_type in _C_TYPES.values()
                         for index_type, _ in _INDEX_TYPES.values())


@functools.cache
def _module():
    """All the kernels, compiled by NVRTC on first use (CuPy also keeps the
    binary in its disk cache, so later processes skip the compilation)."""
    return devices.cupy().RawModule(code=CUDA_SOURCE, name_expressions=NAME_EXPRESSIONS)


def _launch_shape(total):
    """(blocks, threads per block) for one thread per element, at most _MAX_BLOCKS blocks."""
    blocks = -(-total // _THREADS_PER_BLOCK)
    return min(max(blocks, 1), _MAX_BLOCKS), _THREADS_PER_BLOCK


def _index_bits(largest):
    """32 when every index a kernel forms fits in an int, else 64.

    ``largest`` is the size of the biggest array involved. The grid-stride loop
    may step one grid's worth of threads past the last element before it stops.
    """
    return 32 if largest + _MAX_BLOCKS * _THREADS_PER_BLOCK <= np.iinfo(np.int32).max else 64


def _window(x_shape, window, strides, pad, dilation=(1, 1)):
    """The geometry the kernels receive, as a _Window (pooling: no dilation)."""
    _, h, w, c = x_shape
    top, _, left, _ = pad
    oh, ow = output_size(x_shape, window, strides, pad, dilation)
    return _Window(h, w, c, oh, ow, *window, *strides, *dilation, top, left)


def _c_type(dtype):
    if dtype not in _C_TYPES:
        raise TypeError(f'the CUDA kernels support float32 and float64 arrays, got {dtype}')
    return _C_TYPES[dtype]


def _check_shape(fn_name, name, array, expected):
    """The kernels trust the shapes they are given, so check them here."""
    if tuple(array.shape) != tuple(expected):
        raise ValueError(f'{fn_name}: {name} must have shape {tuple(expected)}, '
                         f'got {tuple(array.shape)}')


def _run(kernel, arrays, total, geometry):
    """Launch ``kernel`` over ``total`` elements.

    ``arrays`` are its array arguments in order, the first one with the element
    type T; the scalars ``total`` and ``geometry`` follow, all of type Index.
    """
    index_type, index_scalar = _INDEX_TYPES[_index_bits(max(a.size for a in arrays))]
    name = _name_expression(kernel, _c_type(arrays[0].dtype), index_type)
    function = _module().get_function(name)
    blocks, threads = _launch_shape(total)
    # Scalars go as NumPy scalars of exactly Index's width: a Python int would go as 64 bits.
    function((blocks,), (threads,), (*arrays, *(index_scalar(v) for v in (total, *geometry))))


def _output_shape(x_shape, g):
    return (x_shape[0], g.oh, g.ow, g.c)


def im2col(x, window, strides, pad, dilation=(1, 1)):
    """Unfold every window of x: (N, H, W, C) -> (N, OH, OW, kh, kw, C).

    cols[n, oy, ox, i, j, c] = x_pad[n, oy*sh + i*dh, ox*sw + j*dw, c], with zero padding.
    """
    cp = devices.cupy()
    x = cp.ascontiguousarray(x)
    g = _window(x.shape, window, strides, pad, dilation)
    cols = cp.empty((x.shape[0], g.oh, g.ow, g.kh, g.kw, g.c), dtype=x.dtype)
    _run('im2col', (x, cols), cols.size, g)
    return cols


def col2im(cols, x_shape, window, strides, pad, dilation=(1, 1)):
    """Fold windows back, summing overlaps: (N, OH, OW, kh, kw, C) -> x_shape.

    x[n, r, s, c] = sum of cols[n, oy, ox, i, j, c] over oy*sh + i*dh - top = r
    and ox*sw + j*dw - left = s.
    """
    cp = devices.cupy()
    g = _window(x_shape, window, strides, pad, dilation)
    cols = cp.ascontiguousarray(cols)
    _check_shape('col2im', 'cols', cols, (x_shape[0], g.oh, g.ow, g.kh, g.kw, g.c))
    x = cp.empty(tuple(x_shape), dtype=cols.dtype)
    _run('col2im', (cols, x), x.size, g)
    return x


# A slice of a batch in one launch, as a whole batch: no host threads to keep to one.
im2col_serial, col2im_serial = im2col, col2im


def max_pool(x, window, strides, pad):
    """Window maxima and where they are: (N, H, W, C) -> y, argmax, both (N, OH, OW, C).

    ``argmax`` (int32) is the flat offset ``i * kw + j`` of the first maximum in
    each window; padding is never the maximum.
    """
    cp = devices.cupy()
    x = cp.ascontiguousarray(x)
    g = _window(x.shape, window, strides, pad)
    y = cp.empty(_output_shape(x.shape, g), dtype=x.dtype)
    argmax = cp.empty(y.shape, dtype=cp.int32)
    _run('max_pool', (x, y, argmax), y.size, g)
    return y, argmax


def max_pool_backward(gy, argmax, x_shape, window, strides, pad):
    """Route each output gradient to its window's maximum: -> x_shape.

    gx[n, r, s, c] = sum of gy[n, oy, ox, c] over the windows whose maximum,
    at offset argmax[n, oy, ox, c], is pixel (r, s).
    """
    cp = devices.cupy()
    g = _window(x_shape, window, strides, pad)
    gy = cp.ascontiguousarray(gy)
    argmax = cp.ascontiguousarray(argmax, dtype=cp.int32)
    _check_shape('max_pool_backward', 'gy', gy, _output_shape(x_shape, g))
    _check_shape('max_pool_backward', 'argmax', argmax, gy.shape)
    gx = cp.empty(tuple(x_shape), dtype=gy.dtype)
    _run('max_pool_backward', (gy, argmax, gx), gx.size, g)
    return gx


def avg_pool(x, window, strides, pad):
    """Window means over the pixels inside the image: (N, H, W, C) -> (N, OH, OW, C).

    y[n, oy, ox, c] = sum of the window's in-image pixels / their count.
    """
    cp = devices.cupy()
    x = cp.ascontiguousarray(x)
    g = _window(x.shape, window, strides, pad)
    y = cp.empty(_output_shape(x.shape, g), dtype=x.dtype)
    _run('avg_pool', (x, y), y.size, g)
    return y


def avg_pool_backward(gy, x_shape, window, strides, pad):
    """Spread each output gradient evenly over its window's pixels: -> x_shape.

    gx[n, r, s, c] = sum of gy[n, oy, ox, c] / count(oy, ox) over the windows
    that cover pixel (r, s).
    """
    cp = devices.cupy()
    g = _window(x_shape, window, strides, pad)
    gy = cp.ascontiguousarray(gy)
    _check_shape('avg_pool_backward', 'gy', gy, _output_shape(x_shape, g))
    gx = cp.empty(tuple(x_shape), dtype=gy.dtype)
    _run('avg_pool_backward', (gy, gx), gx.size, g)
    return gx


@functools.cache
def _erf_kernel():
    """CUDA's own erf as a CuPy elementwise kernel, compiled on first use.
    (NumPy has no erf, so CuPy has none either; cupyx.scipy has, but only
    devices.py imports CuPy's packages.)"""
    return devices.cupy().ElementwiseKernel('T x', 'T y', 'y = erf(x)', 'minicnn_erf')


def erf(x):
    """The error function, elementwise: one CUDA thread per element."""
    return _erf_kernel()(x)


@functools.cache
def _gelu_kernels():
    """GELU forward (y and Phi(x)) and backward, each one elementwise CUDA kernel."""
    cp = devices.cupy()
    forward = cp.ElementwiseKernel('T x', 'T y, T cdf',
                                   'cdf = 0.5 * (1 + erf(x * M_SQRT1_2)); y = x * cdf',
                                   'minicnn_gelu')
    backward = cp.ElementwiseKernel(
        'T gy, T x, T cdf', 'T gx',
        'gx = gy * (cdf + x * exp(-0.5 * x * x) * (0.5 * M_2_SQRTPI * M_SQRT1_2))',
        'minicnn_gelu_backward')
    return forward, backward


def gelu(x):
    """(x Phi(x), Phi(x)): one CUDA thread per element."""
    return _gelu_kernels()[0](x)


def gelu_backward(gy, x, cdf):
    """GELU's gradient: one CUDA thread per element."""
    return _gelu_kernels()[1](gy, x, cdf)


# The per-operation twins on the GPU are the references (see kernels/__init__.py):
# CuPy runs each of their array calls as one kernel over the whole array.
from minicnn.kernels.reference import batchnorm, optimizer, parallel_threads, winograd  # noqa: E402,F401
