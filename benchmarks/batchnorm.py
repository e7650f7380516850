"""BatchNormalization forward + backward: minicnn against PyTorch's nn.BatchNorm2d.

Measured at the output of every convolution of the seed networks, where a
BatchNormalization layer would go, in training mode as in ``fit`` (so each
call also moves the moving statistics), with a gradient for the input and
for gamma and beta. minicnn runs once per kernel choice; PyTorch gets the
same values in its own NCHW layout, and its column is left out when it is
not installed. The implementations take turns (``timing.round_robin``),
so a slow spell of a shared machine falls on all of them alike.

    python benchmarks/batchnorm.py [--batch 128] [--repeats 10] [--models cnn-seed002,...]
"""
import argparse
import importlib.util
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: find the package
    sys.path.insert(0, str(ROOT))

from benchmarks import ops, report, timing  # noqa: E402
from minicnn.recipes import zoo  # noqa: E402
from minicnn.layers import BatchNormalization, Conv2D  # noqa: E402

MINICNN_IMPLS = ('numpy', 'numba')


def conv_output_shapes(model_names, batch):
    """(batch, H, W, C) of every Conv2D output of the models, each shape once."""
    shapes = {}
    for name in model_names:
        model = zoo.get(name).build()
        shape = model.sample_shape
        for layer in model.layers:
            shape = layer.compute_output_shape(shape)
            if isinstance(layer, Conv2D):
                shapes.setdefault((batch, *shape))
    return list(shapes)


def batchnorm_op(x_shape):
    """BatchNormalization(training=True) on images of x_shape, in both frameworks."""
    layer = BatchNormalization()
    twin = None
    if importlib.util.find_spec('torch') is not None:
        import torch
        # PyTorch's momentum weighs the new batch: Keras's 0.99 is its 0.01.
        twin = torch.nn.BatchNorm2d(x_shape[-1], eps=layer.epsilon, momentum=1 - layer.momentum)
    return ops.Op(f'batchnorm {ops.hwc(x_shape)}', arrays=(ops.random_array(x_shape),),
                  needs_grad=(True,), minicnn=lambda x: layer(x, training=True),
                  torch=twin, to_torch=lambda x: (timing.nchw(x),))


def run(shapes, impls, warmup, repeats):
    """[{'op', 'ms': {impl: {'forward', 'backward'}}}] for BatchNormalization at each shape."""
    results = []
    for x_shape in shapes:
        op = batchnorm_op(x_shape)
        report.progress(f'batchnorm {x_shape}')
        medians = timing.round_robin({impl.name: ops.op_runner(op, impl) for impl in impls},
                                     warmup, repeats)
        results.append({'op': op.name, 'ms': {
            name: dict(zip(('forward', 'backward'), (1e3 * s for s in seconds)))
            for name, seconds in medians.items()}})
    return results


def table(results, impls):
    """Forward + backward ms per implementation, and each minicnn one against PyTorch."""
    names = [impl.name for impl in impls]
    totals = [{name: sum(r['ms'][name].values()) for name in names} for r in results]
    against = [name for name in names if name != 'torch'] if 'torch' in names else []
    headers = ['shape (N, H, W, C)', *(f'{impl.label} ms' for impl in impls),
               *(f'{name} / torch' for name in against)]
    rows = [[r['op'].split(' ', 1)[1], *(report.number(t[name]) for name in names),
             *(report.number(report.ratio(t[name], t['torch'])) for name in against)]
            for r, t in zip(results, totals)]
    return report.text_table(headers, rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--batch', type=int, default=128)
    parser.add_argument('--repeats', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--models', default='cnn-seed002,cnn-seed004')
    args = parser.parse_args(argv)
    names = [*MINICNN_IMPLS, *(['torch'] if importlib.util.find_spec('torch') else [])]
    impls = [timing.make_impl(name, args.threads) for name in names]
    results = run(conv_output_shapes(args.models.split(','), args.batch), impls,
                  args.warmup, args.repeats)
    machine = report.machine()
    print(f"BatchNormalization forward + backward, training mode, batch {args.batch}: median ms "
          f"of {args.repeats} rounds on {machine['cpu']} ({machine['cores']} cores, "
          f"{args.threads} threads), NumPy {machine['numpy']}, PyTorch {machine['torch']}.\n"
          f"NumPy, Numba: minicnn with its reference or its Numba kernels; "
          f"PyTorch: nn.BatchNorm2d on NCHW")
    print(table(results, impls))
    return results


if __name__ == '__main__':
    main()
