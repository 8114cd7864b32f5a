"""Checks and conversions at the boundary between users' data and the kernels.

Everything a user passes goes through here before it reaches C: anything
array-like of real numbers is accepted (lists, ints, float16, strided,
Fortran-order, read-only arrays) and becomes a C-contiguous array of the
network's dtype; anything else raises TypeError or ValueError naming the
argument.
"""
from __future__ import annotations

import importlib
import numbers
from typing import Any, Optional

import numpy as np
import numpy.typing as npt

from ._typing import ArrayLike, DTypeLike, FloatArray, IntArray

_NUMERIC_KINDS = "biuf"  # bool, signed, unsigned, float


def as_array(value: ArrayLike, name: str) -> npt.NDArray[Any]:
    """``value`` as an ndarray of real numbers (no copy when it already is one)."""
    if isinstance(value, np.ndarray):
        arr = value
    else:
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError) as exc:  # ragged lists and the like
            raise ValueError("%s must be an array of numbers: %s" % (name, exc)) from None
    if arr.dtype.kind not in _NUMERIC_KINDS:
        raise TypeError("%s must hold real numbers; got dtype %s" % (name, arr.dtype))
    return arr


def as_matrix(value: ArrayLike, name: str, n_cols: int, dtype: np.dtype[Any]) -> FloatArray:
    """A C-contiguous (N, n_cols) array of ``dtype`` with N >= 1.

    Values are not inspected here: the backends check that they are finite
    (the C core while it reads them), see ``nonfinite_error``."""
    if (type(value) is np.ndarray and value.dtype is dtype and value.ndim == 2
            and value.shape[1] == n_cols and value.shape[0] >= 1 and aligned_and_contiguous(value)):
        return value  # the fast path: already what the kernels read
    arr = as_array(value, name)
    if arr.ndim != 2 or arr.shape[1] != n_cols or arr.shape[0] < 1:
        hint = " (for one sample use %s.reshape(1, -1))" % name if arr.ndim == 1 else ""
        raise ValueError("%s must have shape (N, %d) with N >= 1; got shape %s%s"
                         % (name, n_cols, arr.shape, hint))
    return kernel_array(arr, dtype)


def aligned_and_contiguous(arr: npt.NDArray[Any]) -> bool:
    """Whether the kernels may read ``arr`` in place: C-contiguous, and each
    element at an address that is a multiple of its size (C reads a float at
    a misaligned address as undefined behaviour; e.g. np.frombuffer(buf,
    offset=1) makes such arrays)."""
    flags = arr.flags
    return bool(flags.c_contiguous and flags.aligned)


def kernel_array(arr: npt.NDArray[Any], dtype: Any) -> npt.NDArray[Any]:
    """``arr`` as a C-contiguous, aligned array of ``dtype``: itself when it
    already is one, else a copy."""
    return np.require(arr, dtype=dtype, requirements=("C", "A"))


def all_finite(a: npt.NDArray[Any]) -> bool:
    """Whether every element of a float array is finite.  Small arrays:
    count_nonzero of the mask, half the cost of the mask's .all(), whose
    reduction's fixed cost dominates there; large ones: isfinite(a).all(),
    the fastest pass over a big buffer (faster than a float64 sum or
    min/max).  (A dot product of the array with itself would be cheaper
    still, but it can overflow on finite values and warn.)"""
    if a.size <= _COUNT_LIMIT:
        return bool(_count_nonzero(np.isfinite(a)) == a.size)
    return bool(np.isfinite(a).all())


_COUNT_LIMIT = 1 << 14  # elements up to which all_finite counts


def _c_count_nonzero() -> Any:
    """numpy's C count_nonzero of a whole array, which ``np.count_nonzero``
    calls through a dispatcher and a Python function: called directly, a
    small all_finite costs 0.33 us instead of 0.57 (the numpy backend makes
    three per step).  It moved from numpy.core to numpy._core in numpy 2."""
    module = "numpy._core.multiarray" if np.lib.NumpyVersion(np.__version__) >= "2.0.0" else "numpy.core.multiarray"
    try:
        return getattr(importlib.import_module(module), "count_nonzero")
    except (ImportError, AttributeError):  # pragma: no cover - a numpy that moved it again
        return np.count_nonzero


_count_nonzero = _c_count_nonzero()


def nonfinite_error(name: str) -> ValueError:
    return ValueError("%s contains NaN or infinity" % name)


def as_float(value: object, name: str, minimum: Optional[float] = None, maximum: Optional[float] = None,
             min_inclusive: bool = True, max_inclusive: bool = True) -> float:
    """``value`` as a finite float within the given bounds, else TypeError/ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError("%s must be a real number; got %r" % (name, value))
    value = float(value)
    ok = np.isfinite(value)
    if ok and minimum is not None:
        ok = value >= minimum if min_inclusive else value > minimum
    if ok and maximum is not None:
        ok = value <= maximum if max_inclusive else value < maximum
    if not ok:
        lo = "(-inf" if minimum is None else ("[" if min_inclusive else "(") + repr(minimum)
        hi = "inf)" if maximum is None else repr(maximum) + ("]" if max_inclusive else ")")
        raise ValueError("%s must be a finite number in %s, %s; got %r" % (name, lo, hi, value))
    return value


def as_int(value: object, name: str, minimum: int = 1, maximum: Optional[int] = None) -> int:
    """``value`` as an int in [minimum, maximum] (bools refused), else TypeError/ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError("%s must be an int; got %r" % (name, value))
    number = int(value)
    if number < minimum:
        raise ValueError("%s must be >= %d; got %d" % (name, minimum, number))
    if maximum is not None and number > maximum:
        raise ValueError("%s must be <= %d; got %d" % (name, maximum, number))
    return number


def as_dtype(value: DTypeLike) -> np.dtype[Any]:
    """"float32"/"float64" (or the numpy types) as a numpy dtype."""
    try:
        dt = None if value is None else np.dtype(value)
    except TypeError:
        dt = None
    if dt is None or dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError("dtype must be 'float32' or 'float64'; got %r" % (value,))
    return dt


def check_index(index: IntArray, n: int) -> None:
    """Row numbers a backend's train_rows takes (fit's permutation of an
    epoch): a contiguous 1-D int64 array, each in [0, n)."""
    if index.dtype != np.int64 or index.ndim != 1 or not index.flags.c_contiguous:
        raise TypeError("index must be a contiguous 1-D int64 array; got %s %r" % (index.dtype, index.shape))
    if index.size and (int(index.min()) < 0 or int(index.max()) >= n):
        raise ValueError("index lists rows outside [0, %d): from %d to %d" % (n, index.min(), index.max()))
