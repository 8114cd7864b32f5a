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
from typing import Any, Callable, Dict, Tuple, TypeVar, cast

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
    elsewhere, as csrc/activations.inc; in two temporaries.  The numerator
    is exp(min(z, 0)): exactly 1 where z >= 0 and e elsewhere (the same
    exp of the same value), which spares a masked division (numpy's
    ``where=`` is several times slower than a plain pass)."""
    minus_one, one, zero = _CONSTANTS.get(z.dtype) or _constants(z.dtype.type)
    e = np.copysign(z, minus_one)  # -|z| in one pass
    np.exp(e, out=e)
    e += one
    num = np.minimum(z, zero)
    np.exp(num, out=num)
    return np.divide(num, e, out=num)


def _constants(dt: Any) -> Tuple[Any, Any, Any]:
    return dt(-1), dt(1), dt(0)


# -1, 1 and 0 in the network dtypes (sigmoid's, relu's), made once: a numpy
# scalar costs about as much to make as a small array costs to add
_CONSTANTS = {np.dtype(t): _constants(t) for t in (np.float32, np.float64)}


def softmax(z: npt.NDArray[_F]) -> npt.NDArray[_F]:
    """Row-wise softmax of a 2-D array, stable for large entries."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


_SMALL = 4096  # elements: below, a masked store is the cheapest way to zero some elements


def _d_relu(z: npt.NDArray[_F], a: npt.NDArray[_F], da: npt.NDArray[_F]) -> npt.NDArray[_F]:
    """PyTorch's threshold_backward: da with +0 where z <= 0 (and da where z
    is NaN), in place.  numpy's masked stores (putmask, copyto with where=)
    branch on each element, slow on a random mask: on larger arrays each
    element's bits are and-ed with a mask of all ones (kept) or zeros
    (dropped) instead, which gives the same bits (a multiplication by 0/1
    would not: -0, and NaN from an infinite da)."""
    if da.size <= _SMALL:
        np.putmask(da, z <= 0, da.dtype.type(0))
        return da
    drop = np.less_equal(z, 0).view(np.int8)
    drop -= 1  # kept: -1 (all bits set), dropped: 0
    bits = da.view(np.int32 if da.dtype.itemsize == 4 else np.int64)
    bits &= drop.astype(bits.dtype)
    return da


def _linear(z: npt.NDArray[_F]) -> npt.NDArray[_F]:
    return z


def _relu(z: npt.NDArray[_F]) -> npt.NDArray[_F]:
    return np.maximum(z, (_CONSTANTS.get(z.dtype) or _constants(z.dtype.type))[2])


def _leaky_relu(z: npt.NDArray[_F]) -> npt.NDArray[_F]:
    dt = z.dtype.type
    return np.where(z > 0, z, z * dt(LEAKY_SLOPE))


def _gelu(z: npt.NDArray[_F]) -> npt.NDArray[_F]:
    dt = z.dtype.type
    return z * dt(0.5) * (1 + erf(z * dt(_RSQRT2)))


#: name -> a = act(z), each a function of z; the numpy backend calls them
#: through this table (one lookup per layer instead of a chain of tests)
FORWARD: Dict[str, Callable[[Any], Any]] = {
    "linear": _linear,
    "sigmoid": sigmoid,
    "tanh": np.tanh,
    "relu": _relu,
    "leaky_relu": _leaky_relu,
    "gelu": _gelu,
    "softmax": softmax,
}


def forward(name: str, z: npt.NDArray[_F]) -> npt.NDArray[_F]:
    """a = act(z) for a (batch, width) array of pre-activations."""
    function = FORWARD.get(name)
    if function is None:
        raise ValueError("unknown activation %r" % (name,))
    result: npt.NDArray[_F] = function(z)
    return result


def _d_linear(z: npt.NDArray[_F], a: npt.NDArray[_F], da: npt.NDArray[_F]) -> npt.NDArray[_F]:
    return da


def _d_sigmoid(z: npt.NDArray[_F], a: npt.NDArray[_F], da: npt.NDArray[_F]) -> npt.NDArray[_F]:
    da *= a.dtype.type(1) - a
    da *= a
    return da


def _d_tanh(z: npt.NDArray[_F], a: npt.NDArray[_F], da: npt.NDArray[_F]) -> npt.NDArray[_F]:
    t = a * a
    np.subtract(a.dtype.type(1), t, out=t)
    da *= t
    return da


def _d_leaky_relu(z: npt.NDArray[_F], a: npt.NDArray[_F], da: npt.NDArray[_F]) -> npt.NDArray[_F]:
    # a NaN z takes the slope, as in PyTorch; da * 1 is da, exactly (a multiply
    # with where=, or an np.where, branches on each element: slower)
    da *= np.array([LEAKY_SLOPE, 1], dtype=z.dtype).take(np.greater(z, 0).view(np.uint8))
    return da


def _d_gelu(z: npt.NDArray[_F], a: npt.NDArray[_F], da: npt.NDArray[_F]) -> npt.NDArray[_F]:
    dt = z.dtype.type
    cdf = dt(0.5) * (1 + erf(z * dt(_RSQRT2)))
    pdf = dt(_PDF_AT_0) * np.exp(z * z * dt(-0.5))
    da *= cdf + z * pdf
    return da


#: name -> dz = da * act'(z) from (z, a, da), in place in da (no softmax:
#: its gradient is only taken together with cross-entropy, in losses.py)
BACKWARD: Dict[str, Callable[[Any, Any, Any], Any]] = {
    "linear": _d_linear,
    "sigmoid": _d_sigmoid,
    "tanh": _d_tanh,
    "relu": _d_relu,
    "leaky_relu": _d_leaky_relu,
    "gelu": _d_gelu,
}


def backward(name: str, z: npt.NDArray[_F], a: npt.NDArray[_F], da: npt.NDArray[_F]) -> npt.NDArray[_F]:
    """dz = da * act'(z), given z and a = act(z), computed in place in ``da``
    (a temporary of the backward pass) and returned.  (Softmax's gradient is
    only taken together with cross-entropy, in losses.py.)"""
    function = BACKWARD.get(name)
    if function is None:
        raise ValueError("activation %r has no elementwise derivative" % (name,))
    result: npt.NDArray[_F] = function(z, a, da)
    return result
