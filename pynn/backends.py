"""Which implementation runs the numbers: the compiled C core or pure numpy.

Both backends compute the same things over the same buffers, so a network can
switch between them at any time.  The choice is process-wide:

- at import, ``PYNN_BACKEND=c|numpy`` picks one; otherwise "c" when the core was
  built, else "numpy" (with one warning saying so; ``PYNN_REQUIRE_C=1`` makes
  that an ImportError instead, for CI);
- ``pynn.set_backend(name)`` changes it later; ``pynn.backend()`` tells.
"""
from __future__ import annotations

import importlib
import os
import warnings
from types import ModuleType
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

if TYPE_CHECKING:
    from typing import Protocol

    from ._typing import FloatArray, IntArray
    from .network import Network

    class _Backend(Protocol):
        """What a backend module (c_backend, numpy_backend) provides; see pynn.network."""

        def predict(self, net: Network, X: FloatArray) -> FloatArray: ...

        def evaluate(self, net: Network, X: FloatArray, Y: Optional[FloatArray],
                     labels: Optional[IntArray]) -> Tuple[float, float]: ...

        def gradients(self, net: Network, X: FloatArray, Y: Optional[FloatArray],
                      labels: Optional[IntArray], step: int) -> Tuple[float, float]: ...

        def train_rows(self, net: Network, X: FloatArray, Y: Optional[FloatArray], labels: Optional[IntArray],
                       batch_size: int) -> Tuple[float, float]: ...

_NAMES = ("c", "numpy")

_core: Optional[ModuleType]
_C_ERROR: Optional[ImportError]
try:  # the cffi extension built by setup.py
    _core = importlib.import_module(__package__ + "._core")
    _C_ERROR = None
except ImportError as exc:  # not built, or built for another platform
    _core = None
    _C_ERROR = exc

# both set by _choose_at_import() below (or the import fails)
_current: str
_implementation: _Backend  # the module of the current backend
config_generation = 0  # bumped when threads, kernels or the process (fork) change


def available_backends() -> List[str]:
    """Names of the backends this installation can run, best first.

    >>> import pynn
    >>> pynn.backend() in pynn.available_backends(), "numpy" in pynn.available_backends()
    (True, True)
    """
    return ["c", "numpy"] if _core is not None else ["numpy"]


def backend() -> str:
    """The name of the backend in use: "c" or "numpy"."""
    return _current


def set_backend(name: str) -> None:
    """Use backend ``name`` ("c" or "numpy") from now on, for every network.

    Raises ValueError for an unknown name and RuntimeError if "c" is asked for
    but the C core is not built.

    >>> import pynn
    >>> previous = pynn.backend()
    >>> pynn.set_backend("numpy")
    >>> pynn.backend()
    'numpy'
    >>> pynn.set_backend(previous)
    >>> pynn.set_backend("cuda")
    Traceback (most recent call last):
        ...
    ValueError: backend must be one of 'c', 'numpy'; got 'cuda'
    """
    global _current, _implementation
    if not isinstance(name, str) or name not in _NAMES:
        raise ValueError("backend must be one of %s; got %r" % (", ".join(map(repr, _NAMES)), name))
    if name == "c" and _core is None:
        raise RuntimeError(
            "pynn's C core is not built (%s); reinstall with a C compiler "
            "(pip install --force-reinstall --no-binary pynn pynn) or use set_backend('numpy')" % (_C_ERROR,)
        )
    module: _Backend
    if name == "c":
        from . import c_backend
        module = c_backend
    else:
        from . import numpy_backend
        module = numpy_backend
    _current, _implementation = name, module


def implementation() -> _Backend:
    """The module that implements the current backend (internal)."""
    return _implementation


def _default_threads() -> int:
    """PYNN_NUM_THREADS, else OMP_NUM_THREADS, else the CPUs this process may use."""
    for var in ("PYNN_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(var, "").strip()
        if value:
            try:
                n = int(value.split(",")[0])
            except ValueError:
                raise ImportError("%s must be a positive integer; got %r" % (var, value)) from None
            if n >= 1:
                return n
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


_num_threads = _default_threads()
_SIMD_NAMES: Dict[str, int] = {"auto": 0, "portable": 1, "avx2": 2, "avx512": 3}
_simd = "auto"


def set_num_threads(n: int) -> None:
    """Use up to ``n`` threads (an int >= 1) in the C core's large products.

    The default is PYNN_NUM_THREADS, else OMP_NUM_THREADS, else the number of
    CPUs this process may run on.  Small products always run on the calling
    thread.  Results do not depend on the number of threads: every output
    element is computed by the same operations in the same order.

    >>> import pynn
    >>> previous = pynn.get_num_threads()
    >>> pynn.set_num_threads(2)
    >>> pynn.get_num_threads()
    2
    >>> pynn.set_num_threads(previous)
    """
    global _num_threads, config_generation
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError("n must be an int >= 1; got %r" % (n,))
    _num_threads = n
    config_generation += 1


def get_num_threads() -> int:
    """The number of threads the C core may use (see set_num_threads)."""
    return _num_threads


def set_simd(name: str) -> None:
    """Choose the C core's micro-kernels: "auto" (the best this CPU has, the
    default), "portable", "avx2" or "avx512".  For testing and benchmarking;
    PYNN_SIMD sets it at import.  ValueError if this CPU cannot run them."""
    global _simd, config_generation
    if name not in _SIMD_NAMES:
        raise ValueError("simd must be one of %s; got %r" % (", ".join(map(repr, _SIMD_NAMES)), name))
    if _core is not None and not _core.lib.pynn_simd_available(_SIMD_NAMES[name]):
        raise ValueError("this CPU cannot run the %r kernels" % name)
    _simd = name
    config_generation += 1


def get_simd() -> str:
    """The micro-kernel family requested with set_simd ("auto" by default)."""
    return _simd


def simd_code() -> int:
    return _SIMD_NAMES[_simd]


def _choose_at_import() -> None:
    simd = os.environ.get("PYNN_SIMD", "").strip().lower()
    if simd:
        set_simd(simd)
    requested = os.environ.get("PYNN_BACKEND", "").strip().lower()
    if requested:
        if requested not in _NAMES:
            raise ImportError("PYNN_BACKEND must be 'c' or 'numpy'; got %r" % requested)
        set_backend(requested)
        return
    if _core is None:
        if os.environ.get("PYNN_REQUIRE_C") == "1":
            raise ImportError("PYNN_REQUIRE_C=1 but pynn's C core is not available: %s" % (_C_ERROR,))
        warnings.warn(
            "pynn's C core is not available (%s); using the numpy backend, which gives the "
            "same results more slowly." % (_C_ERROR,),
            RuntimeWarning,
            stacklevel=3,
        )
        set_backend("numpy")
    else:
        set_backend("c")


_choose_at_import()
