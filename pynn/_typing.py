"""Type aliases used in pynn's annotations.

Arrays are ``numpy.typing.NDArray``: a network's parameters, outputs and
gradients have its dtype, float32 or float64 (``FloatArray``); whatever a user
passes as data is ``ArrayLike`` (lists, ints, any float dtype, strided or
read-only arrays).  The aliases are plain ``typing`` constructs, valid at run
time on every Python pynn supports.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Dict, Tuple, Union

import numpy as np
import numpy.typing as npt

ArrayLike = npt.ArrayLike
#: an array of a network's dtype (float32 or float64)
FloatArray = npt.NDArray[np.floating[Any]]
Float64Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
#: "float32", "float64", or the numpy types and dtypes
DTypeLike = npt.DTypeLike
Shape = Tuple[int, ...]
#: a weight initialiser, ``init(shape, rng) -> array``: see :mod:`pynn.init`
Initializer = Callable[[Tuple[int, ...], np.random.Generator], npt.ArrayLike]
#: the metrics of an epoch or batch that fit() passes to callbacks
Logs = Dict[str, float]
#: a file name
PathLike = Union[str, "os.PathLike[str]"]

__all__ = ["ArrayLike", "DTypeLike", "Float64Array", "FloatArray", "Initializer", "IntArray", "Logs", "PathLike",
           "Shape"]
