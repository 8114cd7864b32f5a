"""Gradient checking: compare backpropagation with finite differences.

For every parameter w, the slope of the loss is estimated numerically,

    dE/dw  ~  (E(w + eps) - E(w - eps)) / (2 eps),

on a float64 copy of the network, and compared with the gradient that
backpropagation computes.  If they agree, the chain rule was applied right.
With Dropout layers both use the training loss with the masks of the next
step, which stay fixed while the parameters move.

:func:`gradcheck` returns a :class:`GradcheckResult`: true when every
parameter passes (so ``assert gradcheck(net, X, y)`` reads as before), and
holding the largest relative error of each tensor (``result.errors``,
``print(result)`` for a table, or ``gradcheck(..., verbose=True)``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, List, Tuple

import numpy as np

from . import backends
from ._typing import ArrayLike
from .layers import dense_positions

if TYPE_CHECKING:
    from .network import Network


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytic and numerical gradients disagree."""


@dataclass(frozen=True, eq=False)
class GradcheckResult:
    """What :func:`gradcheck` found, per tensor (``"layers[0].W"``, ``"layers[0].b"``, ...):

    - ``errors[name]``: the largest relative error of its parameters,
      ``|backprop − numeric| / max(|backprop|, |numeric|)`` (0 where both are 0);
    - ``abs_errors[name]``: the largest ``|backprop − numeric|``;
    - ``failures[name]``: how many of its parameters failed the tolerance.

    It is true when every parameter passed (``bool(result)``, ``result ==
    True``), so ``assert gradcheck(net, X, y)`` works as it always did; an
    identity test (``gradcheck(...) is True``) does not.  ``str(result)`` is a
    table.
    """
    passed: bool
    errors: Dict[str, float]
    abs_errors: Dict[str, float]
    failures: Dict[str, int]
    n_params: int
    eps: float
    atol: float
    rtol: float

    def __bool__(self) -> bool:
        return self.passed

    def __eq__(self, other: object) -> bool:
        if isinstance(other, bool):
            return self.passed == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.passed)

    @property
    def max_error(self) -> float:
        """The largest relative error over all tensors."""
        return max(self.errors.values(), default=0.0)

    def to_text(self) -> str:
        """The table of errors per tensor (what ``str()`` gives)."""
        rows: List[Tuple[str, ...]] = [("tensor", "largest relative error", "largest |difference|", "failed")]
        for name in self.errors:
            rows.append((name, "%.3g" % self.errors[name], "%.3g" % self.abs_errors[name],
                         str(self.failures[name])))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["gradcheck: %s (%d parameters, eps %g; a parameter passes when |backprop − numeric| <= "
                 "%g + %g·|numeric|)" % ("passed" if self.passed else "FAILED", self.n_params, self.eps,
                                         self.atol, self.rtol)]
        for r in rows:
            lines.append("  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                          for i, (c, w) in enumerate(zip(r, widths))))
        return "\n".join(lines)

    __str__ = to_text

    def __repr__(self) -> str:
        return "GradcheckResult(passed=%r, max_error=%.3g)" % (self.passed, self.max_error)


def gradcheck(net: Network, X: ArrayLike, y: ArrayLike, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, verbose: bool = False) -> GradcheckResult:
    """Check ``net.gradients(X, y)`` against central finite differences in float64.

    A parameter passes when ``|analytic - numeric| <= atol + rtol * |numeric|``.
    Returns a :class:`GradcheckResult`, true when all pass, with the largest
    relative error of each tensor (``result.errors``); if any fails it raises
    GradcheckError naming the worst parameter (or returns the false result
    when ``raise_exception`` is False).  ``verbose=True`` prints the table of
    errors per tensor first.  Costs two loss evaluations per parameter: meant
    for small networks and batches.  Activations with kinks (relu,
    leaky_relu) or losses with them (mae, huber) can fail where an input sits
    within eps of the kink.

    >>> import numpy as np
    >>> import pynn
    >>> net = pynn.Network([pynn.Dense(3, 4, "tanh"), pynn.Dense(4, 2, "softmax")],
    ...                    loss="cross_entropy", seed=0)
    >>> X = np.random.default_rng(0).normal(size=(5, 3))
    >>> result = pynn.gradcheck(net, X, [0, 1, 1, 0, 1])
    >>> bool(result), sorted(result.errors)
    (True, ['layers[0].W', 'layers[0].b', 'layers[1].W', 'layers[1].b'])
    >>> result.max_error < 1e-6
    True
    """
    twin = net._copy(dtype="float64")
    analytic = np.concatenate([g.ravel() for g in twin.gradients(X, y)])
    plan = twin._plan
    X, Y, labels = plan.batch(X, y)
    target = labels if Y is None else Y
    assert target is not None  # plan.batch gives one of them
    params = plan.params
    step = twin.optimizer.step + 1

    def loss() -> float:
        if plan.has_dropout:  # the training loss, with the masks gradients() used
            return backends.implementation().gradients(plan, X, Y, labels, None, step)[0]
        return twin.evaluate(X, target)["loss"]

    numeric = np.empty_like(analytic)
    for i in range(params.size):
        saved = params[i]
        params[i] = saved + eps
        plus = loss()
        params[i] = saved - eps
        minus = loss()
        params[i] = saved
        numeric[i] = (plus - minus) / (2 * eps)
    error = np.abs(analytic - numeric)
    bad = error > atol + rtol * np.abs(numeric)
    scale = np.maximum(np.abs(analytic), np.abs(numeric))
    relative = np.divide(error, scale, out=np.zeros_like(error), where=scale > 0)
    errors, abs_errors, failures = {}, {}, {}
    for name, start, stop in _tensors(twin):
        errors[name] = float(relative[start:stop].max(initial=0.0))
        abs_errors[name] = float(error[start:stop].max(initial=0.0))
        failures[name] = int(bad[start:stop].sum())
    result = GradcheckResult(not bad.any(), errors, abs_errors, failures, int(params.size), eps, atol, rtol)
    if verbose:
        print(result.to_text())
    if result.passed or not raise_exception:
        return result
    worst = int(np.argmax(error - rtol * np.abs(numeric)))
    raise GradcheckError(
        "gradient mismatch for %d of %d parameters; worst is %s: backprop %.10g, finite differences %.10g"
        % (int(bad.sum()), params.size, _describe(twin, worst), analytic[worst], numeric[worst]))


def _tensors(net: Network) -> List[Tuple[str, int, int]]:
    """(name, start, stop) of each tensor in the flat parameter vector: "layers[i].W", "layers[i].b"."""
    out = []
    start = 0
    sizes = net._plan.sizes.tolist()
    for i, n_in, n_out in zip(dense_positions(net.layers), sizes[:-1], sizes[1:]):
        out.append(("layers[%d].W" % i, start, start + n_in * n_out))
        start += n_in * n_out
        out.append(("layers[%d].b" % i, start, start + n_out))
        start += n_out
    return out


def _describe(net: Network, index: int) -> str:
    """'layers[i].W[r, c]' or 'layers[i].b[c]' for a flat parameter index."""
    start = 0
    sizes = net._plan.sizes.tolist()
    for i, n_in, n_out in zip(dense_positions(net.layers), sizes[:-1], sizes[1:]):
        n_w = n_in * n_out
        if index < start + n_w:
            r, c = divmod(index - start, n_out)
            return "layers[%d].W[%d, %d]" % (i, r, c)
        if index < start + n_w + n_out:
            return "layers[%d].b[%d]" % (i, index - start - n_w)
        start += n_w + n_out
    return "parameter %d" % index
