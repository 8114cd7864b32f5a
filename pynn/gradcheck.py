"""Gradient checking: compare backpropagation with finite differences.

For every parameter w, the slope of the loss is estimated numerically,

    dE/dw  ~  (E(w + eps) - E(w - eps)) / (2 eps),

on a float64 copy of the network, and compared with the gradient that
backpropagation computes.  If they agree, the chain rule was applied right.
With Dropout layers both use the training loss with the masks of the next
step, which stay fixed while the parameters move.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import backends
from ._typing import ArrayLike
from .layers import dense_positions

if TYPE_CHECKING:
    from .network import Network


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytic and numerical gradients disagree."""


def gradcheck(net: Network, X: ArrayLike, y: ArrayLike, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True) -> bool:
    """Check ``net.gradients(X, y)`` against central finite differences in float64.

    A parameter passes when ``|analytic - numeric| <= atol + rtol * |numeric|``.
    Returns True if all pass; otherwise raises GradcheckError naming the worst
    parameter (or returns False when ``raise_exception`` is False).  Costs two
    loss evaluations per parameter: meant for small networks and batches.
    Activations with kinks (relu, leaky_relu) or losses with them (mae, huber)
    can fail where an input sits within eps of the kink.

    >>> import numpy as np
    >>> import pynn
    >>> net = pynn.Network([pynn.Dense(3, 4, "tanh"), pynn.Dense(4, 2, "softmax")],
    ...                    loss="cross_entropy", seed=0)
    >>> X = np.random.default_rng(0).normal(size=(5, 3))
    >>> pynn.gradcheck(net, X, [0, 1, 1, 0, 1])
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
    if not bad.any():
        return True
    if not raise_exception:
        return False
    worst = int(np.argmax(error - rtol * np.abs(numeric)))
    raise GradcheckError(
        "gradient mismatch for %d of %d parameters; worst is %s: backprop %.10g, finite differences %.10g"
        % (int(bad.sum()), params.size, _describe(twin, worst), analytic[worst], numeric[worst]))


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
