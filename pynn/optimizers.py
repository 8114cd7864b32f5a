"""Optimizers: how each gradient step changes the weights.

The simplest is plain gradient descent, ``w <- w - lr * dE/dw``: the learning
rate ``lr`` scales every step.  The others keep running averages of past
gradients (momentum, Adam's moments, RMSprop's squares) in a state buffer.

Each class takes the arguments of its PyTorch namesake and follows its update
rule exactly (torch.optim, single-tensor path); the C version of each rule is
in csrc/optimizers.inc and the numpy version is ``numpy_update`` below, written
operation for operation the same.  ``lr`` can be changed between steps (for
schedules); the other hyperparameters are fixed when the optimizer is made.
"""
import numpy as np

from ._validation import as_float


class Optimizer:
    """Base class: hyperparameters, the step count, and the state layout.

    ``step`` counts the updates made so far (Adam's bias correction uses it).
    The state (momentum and moment buffers) lives in the network's optimizer
    state buffer, ``slots(...)`` buffers of one value per parameter.
    """

    name = None
    kind = None  # code in the C core (enum pynn_optimizer_kind)

    def __init__(self, lr):
        self._version = 0  # bumped when a hyperparameter changes (the C backend re-reads them)
        self.lr = lr
        self.step = 0

    @property
    def lr(self):
        """The learning rate: how far each update moves along the gradient."""
        return self._lr

    @lr.setter
    def lr(self, value):
        self._lr = as_float(value, "lr", minimum=0.0)
        self._version += 1

    def slots(self):
        """Number of per-parameter state buffers this optimizer keeps."""
        raise NotImplementedError

    def get_config(self):
        """Hyperparameters as a dict of plain values (saved with the model)."""
        raise NotImplementedError

    def numpy_update(self, params, grads, state):
        """One update of ``params`` in place (numpy backend); ``self.step`` is
        the 1-based index of this update."""
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join("%s=%r" % kv for kv in self.get_config().items())
        return "%s(%s)" % (type(self).__name__, args)


class SGD(Optimizer):
    """Stochastic gradient descent, as ``torch.optim.SGD``.

    With momentum, ``buf <- momentum * buf + g`` and the step follows ``buf``
    (or ``g + momentum * buf`` with Nesterov).  ``weight_decay`` adds
    ``weight_decay * w`` to the gradient (L2 regularisation).
    """

    name = "sgd"
    kind = 0

    def __init__(self, lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(lr)
        self.momentum = as_float(momentum, "momentum", minimum=0.0)
        self.weight_decay = as_float(weight_decay, "weight_decay", minimum=0.0)
        if not isinstance(nesterov, (bool, np.bool_)):
            raise TypeError("nesterov must be True or False; got %r" % (nesterov,))
        if nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0")
        self.nesterov = bool(nesterov)

    def slots(self):
        return 1 if self.momentum != 0 else 0

    def get_config(self):
        return {"lr": self.lr, "momentum": self.momentum, "nesterov": self.nesterov,
                "weight_decay": self.weight_decay}

    def numpy_update(self, params, grads, state):
        dt = params.dtype.type
        g = grads
        if self.weight_decay != 0:
            g = g + dt(self.weight_decay) * params
        if self.momentum != 0:
            buf = state
            buf *= dt(self.momentum)
            buf += g
            g = g + dt(self.momentum) * buf if self.nesterov else buf
        params += dt(-self.lr) * g


class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam``: steps by the bias-corrected running mean
    of the gradient over the root of the running mean of its square.
    ``weight_decay`` is added to the gradient (L2); see AdamW for the
    decoupled form."""

    name = "adam"
    kind = 1

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(lr)
        try:
            beta1, beta2 = betas
        except (TypeError, ValueError):
            raise ValueError("betas must be a pair (beta1, beta2); got %r" % (betas,)) from None
        self.betas = (as_float(beta1, "betas[0]", 0.0, 1.0, max_inclusive=False),
                      as_float(beta2, "betas[1]", 0.0, 1.0, max_inclusive=False))
        self.eps = as_float(eps, "eps", minimum=0.0)
        self.weight_decay = as_float(weight_decay, "weight_decay", minimum=0.0)

    def slots(self):
        return 2

    def get_config(self):
        return {"lr": self.lr, "betas": list(self.betas), "eps": self.eps, "weight_decay": self.weight_decay}

    def numpy_update(self, params, grads, state):
        dt = params.dtype.type
        n = params.size
        m, v = state[:n], state[n:]
        beta1, beta2 = self.betas
        t = float(self.step)
        bias_correction1 = 1.0 - beta1 ** t
        bias_correction2 = 1.0 - beta2 ** t
        neg_step_size = dt(-(self.lr / bias_correction1))
        bc2_sqrt = dt(bias_correction2 ** 0.5)
        g = grads
        if self.weight_decay != 0:
            if self.kind == AdamW.kind:
                params *= dt(1.0 - self.lr * self.weight_decay)
            else:
                g = g + dt(self.weight_decay) * params
        w1 = dt(1.0 - beta1)
        if w1 < 0.5:  # PyTorch's lerp: m + w (g - m), or g - (g - m)(1 - w) for w >= 0.5
            m += w1 * (g - m)
        else:
            m[...] = g - (g - m) * (dt(1) - w1)
        v *= dt(beta2)
        v += dt(1.0 - beta2) * g * g
        denom = np.sqrt(v) / bc2_sqrt + dt(self.eps)
        params += neg_step_size * m / denom


class AdamW(Adam):
    """AdamW, as ``torch.optim.AdamW``: Adam whose weight decay shrinks the
    weights directly, ``w <- w (1 - lr * weight_decay)``, before each step."""

    name = "adamw"
    kind = 2

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(lr, betas, eps, weight_decay)


class RMSprop(Optimizer):
    """RMSprop, as ``torch.optim.RMSprop`` (not centered): divides the gradient
    by the root of a running mean (factor ``alpha``) of its square."""

    name = "rmsprop"
    kind = 3

    def __init__(self, lr=1e-2, alpha=0.99, eps=1e-8, momentum=0.0, weight_decay=0.0):
        super().__init__(lr)
        self.alpha = as_float(alpha, "alpha", 0.0, 1.0)
        self.eps = as_float(eps, "eps", minimum=0.0)
        self.momentum = as_float(momentum, "momentum", minimum=0.0)
        self.weight_decay = as_float(weight_decay, "weight_decay", minimum=0.0)

    def slots(self):
        return 2 if self.momentum > 0 else 1

    def get_config(self):
        return {"lr": self.lr, "alpha": self.alpha, "eps": self.eps, "momentum": self.momentum,
                "weight_decay": self.weight_decay}

    def numpy_update(self, params, grads, state):
        dt = params.dtype.type
        n = params.size
        square_avg, buf = state[:n], state[n:]
        g = grads
        if self.weight_decay != 0:
            g = g + dt(self.weight_decay) * params
        square_avg *= dt(self.alpha)
        square_avg += dt(1.0 - self.alpha) * g * g
        avg = np.sqrt(square_avg) + dt(self.eps)
        if self.momentum > 0:
            buf *= dt(self.momentum)
            buf += g / avg
            params += dt(-self.lr) * buf
        else:
            params += dt(-self.lr) * g / avg


OPTIMIZERS = {cls.name: cls for cls in (SGD, Adam, AdamW, RMSprop)}


def get(optimizer):
    """An optimizer instance from an instance, a name ("sgd", "adam", "adamw",
    "rmsprop", with default settings) or None (SGD(lr=0.01))."""
    if optimizer is None:
        return SGD()
    if isinstance(optimizer, Optimizer):
        return optimizer
    if isinstance(optimizer, str) and optimizer.lower() in OPTIMIZERS:
        return OPTIMIZERS[optimizer.lower()]()
    raise ValueError("optimizer must be an optimizer instance or one of %s; got %r"
                     % (", ".join(map(repr, OPTIMIZERS)), optimizer))


def from_config(name, config):
    """Rebuild an optimizer saved with ``get_config`` (used by pynn.load)."""
    if name not in OPTIMIZERS:
        raise ValueError("unknown optimizer %r in model file" % (name,))
    config = dict(config)
    if "betas" in config:
        config["betas"] = tuple(config["betas"])
    return OPTIMIZERS[name](**config)
