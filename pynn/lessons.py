"""Small experiments that show how training behaves.

- :func:`lr_sweep`: the same network (same seed, so the same start and the
  same batches) trained at several learning rates.  Too small a rate barely
  moves the loss, a good one brings it down fast, too large a one makes it
  blow up; the sweep records a run whose loss stops being finite (or grows
  past 1000 times its starting value) as diverged and stops it.
- :func:`init_demo`: why weights start random.  If every weight of a layer
  starts equal (``zeros``, ``constant``), all its hidden units compute the
  same thing, get the same gradient and stay identical for ever, so the
  layer acts like one unit; random starts break that symmetry.

Both return result objects with the numbers (``.to_text()`` / ``str()`` for
a table) and draw a chart when given ``path`` (needs matplotlib).  They run
in float64 by default, so both backends print the same digits.  The same
lessons are on the command line: ``pynn lr-sweep`` and ``pynn init-demo``.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Dict, Iterable, List, Optional, Tuple, Union

import numpy as np
import numpy.typing as npt

from . import init as init_module
from ._typing import ArrayLike, DTypeLike, Float64Array, Initializer, Logs, PathLike
from ._validation import as_float, as_int
from .layers import Dense
from .network import Network
from .optimizers import SGD
from .training import Callback

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["InitDemoResult", "SweepResult", "init_demo", "lr_sweep", "sine_data", "xor_data"]

DIVERGENCE_FACTOR = 1000.0  # a loss this many times the starting loss counts as diverged


def sine_data(n: int = 128, seed: Optional[int] = 0) -> Tuple[Float64Array, Float64Array]:
    """A 1-D regression problem: y = sin(1.5 x) + noise (sd 0.1), x uniform on [-2, 2]."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2.0, 2.0, size=(n, 1))
    return X, np.sin(1.5 * X) + 0.1 * rng.normal(size=X.shape)


def xor_data(n_per_cluster: int = 50, noise: float = 0.3, seed: Optional[int] = 0
             ) -> Tuple[Float64Array, npt.NDArray[np.int_]]:
    """Four noisy clusters around (±1, ±1) labelled by XOR of the signs: no
    straight line separates the classes, so one hidden unit is not enough."""
    rng = np.random.default_rng(seed)
    centers = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    X = np.concatenate([c + noise * rng.normal(size=(n_per_cluster, 2)) for c in centers])
    return X, np.repeat([0, 1, 1, 0], n_per_cluster)


class _Watch(Callback):
    """Calls ``fn(epoch, logs)`` after each epoch; stops training when it returns True."""

    def __init__(self, fn: Callable[[int, Logs], bool]) -> None:
        self.fn = fn

    def on_epoch_end(self, epoch: int, logs: Optional[Logs] = None) -> None:
        assert logs is not None  # fit always passes the epoch's logs
        if self.fn(epoch, logs):
            self.model.stop_training = True


# ---- learning rates --------------------------------------------------------------------------

@dataclass
class SweepResult:
    """What :func:`lr_sweep` found.

    ``curves[lr]`` is the training loss of each epoch (inf from the epoch a
    run diverged; the run stops there), ``diverged[lr]`` that epoch (from 1)
    or None, ``initial_loss`` the loss before training (the same for all).
    ``X``, ``y`` are the data, ``predictions[lr]`` what each trained network
    predicts for X (non-finite after a divergence), and with one or two
    inputs ``grid_predictions[lr]`` its predictions on ``grid``: the fitted
    curves (one input) or decision regions (two) that :meth:`plot` draws
    beside the loss curves.
    """
    lrs: Tuple[float, ...]
    epochs: int
    initial_loss: float
    curves: Dict[float, List[float]]
    diverged: Dict[float, Optional[int]]
    X: Optional[Float64Array] = None     # the training data, (n, n_in)
    y: Optional[np.ndarray] = None       # its targets: labels (n,) or values (n, n_out)
    loss: str = "mse"
    predictions: Dict[float, Float64Array] = field(default_factory=dict)  # each final network on X
    grid: Optional[Float64Array] = None  # points to draw the fits at: (g, 1) for one input, (g*g, 2) for two
    grid_predictions: Dict[float, Float64Array] = field(default_factory=dict)  # each final network on grid

    @property
    def final(self) -> Dict[float, float]:
        """The last recorded loss of each run (inf for a diverged one)."""
        return {lr: (c[-1] if c else self.initial_loss) for lr, c in self.curves.items()}

    @property
    def best_lr(self) -> float:
        """The rate with the lowest final loss."""
        return min(self.lrs, key=lambda lr: self.final[lr])

    def verdict(self, lr: float) -> str:
        """"good", "too small" or "too large", with the reason."""
        best = self.final[self.best_lr]
        diverged_at = self.diverged[lr]
        if diverged_at is not None:
            return "too large: diverged at epoch %d" % diverged_at
        if lr == self.best_lr:
            return "good: lowest final loss"
        ratio = "final loss %.3g x the best" % (self.final[lr] / best) if best > 0 else "higher final loss"
        return ("too small: " if lr < self.best_lr else "too large: ") + ratio

    def to_text(self) -> str:
        """The table of losses by learning rate and epoch (what ``str()`` gives)."""
        marks = sorted({1, min(10, self.epochs), self.epochs} | set(range(0, self.epochs + 1, 10)) - {0})
        header = ["lr"] + ["epoch %d" % e for e in marks] + ["verdict"]
        rows = []
        for lr in self.lrs:
            c = self.curves[lr]
            cells = [("%.4g" % c[e - 1] if math.isfinite(c[e - 1]) else "inf") if e <= len(c) else "-"
                     for e in marks]
            rows.append(["%g" % lr] + cells + [self.verdict(lr)])
        lines = ["Training loss by learning rate (same network and batches; loss before training %.4g)"
                 % self.initial_loss]
        widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
        for r in [header] + rows:
            lines.append("  ".join(c.rjust(w) if i < len(r) - 1 else c for i, (c, w) in enumerate(zip(r, widths))))
        return "\n".join(lines)

    __str__ = to_text

    def plot(self, path: Optional[PathLike] = None) -> Figure:
        """Two charts side by side (needs matplotlib; a PNG at ``path`` when
        given): the loss curves on a log scale from the starting loss (epoch
        0), a diverged run drawn up to the top of the chart (10 times the
        starting loss); and the data with what each run learned: the fitted
        curves (one input), the decision boundaries (two inputs, a
        classification), else the predictions against the targets (or the
        accuracy of each run).  A diverged run has no fit to draw."""
        from .plotting import plot_sweep
        return plot_sweep(self, path)


def _grid(X: np.ndarray, points: int = 200) -> Optional[Float64Array]:
    """Points spanning the data (a little beyond) to draw fitted curves or decision regions at:
    ``points`` values for one input, a 60 x 60 grid for two (None for data that are not finite)."""
    X = np.asarray(X, dtype=np.float64)
    if X.size == 0 or not np.isfinite(X).all():
        return None
    low, high = X.min(axis=0), X.max(axis=0)
    pad = 0.05 * np.where(high > low, high - low, 1.0)
    if X.shape[1] == 1:
        return np.linspace(low[0] - pad[0], high[0] + pad[0], points).reshape(-1, 1)
    u = np.linspace(low[0] - pad[0], high[0] + pad[0], 60)
    v = np.linspace(low[1] - pad[1], high[1] + pad[1], 60)
    U, V = np.meshgrid(u, v)
    return np.column_stack([U.ravel(), V.ravel()])


def _sweep_network(n_in: int, n_out: int, hidden: int, loss: str, lr: float, seed: Optional[int],
                   dtype: DTypeLike) -> Network:
    out_act = {"cross_entropy": "softmax", "binary_cross_entropy": "sigmoid"}.get(loss, "linear")
    return Network([Dense(n_in, hidden, "tanh"), Dense(hidden, n_out, out_act)], loss=loss,
                   optimizer=SGD(lr=lr), seed=seed, dtype=dtype)


def lr_sweep(lrs: Iterable[float] = (0.001, 0.01, 0.1, 1.0), epochs: int = 40, X: Optional[ArrayLike] = None,
             y: Optional[ArrayLike] = None, hidden: int = 16, loss: str = "mse", batch_size: int = 16,
             seed: Optional[int] = 0, dtype: DTypeLike = "float64", path: Optional[PathLike] = None) -> SweepResult:
    """Train one network (a tanh hidden layer of ``hidden`` units, plain SGD)
    from the same seeded start at each learning rate in ``lrs`` and return a
    :class:`SweepResult` with the loss curves.

    The data default to :func:`sine_data` (regression, ``loss="mse"``); pass
    ``X``, ``y`` and ``loss`` for your own (the output layer follows the
    loss: softmax for "cross_entropy", sigmoid for "binary_cross_entropy",
    linear otherwise).  A run whose loss becomes non-finite or exceeds
    ``DIVERGENCE_FACTOR`` times the starting loss is stopped and recorded as
    diverged.  With ``path``, the curves are also saved as a PNG chart.

    >>> from pynn.lessons import lr_sweep
    >>> sweep = lr_sweep(lrs=(0.01, 0.1, 1.0), epochs=20)
    >>> sweep.best_lr, sweep.diverged
    (0.1, {0.01: None, 0.1: None, 1.0: 1})
    >>> sweep.verdict(0.01)
    'too small: final loss 4.01 x the best'
    """
    lrs = tuple(as_float(lr, "lrs[%d]" % i, minimum=0.0, min_inclusive=False) for i, lr in enumerate(lrs))
    if not lrs:
        raise ValueError("lrs must hold at least one learning rate")
    epochs = as_int(epochs, "epochs")
    if X is None:
        X, y = sine_data()
    elif y is None:
        raise ValueError("y is needed with X")
    X = np.asarray(X)
    if X.ndim == 1:  # one input feature
        X = X.reshape(-1, 1)
    if loss == "cross_entropy" and np.asarray(y).ndim == 1:
        n_out = int(np.max(y)) + 1
    else:
        n_out = 1 if np.asarray(y).ndim == 1 else np.asarray(y).shape[1]
    n_in = X.shape[1] if X.ndim == 2 else 1  # anything else: Network says what it expects

    curves: Dict[float, List[float]] = {}
    diverged: Dict[float, Optional[int]] = {}
    predictions: Dict[float, Float64Array] = {}
    grid_predictions: Dict[float, Float64Array] = {}
    grid = _grid(X) if X.ndim == 2 and X.shape[1] in (1, 2) else None
    initial: Optional[float] = None
    for lr in lrs:
        net = _sweep_network(n_in, n_out, hidden, loss, lr, seed, dtype)
        if initial is None:
            initial = net.evaluate(X, y)["loss"]
        losses: List[float] = []
        stop: List[Optional[int]] = [None]

        def watch(epoch: int, logs: Logs, losses: List[float] = losses, stop: List[Optional[int]] = stop,
                  initial: float = initial) -> bool:
            value = logs["loss"]
            if not math.isfinite(value) or value > DIVERGENCE_FACTOR * initial:
                losses.append(math.inf)
                stop[0] = epoch + 1
                return True
            losses.append(value)
            return False

        with np.errstate(all="ignore"):  # overflow on the way to inf is the lesson, not an error
            net.fit(X, y, epochs=epochs, batch_size=batch_size, verbose=0, callbacks=[_Watch(watch)])
            predictions[lr] = net.predict(X).astype(np.float64)
            if grid is not None:
                grid_predictions[lr] = net.predict(grid).astype(np.float64)
        curves[lr], diverged[lr] = losses, stop[0]
    assert initial is not None  # lrs is not empty
    result = SweepResult(lrs, epochs, initial, curves, diverged, X.astype(np.float64), np.asarray(y), loss,
                         predictions, grid, grid_predictions)
    if path is not None:
        result.plot(path)
    return result


# ---- initialisation --------------------------------------------------------------------------

def _hidden_spread(net: Network) -> float:
    """The largest difference between two hidden units' incoming weights or biases:
    max over inputs i of (max_j W1[i, j] - min_j W1[i, j]), with the bias as one more input."""
    W, b = net._plan.param_views[0]  # the first layer's W and b
    incoming = np.vstack([W, b]).astype(np.float64)
    return float(np.ptp(incoming, axis=1).max())


def _distinct_units(net: Network) -> int:
    W, b = net._plan.param_views[0]
    incoming = np.vstack([W, b])
    return len({tuple(col) for col in incoming.T.tolist()})


@dataclass
class InitDemoResult:
    """What :func:`init_demo` found, per initialisation name: ``spread[name]``
    (the largest difference between two hidden units' incoming weights),
    ``accuracy[name]`` and ``loss[name]`` (the network evaluated on the whole
    training set: the same quantity as the table's), each before training
    (index 0) and after each epoch (index e), so ``accuracy[name][-1] ==
    final_accuracy[name]``; ``final_loss`` and ``distinct_units`` (how many
    hidden units differ at the end, of ``hidden``).  For a regression
    (``loss="mse"``) there is no accuracy: its lists are empty and the table
    shows the loss only."""
    hidden: int
    epochs: int
    spread: Dict[str, List[float]]
    accuracy: Dict[str, List[float]]
    final_accuracy: Dict[str, float]
    final_loss: Dict[str, float]
    distinct_units: Dict[str, int] = field(default_factory=dict)
    loss: Dict[str, List[float]] = field(default_factory=dict)
    data: str = "XOR"

    def to_text(self) -> str:
        """The table of spreads, distinct units, accuracy and loss by init (what ``str()`` gives)."""
        header = ["init", "spread before", "spread after", "distinct hidden units", "accuracy", "loss"]
        rows = [[name, "%.4g" % self.spread[name][0], "%.4g" % self.spread[name][-1],
                 "%d of %d" % (self.distinct_units[name], self.hidden),
                 "%.3f" % self.final_accuracy[name] if name in self.final_accuracy else "—",
                 "%.4f" % self.final_loss[name]] for name in self.spread]
        lines = ["Hidden units after %d epochs on %s" % (self.epochs, self.data),
                 "(spread: the largest difference between two hidden units' incoming weights;",
                 " accuracy and loss: the final network on all the training data)"]
        widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
        for r in [header] + rows:
            lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
        return "\n".join(lines)

    __str__ = to_text

    def plot(self, path: Optional[PathLike] = None) -> Figure:
        """Spread, accuracy and loss per epoch (epoch 0: before training), one
        curve per init, each with its own line style and markers so that equal
        curves (zeros and constant have spread 0 throughout) stay visible; the
        accuracy and loss are the table's: the network evaluated on all the
        training data after each epoch (needs matplotlib)."""
        from .plotting import plot_panels
        panels = [dict(curves=self.spread, title="spread of hidden units' incoming weights",
                       ylabel="max difference")]
        if any(self.accuracy.values()):
            panels.append(dict(curves=self.accuracy, title="accuracy on the training data", ylabel="accuracy"))
        panels.append(dict(curves=self.loss, title="loss on the training data", ylabel="loss"))
        return plot_panels(panels, path=path, first_x=0)


_INITS: Dict[str, Union[str, Initializer, None]] = {
    "zeros": "zeros",
    "constant": functools.partial(init_module.constant, value=0.5),
    "random": None,  # Dense's default: Glorot/Xavier uniform for tanh and sigmoid
}

_OUTPUTS = {"binary_cross_entropy": "sigmoid", "cross_entropy": "softmax", "mse": "linear"}


def init_demo(inits: Union[str, Iterable[str]] = ("zeros", "constant", "random"), epochs: int = 100, hidden: int = 8,
              lr: float = 0.5, batch_size: int = 20, seed: Optional[int] = 0, dtype: DTypeLike = "float64",
              path: Optional[PathLike] = None, X: Optional[ArrayLike] = None, y: Optional[ArrayLike] = None,
              loss: Optional[str] = None) -> InitDemoResult:
    """Train a 2-``hidden``-1 tanh/sigmoid network on :func:`xor_data` once per
    initialisation and return an :class:`InitDemoResult`.

    ``inits`` are names: "zeros" (every weight 0), "constant" (every weight
    0.5), "random" (Dense's default, Xavier uniform), or any name of
    :mod:`pynn.init`; biases start at 0.  With "zeros" or "constant" all
    hidden units stay identical (spread 0, one distinct unit) and accuracy
    stays low; random starts make them differ and learn XOR.  With ``path``,
    a chart is saved as a PNG.

    Your own data: ``X`` and ``y`` with ``loss`` "binary_cross_entropy"
    (labels 0/1: one sigmoid output), "cross_entropy" (labels 0..k−1: k
    softmax outputs) or "mse" (values: linear outputs); by default integer
    labels 0/1 give "binary_cross_entropy", more classes "cross_entropy",
    anything else "mse".

    >>> from pynn.lessons import init_demo
    >>> result = init_demo(epochs=100)
    >>> result.distinct_units
    {'zeros': 1, 'constant': 1, 'random': 8}
    >>> result.final_accuracy
    {'zeros': 0.5, 'constant': 0.5, 'random': 1.0}
    """
    inits = (inits,) if isinstance(inits, str) else tuple(inits)
    choices = list(_INITS) + [k for k in init_module.INITIALIZERS if k not in _INITS]
    for name in inits:
        if name not in choices:
            raise ValueError("inits must hold names from %s; got %r" % (", ".join(choices), name))
    epochs = as_int(epochs, "epochs")
    data = "XOR"
    if X is None:
        if y is not None:
            raise ValueError("X is needed with y")
        X, y = xor_data(seed=seed)
        loss = "binary_cross_entropy"
    elif y is None:
        raise ValueError("y is needed with X")
    else:
        data = "your data"
    X = np.asarray(X)
    if X.ndim == 1:  # one input feature
        X = X.reshape(-1, 1)
    y = np.asarray(y)
    if loss is None:
        labels = y.ndim == 1 and y.size > 0 and np.issubdtype(y.dtype, np.integer)
        loss = ("binary_cross_entropy" if labels and int(y.max()) <= 1 else "cross_entropy" if labels else "mse")
    if loss not in _OUTPUTS:
        raise ValueError("loss must be one of %s; got %r" % (", ".join(_OUTPUTS), loss))
    n_out = (int(np.max(y)) + 1 if loss == "cross_entropy" and y.ndim == 1
             else 1 if y.ndim == 1 else y.shape[1])
    n_in = X.shape[1] if X.ndim == 2 else 1  # anything else: Network says what it expects
    spread, accuracy, losses, final_accuracy, final_loss, distinct = {}, {}, {}, {}, {}, {}
    for name in inits:
        init = _INITS.get(name, name)
        kw = {} if init is None else {"init": init}
        net = Network([Dense(n_in, hidden, "tanh", **kw), Dense(hidden, n_out, _OUTPUTS[loss], **kw)],
                      loss=loss, optimizer=SGD(lr=lr), seed=seed, dtype=dtype)
        spreads = [_hidden_spread(net)]
        scores = [net.evaluate(X, y)]

        def record(epoch: int, logs: Logs, net: Network = net, spreads: List[float] = spreads,
                   scores: List[Dict[str, float]] = scores) -> bool:
            spreads.append(_hidden_spread(net))
            scores.append(net.evaluate(X, y))  # the network as it is now, on all the data: what the table shows
            return False  # never stop

        net.fit(X, y, epochs=epochs, batch_size=batch_size, verbose=0, callbacks=[_Watch(record)])
        spread[name] = spreads
        accuracy[name] = [s["accuracy"] for s in scores if "accuracy" in s]
        losses[name] = [s["loss"] for s in scores]
        if accuracy[name]:
            final_accuracy[name] = accuracy[name][-1]
        final_loss[name] = losses[name][-1]
        distinct[name] = _distinct_units(net)
    result = InitDemoResult(hidden, epochs, spread, accuracy, final_accuracy, final_loss, distinct, losses, data)
    if path is not None:
        result.plot(path)
    return result
