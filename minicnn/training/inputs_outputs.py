"""A model of several inputs or outputs: its data by name, and one loss of many parts.

Keras lets every per-input or per-output argument be a list (in the order
of ``model.inputs`` / ``model.outputs``) or a dict keyed by the Input's or
output layer's name; ``in_order`` turns either into a list in the model's
order, checking the names and the count.

``compile`` gives each output its loss, loss weight and metrics
(``compile_outputs``); for K outputs the loss that fit minimizes is

    L = sum_k lambda_k L_k + penalties,    L_k = 1/N sum_n w_kn l_k(y_kn, p_kn)

lambda_k the loss weights (1 unless given), w_k the output's sample
weights. Keras 2 logs each L_k, unweighted by lambda_k, as '<output>_loss'
and each metric as '<output>_<metric>'; with one output the names carry
no prefix (``name_metrics``).
"""
import copy
import dataclasses

from minicnn import losses as losses_module
from minicnn import metrics as metrics_module
from minicnn.autograd import as_tensor


# -- data by input and output name ---------------------------------------------

def in_order(value, names, what, where):
    """``value`` (a list or tuple in the model's order, a dict by name, or for one
    name a single value) as a list in the order of ``names``; None stays None."""
    if value is None:
        return None
    if isinstance(value, dict):
        unknown = [k for k in value if k not in names]
        if unknown:
            raise ValueError(f'{where}: {what} has the key(s) {unknown}, which name no '
                             f'{what_kind(what)} of the model; its names are {names}')
        absent = [n for n in names if n not in value]
        if absent:
            raise ValueError(f'{where}: {what} gives no value for the {what_kind(what)}(s) '
                             f'{absent}; the model has {names}')
        return [value[n] for n in names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ValueError(f'{where}: {what} is a list of {len(value)}, but the model has '
                             f'{len(names)} {what_kind(what)}s {names}')
        return list(value)
    if len(names) != 1:
        raise ValueError(f'{where}: {what} is one {type(value).__name__}, but the model has '
                         f'{len(names)} {what_kind(what)}s {names}; give a list or a dict '
                         f'keyed by those names')
    return [value]


def what_kind(what):
    return 'input' if what == 'x' else 'output'


def data_in_order(model, x, y, sample_weight, where):
    """(x, y, sample_weight) as the loop takes them: arrays for a model of one input
    and one output, else lists in the model's order (a list for several, one
    array for one). One sample_weight array weights every output, as in Keras."""
    xs = in_order(x, model.input_names, 'x', where)
    ys = in_order(y, model.output_names, 'y', where)
    ws = sample_weight
    if ws is not None and not isinstance(ws, (list, tuple, dict)) and len(model.output_names) > 1:
        ws = [ws] * len(model.output_names)
    ws = in_order(ws, model.output_names, 'sample_weight', where)
    return (unwrap(xs, model.single_input), unwrap(ys, model.single_output),
            unwrap(ws, model.single_output))


def unwrap(values, single):
    return values[0] if single and values is not None else values


def is_structure(x):
    """Whether x is the data of several inputs or outputs (a list, tuple or dict of
    arrays), not one array (nor a list of labels)."""
    return isinstance(x, dict) or (isinstance(x, (list, tuple)) and len(x) > 0 and
                                   all(getattr(v, 'ndim', 0) >= 1 or v is None for v in x))


def arranged(model, x, y, sample_weight, where):
    """``data_in_order`` where the model has several inputs or outputs or the data
    comes as lists or dicts; else x, y and sample_weight as they are (and so for
    a generator, Sequence or data set x, whose batches are arranged one by one)."""
    batches = not (hasattr(x, 'shape') or isinstance(x, (list, tuple, dict)))
    if model.subclassed or batches:  # its call takes x as given / each batch is arranged
        return x, y, sample_weight
    if model.has_many_parts or any(is_structure(v) for v in (x, y, sample_weight)):
        return data_in_order(model, x, y, sample_weight, where)
    return x, y, sample_weight


def labelled(what, arrays, names):
    """(label, array) pairs naming each array by its input or output: "x['image']"."""
    arrays = arrays if isinstance(arrays, list) else [arrays]
    names = names if names and len(names) == len(arrays) else range(len(arrays))
    return [(f'{what}[{n!r}]', a) for n, a in zip(names, arrays) if a is not None]


def check_lengths(pairs, where):
    """Every array of the (label, array) pairs has as many samples as the first."""
    (first, a), *rest = pairs
    for label, b in rest:
        if len(b) != len(a):
            raise ValueError(f'{where}: {label} has {len(b)} samples but {first} has {len(a)}; '
                             f'every input, target and weight array needs one row per sample')


# -- compile's losses and metrics per output -------------------------------------

@dataclasses.dataclass
class Output:
    """What compile gave one output: its loss, the weight lambda of that loss in the
    total, and its metrics (``weighted`` ones see the sample weights)."""
    name: str
    loss: object
    weight: float
    metrics: list
    weighted: list


def per_output(value, names, what, default):
    """compile's ``value`` for each output: one for all, a list, or a dict by name
    (an output a dict leaves out gets ``default``). A serialized object's dict
    ({'class_name': ..., 'config': ...}) is one value."""
    if isinstance(value, dict) and not is_serialized(value, names):
        unknown = [k for k in value if k not in names]
        if unknown:
            raise ValueError(f'compile: {what} has the key(s) {unknown}, which name no output '
                             f'of the model; its outputs are {names}')
        return [value.get(n, default) for n in names]
    if isinstance(value, (list, tuple)) and what != 'metrics':
        if len(value) != len(names):
            raise ValueError(f'compile: {what} is a list of {len(value)}, but the model has '
                             f'{len(names)} outputs {names}')
        return list(value)
    return [value] * len(names)


def is_serialized(value, names):
    return 'class_name' in value and 'class_name' not in names


def metrics_per_output(value, names, what):
    """compile's metrics (or weighted_metrics) for each output: one list for every
    output, a list of lists, or a dict by output name of a metric or a list."""
    if value is None:
        return [[] for _ in names]
    if isinstance(value, (list, tuple)) and value and \
            all(isinstance(v, (list, tuple)) or v is None for v in value):
        if len(value) != len(names):
            raise ValueError(f'compile: {what} is a list of {len(value)} lists, but the model '
                             f'has {len(names)} outputs {names}')
        lists = list(value)
    elif isinstance(value, dict):
        lists = per_output(value, names, what, [])
    elif isinstance(value, (list, tuple)):
        lists = [list(value)] * len(names)
    else:
        raise ValueError(f"compile: {what} must be a list (e.g. ['accuracy']), a list of lists "
                         f"or a dict by output name, got {what}={value!r}")
    # each output gets its own Metric objects: their states must not mix
    return [[copy.deepcopy(m) if isinstance(m, metrics_module.Metric) else m
             for m in ([] if ms is None else ms if isinstance(ms, (list, tuple)) else [ms])]
            for ms in lists]


def compile_outputs(names, loss, loss_weights, metrics, weighted_metrics):
    """The Outputs of a model with outputs ``names``, as compile's arguments give them."""
    if loss is None:
        raise ValueError('compile: give a loss (one for all outputs, a list or a dict by '
                         f'output name; the outputs are {names})')
    loss_list = per_output(loss, names, 'loss', None)
    absent = [n for n, l in zip(names, loss_list) if l is None]
    if absent:
        raise ValueError(f'compile: the loss dict gives no loss for the output(s) {absent}; '
                         f'minicnn needs a loss for every output (Keras 2 would leave them '
                         f'untrained)')
    weights = per_output(loss_weights, names, 'loss_weights', 1.0) if loss_weights is not None \
        else [1.0] * len(names)
    for n, w in zip(names, weights):
        if not isinstance(w, (int, float)) or isinstance(w, bool) or w != w:
            raise ValueError(f'compile: the loss weight of output {n!r} must be a number, '
                             f'got {w!r}')
    plain = metrics_per_output(metrics, names, 'metrics')
    weighted = metrics_per_output(weighted_metrics, names, 'weighted_metrics')
    outputs = [Output(n, losses_module.get(l), float(w),
                      [metrics_module.get(m) for m in ms], [metrics_module.get(m) for m in wms])
               for n, l, w, ms, wms in zip(names, loss_list, weights, plain, weighted)]
    name_metrics(outputs)
    return outputs


def name_metrics(outputs):
    """Keras 2's names: '<output>_<metric>' with several outputs; a weighted metric
    whose name is taken gets 'weighted_' before its own ('<output>_weighted_<metric>')."""
    several = len(outputs) > 1
    taken = set()
    for o in outputs:
        prefix = f'{o.name}_' if several else ''
        for m in o.metrics:
            m.name = unique(prefix + m.name, taken)
        for m in o.weighted:
            name = prefix + m.name
            m.name = unique(prefix + 'weighted_' + m.name if name in taken else name, taken)
        for m in (*o.metrics, *o.weighted):
            m.reset_state()


def unique(name, taken):
    """``name``, or if taken '<name>_1', '<name>_2', ... as Keras names repeated metrics."""
    count = 0
    while (f'{name}_{count}' if count else name) in taken:
        count += 1
    name = f'{name}_{count}' if count else name
    taken.add(name)
    return name


def metric_slots(outputs):
    """The compiled metrics in Keras's order (every output's metrics, then every
    output's weighted metrics), each as (metric, output index, weighted)."""
    return [*((m, k, False) for k, o in enumerate(outputs) for m in o.metrics),
            *((m, k, True) for k, o in enumerate(outputs) for m in o.weighted)]


def part_names(loss):
    """The names of the per-output losses that Keras 2 logs: '<output>_loss' for
    each of several outputs, none for one."""
    several = isinstance(loss, TotalLoss) and len(loss.outputs) > 1
    return [f'{o.name}_loss' for o in loss.outputs] if several else []


class TotalLoss:
    """The loss of a model of several outputs: sum_k lambda_k L_k (see the module
    docstring), a scalar Tensor. ``parts`` keeps the latest call's L_k values
    (arrays), which fit logs as '<output>_loss'."""

    def __init__(self, outputs):
        self.outputs = outputs
        self.parts = []

    def __call__(self, ys, predictions, sample_weights=None):
        weights = sample_weights or [None] * len(self.outputs)
        parts = [o.loss(y, as_tensor(p), w)
                 for o, y, p, w in zip(self.outputs, ys, predictions, weights)]
        self.parts = [p.data for p in parts]
        total = None
        for o, part in zip(self.outputs, parts):
            term = part * o.weight if o.weight != 1.0 else part
            total = term if total is None else total + term
        return total

    def get_config(self):
        raise NotImplementedError('saving the compile arguments of a model of several outputs '
                                  'is not implemented in minicnn: save its weights (or the model '
                                  'uncompiled) and compile it again after loading')
