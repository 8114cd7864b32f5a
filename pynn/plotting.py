"""Charts of training runs, drawn with matplotlib (optional: ``pip install pynn[plot]``).

Figures are made with matplotlib's Agg canvas directly (no pyplot, no
window, and the user's pyplot backend is left alone) and saved as PNG.

- :func:`plot_history` (also ``History.plot``): learning curves;
- :func:`plot_curves` and :func:`plot_panels`: named curves on one chart or
  several side by side (used by :mod:`pynn.lessons`), each curve with its own
  line style and markers, so that equal curves stay visible;
- :func:`plot_sweep` (also ``SweepResult.plot``): a learning-rate sweep's loss
  curves beside the data and what each run learned.
"""
from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Tuple, Type, Union

import numpy as np

from ._typing import PathLike

if TYPE_CHECKING:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from matplotlib.axes import Axes

    from .training import History


def _matplotlib() -> Tuple[Type[Figure], Type[FigureCanvasAgg]]:
    """matplotlib's Figure class and Agg canvas, or an ImportError saying how to install it."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError("pynn's plots need matplotlib, which is not installed: "
                          "pip install pynn[plot]  (or: pip install matplotlib)  [%s]" % exc) from None
    return Figure, FigureCanvasAgg


def _figure(n_panels: int, width: float = 5.0, height: float = 3.6) -> Figure:
    Figure, FigureCanvasAgg = _matplotlib()
    fig = Figure(figsize=(width * n_panels, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: Optional[PathLike]) -> Figure:
    if path is not None:
        fig.savefig(os.fspath(path), format="png", dpi=100)
    return fig


def plot_history(history: Union[History, Dict[str, Sequence[float]]], path: Optional[PathLike] = None,
                 metrics: Union[str, Sequence[str], None] = None) -> Figure:
    """Learning curves of a :class:`pynn.History` (or its ``.history`` dict).

    One panel per metric ("loss", "accuracy", "mae", ...), each with the
    training curve and, when recorded, the validation one ("val_" + name)
    against the epoch (from 1).  ``metrics`` picks panels by name (default:
    every recorded metric except "lr"; ask for "lr" to see the learning rate,
    drawn on a log scale).  Saves a PNG at ``path`` when given and returns
    the matplotlib Figure.

    >>> import os, tempfile
    >>> import pynn
    >>> X, y = pynn.datasets.spirals(n_per_class=30, seed=0)
    >>> net = pynn.Network([pynn.Dense(2, 8, "tanh"), pynn.Dense(8, 3, "softmax")], loss="cross_entropy",
    ...                    seed=0)
    >>> history = net.fit(X, y, epochs=5, validation_data=(X, y), verbose=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "curves.png")
    >>> fig = history.plot(path)                  # the same as plot_history(history, path)
    >>> [ax.get_title() for ax in fig.axes], os.path.exists(path)
    (['loss', 'accuracy'], True)
    """
    data = getattr(history, "history", history)
    if not isinstance(data, dict) or not data:
        raise ValueError("history has no recorded epochs to plot")
    names = [k for k in data if not k.startswith("val_")]
    names += [k[4:] for k in data if k.startswith("val_") and k[4:] not in data]
    if metrics is None:
        metrics = [k for k in names if k != "lr"]
    elif isinstance(metrics, str):
        metrics = [metrics]
    else:
        metrics = list(metrics)
    unknown = [m for m in metrics if m not in data and "val_" + m not in data]
    if unknown or not metrics:
        raise ValueError("metrics must name recorded metrics (%s); got %r" % (", ".join(names), metrics))
    fig = _figure(len(metrics))
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    for ax, name in zip(axes, metrics):
        for key, label, style in ((name, "training", "-"), ("val_" + name, "validation", "--")):
            if key in data:
                values = data[key]
                ax.plot(range(1, len(values) + 1), values, style, label=label)
        if name == "lr":
            ax.set_yscale("log")
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
        ax.legend()
    return _save(fig, path)


def plot_curves(curves: Mapping[Any, Sequence[float]], path: Optional[PathLike] = None, title: Optional[str] = None,
                xlabel: str = "epoch", ylabel: str = "loss", log_y: bool = False, y_max: Optional[float] = None,
                first_x: int = 1) -> Figure:
    """Named curves on one chart: ``curves`` maps a label to a list of values,
    drawn at x = first_x, first_x + 1, ... (non-finite values are left out;
    ``y_max`` cuts the axis, e.g. above a diverging run).  Saves a PNG at
    ``path`` when given and returns the matplotlib Figure."""
    return plot_panels([dict(curves=curves, title=title, ylabel=ylabel, log_y=log_y, y_max=y_max)],
                       path=path, xlabel=xlabel, first_x=first_x)


#: (line style, marker) of the n-th curve of a chart: no two curves look alike, even where they overlap
STYLES: List[Tuple[Any, str]] = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"), ((0, (5, 1, 1, 1)), "v"),
                                 ((0, (1, 1)), "x"), ((0, (8, 2)), "P"), ((0, (3, 1, 1, 1, 1, 1)), "*")]


def _draw(ax: Axes, n: int, k: int, xs: Sequence[float], ys: Sequence[float], label: str) -> None:
    """Curve ``n`` of ``k`` on ``ax``: its own line style and marker, the markers spaced along the
    curve and staggered between curves (so coinciding curves still show each one's markers)."""
    style, marker = STYLES[n % len(STYLES)]
    every = max(1, len(xs) // 8)
    ax.plot(xs, ys, linestyle=style, marker=marker, markevery=(min(len(xs) - 1, n * every // max(k, 1)), every),
            markersize=6, markerfacecolor="none", linewidth=1.6, label=label)


def plot_panels(panels: Sequence[Mapping[str, Any]], path: Optional[PathLike] = None, xlabel: str = "epoch",
                first_x: int = 1) -> Figure:
    """Several charts side by side: ``panels`` is a list of dicts with the
    arguments of :func:`plot_curves` ("curves", and optional "title",
    "ylabel", "log_y", "y_max").  Each curve of a chart has its own line
    style and marker (:data:`STYLES`).  Saves a PNG at ``path`` when given and
    returns the matplotlib Figure."""
    fig = _figure(len(panels), width=6.0 if len(panels) == 1 else 5.0, height=4.2)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, panel in zip(axes, panels):
        curves = panel["curves"]
        for n, (label, values) in enumerate(curves.items()):
            points = [(first_x + i, v) for i, v in enumerate(values) if math.isfinite(v)]
            if points:
                xs, ys = zip(*points)
                _draw(ax, n, len(curves), xs, ys, str(label))
        if panel.get("log_y"):
            ax.set_yscale("log")
        if panel.get("y_max") is not None:
            ax.set_ylim(top=panel["y_max"])
        if panel.get("title"):
            ax.set_title(panel["title"])
        ax.set_xlabel(xlabel)
        ax.set_ylabel(panel.get("ylabel", ""))
        ax.grid(True, alpha=0.3)
        ax.legend()
    return _save(fig, path)


def plot_sweep(result: Any, path: Optional[PathLike] = None) -> Figure:
    """A learning-rate sweep (a :class:`pynn.lessons.SweepResult`, typed Any
    here to keep this module free of the lessons' imports): the loss curves,
    and beside them the data with what each run learned: with one input the
    data and each run's fitted curve; with two inputs and classes the data
    coloured by class and each run's decision boundary; otherwise each run's
    predictions against the targets (regression) or its accuracy
    (classification).  A diverged run is listed but has nothing to draw.
    Saves a PNG at ``path`` when given and returns the matplotlib Figure."""
    fig = _figure(2, width=5.5, height=4.2)
    loss_ax, data_ax = fig.subplots(1, 2, squeeze=False)[0]
    top = 10 * result.initial_loss
    k = len(result.lrs)
    labels = {lr: "lr = %g" % lr + (" (diverged)" if result.diverged[lr] is not None else "") for lr in result.lrs}
    for n, lr in enumerate(result.lrs):
        values = [result.initial_loss] + [min(v, top) for v in result.curves[lr]]
        _draw(loss_ax, n, k, range(len(values)), values, labels[lr])
    loss_ax.set_yscale("log")
    loss_ax.set_ylim(top=top)
    loss_ax.set_title("training loss by learning rate")
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("loss")
    loss_ax.grid(True, alpha=0.3)
    loss_ax.legend()
    _plot_fits(data_ax, result, labels)
    return _save(fig, path)


def _finite(a: Optional[np.ndarray]) -> bool:
    return a is not None and bool(np.isfinite(a).all())


def _fit(result: Any, lr: float, on_grid: bool) -> Optional[np.ndarray]:
    """A run's predictions (on the grid or the data), None for a diverged run or non-finite ones."""
    p = (result.grid_predictions if on_grid else result.predictions).get(lr)
    return p if result.diverged[lr] is None and _finite(p) else None


def _plot_fits(ax: Axes, result: Any, labels: Mapping[float, str]) -> None:
    """The data and what each run of ``result`` learned, on ``ax``."""
    X, y, grid = result.X, result.y, result.grid
    if X is None or y is None:
        ax.set_visible(False)
        return
    classes = result.loss in ("cross_entropy", "binary_cross_entropy")
    k = len(result.lrs)
    styles = [STYLES[n % len(STYLES)][0] for n in range(k)]
    if grid is not None and X.shape[1] == 1 and not classes and (y.ndim == 1 or y.shape[1] == 1):
        values = np.asarray(y, dtype=np.float64).reshape(-1)
        ax.scatter(X[:, 0], values, s=12, color="0.45", label="data")
        for n, lr in enumerate(result.lrs):
            fit = _fit(result, lr, True)
            if fit is not None:
                ax.plot(grid[:, 0], fit[:, 0], linestyle=styles[n], linewidth=2, label=labels[lr])
            else:
                ax.plot([], [], linestyle=styles[n], label=labels[lr] + ": no fit")
        low, high = float(values.min()), float(values.max())
        margin = 0.25 * (high - low if high > low else 1.0)
        ax.set_ylim(low - margin, high + margin)  # a wild fit must not squash the data
        ax.set_title("the data and the fitted curves")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    elif grid is not None and X.shape[1] == 2 and classes:
        labels_y = _labels(result)
        for c in np.unique(labels_y):
            mask = labels_y == c
            ax.scatter(X[mask, 0], X[mask, 1], s=12, label="class %d" % c)
        side = int(round(math.sqrt(grid.shape[0])))
        U, V = grid[:, 0].reshape(side, side), grid[:, 1].reshape(side, side)
        for n, lr in enumerate(result.lrs):
            p = _fit(result, lr, True)
            color = "C%d" % (n + 2)
            if p is not None:
                level = (p[:, 0] if p.shape[1] == 1 else np.argmax(p, axis=1)).reshape(side, side)
                levels = [0.5] if p.shape[1] == 1 else [c + 0.5 for c in range(p.shape[1] - 1)]
                if np.ptp(level) > 0:
                    ax.contour(U, V, level, levels=levels, colors=[color], linestyles=[styles[n]], linewidths=2)
            ax.plot([], [], color=color, linestyle=styles[n], label=labels[lr] + ("" if p is not None else ": no fit"))
        ax.set_title("the data and each run's decision boundary")
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
    elif classes:
        labels_y = _labels(result)
        accuracy = []
        for lr in result.lrs:
            p = _fit(result, lr, False)
            if p is None:
                accuracy.append(0.0)
            else:
                guess = (p[:, 0] > 0.5).astype(int) if p.shape[1] == 1 else np.argmax(p, axis=1)
                accuracy.append(float(np.mean(guess == labels_y)))
        ax.bar(range(k), accuracy, color=["C%d" % n for n in range(k)])
        ax.set_xticks(range(k), [labels[lr] for lr in result.lrs], rotation=20)
        ax.set_ylim(0, 1)
        ax.set_title("accuracy on the training data")
        return
    else:
        targets = np.asarray(y, dtype=np.float64).reshape(len(X), -1)[:, 0]
        low, high = float(targets.min()), float(targets.max())
        ax.plot([low, high], [low, high], color="0.6", linewidth=1, label="prediction = target")
        for n, lr in enumerate(result.lrs):
            p = _fit(result, lr, False)
            marker = STYLES[n % len(STYLES)][1]
            if p is not None:
                ax.scatter(targets, p[:, 0], s=14, marker=marker, label=labels[lr])
            else:
                ax.scatter([], [], marker=marker, label=labels[lr] + ": no fit")
        ax.set_title("predictions against the targets")
        ax.set_xlabel("target")
        ax.set_ylabel("prediction")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")


def _labels(result: Any) -> np.ndarray:
    """The class of each row of a classification sweep's data."""
    y = np.asarray(result.y)
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1)
    return y.reshape(-1).astype(int)
