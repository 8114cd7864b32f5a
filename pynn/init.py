"""Weight initialisers: where training starts.

Each is a function ``init(shape, rng) -> ndarray`` (float64) taking the shape
to fill and a ``numpy.random.Generator``; pass its name or the function itself
as ``Dense(init=...)`` / ``Dense(bias_init=...)``.  Your own callable with the
same signature works too, e.g. ``functools.partial(pynn.init.constant, value=0.5)``.

For a weight matrix of shape (n_in, n_out), fan_in = n_in and fan_out = n_out
(a 1-D bias of length n has fan_in = fan_out = n).

Why random?  If every weight of a layer starts equal (``zeros``, ``ones``,
``constant``), every hidden unit computes the same thing, receives the same
gradient and stays identical for ever: the layer acts like one unit.  Random
starts break that symmetry.  The scaled ones keep the size of the signal
steady from layer to layer: Glorot/Xavier (scaled by fan-in and fan-out), or
He (by fan-in, for the relu family).  Dense's default is ``xavier_uniform``
for every activation, as in Keras and scikit-learn's MLP: on scikit-learn's
bundled data sets it did as well as or better than He's (friedman1: R² 0.90
against 0.84; ``python benchmarks/init_default.py``); biases start at zero.

The normal initialisers are not truncated (as PyTorch's ``nn.init``).

>>> import functools
>>> import numpy as np
>>> import pynn
>>> pynn.init.constant((2, 3), value=0.5)
array([[0.5, 0.5, 0.5],
       [0.5, 0.5, 0.5]])
>>> layer = pynn.Dense(3, 2, init=functools.partial(pynn.init.constant, value=0.5), bias_init="ones")
>>> net = pynn.Network([layer], dtype="float64")
>>> layer.W.tolist(), layer.b.tolist()
([[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]], [1.0, 1.0])
>>> def my_init(shape, rng):                  # any callable(shape, rng) -> array
...     return rng.choice([-0.1, 0.1], size=shape)
>>> net = pynn.Network([pynn.Dense(4, 2, init=my_init)], dtype="float64", seed=0)
>>> sorted(set(net.layers[0].W.ravel().tolist()))
[-0.1, 0.1]
"""
from __future__ import annotations

import math
from typing import Any, Callable, Dict, Optional, Tuple, Union

import numpy as np

from ._typing import Float64Array, FloatArray, Initializer, Shape


def _fans(shape: Shape) -> Tuple[int, int]:
    if len(shape) == 1:
        return shape[0], shape[0]
    return shape[0], shape[1]


def zeros(shape: Shape, rng: Optional[np.random.Generator] = None) -> Float64Array:
    """All zeros (symmetric: hidden units stay identical).

    >>> import pynn
    >>> pynn.init.zeros((2, 2))
    array([[0., 0.],
           [0., 0.]])
    """
    return np.zeros(shape)


def ones(shape: Shape, rng: Optional[np.random.Generator] = None) -> Float64Array:
    """All ones (symmetric: hidden units stay identical).

    >>> import pynn
    >>> pynn.init.ones((3,))
    array([1., 1., 1.])
    """
    return np.ones(shape)


def constant(shape: Shape, rng: Optional[np.random.Generator] = None, value: float = 0.0) -> Float64Array:
    """Every entry equal to ``value`` (symmetric: hidden units stay identical).
    Use it through ``functools.partial(pynn.init.constant, value=...)``.

    >>> import pynn
    >>> pynn.init.constant((2,), value=-1)
    array([-1., -1.])
    """
    return np.full(shape, float(value))


def uniform(shape: Shape, rng: np.random.Generator, low: float = -0.05, high: float = 0.05) -> Float64Array:
    """Uniform on [low, high).

    >>> import numpy as np
    >>> import pynn
    >>> W = pynn.init.uniform((100, 50), np.random.default_rng(0))
    >>> bool(W.min() >= -0.05 and W.max() < 0.05)
    True
    """
    return rng.uniform(low, high, size=shape)


def normal(shape: Shape, rng: np.random.Generator, mean: float = 0.0, std: float = 0.05) -> Float64Array:
    """Normal with the given mean and standard deviation.

    >>> import numpy as np
    >>> import pynn
    >>> W = pynn.init.normal((200, 100), np.random.default_rng(0), std=0.1)
    >>> round(float(W.mean()), 2), round(float(W.std()), 2)
    (0.0, 0.1)
    """
    return rng.normal(mean, std, size=shape)


def xavier_uniform(shape: Shape, rng: np.random.Generator) -> Float64Array:
    """Glorot uniform: U(-a, a) with a = sqrt(6 / (fan_in + fan_out)).
    Dense's default for the linear, sigmoid, tanh and softmax activations.

    >>> import numpy as np
    >>> import pynn
    >>> W = pynn.init.xavier_uniform((300, 100), np.random.default_rng(0))   # a = sqrt(6 / 400)
    >>> bool(np.abs(W).max() <= (6 / 400) ** 0.5), round(float(W.std()), 2)     # std a / sqrt(3)
    (True, 0.07)
    """
    fan_in, fan_out = _fans(shape)
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape)


def xavier_normal(shape: Shape, rng: np.random.Generator) -> Float64Array:
    """Glorot normal: N(0, 2 / (fan_in + fan_out)).

    >>> import numpy as np
    >>> import pynn
    >>> W = pynn.init.xavier_normal((300, 100), np.random.default_rng(0))    # std sqrt(2 / 400)
    >>> round(float(W.std()), 3)
    0.071
    """
    fan_in, fan_out = _fans(shape)
    return rng.normal(0.0, math.sqrt(2.0 / (fan_in + fan_out)), size=shape)


def he_uniform(shape: Shape, rng: np.random.Generator) -> Float64Array:
    """He (Kaiming) uniform: U(-a, a) with a = sqrt(6 / fan_in).

    >>> import numpy as np
    >>> import pynn
    >>> W = pynn.init.he_uniform((200, 100), np.random.default_rng(0))       # a = sqrt(6 / 200)
    >>> bool(np.abs(W).max() <= (6 / 200) ** 0.5), round(float(W.std()), 2)
    (True, 0.1)
    """
    fan_in, _ = _fans(shape)
    limit = math.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, size=shape)


def he_normal(shape: Shape, rng: np.random.Generator) -> Float64Array:
    """He (Kaiming) normal: N(0, 2 / fan_in).

    >>> import numpy as np
    >>> import pynn
    >>> W = pynn.init.he_normal((200, 100), np.random.default_rng(0))        # std sqrt(2 / 200)
    >>> round(float(W.std()), 2)
    0.1
    """
    fan_in, _ = _fans(shape)
    return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=shape)


def lecun_normal(shape: Shape, rng: np.random.Generator) -> Float64Array:
    """LeCun normal: N(0, 1 / fan_in).

    >>> import numpy as np
    >>> import pynn
    >>> W = pynn.init.lecun_normal((400, 100), np.random.default_rng(0))     # std sqrt(1 / 400)
    >>> round(float(W.std()), 3)
    0.05
    """
    fan_in, _ = _fans(shape)
    return rng.normal(0.0, math.sqrt(1.0 / fan_in), size=shape)


INITIALIZERS: Dict[str, Callable[..., Float64Array]] = {f.__name__: f for f in (zeros, ones, constant, uniform, normal, xavier_uniform,
                                        xavier_normal, he_uniform, he_normal, lecun_normal)}


def get(init: Union[str, Initializer], argument: str = "init") -> Initializer:
    """The initialiser function for a name or callable, else ValueError/TypeError."""
    if isinstance(init, str):
        if init not in INITIALIZERS:
            raise ValueError("%s must be one of %s or a callable(shape, rng); got %r"
                             % (argument, ", ".join(INITIALIZERS), init))
        return INITIALIZERS[init]
    if callable(init):
        return init
    raise TypeError("%s must be a name from pynn.init or a callable(shape, rng); got %r" % (argument, init))


def run(init: Initializer, shape: Shape, rng: np.random.Generator, argument: str = "init",
        dtype: Any = np.float64) -> FloatArray:
    """Call an initialiser and check what it returns: ``shape``, and values
    finite in ``dtype`` (checked after the conversion: 1e300 is no float32)."""
    values = np.asarray(init(shape, rng), dtype=np.float64)
    if values.shape != tuple(shape):
        raise ValueError("%s returned shape %s; expected %s" % (argument, values.shape, tuple(shape)))
    with np.errstate(over="ignore", invalid="ignore"):
        values = values.astype(dtype)
    if not np.isfinite(values).all():
        raise ValueError("%s returned NaN or infinity (in %s)" % (argument, np.dtype(dtype).name))
    return values
