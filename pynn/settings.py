"""Process-wide compute settings of the C core: threads and micro-kernels.

- ``set_num_threads(n)`` / ``get_num_threads()``: how many threads the large
  products may use (PYNN_NUM_THREADS, else OMP_NUM_THREADS, else the CPUs
  this process may run on).
- ``set_simd(name)`` / ``get_simd()``: which micro-kernels the products use
  ("auto" unless PYNN_SIMD says otherwise); for tests and benchmarks.

``generation`` counts changes to these settings (and forks, after which the
child has no worker threads): the C backend compares it with the value it
saw last to know when to re-read them, so the per-call check is one integer
comparison.  Only this module changes it, through :func:`changed`.
"""
from __future__ import annotations

import os
from typing import Any, Dict

_lib: Any = None  # the compiled core's functions, to ask which kernels this CPU runs
try:
    from ._core import lib

    _lib = lib
except ImportError:  # not built: pynn.backends says why
    pass

generation = 0  # bumped by changed()


def changed() -> None:
    """Record that the threads, the kernels or the process (fork) changed."""
    global generation
    generation += 1


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
SIMD_CODES: Dict[str, int] = {"auto": 0, "portable": 1, "avx2": 2, "avx512": 3, "neon": 4}  # enum pynn_simd
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
    global _num_threads
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError("n must be an int >= 1; got %r" % (n,))
    _num_threads = n
    changed()


def get_num_threads() -> int:
    """The number of threads the C core may use (see set_num_threads)."""
    return _num_threads


def set_simd(name: str) -> None:
    """Choose the C core's micro-kernels: "auto" (the best this CPU has, the
    default), "portable", "avx2" or "avx512" (x86-64), or "neon" (AArch64).
    For testing and benchmarking; PYNN_SIMD sets it at import.  ValueError if
    this CPU cannot run them."""
    global _simd
    if name not in SIMD_CODES:
        raise ValueError("simd must be one of %s; got %r" % (", ".join(map(repr, SIMD_CODES)), name))
    if _lib is not None and not _lib.pynn_simd_available(SIMD_CODES[name]):
        raise ValueError("this CPU cannot run the %r kernels" % name)
    _simd = name
    changed()


def get_simd() -> str:
    """The micro-kernel family requested with set_simd ("auto" by default)."""
    return _simd


def simd_code() -> int:
    """get_simd() as the C core's pynn_simd code."""
    return SIMD_CODES[_simd]


if os.environ.get("PYNN_SIMD", "").strip():
    set_simd(os.environ["PYNN_SIMD"].strip().lower())
