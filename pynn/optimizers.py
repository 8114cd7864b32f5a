"""Optimizers: how each gradient step changes the weights.

The simplest is plain gradient descent, ``w <- w - lr * dE/dw``: the learning
rate ``lr`` scales every step.  The others keep running averages of past
gradients (momentum, Adam's moments, RMSprop's squares) in a state buffer.

Each class takes the arguments of its PyTorch namesake and follows its update
rule exactly (torch.optim, single-tensor path); the C version of each rule is
in csrc/optimizers.inc and the numpy version is ``numpy_update`` below, written
operation for operation the same.

Every hyperparameter (``lr``, ``momentum``, ``betas``, ...) may be changed
between steps, e.g. by a schedule: an assignment is checked as the
constructor checks it (ValueError or TypeError, the old value kept) and the
next step uses it, on both backends, and ``save`` writes it.  A change that
adds a state buffer (SGD's momentum from 0 to 0.9) starts that buffer at zero,
as PyTorch does; one that removes a buffer drops it.
"""
from __future__ import annotations

from typing import Any, Callable, ClassVar, Dict, Generic, Mapping, Optional, Tuple, TypeVar, Union, overload

import numpy as np

from ._typing import FloatArray
from ._validation import as_float

_T = TypeVar("_T")


class Hyperparameter(Generic[_T]):
    """A checked optimizer setting: assigning it runs ``check(optimizer,
    value)`` (which raises on a bad value, changing nothing) and bumps the
    optimizer's ``_version``, which the backends compare to re-read the
    settings (and the network, to re-lay the optimizer state)."""

    def __init__(self, check: Callable[[Any, Any], _T], doc: str) -> None:
        self.check = check
        self.__doc__ = doc
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = "_" + name

    @overload
    def __get__(self, obj: None, owner: type) -> Hyperparameter[_T]: ...

    @overload
    def __get__(self, obj: object, owner: type) -> _T: ...

    def __get__(self, obj: Optional[object], owner: type) -> Union[_T, Hyperparameter[_T]]:
        if obj is None:
            return self
        value: _T = getattr(obj, self.name)
        return value

    def __set__(self, obj: Any, value: Any) -> None:
        checked = self.check(obj, value)
        setattr(obj, self.name, checked)
        obj._version += 1


def _non_negative(name: str) -> Callable[[Any, Any], float]:
    return lambda opt, value: as_float(value, name, minimum=0.0)


def _fraction(name: str, max_inclusive: bool) -> Callable[[Any, Any], float]:
    return lambda opt, value: as_float(value, name, 0.0, 1.0, max_inclusive=max_inclusive)


class Optimizer:
    """Base class: hyperparameters, the step count, and the state layout.

    ``step`` counts the updates made so far (Adam's bias correction uses it).
    The state (momentum and moment buffers) lives in the network's optimizer
    state buffer, ``slots(...)`` buffers of one value per parameter.
    """

    # set by every concrete optimizer; None on this abstract base
    name: ClassVar[str] = None  # type: ignore[assignment]
    kind: ClassVar[int] = None  # type: ignore[assignment]  # code in the C core (enum pynn_optimizer_kind)
    _network: Optional[object] = None  # the network using this optimizer, set by Network
    # True for optimizers that evaluate the loss themselves (LBFGS): trained
    # through their run_rows instead of the backend's train_rows
    needs_closure: ClassVar[bool] = False
    weight_decay: Hyperparameter[float]  # every optimizer has one (0 for none)

    lr = Hyperparameter(_non_negative("lr"), "The learning rate: how far each update moves along the gradient.")

    def __init__(self, lr: float) -> None:
        self._version = 0  # bumped when a hyperparameter changes (see Hyperparameter)
        self.lr = lr
        self.step = 0  # updates made so far; the next one is number step + 1

    def slot_names(self) -> Tuple[str, ...]:
        """Names of the per-parameter state buffers this optimizer keeps with
        its current settings, in the order of the state buffer (PyTorch's
        names for them)."""
        raise NotImplementedError

    def slots(self) -> int:
        """Number of per-parameter state buffers this optimizer keeps."""
        return len(self.slot_names())

    def get_config(self) -> Dict[str, Any]:
        """Hyperparameters as a dict of plain values (saved with the model)."""
        raise NotImplementedError

    def numpy_update(self, params: FloatArray, grads: FloatArray, state: FloatArray) -> None:
        """One update of ``params`` in place (numpy backend); ``self.step`` is
        the 1-based index of this update."""
        raise NotImplementedError

    def run_rows(self, plan: Any, backend: Any, X: FloatArray, Y: Optional[FloatArray], labels: Any,
                 weights: Optional[FloatArray], batch_size: int) -> Tuple[float, float]:
        """For optimizers with ``needs_closure``: train on consecutive batches
        as a backend's ``train_rows`` does, evaluating the loss through
        ``backend.gradients`` (see pynn.lbfgs)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join("%s=%r" % kv for kv in self.get_config().items())
        return "%s(%s)" % (type(self).__name__, args)


class SGD(Optimizer):
    """Stochastic gradient descent, as ``torch.optim.SGD``.

    With momentum, ``buf <- momentum * buf + g`` and the step follows ``buf``
    (or ``g + momentum * buf`` with Nesterov).  ``weight_decay`` adds
    ``weight_decay * w`` to the gradient (L2 regularisation).

    One step on E = (w·x + b − y)² with x = 1, y = 0, from w = 1, b = 0: the
    gradients are dE/dw = dE/db = 2·(1 − 0) = 2.

    >>> import pynn
    >>> net = pynn.Network([pynn.Dense(1, 1)], loss="mse", optimizer=pynn.SGD(lr=0.1), dtype="float64")
    >>> net.set_weights([[[1.0]], [0.0]])
    >>> net.train_step([[1.0]], [[0.0]])
    1.0
    >>> [w.round(6).tolist() for w in net.get_weights()]     # w − lr·g = 1 − 0.1·2, b: 0 − 0.1·2
    [[[0.8]], [-0.2]]
    >>> pynn.SGD(lr=0.1, momentum=0.9, nesterov=True)
    SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.0)
    """

    name = "sgd"
    kind = 0

    def _check_momentum(self, value: object) -> float:
        momentum = as_float(value, "momentum", minimum=0.0)
        if momentum == 0 and getattr(self, "_nesterov", False):
            raise ValueError("momentum must be > 0 while nesterov=True; set nesterov=False first")
        return momentum

    def _check_nesterov(self, value: object) -> bool:
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError("nesterov must be True or False; got %r" % (value,))
        if value and self.momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0")
        return bool(value)

    momentum = Hyperparameter(_check_momentum, "Momentum factor (0: none).")
    nesterov = Hyperparameter(_check_nesterov, "Nesterov momentum (needs momentum > 0).")
    weight_decay = Hyperparameter(_non_negative("weight_decay"), "L2 penalty added to the gradient.")

    def __init__(self, lr: float = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0) -> None:
        super().__init__(lr)
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.nesterov = nesterov

    def slot_names(self) -> Tuple[str, ...]:
        return ("momentum_buffer",) if self.momentum != 0 else ()

    def get_config(self) -> Dict[str, Any]:
        return {"lr": self.lr, "momentum": self.momentum, "nesterov": self.nesterov,
                "weight_decay": self.weight_decay}

    def numpy_update(self, params: FloatArray, grads: FloatArray, state: FloatArray) -> None:
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
    decoupled form.

    Adam's first step moves every weight by about ``lr`` against the sign of
    its gradient (here both gradients are 2, as in the SGD example):

    >>> import pynn
    >>> net = pynn.Network([pynn.Dense(1, 1)], loss="mse", optimizer=pynn.Adam(lr=0.1), dtype="float64")
    >>> net.set_weights([[[1.0]], [0.0]])
    >>> net.train_step([[1.0]], [[0.0]])
    1.0
    >>> [w.round(6).tolist() for w in net.get_weights()]
    [[[0.9]], [-0.1]]
    >>> net.optimizer
    Adam(lr=0.1, betas=[0.9, 0.999], eps=1e-08, weight_decay=0.0)
    """

    name = "adam"
    kind = 1

    def _check_betas(self, value: Any) -> Tuple[float, float]:
        try:
            first, second = value
        except (TypeError, ValueError):
            raise ValueError("betas must be a pair (beta1, beta2); got %r" % (value,)) from None
        return (as_float(first, "betas[0]", 0.0, 1.0, max_inclusive=False),
                as_float(second, "betas[1]", 0.0, 1.0, max_inclusive=False))

    betas = Hyperparameter(_check_betas, "Decay rates (beta1, beta2) of the running means, each in [0, 1).")
    eps = Hyperparameter(_non_negative("eps"), "Added to the denominator for numerical stability.")
    weight_decay = Hyperparameter(_non_negative("weight_decay"), "Weight decay (L2 for Adam, decoupled for AdamW).")

    def __init__(self, lr: float = 1e-3, betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(lr)
        self.betas = betas
        self.eps = eps
        self.weight_decay = weight_decay

    def slot_names(self) -> Tuple[str, ...]:
        return ("exp_avg", "exp_avg_sq")

    def get_config(self) -> Dict[str, Any]:
        return {"lr": self.lr, "betas": list(self.betas), "eps": self.eps, "weight_decay": self.weight_decay}

    def numpy_update(self, params: FloatArray, grads: FloatArray, state: FloatArray) -> None:
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
    weights directly, ``w <- w (1 - lr * weight_decay)``, before each step.

    The Adam example with the default ``weight_decay=0.01``: w first shrinks
    to 1·(1 − 0.1·0.01) = 0.999, then takes Adam's step of 0.1.

    >>> import pynn
    >>> net = pynn.Network([pynn.Dense(1, 1)], loss="mse", optimizer=pynn.AdamW(lr=0.1), dtype="float64")
    >>> net.set_weights([[[1.0]], [0.0]])
    >>> net.train_step([[1.0]], [[0.0]])
    1.0
    >>> [w.round(6).tolist() for w in net.get_weights()]
    [[[0.899]], [-0.1]]
    """

    name = "adamw"
    kind = 2

    def __init__(self, lr: float = 1e-3, betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2) -> None:
        super().__init__(lr, betas, eps, weight_decay)


class RMSprop(Optimizer):
    """RMSprop, as ``torch.optim.RMSprop`` (not centered): divides the gradient
    by the root of a running mean (factor ``alpha``) of its square.

    First step with gradients 2 (as in the SGD example): the mean square is
    (1 − 0.99)·2² = 0.04, so each weight moves by lr·2 / √0.04 = 10·lr.

    >>> import pynn
    >>> net = pynn.Network([pynn.Dense(1, 1)], loss="mse", optimizer=pynn.RMSprop(lr=0.01), dtype="float64")
    >>> net.set_weights([[[1.0]], [0.0]])
    >>> net.train_step([[1.0]], [[0.0]])
    1.0
    >>> [w.round(6).tolist() for w in net.get_weights()]
    [[[0.9]], [-0.1]]
    """

    name = "rmsprop"
    kind = 3

    alpha = Hyperparameter(_fraction("alpha", max_inclusive=True), "Smoothing constant of the mean square, in [0, 1].")
    eps = Hyperparameter(_non_negative("eps"), "Added to the denominator for numerical stability.")
    momentum = Hyperparameter(_non_negative("momentum"), "Momentum factor (0: none).")
    weight_decay = Hyperparameter(_non_negative("weight_decay"), "L2 penalty added to the gradient.")

    def __init__(self, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, momentum: float = 0.0,
                 weight_decay: float = 0.0) -> None:
        super().__init__(lr)
        self.alpha = alpha
        self.eps = eps
        self.momentum = momentum
        self.weight_decay = weight_decay

    def slot_names(self) -> Tuple[str, ...]:
        return ("square_avg", "momentum_buffer") if self.momentum > 0 else ("square_avg",)

    def get_config(self) -> Dict[str, Any]:
        return {"lr": self.lr, "alpha": self.alpha, "eps": self.eps, "momentum": self.momentum,
                "weight_decay": self.weight_decay}

    def numpy_update(self, params: FloatArray, grads: FloatArray, state: FloatArray) -> None:
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


#: name -> class; pynn.lbfgs adds "lbfgs"
OPTIMIZERS: Dict[str, Callable[..., Optimizer]] = {cls.name: cls for cls in (SGD, Adam, AdamW, RMSprop)}


def get(optimizer: Union[Optimizer, str, None]) -> Optimizer:
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


def from_config(name: str, config: Mapping[str, Any]) -> Optimizer:
    """Rebuild an optimizer saved with ``get_config`` (used by pynn.load)."""
    if name not in OPTIMIZERS:
        raise ValueError("unknown optimizer %r in model file" % (name,))
    config = dict(config)
    if "betas" in config:
        config["betas"] = tuple(config["betas"])
    return OPTIMIZERS[name](**config)
