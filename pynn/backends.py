"""Which implementation runs the numbers: the compiled C core or pure numpy.

Both backends compute the same things over the same buffers, so a network can
switch between them at any time.  The choice is process-wide:

- at import, ``PYNN_BACKEND=c|numpy`` picks one; otherwise "c" when the core was
  built, else "numpy" (with one warning saying so; ``PYNN_REQUIRE_C=1`` makes
  that an ImportError instead, for CI);
- ``pynn.set_backend(name)`` changes it later; ``pynn.backend()`` tells.
"""
import importlib
import os
import warnings

_NAMES = ("c", "numpy")

try:  # the cffi extension built by setup.py
    _core = importlib.import_module(__package__ + "._core")
    _C_ERROR = None
except ImportError as exc:  # not built, or built for another platform
    _core = None
    _C_ERROR = exc

_current = None
_num_threads = 1


def available_backends():
    """Names of the backends this installation can run, best first."""
    return ["c", "numpy"] if _core is not None else ["numpy"]


def backend():
    """The name of the backend in use: "c" or "numpy"."""
    return _current


def set_backend(name):
    """Use backend ``name`` ("c" or "numpy") from now on, for every network.

    Raises ValueError for an unknown name and RuntimeError if "c" is asked for
    but the C core is not built.
    """
    global _current
    if not isinstance(name, str) or name not in _NAMES:
        raise ValueError("backend must be one of %s; got %r" % (", ".join(map(repr, _NAMES)), name))
    if name == "c" and _core is None:
        raise RuntimeError(
            "pynn's C core is not built (%s); reinstall with a C compiler "
            "(pip install --force-reinstall --no-binary pynn pynn) or use set_backend('numpy')" % (_C_ERROR,)
        )
    _current = name


def implementation():
    """The module that implements the current backend (internal)."""
    if _current == "c":
        from . import c_backend
        return c_backend
    from . import numpy_backend
    return numpy_backend


def set_num_threads(n):
    """Set the number of threads pynn's kernels may use (an int >= 1).

    The kernels of this version run on one thread; the setting is kept for the
    multi-threaded kernels and validated now so code written against it keeps
    working.
    """
    global _num_threads
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError("n must be an int >= 1; got %r" % (n,))
    _num_threads = n


def get_num_threads():
    """The number of threads set with set_num_threads (default 1)."""
    return _num_threads


def _choose_at_import():
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
