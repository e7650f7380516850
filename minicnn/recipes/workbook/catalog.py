"""The exercises: for each, the functions a learner writes, minicnn's versions
of them (``solutions``), the cases they are checked on, and the plausible
mistakes the checker recognises.

Cases are dicts of named arguments, float64, small enough that a gradient
check by finite differences takes a fraction of a second. Each exercise has a
'basic' case (random), a 'tiny' one (a counterexample to work by hand) and
edge cases: strides, padding, a batch of one, non-square images and windows.
"""
import numpy as np

from minicnn.tools import naive
from minicnn.kernels import reference
from minicnn.recipes.workbook import solutions as S
from minicnn.recipes.workbook.checker import Exercise, Mistake, Part

# -- shapes of windows ---------------------------------------------------------


def out_hw(x_shape, window, strides, pad):
    """(OH, OW) of a window sliding over an NHWC input padded by (top, bottom, left, right)."""
    top, bottom, left, right = pad
    return ((x_shape[1] + top + bottom - window[0]) // strides[0] + 1,
            (x_shape[2] + left + right - window[1]) // strides[1] + 1)


def windowed(rng, x_shape, window, strides, pad, channels_out=None, **extra):
    """A case for a window sliding over images: x, and dy of the output's shape."""
    oh, ow = out_hw(x_shape, window, strides, pad)
    out_channels = x_shape[3] if channels_out is None else channels_out
    return {'x': rng.standard_normal(x_shape), 'window': window, 'strides': strides, 'pad': pad,
            'dy': rng.standard_normal((x_shape[0], oh, ow, out_channels)), **extra}


def shaped(shape):
    """A stand-in of the given shape: what a mistake that only gets shapes wrong returns."""
    return np.zeros(shape)


# -- 1. ReLU -----------------------------------------------------------------------


def relu_cases(rng):
    def case(shape):
        x = rng.standard_normal(shape)
        x[np.abs(x) < 1e-2] = 0.5  # away from the kink, where finite differences are exact
        return {'x': x, 'dy': rng.standard_normal(shape)}
    return {'basic': case((3, 4)), 'tiny': {'x': np.array([[-1.0, 2.0], [0.5, -3.0]]),
                                            'dy': np.array([[1.0, 2.0], [3.0, 4.0]])},
            'images': case((2, 3, 4, 2)), 'batch of one': case((1, 5))}


RELU = Exercise('relu', '01_relu.py', '01_tensor_and_backward.md', (
    Part('relu_forward', ('x',), ('y',), S.relu_forward, 'kernels.reference.relu', mistakes=(
        Mistake('negative inputs give 0, not their absolute value', np.abs),
        Mistake('max(x, 0) keeps the positive values; min(x, 0) keeps the negative ones',
                lambda x: np.minimum(x, 0)))),
    Part('relu_backward', ('dy', 'x'), ('dx',), S.relu_backward, 'functional ReLU.backward',
         gradient_of={'dx': 'x'}, forward=lambda c: S.relu_forward(c['x']), mistakes=(
             Mistake('multiply by dy: dx = dy * (slope of relu), the chain rule',
                     lambda dy, x: (x > 0).astype(float)),
             Mistake('the slope of relu is 1 where x > 0, not x itself',
                     lambda dy, x: dy * np.maximum(x, 0)),
             Mistake('where x <= 0 relu is flat, so the gradient there is 0',
                     lambda dy, x: dy)))),
    relu_cases)

# -- 2. Dense ------------------------------------------------------------------------


def dense_cases(rng):
    def case(n, n_in, n_out):
        return {'x': rng.standard_normal((n, n_in)), 'kernel': rng.standard_normal((n_in, n_out)),
                'bias': rng.standard_normal(n_out), 'dy': rng.standard_normal((n, n_out))}
    return {'basic': case(4, 3, 5),
            'tiny': {'x': np.array([[1.0, 2.0], [0.0, -1.0]]),
                     'kernel': np.array([[1.0, 0.0, 2.0], [-1.0, 1.0, 0.0]]),
                     'bias': np.array([0.5, 0.0, -1.0]), 'dy': np.array([[1.0, 0.0, 2.0],
                                                                          [0.0, 1.0, 1.0]])},
            'batch of one': case(1, 3, 4), 'one output': case(3, 4, 1)}


def dense_with_bias(c):
    return S.dense_forward(c['x'], c['kernel'], c['bias'])


DENSE = Exercise('dense', '02_dense.py', '01_tensor_and_backward.md', (
    Part('dense_forward', ('x', 'kernel', 'bias'), ('y',), S.dense_forward, 'naive.dense',
         mistakes=(Mistake('add the bias: y = x @ kernel + bias', lambda x, k, b: x @ k),)),
    Part('dense_backward', ('dy', 'x', 'kernel'), ('dx', 'dkernel', 'dbias'), S.dense_backward,
         'functional Affine.backward', forward=dense_with_bias,
         gradient_of={'dx': 'x', 'dkernel': 'kernel', 'dbias': 'bias'}, mistakes=(
             Mistake('dkernel = x.T @ dy, of shape (in, out) like the kernel; yours is transposed',
                     lambda dy, x, k: (dy @ k.T, dy.T @ x, dy.sum(axis=0))),
             Mistake('dbias sums dy over the batch (axis 0), one number per output: '
                     'you summed the wrong axis',
                     lambda dy, x, k: (dy @ k.T, x.T @ dy, dy.sum(axis=1))),
             Mistake('dbias is the sum of dy over the batch, not its mean: the 1/N, if any, '
                     'is already in dy',
                     lambda dy, x, k: (dy @ k.T, x.T @ dy, dy.mean(axis=0))),
             Mistake('dkernel adds up every sample\'s x.T @ dy; it is not averaged over the batch',
                     lambda dy, x, k: (dy @ k.T, x.T @ dy / len(x), dy.sum(axis=0)))))),
    dense_cases)

# -- 3. im2col -------------------------------------------------------------------------

# (x shape, window, strides, pad) of the edge cases of every windowed exercise
WINDOW_EDGES = {
    'stride 2': ((2, 7, 7, 2), (3, 3), (2, 2), (0, 0, 0, 0)),
    'padding 1': ((2, 4, 5, 2), (3, 3), (1, 1), (1, 1, 1, 1)),
    "'same' padding at stride 2": ((2, 5, 6, 2), (2, 2), (2, 2), (0, 1, 0, 0)),
    'batch of one, non-square image and window': ((1, 4, 7, 3), (2, 3), (1, 2), (0, 0, 1, 1)),
}


def window_cases(rng, make, basic, tiny):
    """basic, tiny and WINDOW_EDGES as cases made by ``make(rng, *geometry)``."""
    cases = {'basic': make(rng, *basic), 'tiny': tiny}
    cases.update({name: make(rng, *geometry) for name, geometry in WINDOW_EDGES.items()})
    return cases


def tiny_image(h, w):
    """x = 1, 2, 3, ... row by row: one image, one channel, (1, h, w, 1)."""
    return np.arange(1.0, h * w + 1).reshape(1, h, w, 1)


def im2col_cases(rng):
    tiny = {'x': tiny_image(3, 3), 'window': (2, 2), 'strides': (1, 1), 'pad': (0, 0, 0, 0)}
    return window_cases(rng, windowed, ((2, 5, 6, 3), (3, 2), (1, 1), (0, 0, 0, 0)), tiny)


def one_window_less(x, window, strides, pad):
    return S.im2col(x, window, strides, pad)[:, :-1, :-1]


def one_window_more(x, window, strides, pad):
    n, oh, ow, kh, kw, c = S.im2col(x, window, strides, pad).shape
    return shaped((n, oh + 1, ow + 1, kh, kw, c))


OFF_BY_ONE = ('an off-by-one in the number of windows: OH = (H + top + bottom - kh) // sh + 1, '
              'the + 1 counting the window at row 0 (and OW likewise)')

IM2COL = Exercise('im2col', '03_im2col.py', '02_convolution.md', (
    Part('im2col', ('x', 'window', 'strides', 'pad'), ('cols',), S.im2col,
         'kernels.reference.im2col', mistakes=(
             Mistake(OFF_BY_ONE, one_window_less),
             Mistake(OFF_BY_ONE, one_window_more),
             Mistake('the window\'s axes are swapped: cols[n, r, s, i, j, c] has the row offset '
                     'i (kh of them) before the column offset j (kw)',
                     lambda x, w, s, p: S.im2col(x, w, s, p).transpose(0, 1, 2, 4, 3, 5)),
             Mistake('the window moves by the strides: window (r, s) starts at row r * sh and '
                     'column s * sw', lambda x, w, s, p: S.im2col(x, w, (1, 1), p)),
             Mistake('strides are (rows, columns): sh moves down, sw across',
                     lambda x, w, s, p: S.im2col(x, w, s[::-1], p)),
             Mistake('pad the image first: pad = (top, bottom, left, right) rows and columns '
                     'of zeros', lambda x, w, s, p: S.im2col(x, w, s, (0, 0, 0, 0))),
             Mistake('pad = (top, bottom, left, right): the first two pad the rows, the last two '
                     'the columns', lambda x, w, s, p: S.im2col(x, w, s, (p[0], p[2], p[1], p[3]))),
         )),), im2col_cases)

# -- 4 and 5. Conv2D ------------------------------------------------------------------------


def conv_case(rng, x_shape, window, strides, pad, filters=4):
    case = windowed(rng, x_shape, window, strides, pad, channels_out=filters)
    case['kernel'] = rng.standard_normal((*window, x_shape[3], filters))
    case['bias'] = rng.standard_normal(filters)
    return case


def conv_cases(rng):
    tiny = {'x': tiny_image(3, 3), 'kernel': np.array([[1.0, 2.0], [0.0, -1.0]])[:, :, None, None],
            'bias': np.array([0.5]), 'window': (2, 2), 'strides': (1, 1), 'pad': (0, 0, 0, 0),
            'dy': np.array([[1.0, 0.0], [2.0, 1.0]])[None, :, :, None]}
    cases = window_cases(rng, conv_case, ((2, 4, 5, 3), (3, 3), (1, 1), (0, 0, 0, 0)), tiny)
    cases['one filter'] = conv_case(rng, (2, 4, 4, 2), (2, 2), (1, 1), (0, 0, 0, 0), filters=1)
    return cases


def conv_forward_of(c):
    return S.conv2d_forward(c['x'], c['kernel'], c['bias'], c['strides'], c['pad'])


def with_kernel(change):
    """conv2d_forward with the kernel changed by ``change`` first: a mistake."""
    return lambda x, k, b, s, p: S.conv2d_forward(x, change(k), b, s, p)


def backward_with(change_dx=None, change_dkernel=None, change_dbias=None):
    """conv2d_backward with some of its results changed: a mistake."""
    def mistaken(dy, x, k, s, p):
        results = S.conv2d_backward(dy, x, k, s, p)
        changes = (change_dx, change_dkernel, change_dbias)
        return tuple(r if change is None else change(r) for r, change in zip(results, changes))
    return mistaken


def dx_through_flipped_kernel(dy, x, kernel, strides, pad):
    """conv2d_backward whose dx went back through the kernel rotated by 180 degrees."""
    dx = S.conv2d_backward(dy, x, kernel[::-1, ::-1], strides, pad)[0]
    return (dx, *S.conv2d_backward(dy, x, kernel, strides, pad)[1:])


FLIPPED = ('your kernel is flipped (rotated 180 degrees): that is the convolution of '
           'textbooks; minicnn, like Keras, computes the cross-correlation, '
           'x_pad[r*sh + i, s*sw + j] * kernel[i, j], unflipped')
WRONG_AXES = ('dbias sums dy over n, r and s (axes 0, 1 and 2), one number per filter: '
              'you summed the wrong axes')
TRANSPOSED = ('your kernel is transposed (rows and columns swapped): kernel[i, j, c, f] has '
              'the row offset i first, the column offset j second (HWIO)')

CONV2D_FORWARD = Exercise('conv2d_forward', '04_conv2d_forward.py', '02_convolution.md', (
    Part('conv2d_forward', ('x', 'kernel', 'bias', 'strides', 'pad'), ('y',), S.conv2d_forward,
         'naive.conv2d', mistakes=(
             Mistake(FLIPPED, with_kernel(lambda k: k[::-1, ::-1])),
             Mistake(TRANSPOSED, with_kernel(lambda k: k.transpose(1, 0, 2, 3))),
             Mistake('add the bias, one per filter: y[n, r, s, f] = bias[f] + ...',
                     lambda x, k, b, s, p: S.conv2d_forward(x, k, 0 * b, s, p)),
             Mistake('the window moves by the strides: output (r, s) reads from row r * sh',
                     lambda x, k, b, s, p: S.conv2d_forward(x, k, b, (1, 1), p)),
             Mistake('pad the image first: pad = (top, bottom, left, right) rows and columns '
                     'of zeros', lambda x, k, b, s, p: S.conv2d_forward(x, k, b, s, (0, 0, 0, 0))),
             Mistake(OFF_BY_ONE,
                     lambda x, k, b, s, p: S.conv2d_forward(x, k, b, s, p)[:, :-1, :-1]),
             Mistake(OFF_BY_ONE, lambda x, k, b, s, p: shaped(
                 np.add(S.conv2d_forward(x, k, b, s, p).shape, (0, 1, 1, 0)))),
         )),), conv_cases)

CONV2D_BACKWARD = Exercise('conv2d_backward', '05_conv2d_backward.py', '02_convolution.md', (
    Part('conv2d_backward', ('dy', 'x', 'kernel', 'strides', 'pad'), ('dx', 'dkernel', 'dbias'),
         S.conv2d_backward, 'naive.conv2d_backward', forward=conv_forward_of,
         gradient_of={'dx': 'x', 'dkernel': 'kernel', 'dbias': 'bias'}, mistakes=(
             Mistake('dx: written as a convolution of the padded dy, it takes the kernel '
                     'flipped (rotated 180 degrees); written as each dy sent back through '
                     'the window it came from, the kernel as it is. Yours is the other one',
                     dx_through_flipped_kernel),
             Mistake(TRANSPOSED + '; here in dkernel',
                     backward_with(change_dkernel=lambda g: g.transpose(1, 0, 2, 3))),
             Mistake(FLIPPED + '; here in dkernel',
                     backward_with(change_dkernel=lambda g: g[::-1, ::-1])),
             Mistake(WRONG_AXES, lambda dy, x, k, s, p: (*S.conv2d_backward(dy, x, k, s, p)[:2],
                                                         dy.sum(axis=(1, 2, 3)))),
             Mistake(WRONG_AXES, lambda dy, x, k, s, p: (*S.conv2d_backward(dy, x, k, s, p)[:2],
                                                         dy.sum(axis=0))),
             Mistake('dx is the gradient of the unpadded x: cut the padding off dx_pad',
                     lambda dy, x, k, s, p: (shaped(S.zero_padded(x, p).shape),
                                             *S.conv2d_backward(dy, x, k, s, p)[1:])),
             Mistake('dkernel adds up the products over the whole batch; it is not averaged',
                     lambda dy, x, k, s, p: backward_with(
                         change_dkernel=lambda g: g / len(x))(dy, x, k, s, p)),
         )),), conv_cases)

# -- 6. Max pooling ------------------------------------------------------------------------


def pool_cases(rng):
    image = np.array([[3.0, 1, 2, 8], [0, 5, 4, 7], [6, 9, 1, 0], [2, 3, 4, 5]])
    tiny = {'x': image[None, :, :, None],
            'window': (2, 2), 'strides': (2, 2), 'pad': (0, 0, 0, 0),
            'dy': np.array([[1.0, 2.0], [3.0, 4.0]])[None, :, :, None]}
    cases = window_cases(rng, windowed, ((2, 4, 6, 3), (2, 2), (2, 2), (0, 0, 0, 0)), tiny)
    cases['overlapping windows'] = windowed(rng, (2, 5, 5, 2), (3, 3), (1, 1), (0, 0, 0, 0))
    cases['negative values, padded'] = windowed(rng, (1, 3, 3, 2), (2, 2), (2, 2), (0, 1, 0, 1))
    cases['negative values, padded']['x'] = -1 - np.abs(cases['negative values, padded']['x'])
    ties = windowed(rng, (1, 4, 4, 2), (2, 2), (2, 2), (0, 0, 0, 0))
    ties['x'] = np.zeros_like(ties['x'])
    cases['equal values'] = ties
    return cases


def pool_backward_to_ties(dy, x, window, strides, pad):
    """Each dy shared by (or copied to) every maximum of its window, not the first only."""
    y = S.max_pool_forward(x, window, strides, pad)
    cols = S.im2col(np.pad(x, ((0, 0), pad[:2], pad[2:], (0, 0)), constant_values=-np.inf),
                    window, strides, (0, 0, 0, 0))
    is_max = cols == y[:, :, :, None, None, :]
    return from_cols(is_max * dy[:, :, :, None, None, :], x.shape, window, strides, pad)


def from_cols(cols, x_shape, window, strides, pad):
    return reference.col2im(cols, x_shape, tuple(window), tuple(strides), tuple(pad))


def pool_backward_everywhere(dy, x, window, strides, pad):
    cols = np.broadcast_to(dy[:, :, :, None, None, :], (*dy.shape[:3], *window, dy.shape[3]))
    return from_cols(cols, x.shape, window, strides, pad)


def overwritten(dy, x, window, strides, pad):
    """max_pool_backward with '=' where '+=' belongs: the last window to write a pixel wins."""
    _, argmax = reference.max_pool(x, tuple(window), tuple(strides), tuple(pad))
    dx = np.zeros(S.zero_padded(x, pad).shape)
    for r in range(dy.shape[1]):
        for s in range(dy.shape[2]):
            i, j = np.divmod(argmax[:, r, s, :], window[1])
            for n in range(dy.shape[0]):
                for c in range(dy.shape[3]):
                    dx[n, r * strides[0] + i[n, c], s * strides[1] + j[n, c], c] = dy[n, r, s, c]
    return S.unpadded(dx, pad)


MAX_POOL = Exercise('max_pool', '06_max_pool.py', '03_pooling.md', (
    Part('max_pool_forward', ('x', 'window', 'strides', 'pad'), ('y',), S.max_pool_forward,
         'kernels.reference.max_pool', mistakes=(
             Mistake('pad with -inf, not 0: a zero of padding beats a window of negative values',
                     lambda x, w, s, p: S.max_pool_forward(S.zero_padded(x, p), w, s,
                                                           (0, 0, 0, 0))),
             Mistake('the window moves by the strides: output (r, s) reads from row r * sh',
                     lambda x, w, s, p: S.max_pool_forward(x, w, (1, 1), p)),
             Mistake(OFF_BY_ONE, lambda x, w, s, p: S.max_pool_forward(x, w, s, p)[:, :-1, :-1]),
             Mistake('the maximum is over each window of one channel, not over the channels',
                     lambda x, w, s, p: np.broadcast_to(
                         S.max_pool_forward(x, w, s, p).max(axis=3, keepdims=True),
                         S.max_pool_forward(x, w, s, p).shape)),
         )),
    Part('max_pool_backward', ('dy', 'x', 'window', 'strides', 'pad'), ('dx',),
         S.max_pool_backward, 'kernels.reference.max_pool_backward', gradient_of={'dx': 'x'},
         forward=lambda c: S.max_pool_forward(c['x'], c['window'], c['strides'], c['pad']),
         mistakes=(
             Mistake('where a window holds several equal maxima, minicnn sends dy to the first '
                     '(in row-major order) only, not to every one of them',
                     pool_backward_to_ties),
             Mistake('only the maximum of each window gets its dy; the other pixels get 0',
                     pool_backward_everywhere),
             Mistake('where windows overlap, a pixel that is the maximum of several gets the '
                     'sum of their dy: add (+=), do not assign',
                     overwritten),
         ))), pool_cases)


# -- 7. Softmax cross-entropy ----------------------------------------------------------------


def softmax_cases(rng):
    def case(n, k, scale=2.0, soft=False):
        logits = scale * rng.standard_normal((n, k))
        targets = rng.random((n, k)) if soft else np.eye(k)[rng.integers(0, k, n)]
        return {'logits': logits, 'targets': targets / targets.sum(axis=1, keepdims=True)}
    return {'basic': case(4, 5),
            'tiny': {'logits': np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]),
                     'targets': np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])},
            'batch of one': case(1, 3), 'probability targets': case(3, 4, soft=True),
            'large logits': case(3, 4, scale=1000.0)}


def softmax_over(axis):
    def mistaken(logits, targets):
        shifted = logits - logits.max(axis=axis, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        n = len(logits)
        return -(targets * log_p).sum() / n, (np.exp(log_p) - targets) / n
    return mistaken


SOFTMAX_CROSS_ENTROPY = Exercise(
    'softmax_cross_entropy', '07_softmax_cross_entropy.py', '04_softmax_cross_entropy.md', (
        Part('softmax_cross_entropy', ('logits', 'targets'), ('loss', 'dlogits'),
             S.softmax_cross_entropy, 'naive.softmax_cross_entropy',
             forward=lambda c: naive.softmax_cross_entropy(c['logits'], c['targets']),
             gradient_of={'dlogits': 'logits'}, upstream=None, mistakes=(
                 Mistake('softmax normalizes each row, over the classes (axis 1), not each '
                         'column over the batch', softmax_over(0)),
                 Mistake('the loss is the mean over the batch: a missing 1/N',
                         lambda z, t: (S.softmax_cross_entropy(z, t)[0] * len(z),
                                       S.softmax_cross_entropy(z, t)[1])),
                 Mistake('dlogits = (softmax - targets) / N: a missing 1/N, the loss being a mean',
                         lambda z, t: (S.softmax_cross_entropy(z, t)[0],
                                       S.softmax_cross_entropy(z, t)[1] * len(z))),
                 Mistake('dlogits = (softmax - targets) / N: the sign is wrong',
                         lambda z, t: (S.softmax_cross_entropy(z, t)[0],
                                       -S.softmax_cross_entropy(z, t)[1])),
             )),), softmax_cases)

# -- 8 and 9. Optimizer steps ---------------------------------------------------------------


def sgd_cases(rng):
    def case(shape, lr=0.1, momentum=0.9, first=False):
        v = np.zeros(shape) if first else 0.1 * rng.standard_normal(shape)
        return {'p': rng.standard_normal(shape), 'g': rng.standard_normal(shape), 'v': v,
                'learning_rate': lr, 'momentum': momentum}
    return {'basic': case((3, 4)),
            'tiny': {'p': np.array([1.0, 2.0]), 'g': np.array([0.5, -1.0]),
                     'v': np.array([0.1, 0.0]), 'learning_rate': 0.1, 'momentum': 0.9},
            'first step': case((5,), first=True),
            'large rate, less momentum': case((2, 2), 1.0, 0.5)}


def sgd_mistake(step):
    """A wrong SGD step written as step(p, g, v, lr, mu) -> (p, v)."""
    return lambda p, g, v, lr, mu: step(p.copy(), g, v.copy(), lr, mu)


SGD_MOMENTUM = Exercise('sgd_momentum', '08_sgd_momentum.py', '05_optimizer_step.md', (
    Part('sgd_momentum_step', ('p', 'g', 'v', 'learning_rate', 'momentum'), ('p', 'v'),
         S.sgd_momentum_step, 'optimizers.SGD.reference_update', mistakes=(
             Mistake('p = p + v: the velocity already points downhill '
                     '(it holds -learning_rate * g)',
                     sgd_mistake(lambda p, g, v, lr, mu: (p - (mu * v - lr * g),
                                                          mu * v - lr * g))),
             Mistake('v = momentum * v - learning_rate * g: the gradient is subtracted',
                     sgd_mistake(lambda p, g, v, lr, mu: (p + mu * v + lr * g, mu * v + lr * g))),
             Mistake('p moves by the new velocity: update v first, then p = p + v',
                     sgd_mistake(lambda p, g, v, lr, mu: (p + v, mu * v - lr * g))),
             Mistake("that is PyTorch's form (v = momentum * v + g; p -= learning_rate * v); "
                     "minicnn follows Keras, whose v has the learning rate inside: "
                     "v = momentum * v - learning_rate * g; p = p + v",
                     sgd_mistake(lambda p, g, v, lr, mu: (p - lr * (mu * v + g), mu * v + g))),
         )),), sgd_cases)


def adam_cases(rng):
    def case(shape, t=3, epsilon=1e-7, first=False):
        m = np.zeros(shape) if first else 0.1 * rng.standard_normal(shape)
        v = np.zeros(shape) if first else 0.01 * rng.random(shape)
        return {'p': rng.standard_normal(shape), 'g': rng.standard_normal(shape), 'm': m, 'v': v,
                't': 1 if first else t, 'learning_rate': 0.01, 'beta_1': 0.9, 'beta_2': 0.999,
                'epsilon': epsilon}
    return {'basic': case((3, 4)),
            'tiny': {'p': np.array([1.0, 2.0]), 'g': np.array([0.5, -1.0]), 'm': np.zeros(2),
                     'v': np.zeros(2), 't': 1, 'learning_rate': 0.1, 'beta_1': 0.9,
                     'beta_2': 0.999, 'epsilon': 1e-7},
            'first step': case((5,), first=True), 'step 100': case((2, 3), t=100),
            'large epsilon': case((4,), epsilon=0.1)}


def adam_variant(correct=True, eps_inside_correction=False, t_shift=0):
    """Adam's step with one thing changed: no bias correction, PyTorch's epsilon, t off by one."""
    def step(p, g, m, v, t, lr, b1, b2, eps):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        t = t + t_shift
        m_hat, v_hat = (m / (1 - b1 ** t), v / (1 - b2 ** t)) if correct else (m, v)
        if eps_inside_correction or not correct:
            return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
        return p - lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(v) + eps), m, v
    return step


ADAM = Exercise('adam', '09_adam.py', '05_optimizer_step.md', (
    Part('adam_step', ('p', 'g', 'm', 'v', 't', 'learning_rate', 'beta_1', 'beta_2', 'epsilon'),
         ('p', 'm', 'v'), S.adam_step, 'optimizers.Adam.reference_update', mistakes=(
             Mistake('Adam without bias correction: m and v start at 0, so divide by '
                     '1 - beta^t, that is '
                     'lr_t = learning_rate * sqrt(1 - beta_2^t) / (1 - beta_1^t)',
                     adam_variant(correct=False)),
             Mistake("epsilon goes next to sqrt(v), as in Keras: lr_t * m / (sqrt(v) + epsilon); "
                     "yours adds it to the corrected sqrt(v / (1 - beta_2^t)), as PyTorch does",
                     adam_variant(eps_inside_correction=True)),
             Mistake('t counts steps from 1: step t divides by 1 - beta^t; yours is one step off',
                     adam_variant(t_shift=-1)),
             Mistake('t counts steps from 1: step t divides by 1 - beta^t; yours is one step off',
                     adam_variant(t_shift=1)),
         )),), adam_cases)

# -- 10. Dropout ------------------------------------------------------------------------------


def dropout_cases(rng):
    def case(shape, rate=0.3, training=True):
        return {'x': rng.standard_normal(shape), 'rate': rate, 'training': training,
                'uniform': rng.random(shape), 'dy': rng.standard_normal(shape)}
    return {'basic': case((4, 5)),
            'tiny': {'x': np.array([[1.0, 2.0], [3.0, 4.0]]), 'rate': 0.5, 'training': True,
                     'uniform': np.array([[0.1, 0.7], [0.5, 0.2]]),
                     'dy': np.array([[1.0, 1.0], [1.0, 1.0]])},
            'inference': case((3, 4), training=False), 'rate 0': case((3, 3), rate=0.0),
            'images': case((2, 3, 3, 2), rate=0.5)}


def dropout_mistake(scale, keep=lambda u, rate: u >= rate, at_inference=False):
    def forward(x, rate, training, uniform):
        if not training and not at_inference:
            return x
        return x * keep(uniform, rate) * scale(rate)
    return forward


DROPOUT = Exercise('dropout', '10_dropout.py', '06_training.md', (
    Part('dropout_forward', ('x', 'rate', 'training', 'uniform'), ('y',), S.dropout_forward,
         'functional.dropout (InvertedDropout)', mistakes=(
             Mistake('inverted dropout scales the kept values by 1 / (1 - rate) while training, '
                     'so that nothing changes at inference; yours does not scale',
                     dropout_mistake(lambda rate: 1.0)),
             Mistake('divide the kept values by 1 - rate (their expected share), do not multiply',
                     dropout_mistake(lambda rate: 1 - rate)),
             Mistake('keep an element where uniform >= rate (probability 1 - rate); yours keeps '
                     'those below rate, dropping 1 - rate of them',
                     dropout_mistake(lambda rate: 1 / (1 - rate), keep=lambda u, rate: u < rate)),
             Mistake('at inference (training=False) dropout is the identity: y = x',
                     dropout_mistake(lambda rate: 1 / (1 - rate), at_inference=True)),
         )),
    Part('dropout_backward', ('dy', 'rate', 'uniform'), ('dx',), S.dropout_backward,
         'InvertedDropout.backward', gradient_of={'dx': 'x'},
         forward=lambda c: S.dropout_forward(c['x'], c['rate'], True, c['uniform']), mistakes=(
             Mistake('the gradient is scaled by 1 / (1 - rate), as the forward scaled x',
                     lambda dy, rate, u: dy * (u >= rate)),
             Mistake('a dropped element passes no gradient: multiply dy by the same mask',
                     lambda dy, rate, u: dy / (1 - rate)),
         ))), dropout_cases)

# -- 11. Batch normalization ----------------------------------------------------------------


def batchnorm_cases(rng):
    def case(shape, epsilon=1e-3):
        c = shape[-1]
        return {'x': 1 + 2 * rng.standard_normal(shape), 'gamma': 1 + 0.5 * rng.standard_normal(c),
                'beta': rng.standard_normal(c), 'epsilon': epsilon,
                'dy': rng.standard_normal(shape)}
    return {'basic': case((4, 3, 3, 2)),
            'tiny': {'x': np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 4.0], [6.0, 4.0]]),
                     'gamma': np.array([2.0, 1.0]), 'beta': np.array([0.5, 0.0]), 'epsilon': 1e-3,
                     'dy': np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0], [1.0, 1.0]])},
            'rows (N, C)': case((5, 3)), 'batch of one image': case((1, 4, 3, 3)),
            'large epsilon': case((6, 2), epsilon=1.0)}


def bn_forward_with(mean_of=None, var_of=None, eps_outside=False):
    """batchnorm_forward with its statistics, or epsilon's place, changed."""
    def forward(x, gamma, beta, epsilon):
        axes = tuple(range(x.ndim - 1))
        mean = (mean_of or (lambda a: a.mean(axis=axes)))(x)
        var = (var_of or (lambda a: a.var(axis=axes)))(x)
        std = np.sqrt(var) + epsilon if eps_outside else np.sqrt(var + epsilon)
        return gamma * (x - mean) / std + beta, mean, var
    return forward


def bn_backward_with(mean_share=True, var_share=True, xhat_in_dgamma=True):
    """batchnorm_backward leaving out the mean's or the variance's share of dx, or xhat."""
    def backward(dy, x, gamma, epsilon):
        axes = tuple(range(x.ndim - 1))
        m = x.size // x.shape[-1]
        inv_std = 1 / np.sqrt(x.var(axis=axes) + epsilon)
        xhat = (x - x.mean(axis=axes)) * inv_std
        dbeta, dgamma = dy.sum(axis=axes), (dy * xhat).sum(axis=axes)
        dx = gamma * inv_std / m * (m * dy - mean_share * dbeta - var_share * xhat * dgamma)
        return dx, dgamma if xhat_in_dgamma else dbeta, dbeta
    return backward


BATCHNORM = Exercise('batchnorm', '11_batchnorm.py', '08_training_fast.md', (
    Part('batchnorm_forward', ('x', 'gamma', 'beta', 'epsilon'), ('y', 'mean', 'var'),
         S.batchnorm_forward, 'kernels.batchnorm_reference', mistakes=(
             Mistake('the statistics are per feature (the last axis): average over every other '
                     'axis, N, H and W for images',
                     bn_forward_with(mean_of=lambda a: a.mean(axis=0),
                                     var_of=lambda a: a.var(axis=0))),
             Mistake('the variance divides by M, not M - 1 (the biased variance, as Keras)',
                     bn_forward_with(
                         var_of=lambda a: a.var(axis=tuple(range(a.ndim - 1)), ddof=1))),
             Mistake('epsilon goes inside the square root: (x - mean) / sqrt(var + epsilon)',
                     bn_forward_with(eps_outside=True)),
         )),
    Part('batchnorm_backward', ('dy', 'x', 'gamma', 'epsilon'), ('dx', 'dgamma', 'dbeta'),
         S.batchnorm_backward, 'functional BatchStatisticsNorm.backward',
         forward=lambda c: S.batchnorm_forward(c['x'], c['gamma'], c['beta'], c['epsilon'])[0],
         gradient_of={'dx': 'x', 'dgamma': 'gamma', 'dbeta': 'beta'}, mistakes=(
             Mistake('the mean and the variance are computed from x, so they pass gradient '
                     'too: subtract their shares, dbeta and xhat * dgamma, from M dy',
                     bn_backward_with(mean_share=False, var_share=False)),
             Mistake("the variance's share of dx, - xhat * sum(dy * xhat), is missing",
                     bn_backward_with(var_share=False)),
             Mistake("the mean's share of dx, - sum(dy), is missing",
                     bn_backward_with(mean_share=False)),
             Mistake('dgamma = sum(dy * xhat): gamma multiplies xhat',
                     bn_backward_with(xhat_in_dgamma=False)),
         ))), batchnorm_cases)

EXERCISES = {e.name: e for e in (RELU, DENSE, IM2COL, CONV2D_FORWARD, CONV2D_BACKWARD, MAX_POOL,
                                 SOFTMAX_CROSS_ENTROPY, SGD_MOMENTUM, ADAM, DROPOUT, BATCHNORM)}
