"""Optimizers: turn gradients into parameter updates, with Keras's rules.

``opt.step(params)`` does, for the parameters p whose gradient g is set::

    g    = clipped(g)                                   clipnorm, global_clipnorm or clipvalue
    lr_t = learning_rate / (1 + decay * iterations)     time-based decay (Keras 2)
    p   -= lr_t * weight_decay * p                      decoupled weight decay (AdamW)
    p    = rule(p, g, lr_t * p.lr_multiplier)           SGD, RMSprop, Adam, ... below

and then ``iterations += 1``. ``p.lr_multiplier`` is 1 unless a layer asks
for larger steps for one of its weights (BatchNormalization's
``beta_lr_multiplier``); weight decay keeps the base rate. ``learning_rate`` is a float or a schedule
(``minicnn.optimizers.schedules``), which gives the rate at the step
``iterations``. Weight decay shrinks p directly instead of being added to
g, so Adam and RMSprop do not rescale it (Loshchilov & Hutter, "Decoupled
weight decay regularization", 2019).

Clipping, as Keras does it (at most one of the three; it acts on the
gradients only, before the weight decay, which does not go through g)::

    clipnorm c          g *= c / max(|g|, c)        each gradient on its own
    global_clipnorm c   g *= c / max(|G|, c)        |G| the norm of all gradients together
    clipvalue c         g = clip(g, -c, c)          each element

Updates are made in place (``p -= ...``, ``v[...] = ...`` overwrites v's
values), so the layers that hold p see the new values. Each rule keeps
per-parameter arrays ("slots": velocities, running averages), made the
first time a parameter is updated (zeros, unless the rule says otherwise)
and found again by the parameter itself, not by its place in the list:
freezing a layer between steps drops its weights from the list, and every
other parameter keeps its own slots.

Each rule is written as ``reference_update``: its formula in array
operators, run on the GPU (CuPy) and with the NumPy reference kernels.
SGD, RMSprop and Adam also have ``fast_update``, the same arithmetic as a
compiled loop that passes over p, g and the slots once instead of once per
operator (``minicnn.kernels.optimizer_numba``), which runs on NumPy arrays
with the Numba kernels: ``update`` runs it where p's kernel set
(``kernels.for_array(p).optimizer``) has the passes, and the tests check that the two
agree.

All array arithmetic happens in the parameter's dtype: the hyperparameters
are Python floats, which NumPy and CuPy fold into a float32 array without
promoting it.
"""
import math
import numbers

import numpy as np

from minicnn import devices, kernels, missing
from minicnn.arguments import check_positive, reject_unknown
from minicnn.optimizers import schedules
from minicnn.optimizers.schedules import LearningRateSchedule

CLIPPING = ('clipnorm', 'global_clipnorm', 'clipvalue')


class LearningRate(float):
    """What ``optimizer.learning_rate`` returns: the rate as a float, which can
    also be assigned like the variable Keras returns there. Assigning sets the
    optimizer's rate, so the next step uses it::

        K.set_value(model.optimizer.lr, 0.01)
        model.optimizer.learning_rate.assign(0.01)

    The float keeps the value of when it was read; ``value()`` reads the
    optimizer's rate now (Keras's ``get_value``).
    """

    def __new__(cls, value, optimizer):
        rate = super().__new__(cls, value)
        rate.optimizer = optimizer
        return rate

    def assign(self, value):
        self.optimizer.learning_rate = value

    def value(self):
        return float(self.optimizer.learning_rate)

    def numpy(self):
        return np.float32(self.value())

    def __reduce__(self):  # copied or pickled, it is the number alone
        return float, (float(self),)


class Optimizer:
    """Base class: the step loop, learning rate, clipping, weight decay and state.

    A subclass sets ``default_learning_rate`` and ``config_keys`` (its own
    constructor arguments) and writes ``slot_names`` and ``update``.
    """
    default_learning_rate = None
    config_keys = ()
    slot_names = ()
    counter_names = ('iterations',)  # the scalars get_state saves along with the slots

    def __init__(self, learning_rate=None, weight_decay=None, decay=0.0, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, name=None, **kwargs):
        who = type(self).__name__
        lr = kwargs.pop('lr', None)  # Keras 2's name for learning_rate
        reject_unknown(who, kwargs, self.keyword_names())
        if learning_rate is not None and lr is not None:
            raise TypeError(f'{who}: give learning_rate or its old name lr, not both')
        if learning_rate is None:
            learning_rate = self.default_learning_rate if lr is None else lr
        self._learning_rate = None
        self.learning_rate = learning_rate
        self.weight_decay = None if weight_decay is None else float(weight_decay)
        self.decay = float(decay)
        self.clipnorm = check_positive(who, 'clipnorm', clipnorm)
        self.clipvalue = check_positive(who, 'clipvalue', clipvalue)
        self.global_clipnorm = check_positive(who, 'global_clipnorm', global_clipnorm)
        clipping = {name: getattr(self, name) for name in CLIPPING if getattr(self, name)}
        if len(clipping) > 1:
            raise ValueError(f'{who}: only one of clipnorm, clipvalue and global_clipnorm can be '
                             f'set, got {clipping}')
        self.name = name or who.lower()
        self.iterations = 0
        self._slots = {}  # parameter Tensor -> {slot name: array}

    @classmethod
    def keyword_names(cls):
        """The constructor's keywords: its own, the base class's and 'lr'."""
        return {'learning_rate', 'lr', 'weight_decay', 'decay', 'name', *CLIPPING,
                *cls.config_keys}

    @property
    def schedule(self):
        """The LearningRateSchedule the rate follows, or None for a fixed rate."""
        return self._learning_rate if isinstance(self._learning_rate, LearningRateSchedule) \
            else None

    @property
    def learning_rate(self):
        """The rate of the next step, before time-based decay: the float given, or the
        schedule at step ``iterations`` (Keras's ``optimizer.learning_rate``).

        A ``LearningRate``: a float that can also be assigned, as Keras's variable
        is, with ``K.set_value(optimizer.lr, 0.01)`` or ``.assign(0.01)``."""
        if self.schedule is not None:
            return LearningRate(self.schedule(self.iterations), self)
        return LearningRate(self._learning_rate, self)

    @learning_rate.setter
    def learning_rate(self, value):
        who = type(self).__name__
        if isinstance(value, LearningRateSchedule):
            self._learning_rate = value
            return
        if self.schedule is not None:
            raise TypeError(f'{who}: the learning rate follows a schedule '
                            f'({self.schedule!r}), so it cannot be set to {value!r}; '
                            f'give the optimizer a float learning_rate to change it by hand')
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f'{who}: learning_rate must be a number or a LearningRateSchedule, '
                             f'got learning_rate={value!r}')
        self._learning_rate = float(value)

    # Keras 2's old name, still common in programs: K.set_value(model.optimizer.lr, 0.01)
    lr = learning_rate

    @property
    def current_learning_rate(self):
        """learning_rate / (1 + decay * iterations), the rate of the next step."""
        return self.learning_rate / (1 + self.decay * self.iterations)

    def step(self, params):
        """Update, in place, each Tensor in params whose .grad is set; then iterations += 1."""
        params = [p for p in params if p.grad is not None]  # others are frozen or unused
        grads = self.clipped([p.grad.astype(p.data.dtype, copy=False) for p in params])
        lr = self.current_learning_rate
        self.begin_step()
        for p, g in zip(params, grads):
            if self.weight_decay:
                p.data -= p.data * (self.weight_decay * lr)
            self.update(p.data, g, self._slots_for(p), lr * p.lr_multiplier)
        self.iterations += 1

    def clipped(self, grads):
        """The gradients clipped as clipnorm, global_clipnorm or clipvalue asks (on the
        device: the norms are never read back)."""
        if self.clipnorm:
            return [g * self.norm_scale(squared_norm(g), self.clipnorm) for g in grads]
        if self.global_clipnorm and grads:
            scale = self.norm_scale(sum(squared_norm(g) for g in grads), self.global_clipnorm)
            return [g * scale for g in grads]
        if self.clipvalue:
            return [devices.get_array_module(g).clip(g, -self.clipvalue, self.clipvalue)
                    for g in grads]
        return grads

    @staticmethod
    def norm_scale(squared, limit):
        """limit / max(norm, limit): 1 for a norm within the limit, else what brings it there."""
        xp = devices.get_array_module(squared)
        return limit / xp.maximum(xp.sqrt(squared), limit)

    def begin_step(self):
        """Work done once per step, before the parameters are updated (Nadam's)."""

    # A rule with a one-pass Numba kernel (SGD, RMSprop, Adam) sets this to the
    # method that calls it; see minicnn/kernels/optimizer_numba.py.
    fast_update = None

    def update(self, p, g, slots, lr):
        """Change the array p in place, given its gradient g, its slots and the rate lr:
        with the rule's ``fast_update`` where it has one, p is a NumPy array and the
        Numba kernels are chosen; else with ``reference_update``, the plain array
        form, which is also what runs on the GPU (CuPy runs each operator as one
        kernel)."""
        passes = kernels.for_array(p).optimizer  # None where the kernel set has none
        if (self.fast_update is not None and passes is not None
                and passes.accepts(p, g, slots.values())):
            self.fast_update(passes, p, g, slots, lr)
        else:
            self.reference_update(p, g, slots, lr)

    def reference_update(self, p, g, slots, lr):
        """The rule in array operators, its formula in the docstring (subclasses write it)."""
        raise NotImplementedError

    def initial_slot_value(self, name):
        """What slot ``name`` holds before the first update (Adagrad's is not 0)."""
        return 0.0

    def _slots_for(self, p):
        """The slots of parameter Tensor p: made on first use, then kept on p's device."""
        slots = self._slots.setdefault(p, {})
        for name in self.slot_names:
            s = slots.get(name)
            if s is None:
                xp = devices.get_array_module(p.data)
                s = xp.full_like(p.data, self.initial_slot_value(name))
            # set_state restores NumPy arrays, and a model may move to the GPU between steps.
            slots[name] = devices.to_device(s, p.device)
        return slots

    def get_config(self):
        """The constructor arguments, Keras style: ``from_config(get_config())`` makes a twin
        (a schedule stored as ``schedules.serialize`` gives it)."""
        keys = ('name', 'weight_decay', 'decay', *CLIPPING, *self.config_keys)
        learning_rate = self._learning_rate if self.schedule is None else \
            schedules.serialize(self.schedule)
        return {'learning_rate': learning_rate, **{key: getattr(self, key) for key in keys}}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get('learning_rate'), dict):
            config['learning_rate'] = schedules.deserialize(config['learning_rate'])
        return cls(**config)

    def get_state(self, params):
        """The counters (``iterations``, Nadam's ``u_product``) and the slots of ``params``,
        as NumPy arrays keyed 'slot/position' ('m/3': slot m of params[3]).

        Pass every weight of the model (``model.weights``, frozen ones too), so
        that positions do not depend on what is trainable. The dict can go
        straight to ``np.savez(path, **state)``.
        """
        state = {name: np.asarray(getattr(self, name)) for name in self.counter_names}
        for i, p in enumerate(params):
            for name, s in self._slots.get(p, {}).items():
                # np.array copies: later steps change s in place.
                state[f'{name}/{i}'] = np.array(devices.to_numpy(s))
        return state

    def set_state(self, state, params):
        """Restore what ``get_state(params)`` returned (or ``np.load`` of its file)
        onto the same list of parameters (of this model or of a rebuilt twin)."""
        slots = {}
        for key, value in state.items():
            if key in self.counter_names:
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
            slots.setdefault(params[i], {})[name] = np.array(devices.to_numpy(value))
        for name in self.counter_names:
            if name in state:  # a file of an older minicnn may lack a newer counter
                setattr(self, name, np.asarray(state[name]).item())
        self._slots = slots


def squared_norm(g):
    return (g * g).sum()


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

    def reference_update(self, p, g, slots, lr):
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

    def fast_update(self, passes, p, g, slots, lr):
        """The same in one compiled pass over p, g and v."""
        passes.sgd(p, g, slots.get('v'), lr, self.momentum, self.nesterov)


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

    def reference_update(self, p, g, slots, lr):
        """s is the running mean of g^2; centered also keeps m, that of g::

            s = rho * s + (1 - rho) * g^2
            m = rho * m + (1 - rho) * g         (centered: s - m^2 estimates Var(g))
            step = lr * g / sqrt(s + eps)       (centered: sqrt(s - m^2 + eps))
            p -= step                           (momentum: v = momentum * v + step; p -= v)

        eps sits inside the square root, as in Keras (PyTorch adds it outside).
        """
        xp = devices.get_array_module(p)
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

    def fast_update(self, passes, p, g, slots, lr):
        """The same in one compiled pass over p, g and the slots."""
        passes.rmsprop(p, g, slots['s'], slots.get('m'), slots.get('v'), lr, self.rho,
                                self.epsilon, self.momentum)


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

    def reference_update(self, p, g, slots, lr):
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
        xp = devices.get_array_module(p)
        m, v = slots['m'], slots['v']
        m[...] = self.beta_1 * m + (1 - self.beta_1) * g
        v[...] = self.beta_2 * v + (1 - self.beta_2) * g * g
        if self.amsgrad:
            vhat = slots['vhat']
            vhat[...] = xp.maximum(vhat, v)
            v = vhat
        p -= self.corrected_rate(lr) * m / (xp.sqrt(v) + self.epsilon)

    def fast_update(self, passes, p, g, slots, lr):
        """The same in one compiled pass over p, g and the slots."""
        passes.adam(p, g, slots['m'], slots['v'], slots.get('vhat'),
                             self.corrected_rate(lr), self.beta_1, self.beta_2, self.epsilon)

    def corrected_rate(self, lr):
        """lr_t = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t), t = iterations + 1."""
        t = self.iterations + 1
        return lr * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)


class AdamW(Adam):
    """Adam with decoupled weight decay, on by default (Loshchilov & Hutter, 2019)::

        p -= lr * weight_decay * p,  then Adam's update     (weight_decay defaults to 0.004)
    """

    def __init__(self, learning_rate=None, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, **kwargs):
        """learning_rate defaults to 0.001."""
        if weight_decay is None:
            raise ValueError('AdamW: weight_decay must be a number, got weight_decay=None')
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad,
                         weight_decay=weight_decay, **kwargs)


class Adagrad(Optimizer):
    """Each parameter's rate divided by the root of its summed squared gradients
    (Duchi et al., 2011): parameters that get large gradients slow down."""
    default_learning_rate = 0.001
    config_keys = ('initial_accumulator_value', 'epsilon')
    slot_names = ('accumulator',)

    def __init__(self, learning_rate=None, initial_accumulator_value=0.1, epsilon=1e-7,
                 **kwargs):
        """learning_rate defaults to 0.001."""
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon = float(epsilon)

    def initial_slot_value(self, name):
        return self.initial_accumulator_value

    def reference_update(self, p, g, slots, lr):
        """a starts at initial_accumulator_value::

            a += g^2
            p -= lr * g / sqrt(a + eps)
        """
        a = slots['accumulator']
        a += g * g
        p -= lr * g / devices.get_array_module(p).sqrt(a + self.epsilon)


class Adadelta(Optimizer):
    """Steps sized by the ratio of running RMS of past steps to that of gradients
    (Zeiler, 2012): the step has the units of p."""
    default_learning_rate = 0.001
    config_keys = ('rho', 'epsilon')
    slot_names = ('accumulated_grad', 'accumulated_delta')

    def __init__(self, learning_rate=None, rho=0.95, epsilon=1e-7, **kwargs):
        """learning_rate defaults to 0.001 (Keras 3's; the paper's rule is lr = 1)."""
        super().__init__(learning_rate, **kwargs)
        self.rho = float(rho)
        self.epsilon = float(epsilon)

    def reference_update(self, p, g, slots, lr):
        """G and D are running means of g^2 and of the squared steps::

            G = rho * G + (1 - rho) * g^2
            delta = -sqrt(D + eps) / sqrt(G + eps) * g
            D = rho * D + (1 - rho) * delta^2
            p += lr * delta
        """
        xp = devices.get_array_module(p)
        grad_sq, delta_sq = slots['accumulated_grad'], slots['accumulated_delta']
        grad_sq[...] = self.rho * grad_sq + (1 - self.rho) * g * g
        delta = -xp.sqrt(delta_sq + self.epsilon) / xp.sqrt(grad_sq + self.epsilon) * g
        delta_sq[...] = self.rho * delta_sq + (1 - self.rho) * delta * delta
        p += lr * delta


class Adamax(Optimizer):
    """Adam with the infinity norm in place of the root mean square (Kingma & Ba, 2015)."""
    default_learning_rate = 0.001
    config_keys = ('beta_1', 'beta_2', 'epsilon')
    slot_names = ('m', 'u')

    def __init__(self, learning_rate=None, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        """learning_rate defaults to 0.001."""
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)

    def reference_update(self, p, g, slots, lr):
        """m is the running mean of g, u a decaying maximum of |g|, t counts from 1::

            m = beta_1 * m + (1 - beta_1) * g
            u = max(beta_2 * u, |g|)
            p -= lr * m / ((1 - beta_1^t) * (u + eps))
        """
        xp = devices.get_array_module(p)
        t = self.iterations + 1
        m, u = slots['m'], slots['u']
        m[...] = self.beta_1 * m + (1 - self.beta_1) * g
        u[...] = xp.maximum(self.beta_2 * u, xp.abs(g))
        p -= lr / (1 - self.beta_1 ** t) * m / (u + self.epsilon)


class Nadam(Optimizer):
    """Adam with Nesterov momentum (Dozat, 2016), with Keras's momentum schedule."""
    default_learning_rate = 0.001
    config_keys = ('beta_1', 'beta_2', 'epsilon')
    slot_names = ('m', 'v')
    counter_names = ('iterations', 'u_product')

    def __init__(self, learning_rate=None, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        """learning_rate defaults to 0.001."""
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.u_product = 1.0  # mu_1 * ... * mu_t, the product of the momentum schedule

    def mu(self, t):
        """The momentum at step t: beta_1 * (1 - 0.96^t / 2)."""
        return self.beta_1 * (1 - 0.5 * 0.96 ** t)

    def begin_step(self):
        self.u_product *= self.mu(self.iterations + 1)

    def reference_update(self, p, g, slots, lr):
        """With mu_t the momentum schedule, P_t = mu_1 ... mu_t, t counting from 1::

            m = beta_1 * m + (1 - beta_1) * g
            v = beta_2 * v + (1 - beta_2) * g^2
            m_hat = mu_{t+1} m / (1 - P_t mu_{t+1}) + (1 - mu_t) g / (1 - P_t)
            v_hat = v / (1 - beta_2^t)
            p -= lr * m_hat / (sqrt(v_hat) + eps)

        m_hat looks one step ahead (Nesterov): next step's momentum on m, plus
        this gradient's own share.
        """
        xp = devices.get_array_module(p)
        t = self.iterations + 1
        mu_t, mu_next = self.mu(t), self.mu(t + 1)
        m, v = slots['m'], slots['v']
        m[...] = self.beta_1 * m + (1 - self.beta_1) * g
        v[...] = self.beta_2 * v + (1 - self.beta_2) * g * g
        m_hat = mu_next / (1 - self.u_product * mu_next) * m + (1 - mu_t) / (1 - self.u_product) * g
        v_hat = v / (1 - self.beta_2 ** t)
        p -= lr * m_hat / (xp.sqrt(v_hat) + self.epsilon)


OPTIMIZERS = {cls.__name__.lower(): cls for cls in (
    SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta, Adamax, Nadam)}


def get(identifier):
    """A new optimizer with default settings from a name ('sgd', 'RMSprop', 'ADAM', ...),
    or an Optimizer, returned as is."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in OPTIMIZERS:
        return OPTIMIZERS[identifier.lower()]()
    raise ValueError(f'unknown optimizer {identifier!r}; give an Optimizer or one of '
                     f'{sorted(OPTIMIZERS)}')


missing.install(globals(), 'optimizers')
