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
from typing import TYPE_CHECKING, List, Optional, Tuple

if TYPE_CHECKING:
    from typing import Protocol

    from ._plan import Plan
    from ._typing import FloatArray, IntArray
    from .optimizers import Optimizer

    class Backend(Protocol):
        """What a backend module (c_backend, numpy_backend) provides: the
        Python face of the network functions of csrc/pynn.h, over a plan
        (pynn._plan) instead of a Network, so each can be tested alone.

        Arrays come checked and converted (``Plan.batch``): X (N, n_in) and Y
        (N, n_out) C-contiguous in the plan's dtype, or int64 class labels
        (N,) instead of Y; sample weights (N,) in the plan's dtype or None.  Values are checked by the backend itself, with the
        same errors on both (non-finite X or y, labels or probabilities out of
        range), before anything changes.
        """

        def check_inputs(self, plan: Plan, X: FloatArray, Y: Optional[FloatArray],
                         labels: Optional[IntArray], weights: Optional[FloatArray] = None) -> None:
            """Raise as a training call would for these values (pynn_check_inputs_*)."""

        def predict(self, plan: Plan, X: FloatArray, logits: bool = False) -> FloatArray:
            """(N, n_out) outputs, or the last layer's pre-activations (pynn_predict_*)."""

        def evaluate(self, plan: Plan, X: FloatArray, Y: Optional[FloatArray],
                     labels: Optional[IntArray], weights: Optional[FloatArray] = None) -> Tuple[float, float]:
            """(weighted mean loss, weighted number correct), no dropout (pynn_evaluate_*)."""

        def gradients(self, plan: Plan, X: FloatArray, Y: Optional[FloatArray], labels: Optional[IntArray],
                      weights: Optional[FloatArray], step: int, first_row: int = 0) -> Tuple[float, float]:
            """plan.grads = dLoss/dparams with update ``step``'s dropout masks,
            X's rows being rows ``first_row``, ... of the step's whole batch
            (data-parallel training); (loss, correct) (pynn_gradients_*)."""

        def train_rows(self, plan: Plan, optimizer: Optimizer, X: FloatArray, Y: Optional[FloatArray],
                       labels: Optional[IntArray], weights: Optional[FloatArray],
                       batch_size: int, index: Optional[IntArray] = None) -> Tuple[float, float]:
            """One update per consecutive batch of ``batch_size`` rows -- of X,
            or of the rows ``index`` lists, gathered batch by batch; (sum of
            loss * rows -- or * the batch's weight sum --, number correct);
            optimizer.step counts the updates made, also when DivergenceError
            is raised (pynn_train_rows_*)."""

        def apply_gradients(self, plan: Plan, optimizer: Optimizer) -> None:
            """One update from the gradients in plan.grads; DivergenceError,
            nothing changed, if one is not finite (pynn_apply_gradients_*)."""

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
_implementation: Backend  # the module of the current backend


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
    module: Backend
    if name == "c":
        from . import c_backend
        module = c_backend
    else:
        from . import numpy_backend
        module = numpy_backend
    _current, _implementation = name, module


def implementation() -> Backend:
    """The module that implements the current backend (internal)."""
    return _implementation


def _choose_at_import() -> None:
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
