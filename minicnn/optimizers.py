"""Optimizers: turn gradients into parameter updates, with Keras's rules.

``opt.step(params)`` does, for every parameter p whose gradient g is set::

    lr_t = learning_rate / (1 + decay * iterations)     time-based decay (Keras 2)
    p   -= lr_t * weight_decay * p                      decoupled weight decay (AdamW)
    p    = rule(p, g, lr_t)                             SGD, RMSprop or Adam below

and then ``iterations += 1``. Weight decay shrinks p directly instead of
being added to g, so Adam and RMSprop do not rescale it (Loshchilov & Hutter,
"Decoupled weight decay regularization", 2019).

Updates are made in place (``p -= ...``, ``v[...] = ...`` overwrites v's
values), so the layers that hold p see the new values. Each rule keeps
per-parameter arrays ("slots": velocities, running averages), made as zeros
the first time a parameter is updated and found again by the parameter
itself, not by its place in the list: freezing a layer between steps drops
its weights from the list, and every other parameter keeps its own slots.

All array arithmetic happens in the parameter's dtype: the hyperparameters
are Python floats, which NumPy and CuPy fold into a float32 array without
promoting it.
"""
import math

import numpy as np

from minicnn import backend
from minicnn.arguments import reject_unknown


class Optimizer:
    """Base class: the step loop, learning-rate decay, weight decay and state.

    A subclass sets ``default_learning_rate`` and ``config_keys`` (its own
    constructor arguments) and writes ``slot_names`` and ``update``.
    """
    default_learning_rate = None
    config_keys = ()
    slot_names = ()

    def __init__(self, learning_rate=None, weight_decay=None, decay=0.0, name=None, **kwargs):
        who = type(self).__name__
        lr = kwargs.pop('lr', None)  # Keras 2's name for learning_rate
        reject_unknown(who, kwargs, self.keyword_names())
        if learning_rate is not None and lr is not None:
            raise TypeError(f'{who}: give learning_rate or its old name lr, not both')
        if learning_rate is None:
            learning_rate = self.default_learning_rate if lr is None else lr
        self.learning_rate = float(learning_rate)
        self.weight_decay = None if weight_decay is None else float(weight_decay)
        self.decay = float(decay)
        self.name = name or who.lower()
        self.iterations = 0
        self._slots = {}  # parameter Tensor -> {slot name: array}

    @classmethod
    def keyword_names(cls):
        """The constructor's keywords: its own, the base class's and 'lr'."""
        return {'learning_rate', 'lr', 'weight_decay', 'decay', 'name', *cls.config_keys}

    @property
    def current_learning_rate(self):
        """learning_rate / (1 + decay * iterations), the rate of the next step."""
        return self.learning_rate / (1 + self.decay * self.iterations)

    def step(self, params):
        """Update, in place, each Tensor in params whose .grad is set; then iterations += 1."""
        lr = self.current_learning_rate
        for p in params:
            if p.grad is None:  # frozen, or not used by this batch's loss
                continue
            if self.weight_decay:
                p.data -= p.data * (self.weight_decay * lr)
            g = p.grad.astype(p.data.dtype, copy=False)
            self.update(p.data, g, self._slots_for(p), lr)
        self.iterations += 1

    def update(self, p, g, slots, lr):
        """Change the array p in place, given its gradient g, its slots and the rate lr."""
        raise NotImplementedError

    def _slots_for(self, p):
        """The slots of parameter Tensor p: zeros on first use, then kept on p's device."""
        slots = self._slots.setdefault(p, {})
        for name in self.slot_names:
            s = slots.get(name)
            if s is None:
                s = backend.get_array_module(p.data).zeros_like(p.data)
            # set_state restores NumPy arrays, and a model may move to the GPU between steps.
            slots[name] = backend.to_device(s, p.device)
        return slots

    def get_config(self):
        """The constructor arguments, Keras style: ``from_config(get_config())`` makes a twin."""
        keys = ('name', 'learning_rate', 'weight_decay', 'decay') + self.config_keys
        return {key: getattr(self, key) for key in keys}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_state(self, params):
        """``iterations`` and the slots of ``params``, as NumPy arrays keyed
        'slot/position' ('m/3': slot m of params[3]).

        Pass every weight of the model (``model.weights``, frozen ones too), so
        that positions do not depend on what is trainable. The dict can go
        straight to ``np.savez(path, **state)``.
        """
        state = {'iterations': np.asarray(self.iterations)}
        for i, p in enumerate(params):
            for name, s in self._slots.get(p, {}).items():
                # np.array copies: later steps change s in place.
                state[f'{name}/{i}'] = np.array(backend.to_numpy(s))
        return state

    def set_state(self, state, params):
        """Restore what ``get_state(params)`` returned (or ``np.load`` of its file)
        onto the same list of parameters (of this model or of a rebuilt twin)."""
        slots = {}
        for key, value in state.items():
            if key == 'iterations':
                continue
            name, i = key.rsplit('/', 1)
            i = int(i)
            if name not in self.slot_names:
                raise ValueError(f'{self.name}: the state has a slot {name!r}, '
                                 f'but this optimizer keeps {self.slot_names}')
            if i >= len(params):
                raise ValueError(f'{self.name}: the state has slots for parameter {i}, but only '
                                 f'{len(params)} parameters were given')
            if value.shape != params[i].shape:
                raise ValueError(f'{self.name}: slot {name!r} of parameter {i} '
                                 f'({params[i].name}) has shape {value.shape}, the parameter '
                                 f'{params[i].shape}')
            slots.setdefault(params[i], {})[name] = np.array(backend.to_numpy(value))
        self.iterations = int(state['iterations'])
        self._slots = slots


class SGD(Optimizer):
    """Gradient descent, with optional momentum (Polyak) or Nesterov momentum."""
    default_learning_rate = 0.01
    config_keys = ('momentum', 'nesterov')

    def __init__(self, learning_rate=None, momentum=0.0, nesterov=False, **kwargs):
        """learning_rate defaults to 0.01; momentum must lie in [0, 1]."""
        super().__init__(learning_rate, **kwargs)
        if not 0 <= momentum <= 1:
            raise ValueError(f'SGD: momentum must be in [0, 1], got {momentum}')
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    @property
    def slot_names(self):
        return ('v',) if self.momentum else ()

    def update(self, p, g, slots, lr):
        """Without momentum p -= lr * g. With it, v is a velocity::

            v = momentum * v - lr * g
            p += v                              (nesterov: p += momentum * v - lr * g)

        Nesterov's form steps from where the velocity is about to carry p.
        """
        if not self.momentum:
            p -= lr * g
            return
        v = slots['v']
        v[...] = self.momentum * v - lr * g
        p += (self.momentum * v - lr * g) if self.nesterov else v


class RMSprop(Optimizer):
    """Divide each gradient by a running root mean square of its past values (Hinton, 2012)."""
    default_learning_rate = 0.001
    config_keys = ('rho', 'momentum', 'epsilon', 'centered')

    def __init__(self, learning_rate=None, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, **kwargs):
        """learning_rate defaults to 0.001."""
        super().__init__(learning_rate, **kwargs)
        self.rho = float(rho)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.centered = bool(centered)

    @property
    def slot_names(self):
        names = ['s']
        if self.centered:
            names.append('m')
        if self.momentum:
            names.append('v')
        return tuple(names)

    def update(self, p, g, slots, lr):
        """s is the running mean of g^2; centered also keeps m, that of g::

            s = rho * s + (1 - rho) * g^2
            m = rho * m + (1 - rho) * g         (centered: s - m^2 estimates Var(g))
            step = lr * g / sqrt(s + eps)       (centered: sqrt(s - m^2 + eps))
            p -= step                           (momentum: v = momentum * v + step; p -= v)

        eps sits inside the square root, as in Keras (PyTorch adds it outside).
        """
        xp = backend.get_array_module(p)
        s = slots['s']
        s[...] = self.rho * s + (1 - self.rho) * g * g
        mean_square = s
        if self.centered:
            m = slots['m']
            m[...] = self.rho * m + (1 - self.rho) * g
            mean_square = s - m * m
        step = lr * g / xp.sqrt(mean_square + self.epsilon)
        if self.momentum:
            v = slots['v']
            v[...] = self.momentum * v + step
            step = v
        p -= step


class Adam(Optimizer):
    """Momentum and RMSprop together, with bias correction (Kingma & Ba, 2015)."""
    default_learning_rate = 0.001
    config_keys = ('beta_1', 'beta_2', 'epsilon', 'amsgrad')

    def __init__(self, learning_rate=None, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        """learning_rate defaults to 0.001."""
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.amsgrad = bool(amsgrad)

    @property
    def slot_names(self):
        return ('m', 'v', 'vhat') if self.amsgrad else ('m', 'v')

    def update(self, p, g, slots, lr):
        """m and v are running means of g and g^2, t counts steps from 1::

            m = beta_1 * m + (1 - beta_1) * g
            v = beta_2 * v + (1 - beta_2) * g^2
            (amsgrad: vhat = max(vhat, v), used in place of v)
            lr_t = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
            p -= lr_t * m / (sqrt(v) + eps)

        m and v start at zero, so early on they are too small by the factors
        1 - beta^t; lr_t undoes that. This eps is Keras's "epsilon hat": it is
        added to sqrt(v), not to the bias-corrected sqrt(v / (1 - beta_2^t))
        as in PyTorch.
        """
        xp = backend.get_array_module(p)
        t = self.iterations + 1
        m, v = slots['m'], slots['v']
        m[...] = self.beta_1 * m + (1 - self.beta_1) * g
        v[...] = self.beta_2 * v + (1 - self.beta_2) * g * g
        if self.amsgrad:
            vhat = slots['vhat']
            vhat[...] = xp.maximum(vhat, v)
            v = vhat
        lr_t = lr * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
        p -= lr_t * m / (xp.sqrt(v) + self.epsilon)


OPTIMIZERS = {cls.__name__.lower(): cls for cls in (SGD, RMSprop, Adam)}


def get(identifier):
    """A new optimizer with default settings from a name ('sgd', 'RMSprop', 'ADAM', ...),
    or an Optimizer, returned as is."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in OPTIMIZERS:
        return OPTIMIZERS[identifier.lower()]()
    raise ValueError(f'unknown optimizer {identifier!r}; give an Optimizer or one of '
                     f'{sorted(OPTIMIZERS)}')
