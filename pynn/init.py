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
steady from layer to layer: Glorot/Xavier for tanh, sigmoid and linear layers,
He for the relu family.  Dense's default is ``he_normal`` for relu, leaky_relu
and gelu and ``xavier_uniform`` otherwise; biases start at zero.

The normal initialisers are not truncated (as PyTorch's ``nn.init``).
"""
import math

import numpy as np


def _fans(shape):
    if len(shape) == 1:
        return shape[0], shape[0]
    return shape[0], shape[1]


def zeros(shape, rng=None):
    """All zeros (symmetric: hidden units stay identical)."""
    return np.zeros(shape)


def ones(shape, rng=None):
    """All ones (symmetric: hidden units stay identical)."""
    return np.ones(shape)


def constant(shape, rng=None, value=0.0):
    """Every entry equal to ``value`` (symmetric: hidden units stay identical)."""
    return np.full(shape, float(value))


def uniform(shape, rng, low=-0.05, high=0.05):
    """Uniform on [low, high)."""
    return rng.uniform(low, high, size=shape)


def normal(shape, rng, mean=0.0, std=0.05):
    """Normal with the given mean and standard deviation."""
    return rng.normal(mean, std, size=shape)


def xavier_uniform(shape, rng):
    """Glorot uniform: U(-a, a) with a = sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(shape)
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape)


def xavier_normal(shape, rng):
    """Glorot normal: N(0, 2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(shape)
    return rng.normal(0.0, math.sqrt(2.0 / (fan_in + fan_out)), size=shape)


def he_uniform(shape, rng):
    """He (Kaiming) uniform: U(-a, a) with a = sqrt(6 / fan_in)."""
    fan_in, _ = _fans(shape)
    limit = math.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, size=shape)


def he_normal(shape, rng):
    """He (Kaiming) normal: N(0, 2 / fan_in)."""
    fan_in, _ = _fans(shape)
    return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=shape)


def lecun_normal(shape, rng):
    """LeCun normal: N(0, 1 / fan_in)."""
    fan_in, _ = _fans(shape)
    return rng.normal(0.0, math.sqrt(1.0 / fan_in), size=shape)


INITIALIZERS = {f.__name__: f for f in (zeros, ones, constant, uniform, normal, xavier_uniform,
                                        xavier_normal, he_uniform, he_normal, lecun_normal)}


def get(init, argument="init"):
    """The initialiser function for a name or callable, else ValueError/TypeError."""
    if isinstance(init, str):
        if init not in INITIALIZERS:
            raise ValueError("%s must be one of %s or a callable(shape, rng); got %r"
                             % (argument, ", ".join(INITIALIZERS), init))
        return INITIALIZERS[init]
    if callable(init):
        return init
    raise TypeError("%s must be a name from pynn.init or a callable(shape, rng); got %r" % (argument, init))


def run(init, shape, rng, argument="init"):
    """Call an initialiser and check what it returns has ``shape`` and finite values."""
    values = np.asarray(init(shape, rng), dtype=np.float64)
    if values.shape != tuple(shape):
        raise ValueError("%s returned shape %s; expected %s" % (argument, values.shape, tuple(shape)))
    if not np.isfinite(values).all():
        raise ValueError("%s returned NaN or infinity" % argument)
    return values
