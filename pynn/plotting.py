"""Charts of training runs, drawn with matplotlib (optional: ``pip install pynn[plot]``).

Figures are made with matplotlib's Agg canvas directly (no pyplot, no
window, and the user's pyplot backend is left alone) and saved as PNG.

- :func:`plot_history` (also ``History.plot``): learning curves;
- :func:`plot_curves` and :func:`plot_panels`: named curves on one chart or
  several side by side (used by :mod:`pynn.lessons`).
"""
from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional, Sequence, Tuple, Type, Union

from ._typing import PathLike

if TYPE_CHECKING:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

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


def plot_panels(panels: Sequence[Mapping[str, Any]], path: Optional[PathLike] = None, xlabel: str = "epoch",
                first_x: int = 1) -> Figure:
    """Several charts side by side: ``panels`` is a list of dicts with the
    arguments of :func:`plot_curves` ("curves", and optional "title",
    "ylabel", "log_y", "y_max").  Saves a PNG at ``path`` when given and
    returns the matplotlib Figure."""
    fig = _figure(len(panels), width=6.0 if len(panels) == 1 else 5.0, height=4.2)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, panel in zip(axes, panels):
        for label, values in panel["curves"].items():
            points = [(first_x + i, v) for i, v in enumerate(values) if math.isfinite(v)]
            if points:
                xs, ys = zip(*points)
                ax.plot(xs, ys, label=str(label))
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
