"""Activation functions: what a neuron does with its weighted sum.

A dense layer computes ``z = x @ W + b`` (one weighted sum per neuron) and then
``a = act(z)``.  Here are the activations by name, their codes in the C core,
and the numpy versions that the numpy backend runs.  The formulas are the ones
in csrc/activations.inc (and PyTorch's), written the same way so both backends
agree to rounding.
"""
import math

import numpy as np

#: name -> code in the C core (enum pynn_activation in csrc/pynn.h)
CODES = {
    "linear": 0,
    "sigmoid": 1,
    "tanh": 2,
    "relu": 3,
    "leaky_relu": 4,
    "gelu": 5,
    "softmax": 6,
}
NAMES = tuple(CODES)
RELU_FAMILY = ("relu", "leaky_relu", "gelu")
LEAKY_SLOPE = 0.01

_RSQRT2 = 0.70710678118654752440
_PDF_AT_0 = 1.12837916709551257390 * 0.70710678118654752440 * 0.5  # 1/sqrt(2 pi)
_erf_object = np.frompyfunc(math.erf, 1, 1)  # numpy has no vectorised erf


def check_name(name, argument="activation"):
    """Return ``name`` if it is a known activation, else raise ValueError."""
    if not isinstance(name, str) or name not in CODES:
        raise ValueError("%s must be one of %s; got %r" % (argument, ", ".join(NAMES), name))
    return name


def erf(x):
    """Elementwise error function, in x's dtype."""
    return _erf_object(x).astype(x.dtype)


def sigmoid(z):
    """1 / (1 + exp(-z)), computed without overflow for any z."""
    e = np.exp(-np.abs(z))  # exp(-z) for z >= 0, exp(z) for z < 0: never > 1
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e)).astype(z.dtype, copy=False)


def softmax(z):
    """Row-wise softmax of a 2-D array, stable for large entries."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def forward(name, z):
    """a = act(z) for a (batch, width) array of pre-activations."""
    dt = z.dtype.type
    if name == "linear":
        return z
    if name == "sigmoid":
        return sigmoid(z)
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, dt(0))
    if name == "leaky_relu":
        return np.where(z > 0, z, z * dt(LEAKY_SLOPE))
    if name == "gelu":
        return z * dt(0.5) * (1 + erf(z * dt(_RSQRT2)))
    if name == "softmax":
        return softmax(z)
    raise ValueError("unknown activation %r" % (name,))


def backward(name, z, a, da):
    """dz = da * act'(z), given z and a = act(z), computed in place in ``da``
    (a temporary of the backward pass) and returned.  (Softmax's gradient is
    only taken together with cross-entropy, in losses.py.)"""
    dt = z.dtype.type
    if name == "linear":
        return da
    if name == "sigmoid":
        da *= 1 - a
        da *= a
        return da
    if name == "tanh":
        t = a * a
        np.subtract(1, t, out=t)
        da *= t
        return da
    if name == "relu":
        da *= z > 0
        return da
    if name == "leaky_relu":
        np.multiply(da, dt(LEAKY_SLOPE), out=da, where=z <= 0)
        return da
    if name == "gelu":
        cdf = dt(0.5) * (1 + erf(z * dt(_RSQRT2)))
        pdf = dt(_PDF_AT_0) * np.exp(z * z * dt(-0.5))
        da *= cdf + z * pdf
        return da
    raise ValueError("activation %r has no elementwise derivative" % (name,))
