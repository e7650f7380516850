"""The fast CIFAR-10 recipe in minicnn and in PyTorch, side by side.

    python benchmarks/fast_recipe.py --budget short        both, one after the other
    python benchmarks/fast_recipe.py --budget short --only torch

Each framework trains in a fresh Python process of its own (so that its peak
memory is its own), minicnn first. The PyTorch twin is the same recipe
(minicnn/recipes/fast_recipe.py): the same network in NCHW, PyTorch's default
initialisation (which ``zoo.TORCH_DEFAULT`` copies) with the same dirac
filters, the same whitening kernel (computed by minicnn from the same
images), Nesterov SGD with the same schedule and decoupled weight decay,
the same lookahead, the whitening bias frozen after the same epochs, and the
very same batches: both read minicnn's
``AugmentedBatches`` with the same seed, so they see the same images in the
same order, translated and flipped alike. What differs: the starting weights
(each framework draws its own), and PyTorch's momentum buffer, which holds
gradients where Keras's holds steps (the same update while the learning rate
is constant). Peak memory is the process's maximum resident set (data set
included, the same for both), its own high-water mark (VmHWM): not
ru_maxrss, which in a child counts the resident memory of the process it
was started from. Writes --out/fast_recipe.json and prints the table.

``run_children`` and ``write_runs`` serve benchmarks/airbench.py too.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from minicnn.recipes.zoo import FAST_BUDGETS  # noqa: E402  (minicnn before torch, which children import)
from benchmarks import report  # noqa: E402
from benchmarks.memory import memory_mb  # noqa: E402

FRAMEWORKS = ('minicnn', 'torch')


def run_child(command, env=None):
    """Run ``command``, a Python process that prints its record (JSON) as its
    last line, to its end, passing its output on as it comes. Returns the
    record, with 'process_seconds', from the child's start to its exit."""
    start, last = time.perf_counter(), ''
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as process:
        for line in process.stdout:
            print(line, end='', flush=True)
            last = line
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, command)
    return {**json.loads(last), 'process_seconds': time.perf_counter() - start}


def run_children(script, names, options, env=None):
    """``python SCRIPT --child NAME OPTIONS`` for each of ``names``, each in a
    fresh Python process of its own, one after the other; their records."""
    return [run_child([sys.executable, str(script), '--child', name, *options], env)
            for name in names]


def write_runs(path, records, **settings):
    """The JSON record of a side-by-side run, written atomically: the machine
    (benchmarks/report.py), the settings and each child's record."""
    report.write_json(path, {'machine': report.machine(), **settings, 'runs': records})


def run_minicnn(budget, out, seed):
    from minicnn.recipes import fast_recipe
    _, metrics = fast_recipe.train(out, budget=budget, seed=seed)
    return {'seconds_per_epoch': metrics['seconds_per_epoch'], 'steps': metrics['steps'],
            'test_accuracy': metrics['test_accuracy'],
            'tta_test_accuracy': metrics['tta_test_accuracy']}


def scale_module():
    """nn.Module multiplying by a constant: the twin of layers.Rescaling."""
    from torch import nn

    class Scale(nn.Module):
        def __init__(self, factor):
            super().__init__()
            self.factor = factor

        def forward(self, x):
            return x * self.factor
    return Scale


def torch_net(widths, whitening_kernel):
    """zoo.fast_cnn in PyTorch: the whitening conv (frozen kernel), three blocks, pool, linear."""
    import torch
    from torch import nn
    Scale = scale_module()

    def conv(c_in, c_out):
        layer = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
        with torch.no_grad():
            nn.init.dirac_(layer.weight[:min(c_in, c_out)])
        return layer

    def norm(c):
        layer = nn.BatchNorm2d(c, momentum=0.4, eps=1e-12)  # Keras momentum 0.6
        layer.weight.requires_grad = False                   # no scale
        return layer

    whiten = nn.Conv2d(3, 24, 2, bias=True)
    with torch.no_grad():
        whiten.weight.copy_(torch.from_numpy(whitening_kernel.transpose(3, 2, 0, 1)))
        whiten.bias.zero_()
    whiten.weight.requires_grad = False
    layers, c_in = [whiten, nn.GELU()], 24
    for width in widths:
        layers += [conv(c_in, width), nn.MaxPool2d(2), norm(width), nn.GELU(),
                   conv(width, width), norm(width), nn.GELU()]
        c_in = width
    return nn.Sequential(*layers, nn.MaxPool2d(3), nn.Flatten(),
                         nn.Linear(c_in, 10, bias=False), Scale(1 / 9))


def run_torch(budget, out, seed):
    import numpy as np
    from minicnn import datasets
    from minicnn.recipes import fast_recipe  # minicnn before torch (see minicnn/kernels/threads.py)
    from minicnn.preprocessing.augment import AugmentedBatches, tta_views
    import torch
    torch.manual_seed(seed)
    torch.set_num_threads(os.cpu_count())
    preset = fast_recipe.BUDGETS[budget]
    batch_size = preset['batch_size']
    (x_train, y_train), (x_test, y_test) = datasets.cifar10.load_data()
    normalize = fast_recipe.normalizer(*fast_recipe.channel_statistics(x_train))
    kernel = fast_recipe.patch_whitening(normalize(x_train[:fast_recipe.WHITENING_IMAGES]))
    net = torch_net(preset['widths'], kernel).to(memory_format=torch.channels_last)
    batches = AugmentedBatches(x_train, y_train.ravel(), batch_size, preprocess=normalize,
                               seed=seed, drop_remainder=preset['drop_remainder'],
                               epochs=preset['epochs'])
    steps, epochs = batches.steps, batches.epochs_to_run
    lr = fast_recipe.LR_PER_1024 * batch_size / 1024
    biases = [p for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d) for p in [m.bias]]
    others = [p for p in net.parameters() if p.requires_grad and all(p is not b for b in biases)]
    optimizer = torch.optim.SGD([{'params': biases, 'lr': 64 * lr}, {'params': others, 'lr': lr}],
                                momentum=fast_recipe.MOMENTUM, nesterov=True)
    warmup = int(fast_recipe.WARMUP * steps)
    multiplier = lambda step: float(np.interp(step, [0, warmup, steps],  # noqa: E731
                                              [fast_recipe.START, 1.0, fast_recipe.END]))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, multiplier)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=fast_recipe.LABEL_SMOOTHING)
    slow = {k: v.clone() for k, v in net.state_dict().items() if v.is_floating_point()}

    def nchw(images):
        return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2)

    def predict(images, views=lambda batch: [(batch, 1.0)]):
        """Logits, averaged over the views of each batch of 1000 (tta_views)."""
        net.eval()
        with torch.no_grad():
            return np.concatenate([
                sum(weight * net(nchw(view)).numpy() for view, weight in views(images[i:i + 1000]))
                for i in range(0, len(images), 1000)])

    seconds, step = [], 0
    x_test_n = normalize(x_test)
    whiten_bias_epochs = round(fast_recipe.WHITENING_BIAS_EPOCHS * preset['epochs'])
    for epoch in range(epochs):
        start = time.perf_counter()
        net[0].bias.requires_grad = epoch < whiten_bias_epochs   # fast_recipe.FreezeAfter
        net.train()
        for images, labels in batches:
            with torch.no_grad():  # decoupled weight decay, before the step as in minicnn
                for group in optimizer.param_groups:
                    for p in group['params']:
                        if p.requires_grad:
                            p.mul_(1 - lr * multiplier(step) * fast_recipe.WEIGHT_DECAY)
            loss = loss_fn(net(nchw(images)), torch.from_numpy(labels).long())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
            if step % 5 == 0:  # callbacks.Lookahead's default decay
                decay = 0.95 ** 5 * (step / steps) ** 3
                for k, v in net.state_dict().items():
                    if k in slow:
                        slow[k].lerp_(v, 1 - decay)
                        v.copy_(slow[k])
        if epoch == epochs - 1:
            for k, v in net.state_dict().items():
                if k in slow:
                    v.copy_(slow[k])
        accuracy = float(np.mean(predict(x_test_n).argmax(1) == y_test.ravel()))
        seconds.append(time.perf_counter() - start)  # validation included, as EpochTimer
        print(f'epoch {epoch + 1}/{epochs}: {seconds[-1]:.1f} s, test accuracy {accuracy:.4f}',
              flush=True)
    tta = predict(x_test_n, tta_views)
    return {'seconds_per_epoch': float(np.median(seconds)), 'epoch_seconds': seconds,
            'steps': step, 'test_accuracy': accuracy,
            'tta_test_accuracy': float(np.mean(tta.argmax(1) == y_test.ravel()))}


def child(framework, budget, out, seed):
    """Run one framework here; print its record as the last line."""
    start = time.perf_counter()
    record = (run_minicnn if framework == 'minicnn' else run_torch)(budget, out, seed)
    record.update(framework=framework, budget=budget, seed=seed, peak_mb=memory_mb('VmHWM'),
                  total_seconds=time.perf_counter() - start)
    print(json.dumps(record))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--budget', default='short', choices=sorted(FAST_BUDGETS),
                        help='a fast_recipe.BUDGETS preset (default: short)')
    parser.add_argument('--only', choices=FRAMEWORKS)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', default='bench-results/fast_recipe')
    parser.add_argument('--child', choices=FRAMEWORKS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.budget, f'{args.out}/{args.child}', args.seed)
    records = run_children(__file__, [args.only] if args.only else FRAMEWORKS,
                           ['--budget', args.budget, '--seed', str(args.seed), '--out', args.out])
    write_runs(f'{args.out}/fast_recipe.json', records)
    torch_run = next((r for r in records if r['framework'] == 'torch'), None)
    print(f"{'framework':10} {'s/epoch':>8} {'x torch':>8} {'peak MB':>8} {'x torch':>8} "
          f"{'test acc':>9} {'with TTA':>9}")
    for r in records:
        ratios = ((r['seconds_per_epoch'] / torch_run['seconds_per_epoch'],
                   r['peak_mb'] / torch_run['peak_mb']) if torch_run else (float('nan'),) * 2)
        print(f"{r['framework']:10} {r['seconds_per_epoch']:8.1f} {ratios[0]:8.2f} "
              f"{r['peak_mb']:8.0f} {ratios[1]:8.2f} {r['test_accuracy']:9.4f} "
              f"{r['tta_test_accuracy']:9.4f}")


if __name__ == '__main__':
    main()
