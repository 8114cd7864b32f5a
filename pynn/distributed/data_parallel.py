"""Synchronous data-parallel training: every rank holds a replica of the
network and its own rows; each step, every rank computes the gradient of its
batch, one allreduce sums them (weighted by each batch's rows, or weight
sum, so an uneven last batch is exact), and every rank makes the same
optimizer update.  ``net.fit(..., world=world)`` and
``net.train_step(..., world=world)`` land here when the world has more than
one rank (with one, they are plain fit and train_step).

Per step the allreduce carries one float64 buffer: the n_params gradient
sums, then the batch's loss sum, number correct and weight.  Dividing by the
total weight gives exactly the gradient of the mean loss over the ranks'
batches concatenated in rank order (up to rounding), which is what one
process with that batch computes.
"""
from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .. import backends, losses
from .._plan import Plan
from .._typing import FloatArray, IntArray
from ..errors import DIVERGED_MESSAGE, DivergenceError
from .._validation import all_finite
from .world import World

if TYPE_CHECKING:
    from ..network import Network
    from ..training import _Data

__all__ = ["permutation", "sync", "train_step"]


def permutation(seed: int, epoch: int, rank: int, n: int) -> IntArray:
    """The order in which rank ``rank`` visits its ``n`` rows in ``epoch``
    when fit shuffles: a function of (seed, epoch, rank) only, ``seed``
    being drawn by rank 0 at the start of fit and broadcast."""
    return np.random.default_rng([seed, epoch, rank]).permutation(n)


def check_world(world: object) -> World:
    if not isinstance(world, World):
        raise TypeError("world must be a pynn.distributed World (from pynn.distributed.init()); got %r" % (world,))
    return world


def _signature(net: Network) -> Tuple[Any, ...]:
    plan = net._plan
    return (tuple(plan.sizes.tolist()), tuple(plan.activations), plan.loss, str(plan.dtype),
            tuple(plan.drop_rates.tolist()), type(net.optimizer).__name__, plan.state.size)


def sync(net: Network, world: World) -> None:
    """Make every rank's replica rank 0's: the parameters, the optimizer state
    and step count, and the dropout seed.  Raises ValueError on every rank
    when the ranks' networks differ in architecture, loss, dtype or
    optimizer."""
    signatures = world.allgather(_signature(net))
    if any(s != signatures[0] for s in signatures):
        odd = [r for r, s in enumerate(signatures) if s != signatures[0]]
        raise ValueError("the ranks' networks differ (ranks %s from rank 0): data-parallel training needs the same "
                         "layers, loss, dtype and optimizer on every rank; got %r on rank 0 and %r on rank %d"
                         % (odd, signatures[0], signatures[odd[0]], odd[0]))
    with net._training() as plan:
        world.broadcast(plan.params)
        if plan.state.size:
            world.broadcast(plan.state)
        counters = np.array([net.optimizer.step, plan.dropout_seed], dtype=np.uint64)
        world.broadcast(counters)
    step, seed = int(counters[0]), int(counters[1])
    if seed != net._plan.dropout_seed or step != net.optimizer.step:
        net._restore([], None, step, seed)


class Step:
    """One data-parallel step's buffer (made once per fit) and the step."""

    def __init__(self, plan: Plan) -> None:
        self.n = plan.n_params
        self.buf = np.empty(self.n + 3, dtype=np.float64)

    def run(self, net: Network, world: World, X: FloatArray, Y: Optional[FloatArray], labels: Optional[IntArray],
            weights: Optional[FloatArray], first_row: int, check_update: bool = True
            ) -> Tuple[float, float, float, bool]:
        """The step on this rank's batch (possibly empty); returns the whole
        step's (loss * weight, number correct, weight) and whether the update
        left the weights and optimizer state finite (True unchecked) -- the
        same on every rank.  DivergenceError on every rank, nothing changed,
        if the summed loss or gradient is not finite."""
        impl, n, buf = backends.implementation(), self.n, self.buf
        # numpy backend: a diverging step is reported below, not as warnings
        with net._training() as plan, np.errstate(over="ignore", invalid="ignore"):
            optimizer = net.optimizer
            rows = X.shape[0]
            if rows:
                loss, correct = impl.gradients(plan, X, Y, labels, weights, optimizer.step + 1, first_row)
                weight = float(rows if weights is None else weights.sum(dtype=np.float64))
                np.multiply(plan.grads, weight, out=buf[:n])
            else:
                loss = correct = weight = 0.0
                buf[:n] = 0.0
            buf[n:] = (loss * weight if weight else 0.0, correct, weight)
            world.allreduce(buf)
            total_loss, total_correct, total_weight = float(buf[n]), float(buf[n + 1]), float(buf[n + 2])
            if not total_weight > 0:
                raise ValueError("a data-parallel step found no rows with weight > 0 on any rank (step %d)"
                                 % (optimizer.step + 1))
            if not np.isfinite(total_loss):
                raise DivergenceError(DIVERGED_MESSAGE)
            np.divide(buf[:n], total_weight, out=plan.grads, casting="unsafe")
            impl.apply_gradients(plan, optimizer)  # DivergenceError, nothing changed, on a non-finite gradient
            finite = not check_update or (all_finite(plan.params) and all_finite(plan.state))
        return total_loss, total_correct, total_weight, finite


def snapshot_interval(plan: Plan, batch_size: int) -> int:
    """Steps between fit's rollback snapshots in a data-parallel fit: about
    50 steps' worth of training per copy of the parameters and optimizer
    state, estimated from the sizes alone (a copy at 10 GB/s against the
    products of a step at 50 GFLOP/s) so that every rank takes them at the
    same steps: a divergence replays the steps since, collectives included."""
    copy_seconds = 2.0 * (plan.params.nbytes + plan.state.nbytes) / 10e9
    step_seconds = 6.0 * batch_size * plan.n_params / 50e9
    return max(1, int(np.ceil(50.0 * copy_seconds / max(step_seconds, 1e-12))))


def first_rows(counts: Sequence[int], rank: int) -> int:
    """The index of ``rank``'s first row in a step where rank r contributes
    counts[r] rows (rank order)."""
    return int(sum(counts[:rank]))


def train_step(net: Network, world: World, X: FloatArray, Y: Optional[FloatArray], labels: Optional[IntArray],
               weights: Optional[FloatArray]) -> float:
    """net.train_step(..., world=world): the first one for a (network, world)
    makes the replicas rank 0's; returns the loss of the whole step's batch."""
    if net.optimizer.needs_closure:
        raise ValueError("%s cannot train data-parallel (it evaluates the loss many times per step); use SGD, "
                         "Adam, AdamW or RMSprop with world=" % type(net.optimizer).__name__)
    if getattr(net, "_world", None) is not world:
        sync(net, world)
        net._world = world
    first = 0
    if net._plan.has_dropout:  # the masks need this rank's place in the step's batch
        first = first_rows(world.allgather(X.shape[0]), world.rank)
    step = _STEPS.get(net)
    if step is None or step.n != net._plan.n_params:
        step = _STEPS[net] = Step(net._plan)  # its buffer is made once, not per step
    # as plain train_step: an update that overflows the weights is caught by the next step
    loss, _, weight, _ = step.run(net, world, X, Y, labels, weights, first, check_update=False)
    return loss / weight


# each network's Step (the allreduce buffer), kept for its train_step(world=...) calls
_STEPS: "weakref.WeakKeyDictionary[Network, Step]" = weakref.WeakKeyDictionary()


def scores(net: Network, data: _Data, world: World) -> Dict[str, float]:
    """evaluate() over every rank's rows: the loss and accuracy (or mae and
    r2) of all of them, the same on every rank."""
    target = data.labels if data.Y is None else data.Y
    assert target is not None
    local = net.evaluate(data.X, target, data.weights)
    weight = data.total_weight()
    plan = net._plan
    per_correct = weight * (plan.n_out if plan.loss == "binary_cross_entropy" else 1)
    sums = np.array([local["loss"] * weight, local.get("accuracy", 0.0) * per_correct, weight])
    world.allreduce(sums)
    result = losses.metrics(plan.loss, sums[0] / sums[2], sums[1], sums[2], plan.n_out)
    if plan.loss not in losses.CLASSIFIERS:
        assert data.Y is not None
        result.update(regression_metrics(net.predict(data.X), data.Y, data.weights, world))
    return result


def regression_metrics(P: FloatArray, Y: FloatArray, weights: Optional[FloatArray], world: World
                       ) -> Dict[str, float]:
    """losses.regression_metrics over every rank's rows, in two allreduces:
    the sums for the mean absolute error, the residuals and the targets'
    mean, then the spread around that mean (two passes, as numpy's average
    takes them, rather than a sum of squares that cancels)."""
    P64, Y64 = P.astype(np.float64), Y.astype(np.float64)
    w = np.ones(P64.shape[0]) if weights is None else weights.astype(np.float64)
    k = P64.shape[1]
    first = np.concatenate([[w.sum(), w @ np.abs(P64 - Y64).mean(axis=1)], w @ (P64 - Y64) ** 2, w @ Y64])
    world.allreduce(first)
    total = first[0]
    mae, residual, mean = first[1] / total, first[2:2 + k] / total, first[2 + k:] / total
    spread = np.ascontiguousarray(w @ (Y64 - mean) ** 2)
    world.allreduce(spread)
    spread /= total
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(spread > 0, 1 - residual / np.where(spread > 0, spread, 1), np.where(residual == 0, 1.0, 0.0))
    return {"mae": float(mae), "r2": float(r2.mean())}


def rows_at_step(counts: Sequence[int], step: int, batch_size: int) -> List[int]:
    """How many rows each rank trains on in step ``step`` (from 0) of an
    epoch: a full batch, the remainder, or none once its rows are used up."""
    return [min(max(c - step * batch_size, 0), batch_size) for c in counts]
