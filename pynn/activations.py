"""Activation functions: what a neuron does with its weighted sum.

A dense layer computes ``z = x @ W + b`` (one weighted sum per neuron) and then
``a = act(z)``.  Here are the activations by name, their codes in the C core,
and the numpy versions that the numpy backend runs.  The formulas are the ones
in csrc/activations.inc (and PyTorch's), written the same way so both backends
agree to rounding.

>>> import numpy as np
>>> from pynn import activations
>>> activations.NAMES
('linear', 'sigmoid', 'tanh', 'relu', 'leaky_relu', 'gelu', 'softmax')
>>> z = np.array([[-2.0, 0.0, 3.0]])
>>> activations.forward("relu", z), activations.forward("leaky_relu", z)
(array([[0., 0., 3.]]), array([[-0.02,  0.  ,  3.  ]]))
>>> activations.forward("sigmoid", z).round(4), activations.forward("softmax", z).round(4)
(array([[0.1192, 0.5   , 0.9526]]), array([[0.0064, 0.0471, 0.9465]]))
>>> activations.forward("gelu", z).round(4)            # z·Φ(z), Φ the normal distribution function
array([[-0.0455,  0.    ,  2.996 ]])
"""
from __future__ import annotations

import math
from typing import Any, Dict, Tuple, TypeVar, cast

import numpy as np
import numpy.typing as npt

_F = TypeVar("_F", bound=np.floating[Any])  # the array's dtype: what comes in goes out

#: name -> code in the C core (enum pynn_activation in csrc/pynn.h)
CODES: Dict[str, int] = {
    "linear": 0,
    "sigmoid": 1,
    "tanh": 2,
    "relu": 3,
    "leaky_relu": 4,
    "gelu": 5,
    "softmax": 6,
}
NAMES: Tuple[str, ...] = tuple(CODES)
#: the activations a hidden layer may have (softmax is for the last layer only)
HIDDEN: Tuple[str, ...] = tuple(name for name in NAMES if name != "softmax")
RELU_FAMILY = ("relu", "leaky_relu", "gelu")
LEAKY_SLOPE = 0.01

_RSQRT2 = 0.70710678118654752440
_PDF_AT_0 = 1.12837916709551257390 * 0.70710678118654752440 * 0.5  # 1/sqrt(2 pi)
_erf_object = np.frompyfunc(math.erf, 1, 1)  # numpy has no vectorised erf


def check_name(name: object, argument: str = "activation") -> str:
    """Return ``name`` if it is a known activation, else raise ValueError."""
    if not isinstance(name, str) or name not in CODES:
        raise ValueError("%s must be one of %s; got %r" % (argument, ", ".join(NAMES), name))
    return name


def erf(x: npt.NDArray[_F]) -> npt.NDArray[_F]:
    """Elementwise error function, in x's dtype."""
    values = cast("np.ndarray[Any, np.dtype[np.object_]]", _erf_object(x))  # frompyfunc's result for an array
    return values.astype(x.dtype)


def sigmoid(z: npt.NDArray[_F]) -> npt.NDArray[_F]:
    """1 / (1 + exp(-z)), computed without overflow for any z: with
    e = exp(-|z|) (never > 1), 1 / (1 + e) where z >= 0 and e / (1 + e)
    elsewhere, as csrc/activations.inc; in place in two temporaries."""
    e = np.copysign(z, -1)  # -|z| in one pass
    np.exp(e, out=e)
    t = e + 1
    out = np.divide(e, t, out=e)
    np.divide(1, t, out=out, where=z >= 0)
    return out


def softmax(z: npt.NDArray[_F]) -> npt.NDArray[_F]:
    """Row-wise softmax of a 2-D array, stable for large entries."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def forward(name: str, z: npt.NDArray[_F]) -> npt.NDArray[_F]:
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


def backward(name: str, z: npt.NDArray[_F], a: npt.NDArray[_F], da: npt.NDArray[_F]) -> npt.NDArray[_F]:
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
    if name == "relu":  # PyTorch's threshold_backward: 0 where z <= 0, else da (also where z is NaN)
        np.copyto(da, dt(0), where=z <= 0)
        return da
    if name == "leaky_relu":  # a NaN z takes the slope, as in PyTorch
        np.multiply(da, dt(LEAKY_SLOPE), out=da, where=~(z > 0))
        return da
    if name == "gelu":
        cdf = dt(0.5) * (1 + erf(z * dt(_RSQRT2)))
        pdf = dt(_PDF_AT_0) * np.exp(z * z * dt(-0.5))
        da *= cdf + z * pdf
        return da
    raise ValueError("activation %r has no elementwise derivative" % (name,))
