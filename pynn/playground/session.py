"""The playground's training state: one data set, one network, its steps.

A :class:`Session` holds the chosen 2-D data set, the network built from a
validated configuration (:func:`check_config`), the order of its batches and
the loss curve.  Every method takes the session's lock, so the HTTP threads
never see a network half-way through a step.  Nothing trains in the
background: the page asks for steps (``step(n)``), so training stops when
the page is closed or paused.

A *step* is one ``net.train_step`` on one batch.  Batches follow a seeded
permutation of the rows, drawn afresh each epoch; the next batch is known
before the step is made, so :meth:`Session.explain` can show the chain rule
of exactly the step that ``step(1)`` will make next (on a deep copy: looking
does not train).

Data sets are pynn's generated ones (:func:`pynn.lessons.xor_data`,
:func:`pynn.datasets.spirals`), two more made here (``circle``, ``blobs``),
and CSV files named on the command line (:func:`load_csv`).  Two classes
train a sigmoid output with binary cross-entropy, more a softmax output
with cross-entropy.  Everything runs in float64, so both backends show the
same digits.
"""
from __future__ import annotations

import base64
import copy
import csv
import functools
import math
import os
import threading
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .. import activations
from .. import init as init_module
from ..datasets import spirals
from ..explain import explain_step
from ..layers import Dense
from ..lessons import lr_sweep, xor_data
from ..network import Network
from ..optimizers import SGD, Adam, RMSprop

__all__ = ["ConfigError", "DataSet", "Session", "check_config", "builtin_datasets", "load_csv",
           "LIMITS", "PRESETS"]

Array = np.ndarray

#: bounds on what a request may ask for, so that no request can exhaust memory or CPU
LIMITS: Dict[str, Any] = {
    "max_hidden_layers": 4,
    "max_units": 8,
    "lr": (1e-5, 10.0),
    "max_batch_size": 256,
    "max_steps_per_request": 500,
    "max_seed": 2 ** 31 - 1,
    "max_csv_rows": 5000,
    "max_csv_bytes": 20 * 1024 * 1024,
    "max_classes": 6,
    "grid": 40,            # the decision map and the neuron maps: grid × grid points
    "max_history": 600,    # loss-curve points kept (older ones thinned)
    "max_terms_shown": 40,  # chain-rule terms (samples) sent for one weight
}

ACTIVATIONS = ("tanh", "relu", "sigmoid", "leaky_relu", "gelu", "linear")
OPTIMIZERS = ("sgd", "momentum", "adam", "rmsprop")
INITS: Dict[str, Any] = {
    "random": None,  # Dense's default: Xavier/Glorot uniform (He uniform for the relu family)
    "zeros": "zeros",
    "constant": functools.partial(init_module.constant, value=0.5),
    "xavier_uniform": "xavier_uniform",
    "xavier_normal": "xavier_normal",
    "he_uniform": "he_uniform",
    "he_normal": "he_normal",
}


class ConfigError(ValueError):
    """A configuration or request the playground refuses; the message says why."""


@dataclass
class DataSet:
    """A 2-D classification data set: ``X`` (N, 2) float64, ``y`` (N,) int labels from 0."""
    key: str
    title: str
    X: Array
    y: Array
    classes: List[str]
    features: Tuple[str, str] = ("x1", "x2")
    note: str = ""

    @property
    def n_classes(self) -> int:
        return len(self.classes)


def _circle(n: int = 200, seed: int = 0) -> Tuple[Array, Array]:
    """A disc of one class inside a ring of the other (radius < 0.5 and 0.8 to 1.2, noise 0.1)."""
    rng = np.random.default_rng(seed)
    half = n // 2
    r = np.concatenate([rng.uniform(0.0, 0.5, half), rng.uniform(0.8, 1.2, n - half)])
    t = rng.uniform(0.0, 2 * np.pi, n)
    X = np.column_stack([r * np.cos(t), r * np.sin(t)]) + 0.1 * rng.normal(size=(n, 2))
    return X, np.repeat([0, 1], [half, n - half])


def _blobs(n: int = 200, seed: int = 0) -> Tuple[Array, Array]:
    """Two Gaussian clouds around (−0.7, −0.7) and (0.7, 0.7), sd 0.4: one straight line separates them."""
    rng = np.random.default_rng(seed)
    half = n // 2
    X = np.concatenate([rng.normal(-0.7, 0.4, (half, 2)), rng.normal(0.7, 0.4, (n - half, 2))])
    return X, np.repeat([0, 1], [half, n - half])


def builtin_datasets() -> Dict[str, DataSet]:
    """The generated data sets by key, each seeded (the same points every time)."""
    sets = []
    X, y = _blobs()
    sets.append(DataSet("blobs", "two blobs", X, y, ["0", "1"],
                    note="a straight line separates the classes"))
    X, y = xor_data()
    sets.append(DataSet("xor", "XOR", X, np.asarray(y, dtype=np.int64), ["0", "1"],
                    note="pynn.lessons.xor_data: no straight line separates the classes"))
    X, y = _circle()
    sets.append(DataSet("circle", "circle in a ring", X, y, ["0", "1"]))
    X, y = spirals(n_per_class=100, n_classes=2, noise=0.2)
    sets.append(DataSet("spirals-2", "two spirals", X, y, ["0", "1"], note="pynn.datasets.spirals"))
    X, y = spirals(n_per_class=100, n_classes=3, noise=0.2)
    sets.append(DataSet("spirals-3", "three spirals", X, y, ["0", "1", "2"], note="pynn.datasets.spirals"))
    return {s.key: s for s in sets}


def load_csv(path: str, key: str) -> DataSet:
    """Read a classification CSV: a header row, the first two columns numeric features, the last
    column the class (any text; sorted).  The features are standardised (mean 0, sd 1) for
    training and drawing.  Raises ValueError naming the file and the problem."""
    name = os.path.basename(path)
    size = os.path.getsize(path)
    if size > LIMITS["max_csv_bytes"]:
        raise ValueError("%s: %d bytes; the playground reads CSV files up to %d bytes"
                         % (path, size, LIMITS["max_csv_bytes"]))
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = [r for r in csv.reader(f) if any(cell.strip() for cell in r)]
    if len(rows) < 3:
        raise ValueError("%s: needs a header row and at least two data rows" % path)
    header, body = [c.strip() for c in rows[0]], rows[1:]
    if len(header) < 3:
        raise ValueError("%s: needs at least three columns (two features, then the class last); got %d"
                         % (path, len(header)))
    if len(body) > LIMITS["max_csv_rows"]:
        raise ValueError("%s: %d rows; the playground takes up to %d" % (path, len(body), LIMITS["max_csv_rows"]))
    X = np.empty((len(body), 2))
    labels = []
    for i, row in enumerate(body):
        if len(row) != len(header):
            raise ValueError("%s, data row %d: %d fields, but the header has %d" % (path, i + 1, len(row), len(header)))
        for j in range(2):
            try:
                X[i, j] = float(row[j])
            except ValueError:
                raise ValueError("%s, data row %d: column %r must be a number, got %r"
                                 % (path, i + 1, header[j], row[j])) from None
        labels.append(row[-1].strip())
    if not np.all(np.isfinite(X)):
        raise ValueError("%s: the feature columns must hold finite numbers" % path)
    classes = sorted(set(labels))
    try:  # numeric classes in numeric order
        classes = sorted(classes, key=float)
    except ValueError:
        pass
    if not 2 <= len(classes) <= LIMITS["max_classes"]:
        raise ValueError("%s: the last column (%r) must hold 2 to %d classes; it has %d"
                         % (path, header[-1], LIMITS["max_classes"], len(classes)))
    index = {c: k for k, c in enumerate(classes)}
    y = np.array([index[c] for c in labels], dtype=np.int64)
    sd = X.std(axis=0)
    X = (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    return DataSet(key, name, X, y, classes, (header[0], header[1]),
                   note="features standardised (mean 0, standard deviation 1)")


# ---- configuration ---------------------------------------------------------------------------

DEFAULT_CONFIG: Dict[str, Any] = {
    "dataset": "xor", "hidden": [4, 4], "activation": "tanh", "init": "random",
    "lr": 0.1, "optimizer": "sgd", "batch_size": 10, "seed": 0,
}


def _int(value: object, name: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError("%s must be an integer, got %r" % (name, value))
    if not lo <= value <= hi:
        raise ConfigError("%s must be between %d and %d, got %d" % (name, lo, hi, value))
    return value


def _choice(value: object, name: str, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ConfigError("%s must be one of %s, got %r" % (name, ", ".join(choices), value))
    return value


def check_config(raw: object, datasets: Dict[str, DataSet]) -> Dict[str, Any]:
    """A complete, checked configuration from ``raw`` (a dict from the page; keys left out keep
    their defaults).  Raises ConfigError naming the first bad field."""
    if not isinstance(raw, dict):
        raise ConfigError("the configuration must be a JSON object")
    unknown = sorted(set(raw) - set(DEFAULT_CONFIG))
    if unknown:
        raise ConfigError("unknown configuration field(s): %s" % ", ".join(unknown))
    config = dict(DEFAULT_CONFIG, **raw)
    out: Dict[str, Any] = {}
    out["dataset"] = _choice(config["dataset"], "dataset", list(datasets))
    hidden = config["hidden"]
    if not isinstance(hidden, list) or len(hidden) > LIMITS["max_hidden_layers"]:
        raise ConfigError("hidden must be a list of at most %d layer sizes" % LIMITS["max_hidden_layers"])
    out["hidden"] = [_int(h, "hidden[%d]" % i, 1, LIMITS["max_units"]) for i, h in enumerate(hidden)]
    out["activation"] = _choice(config["activation"], "activation", ACTIVATIONS)
    out["init"] = _choice(config["init"], "init", list(INITS))
    lr = config["lr"]
    lo, hi = LIMITS["lr"]
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or not lo <= lr <= hi:
        raise ConfigError("lr must be a number between %g and %g, got %r" % (lo, hi, lr))
    out["lr"] = float(lr)
    out["optimizer"] = _choice(config["optimizer"], "optimizer", OPTIMIZERS)
    out["batch_size"] = _int(config["batch_size"], "batch_size", 1, LIMITS["max_batch_size"])
    out["seed"] = _int(config["seed"], "seed", 0, LIMITS["max_seed"])
    return out


def _optimizer(name: str, lr: float) -> Any:
    if name == "sgd":
        return SGD(lr=lr)
    if name == "momentum":
        return SGD(lr=lr, momentum=0.9)
    if name == "adam":
        return Adam(lr=lr)
    return RMSprop(lr=lr)


def build_network(config: Dict[str, Any], data: DataSet) -> Network:
    """The network a checked configuration describes, for ``data``: 2 inputs, the hidden layers,
    then one sigmoid output (two classes, binary cross-entropy) or a softmax (cross-entropy)."""
    init = INITS[config["init"]]
    kw = {} if init is None else {"init": init}
    layers, n_in = [], 2
    for units in config["hidden"]:
        layers.append(Dense(n_in, units, config["activation"], **kw))
        n_in = units
    if data.n_classes == 2:
        layers.append(Dense(n_in, 1, "sigmoid", **kw))
        loss = "binary_cross_entropy"
    else:
        layers.append(Dense(n_in, data.n_classes, "softmax", **kw))
        loss = "cross_entropy"
    return Network(layers, loss=loss, optimizer=_optimizer(config["optimizer"], config["lr"]),
                   dtype="float64", seed=config["seed"])


# ---- presets ---------------------------------------------------------------------------------

PRESETS: Dict[str, Dict[str, Any]] = {
    "symmetry": {
        "title": "Symmetry: equal start",
        "config": {"dataset": "xor", "hidden": [4], "activation": "tanh", "init": "constant", "lr": 0.5,
                   "optimizer": "sgd", "batch_size": 20, "seed": 0},
        "note": "Every weight starts at 0.5, so the four hidden neurons compute the same sum, get the same "
                "gradient and stay identical for ever: their maps look alike and the network does no better "
                "than one neuron (XOR needs two). Press Start, then try the preset with random weights.",
    },
    "symmetry-random": {
        "title": "Symmetry broken: random start",
        "config": {"dataset": "xor", "hidden": [4], "activation": "tanh", "init": "random", "lr": 0.5,
                   "optimizer": "sgd", "batch_size": 20, "seed": 0},
        "note": "The same network with random starting weights (Xavier uniform): the hidden neurons differ "
                "from the start, learn different features and together solve XOR.",
    },
    "lr-sweep": {
        "title": "Learning-rate sweep",
        "config": {"hidden": [8], "activation": "tanh", "init": "random", "optimizer": "sgd",
                   "batch_size": 20, "seed": 0},
        "lrs": [0.01, 0.1, 1.0, 10.0],
        "epochs": 50,
        "note": "The same network (same seed: the same start and batches) trained for 50 epochs at four "
                "learning rates on this data set (pynn.lessons.lr_sweep). Too small a rate barely moves the "
                "loss, too large a one jumps around or blows up. The live network now uses the best rate; "
                "pick another in the list to watch it train.",
    },
}


# ---- the session -----------------------------------------------------------------------------

def _quantize(values: Array, lo: float, hi: float) -> str:
    """Values as one byte each (0 at lo, 255 at hi), base64: compact maps for the page."""
    span = hi - lo if hi > lo else 1.0
    q = np.clip(np.round((values - lo) / span * 255.0), 0, 255).astype(np.uint8)
    return base64.b64encode(q.tobytes()).decode("ascii")


def _finite(x: float) -> Optional[float]:
    return x if math.isfinite(x) else None


class Session:
    """One data set and one network under a lock; see the module's documentation."""

    def __init__(self, datasets: Dict[str, DataSet], config: Optional[Dict[str, Any]] = None) -> None:
        if not datasets:
            raise ValueError("datasets must hold at least one data set")
        self.datasets = datasets
        self.lock = threading.RLock()
        raw = dict(config or {})
        if "dataset" not in raw and DEFAULT_CONFIG["dataset"] not in datasets:
            raw["dataset"] = next(iter(datasets))
        self.comparison: Optional[Dict[str, Any]] = None
        self.note = ""
        self.configure(raw)

    # -- set-up ---------------------------------------------------------------------------
    def configure(self, raw: object, keep_comparison: bool = False) -> Dict[str, Any]:
        """Check ``raw`` and start a fresh network with it; returns the state."""
        config = check_config(raw, self.datasets)
        with self.lock:
            self.config = config
            self.data = self.datasets[config["dataset"]]
            self.net = build_network(config, self.data)
            self.activations = [config["activation"]] * len(config["hidden"]) + [
                "sigmoid" if self.data.n_classes == 2 else "softmax"]
            self.rng = np.random.default_rng(config["seed"])
            self.order = self.rng.permutation(len(self.data.X))
            self.pos = 0
            self.steps = 0
            self.rows_seen = 0
            self.diverged = False
            if not keep_comparison:
                self.comparison = None
                self.note = ""
            self.history: List[Tuple[float, Optional[float]]] = []
            self._record()
            return self.state()

    def reset(self) -> Dict[str, Any]:
        """The same configuration from its seeded start."""
        with self.lock:
            return self.configure(self.config, keep_comparison=True)

    def preset(self, name: object) -> Dict[str, Any]:
        """Apply a one-click lesson (see PRESETS); the learning-rate sweep also runs its sweep."""
        if not isinstance(name, str) or name not in PRESETS:
            raise ConfigError("preset must be one of %s, got %r" % (", ".join(PRESETS), name))
        spec = PRESETS[name]
        with self.lock:
            raw = dict(spec["config"])
            if "dataset" in raw and raw["dataset"] not in self.datasets:
                raw["dataset"] = self.config["dataset"]
            raw.setdefault("dataset", self.config["dataset"])
            comparison = None
            if name == "lr-sweep":
                comparison = self._sweep(raw, spec["lrs"], spec["epochs"])
                raw["lr"] = comparison["best_lr"]
            self.configure(raw)
            self.comparison, self.note = comparison, spec["note"]
            return self.state()

    def _sweep(self, raw: Dict[str, Any], lrs: List[float], epochs: int) -> Dict[str, Any]:
        data = self.datasets[raw["dataset"]]
        loss = "binary_cross_entropy" if data.n_classes == 2 else "cross_entropy"
        with np.errstate(all="ignore"):
            sweep = lr_sweep(lrs=lrs, epochs=epochs, X=data.X, y=data.y, hidden=raw["hidden"][0], loss=loss,
                             batch_size=raw["batch_size"], seed=raw["seed"])
        curves = []
        for lr in sweep.lrs:
            values = [sweep.initial_loss] + list(sweep.curves[lr])
            curves.append({"lr": lr, "loss": [_finite(v) for v in values], "verdict": sweep.verdict(lr),
                           "diverged": sweep.diverged[lr]})
        return {"kind": "lr-sweep", "epochs": epochs, "curves": curves, "best_lr": sweep.best_lr}

    # -- training -------------------------------------------------------------------------
    def next_batch(self) -> Array:
        """The row indices of the batch the next step trains on."""
        with self.lock:
            return self.order[self.pos:self.pos + self.config["batch_size"]]

    def _advance(self) -> None:
        self.pos += self.config["batch_size"]
        if self.pos >= len(self.order):
            self.order = self.rng.permutation(len(self.data.X))
            self.pos = 0

    def step(self, count: object = 1) -> Dict[str, Any]:
        """Make ``count`` training steps (1 to LIMITS["max_steps_per_request"]); returns the state.
        Training stops early once the loss is not finite (diverged)."""
        n = _int(count, "steps", 1, LIMITS["max_steps_per_request"])
        with self.lock:
            with np.errstate(all="ignore"):  # overflow on the way to inf is a lesson, not an error
                for _ in range(n):
                    if self.diverged:
                        break
                    idx = self.next_batch()
                    loss = self.net.train_step(self.data.X[idx], self.data.y[idx])
                    self._advance()
                    self.steps += 1
                    self.rows_seen += len(idx)
                    if not math.isfinite(loss):
                        self.diverged = True
            self._record()
            return self.state()

    @property
    def epoch(self) -> float:
        """Steps made, in epochs (passes over the data): the rows trained on / the rows."""
        return self.rows_seen / len(self.data.X)

    def evaluate(self) -> Dict[str, float]:
        """The current network's loss and accuracy on the whole data set (what the page shows)."""
        with self.lock, np.errstate(all="ignore"):
            scores = self.net.evaluate(self.data.X, self.data.y)
            return {k: float(v) for k, v in scores.items()}

    def _record(self) -> None:
        scores = self.evaluate()
        self.scores = scores
        if not math.isfinite(scores["loss"]):
            self.diverged = True
        self.history.append((self.epoch, _finite(scores["loss"])))
        if len(self.history) > LIMITS["max_history"]:  # thin the older half
            half = len(self.history) // 2
            self.history = self.history[:half:2] + self.history[half:]

    # -- what the page draws --------------------------------------------------------------
    def grid(self) -> Tuple[Array, List[float]]:
        """The grid's points (G·G, 2), row by row from the top (x2 high) and left, and its bounds
        [x1 min, x1 max, x2 min, x2 max]: the data's range and a tenth more on each side."""
        G = LIMITS["grid"]
        X = self.data.X
        lo, hi = X.min(axis=0), X.max(axis=0)
        pad = 0.1 * np.maximum(hi - lo, 1e-9)
        lo, hi = lo - pad, hi + pad
        xs = np.linspace(lo[0], hi[0], G)
        ys = np.linspace(hi[1], lo[1], G)
        gx, gy = np.meshgrid(xs, ys)
        return np.column_stack([gx.ravel(), gy.ravel()]), [float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])]

    def _maps(self) -> Dict[str, Any]:
        points, bounds = self.grid()
        with np.errstate(all="ignore"):
            probs = np.nan_to_num(self.net.predict(points), nan=0.5)
            if probs.shape[1] == 1:  # sigmoid output: p(class 1)
                probs = np.column_stack([1.0 - probs[:, 0], probs[:, 0]])
            decision = [_quantize(probs[:, k], 0.0, 1.0) for k in range(probs.shape[1])]
            # every neuron's output over the grid: the layers' forward pass in numpy
            weights = self.net.get_weights()
            layers: List[List[Dict[str, Any]]] = [[]]
            a = points
            for j in range(2):
                v = a[:, j]
                layers[0].append({"lo": float(v.min()), "hi": float(v.max()), "map": _quantize(v, v.min(), v.max())})
            for l, act in enumerate(self.activations[:-1]):
                a = activations.forward(act, a @ weights[2 * l] + weights[2 * l + 1])
                a = np.nan_to_num(a, nan=0.0, posinf=1e300, neginf=-1e300)
                neurons = []
                for j in range(a.shape[1]):
                    v = a[:, j]
                    lo, hi = float(v.min()), float(v.max())
                    neurons.append({"lo": lo, "hi": hi, "map": _quantize(v, lo, hi)})
                layers.append(neurons)
        return {"size": LIMITS["grid"], "bounds": bounds, "decision": decision, "neurons": layers}

    def _distinct(self) -> List[int]:
        """How many different neurons each hidden layer has (equal incoming weights and bias)."""
        weights = self.net.get_weights()
        out = []
        for l in range(len(self.net.layers) - 1):
            incoming = np.vstack([weights[2 * l], weights[2 * l + 1]])
            out.append(len({tuple(col) for col in incoming.T.tolist()}))
        return out

    def state(self) -> Dict[str, Any]:
        """Everything the page draws, as JSON-ready data."""
        with self.lock:
            weights = self.net.get_weights()
            return {
                "config": self.config,
                "datasets": [{"key": d.key, "title": d.title} for d in self.datasets.values()],
                "data": {"key": self.data.key, "title": self.data.title, "features": list(self.data.features),
                         "classes": self.data.classes, "note": self.data.note,
                         "X": np.round(self.data.X, 4).tolist(), "y": self.data.y.tolist()},
                "network": {
                    "sizes": [2] + [int(w.shape[0]) for w in weights[1::2]],
                    "activations": list(self.activations),
                    "loss": self.net.loss if isinstance(self.net.loss, str) else str(self.net.loss),
                    "optimizer": repr(self.net.optimizer),
                    "weights": [[_finite_list(W), _finite_list(b)] for W, b in zip(weights[::2], weights[1::2])],
                    "distinct": self._distinct(),
                },
                "backend": _backend_name(),
                "steps": self.steps,
                "epoch": self.epoch,
                "loss": _finite(self.scores["loss"]),
                "accuracy": _finite(self.scores.get("accuracy", math.nan)),
                "diverged": self.diverged,
                "history": [[e, v] for e, v in self.history],
                "next_batch": self.next_batch().tolist(),
                "maps": self._maps(),
                "comparison": self.comparison,
                "note": self.note,
                "limits": {k: LIMITS[k] for k in ("max_hidden_layers", "max_units", "lr", "max_batch_size",
                                                   "max_steps_per_request")},
                "choices": {"activation": list(ACTIVATIONS), "optimizer": list(OPTIMIZERS), "init": list(INITS),
                            "presets": [{"key": k, "title": v["title"]} for k, v in PRESETS.items()]},
            }

    # -- the chain rule of the next step ----------------------------------------------------
    def explain(self, index: object) -> Dict[str, Any]:
        """The chain rule of parameter number ``index`` (counting through ``get_weights()``
        flattened: W1 row by row, b1, W2, ...) for the step that ``step(1)`` makes next, from
        :func:`pynn.explain_step` on a deep copy of the network (this network is not changed)."""
        with self.lock:
            n_params = sum(w.size for w in self.net.get_weights())
            i = _int(index, "weight", 0, n_params - 1)
            idx = self.next_batch()
            Xb, yb = self.data.X[idx], self.data.y[idx]
            shadow = copy.deepcopy(self.net)
            with np.errstate(all="ignore"):
                expl = explain_step(shadow, Xb, yb)
                backend = np.concatenate([g.ravel() for g in self.net.gradients(Xb, yb)])
            row = expl.weights[i]
            shown = row.terms[:LIMITS["max_terms_shown"]]
            return {
                "index": i,
                "name": row.name,
                "layer": _layer_of(self.net, i),
                "source": row.source,
                "unit": row.unit,
                "is_bias": row.source is None,
                "old": row.old,
                "grad": row.grad,
                "new": row.new,
                "lr": row.lr,
                "plain_sgd": expl.plain_sgd,
                "optimizer": expl.optimizer,
                "loss_name": expl.loss_name,
                "loss": expl.loss,
                "step": self.steps + 1,
                "batch": [int(r) for r in idx],
                "n_terms": len(row.terms),
                "terms": [{"row": int(idx[t.sample]), "dE_dout": t.dE_dout, "dout_dnet": t.dout_dnet,
                           "delta": t.delta, "dnet_dw": t.dnet_dw, "product": t.product} for t in shown],
                "backend_grad": float(backend[i]),
                "backend": _backend_name(),
            }


    def step_page(self, sample: object = 0) -> str:
        """The next step drawn whole -- every neuron and weight, the forward pass of batch point
        ``sample`` (from 0, its place in the batch) -- as a self-contained HTML page, by
        :mod:`pynn.explain_html` (what ``Explanation.to_html`` writes), from explain_step on a
        deep copy of the network."""
        from ..explain_html import explanation_json, render_page
        with self.lock:
            idx = self.next_batch()
            k = _int(sample, "sample", 0, len(idx) - 1)
            shadow = copy.deepcopy(self.net)
            with np.errstate(all="ignore"):
                expl = explain_step(shadow, self.data.X[idx], self.data.y[idx])
            title = "pynn playground: step %d, drawn for point #%d of its batch of %d" % (
                self.steps + 1, int(idx[k]), len(idx))
            return render_page(explanation_json(expl, k), title=title)


def _layer_of(net: Network, index: int) -> int:
    """The layer (from 0, as net.layers) of flattened parameter ``index``."""
    start = 0
    for l, w in enumerate(net.get_weights()):
        if index < start + w.size:
            return l // 2
        start += w.size
    raise IndexError(index)


def _finite_list(a: Array) -> Any:
    return np.where(np.isfinite(a), a, 0.0).tolist()


def _backend_name() -> str:
    from ..backends import backend
    return backend()

