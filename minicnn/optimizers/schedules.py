"""Learning-rate schedules: the rate as a function of the optimizer's step count.

    SGD(learning_rate=ExponentialDecay(0.1, decay_steps=1000, decay_rate=0.5))

Before each update the optimizer asks ``schedule(step)``, step the number of
updates made so far (0 for the first), as Keras does. With lr0 the initial
learning rate and s the step:

    ExponentialDecay        lr0 * decay_rate^(s / decay_steps)
    InverseTimeDecay        lr0 / (1 + decay_rate * s / decay_steps)
                            (staircase, for both: s / decay_steps floored)
    PiecewiseConstantDecay  values[0] for s <= boundaries[0], values[i] for
                            boundaries[i-1] < s <= boundaries[i], values[-1] after the last
    PiecewiseLinearDecay    values[i] at step boundaries[i], a straight line between
                            two, values[-1] after the last (minicnn's, not Keras's:
                            the fast recipe's warm-up, then linear decay)
    PolynomialDecay         (lr0 - end) (1 - min(s, D) / D)^power + end,   D = decay_steps
                            (cycle: D becomes the first multiple of decay_steps >= s)
    CosineDecay             lr0 ((1 - alpha) (1 + cos(pi min(s, D) / D)) / 2 + alpha),
                            after a linear warmup from lr0 to warmup_target (which then
                            takes lr0's place) over warmup_steps, if warmup_target is set
    CosineDecayRestarts     the cosine decay over first_decay_steps, then restarted:
                            each period t_mul times longer, its peak m_mul times lower

A schedule's ``get_config`` holds its arguments; ``serialize`` and
``deserialize`` turn it into JSON-ready data and back (what a saved
optimizer's config holds).
"""
import math

from minicnn.arguments import keywords_checked


class LearningRateSchedule:
    """Base class: ``schedule(step)`` is the learning rate at that step (a float)."""

    def __call__(self, step):
        raise NotImplementedError

    def get_config(self):
        raise NotImplementedError

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f'{type(self).__name__}({self.get_config()})'


def check_steps(where, name, value):
    if not value > 0:
        raise ValueError(f'{where}: {name} must be > 0, got {name}={value!r}')
    return value


class DecayOverSteps(LearningRateSchedule):
    """ExponentialDecay and InverseTimeDecay: decay_rate applied as the step count
    grows, in units of decay_steps (whole units only, with staircase). The name
    defaults to the class's, as in Keras."""

    @keywords_checked
    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name=None):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = check_steps(type(self).__name__, 'decay_steps', decay_steps)
        self.decay_rate, self.staircase = decay_rate, staircase
        self.name = name or type(self).__name__

    def units(self, step):
        """step / decay_steps, floored with staircase."""
        p = step / self.decay_steps
        return math.floor(p) if self.staircase else p

    def get_config(self):
        return {'initial_learning_rate': self.initial_learning_rate,
                'decay_steps': self.decay_steps, 'decay_rate': self.decay_rate,
                'staircase': self.staircase, 'name': self.name}


class ExponentialDecay(DecayOverSteps):
    def __call__(self, step):
        return self.initial_learning_rate * self.decay_rate ** self.units(step)


class InverseTimeDecay(DecayOverSteps):
    def __call__(self, step):
        return self.initial_learning_rate / (1 + self.decay_rate * self.units(step))


class PiecewiseConstantDecay(LearningRateSchedule):
    @keywords_checked
    def __init__(self, boundaries, values, name='PiecewiseConstant'):
        if len(boundaries) != len(values) - 1:
            raise ValueError(f'PiecewiseConstantDecay: boundaries must have one element less '
                             f'than values, got boundaries={boundaries!r} and values={values!r}')
        self.boundaries, self.values, self.name = list(boundaries), list(values), name

    def __call__(self, step):
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return value
        return self.values[-1]

    def get_config(self):
        return {'boundaries': self.boundaries, 'values': self.values, 'name': self.name}


class PiecewiseLinearDecay(LearningRateSchedule):
    """Straight lines through (boundaries[i], values[i]); flat before the first
    and after the last. ``PiecewiseLinearDecay([0, 230, 1000], [0.2, 1.0, 0.07])``
    warms up from 0.2 to 1.0 over 230 steps, then decays to 0.07 at step 1000.
    """

    @keywords_checked
    def __init__(self, boundaries, values, name='PiecewiseLinear'):
        if len(boundaries) != len(values) or len(boundaries) < 1 or \
                any(b > c for b, c in zip(boundaries, boundaries[1:])):
            raise ValueError(f'PiecewiseLinearDecay: boundaries must be non-decreasing steps, one '
                             f'per value, got boundaries={boundaries!r} and values={values!r}')
        self.boundaries, self.values, self.name = list(boundaries), list(values), name

    def __call__(self, step):
        if step <= self.boundaries[0]:
            return self.values[0]
        for (b0, b1), (v0, v1) in zip(zip(self.boundaries, self.boundaries[1:]),
                                      zip(self.values, self.values[1:])):
            if step <= b1:
                return v0 + (v1 - v0) * (step - b0) / (b1 - b0)
        return self.values[-1]

    def get_config(self):
        return {'boundaries': self.boundaries, 'values': self.values, 'name': self.name}


class PolynomialDecay(LearningRateSchedule):
    @keywords_checked
    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name='PolynomialDecay'):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = check_steps('PolynomialDecay', 'decay_steps', decay_steps)
        self.end_learning_rate, self.power = end_learning_rate, power
        self.cycle, self.name = cycle, name

    def __call__(self, step):
        decay_steps = self.decay_steps
        if self.cycle:  # the first multiple of decay_steps that reaches step (1 at step 0)
            decay_steps *= max(math.ceil(step / self.decay_steps), 1)
        else:
            step = min(step, decay_steps)
        return (self.initial_learning_rate - self.end_learning_rate) * \
            (1 - step / decay_steps) ** self.power + self.end_learning_rate

    def get_config(self):
        return {'initial_learning_rate': self.initial_learning_rate,
                'decay_steps': self.decay_steps, 'end_learning_rate': self.end_learning_rate,
                'power': self.power, 'cycle': self.cycle, 'name': self.name}


def half_cosine(fraction):
    """(1 + cos(pi fraction)) / 2: from 1 at fraction 0 down to 0 at 1."""
    return 0.5 * (1 + math.cos(math.pi * fraction))


class CosineDecay(LearningRateSchedule):
    @keywords_checked
    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name='CosineDecay',
                 warmup_target=None, warmup_steps=0):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = check_steps('CosineDecay', 'decay_steps', decay_steps)
        self.alpha, self.name = alpha, name
        self.warmup_target, self.warmup_steps = warmup_target, warmup_steps

    def __call__(self, step):
        if self.warmup_target is None:
            return self.decayed(self.initial_learning_rate, min(step, self.decay_steps))
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:  # linear, from initial_learning_rate to warmup_target
            return self.initial_learning_rate + \
                (self.warmup_target - self.initial_learning_rate) * step / self.warmup_steps
        return self.decayed(self.warmup_target, step - self.warmup_steps)

    def decayed(self, start, step):
        return start * ((1 - self.alpha) * half_cosine(step / self.decay_steps) + self.alpha)

    def get_config(self):
        return {'initial_learning_rate': self.initial_learning_rate,
                'decay_steps': self.decay_steps, 'alpha': self.alpha, 'name': self.name,
                'warmup_target': self.warmup_target, 'warmup_steps': self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Restart i (from 0) runs first_decay_steps * t_mul^i steps, from m_mul^i of the
    initial rate; the floor is always alpha times the initial rate (as in Keras)."""

    @keywords_checked
    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0,
                 alpha=0.0, name='SGDRDecay'):
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = check_steps('CosineDecayRestarts', 'first_decay_steps',
                                             first_decay_steps)
        self.t_mul, self.m_mul, self.alpha, self.name = t_mul, m_mul, alpha, name

    def restart_and_fraction(self, step):
        """(i, f): step falls in restart i, a fraction f of the way through it."""
        fraction = step / self.first_decay_steps
        if self.t_mul == 1.0:
            restart = math.floor(fraction)
            return restart, fraction - restart
        # periods 1, t, t^2, ... (in first_decay_steps): restart i starts at (1 - t^i) / (1 - t)
        restart = math.floor(math.log(1 - fraction * (1 - self.t_mul)) / math.log(self.t_mul))
        start = (1 - self.t_mul ** restart) / (1 - self.t_mul)
        return restart, (fraction - start) / self.t_mul ** restart

    def __call__(self, step):
        restart, fraction = self.restart_and_fraction(step)
        cosine = self.m_mul ** restart * half_cosine(fraction)
        return self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha)

    def get_config(self):
        return {'initial_learning_rate': self.initial_learning_rate,
                'first_decay_steps': self.first_decay_steps, 't_mul': self.t_mul,
                'm_mul': self.m_mul, 'alpha': self.alpha, 'name': self.name}


SCHEDULES = {cls.__name__: cls for cls in (
    ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay, PiecewiseLinearDecay,
    PolynomialDecay, CosineDecay, CosineDecayRestarts)}


def serialize(schedule):
    """{'class_name', 'config'}: JSON-ready, and ``deserialize`` rebuilds the schedule."""
    return {'class_name': type(schedule).__name__, 'config': schedule.get_config()}


def deserialize(config):
    name = config.get('class_name') if isinstance(config, dict) else None
    if name not in SCHEDULES:
        raise ValueError(f'unknown learning-rate schedule {config!r}; known: {sorted(SCHEDULES)}')
    return SCHEDULES[name].from_config(config.get('config', {}))
