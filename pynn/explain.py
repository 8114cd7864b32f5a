"""One training step, shown so that a learner can check it by hand.

:func:`explain_step` (also ``net.explain_step(X, y)``) recomputes a training
step of a network with the chain rule in plain numpy float64, row by row:

1. the forward pass: every neuron's weighted sum ``net = Σ_i in_i · W[i, j] + b[j]``
   and its output ``out = act(net)``;
2. the loss E;
3. the backward pass: for every neuron ``δ = ∂E/∂net = ∂E/∂out · ∂out/∂net``,
   where ∂E/∂out of an output neuron comes from the loss and that of a
   hidden neuron is the sum over the paths to the next layer,
   ``∂E/∂out_j = Σ_k δ_k · W[j, k]``;
4. for every weight ``∂E/∂w = ∂E/∂out · ∂out/∂net · ∂net/∂w`` (∂net/∂w is the
   input the weight multiplies, 1 for a bias), summed over the samples of the
   batch, and its update: ``w ← w − lr · ∂E/∂w`` for plain SGD.

It then **performs the step**, exactly like ``net.train_step(X, y)``: the
network's weights (and optimizer state) change.  Copy the network first
(``copy.deepcopy(net)``) to look without touching.

The result is an :class:`Explanation`: lists of dataclass rows
(:class:`NeuronRow`, :class:`WeightRow`) that code can check,
``to_text()`` / ``str()`` for the tables (``to_text(layer=, neuron=,
sample=, updates_only=)`` for parts of them, lines within 100 characters),
``to_dict()`` for JSON-ready data and ``to_html(path)`` for a page with the
network drawn (:mod:`pynn.explain_html`).  Numbering: layer 0 is the inputs,
layer l (from 1) the l-th Dense layer (``W2`` is ``net.layers[1].W`` without
Dropout layers; the header says which), units and samples count from 0; N
samples of K outputs each.  The computation does not use the
backends (they run fused kernels); the tests hold it to ``net.gradients`` and
to the hand-worked 2-2-2 network.

With Dropout layers, the masks are those of this step (the same the backend
draws, see :mod:`pynn.dropout`): the next layer sees ``out · m`` with ``m`` =
0 for a dropped neuron and 1/(1 − p) for a kept one, and by the chain rule
``∂E/∂out = m · Σ_k δ_k · W[j, k]``.  A dropped input or neuron has
``∂net/∂w = 0`` for the weights it feeds.

For the two cross-entropies the output layer's δ is computed in one piece
(∂E/∂net = (p − y)/(N·K) for binary cross-entropy, (p − y)/N for softmax
and cross-entropy, with N samples of K outputs, see :mod:`pynn.losses`); their ∂E/∂out and ∂out/∂net are
then None.  With plain SGD each row's new value is ``old − lr·grad`` computed
in float64 (the network stores it rounded to its dtype); with any other
optimizer (momentum, weight decay, Adam, ...) the rows show the gradient and
the new value the optimizer actually produced.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from . import activations, dropout
from ._typing import ArrayLike, Float64Array, PathLike
from .layers import dense_positions
from .optimizers import SGD

if TYPE_CHECKING:
    from .network import Network

__all__ = ["Explanation", "MAZUR_NAMES", "NeuronRow", "Path", "Term", "WeightRow", "explain_step"]

# ∂out/∂net of each activation, from net (z) and out (a), and how to say it
_DERIVATIVES: Dict[str, Tuple[Callable[[Float64Array, Float64Array], Float64Array], str]] = {
    "linear": (lambda z, a: np.ones_like(z), "1"),
    "sigmoid": (lambda z, a: a * (1 - a), "out·(1 − out)"),
    "tanh": (lambda z, a: 1 - a * a, "1 − out²"),
    "relu": (lambda z, a: (z > 0).astype(np.float64), "1 if net > 0 else 0"),
    "leaky_relu": (lambda z, a: np.where(z > 0, 1.0, activations.LEAKY_SLOPE), "1 if net > 0 else 0.01"),
    "gelu": (lambda z, a: 0.5 * (1 + activations.erf(z / np.sqrt(2.0))) + z * np.exp(-0.5 * z * z)
             / np.sqrt(2 * np.pi), "Φ(net) + net·φ(net)"),
}

@dataclass(frozen=True)
class Path:
    """One path from a hidden neuron j to neuron k of the next layer: it
    contributes ``delta · weight`` (δ_k · W[j, k]) to ∂E/∂out_j."""
    unit: int
    delta: float
    weight: float

    @property
    def product(self) -> float:
        return self.delta * self.weight


@dataclass(frozen=True)
class NeuronRow:
    """Neuron ``unit`` (from 0) of layer ``layer`` (from 1) on one sample."""
    sample: int
    layer: int
    unit: int
    activation: str
    net: float                  # the weighted sum Σ in·w + b
    out: float                  # act(net)
    dE_dout: Optional[float]    # None for a cross-entropy output (δ computed in one piece)
    dout_dnet: Optional[float]
    delta: float                # ∂E/∂net
    paths: Tuple[Path, ...] = ()  # hidden neurons: ∂E/∂out = mask · Σ path.delta · path.weight
    mask: Optional[float] = None  # with dropout after the layer: 0 (dropped) or 1/(1 − p) (kept)


@dataclass(frozen=True)
class Term:
    """One sample's share of a weight's gradient: ``delta · dnet_dw``, where
    ``delta = dE_dout · dout_dnet``."""
    sample: int
    dE_dout: Optional[float]
    dout_dnet: Optional[float]
    delta: float
    dnet_dw: float

    @property
    def product(self) -> float:
        return self.delta * self.dnet_dw


@dataclass(frozen=True)
class WeightRow:
    """One weight ``W{layer}[source, unit]`` or bias ``b{layer}[unit]`` (source None)."""
    layer: int
    name: str
    source: Optional[int]
    unit: int
    old: float
    terms: Tuple[Term, ...]     # one per sample; grad is the sum of their products
    grad: float                 # ∂E/∂w
    lr: float
    new: float                  # plain SGD: old − lr·grad; otherwise what the optimizer produced

    @property
    def update(self) -> float:
        return self.new - self.old

    def _single(self, field: str) -> Optional[float]:
        if len(self.terms) != 1:
            raise ValueError("%s has one term per sample (%d samples): read .terms"
                             % (self.name, len(self.terms)))
        return getattr(self.terms[0], field)

    @property
    def dE_dout(self) -> Optional[float]:
        """∂E/∂out of the neuron this weight feeds (one-sample steps)."""
        return self._single("dE_dout")

    @property
    def dout_dnet(self) -> Optional[float]:
        return self._single("dout_dnet")

    @property
    def dnet_dw(self) -> Optional[float]:
        return self._single("dnet_dw")


#: Matt Mazur's names for the weights of a 2-2-2 network ("A Step by Step Backpropagation Example"):
#: w1..w4 feed the hidden neurons h1, h2, w5..w8 the outputs o1, o2 (his one bias per layer, b1 and b2,
#: which he does not update, are pynn's b1[0] = b1[1] and b2[0] = b2[1], which pynn does update)
MAZUR_NAMES: Dict[str, str] = {"w1": "W1[0,0]", "w2": "W1[1,0]", "w3": "W1[0,1]", "w4": "W1[1,1]",
                               "w5": "W2[0,0]", "w6": "W2[1,0]", "w7": "W2[0,1]", "w8": "W2[1,1]"}

#: how wide ``to_text`` keeps its lines by default
TEXT_WIDTH = 100


@dataclass(eq=False)
class Explanation:
    """What :func:`explain_step` found: rows that code can check, and a table.

    Numbering (the same in the rows, the table and the page of :meth:`to_html`):
    layer 0 is the inputs and layer l (from 1) the l-th Dense layer, so
    ``sizes[l]`` is its width and ``Wl`` / ``bl`` its weights and biases,
    ``net.layers[positions[l - 1]].W`` in code (``net.layers[l - 1]`` when the
    network has no Dropout layers).  Units, inputs and samples count from 0,
    as numpy indices: ``W2[i,j]`` is ``net.layers[1].W[i, j]``, the weight from
    unit i of layer 1 to unit j of layer 2.  N is the number of samples, K the
    number of outputs of each.
    """
    sizes: Tuple[int, ...]
    activations: Tuple[str, ...]
    loss_name: str
    optimizer: str
    plain_sgd: bool
    lr: float
    inputs: Float64Array        # (N, n_in)
    targets: Float64Array       # (N, n_out) (one-hot for class labels)
    loss: float
    neurons: List[NeuronRow]    # by sample, then layer, then unit
    weights: List[WeightRow]    # layer by layer: W (row-major) then b
    input_mask: Optional[Float64Array] = None  # (N, n_in) with dropout on the inputs: 0 or 1/(1 − p)
    positions: Tuple[int, ...] = ()  # positions[l - 1]: the index in net.layers of Dense layer l

    @property
    def n_samples(self) -> int:
        """N, the number of samples of the step."""
        return int(self.inputs.shape[0])

    @property
    def n_layers(self) -> int:
        """The number of Dense layers (layer 0, the inputs, not counted)."""
        return len(self.sizes) - 1

    @property
    def mazur_names(self) -> Dict[str, str]:
        """{"w1": "W1[0,0]", ...}: Mazur's names for a 2-2-2 network's weights (empty for other sizes)."""
        return dict(MAZUR_NAMES) if self.sizes == (2, 2, 2) else {}

    def alias(self, name: str) -> Optional[str]:
        """Mazur's name ("w5") of the weight called ``name`` ("W2[0,0]") in a 2-2-2 network, else None."""
        for short, full in self.mazur_names.items():
            if full == name:
                return short
        return None

    def weight(self, name: str) -> WeightRow:
        """The WeightRow called ``name``, e.g. "W2[0,1]" or "b1[0]"; in a 2-2-2
        network also Mazur's names "w1" ... "w8" ("w5" is "W2[0,0]")."""
        name = self.mazur_names.get(name, name)
        for row in self.weights:
            if row.name == name:
                return row
        raise KeyError(name)

    def neuron(self, layer: int, unit: int, sample: int = 0) -> NeuronRow:
        """The NeuronRow of ``unit`` (from 0) in ``layer`` (from 1) for ``sample`` (from 0)."""
        for row in self.neurons:
            if (row.layer, row.unit, row.sample) == (layer, unit, sample):
                return row
        raise KeyError((layer, unit, sample))

    def gradients(self) -> List[Float64Array]:
        """The gradients as arrays in the order and shapes of ``net.get_weights()``."""
        out: List[Float64Array] = []
        for l in range(1, len(self.sizes)):
            W = np.zeros((self.sizes[l - 1], self.sizes[l]))
            b = np.zeros(self.sizes[l])
            for row in self.weights:
                if row.layer == l:
                    if row.source is None:
                        b[row.unit] = row.grad
                    else:
                        W[row.source, row.unit] = row.grad
            out += [W, b]
        return out

    def __str__(self) -> str:
        return self.to_text()

    def to_text(self, layer: Optional[int] = None, neuron: Optional[int] = None, sample: Optional[int] = None,
                updates_only: bool = False, names: str = "pynn", width: int = TEXT_WIDTH) -> str:
        """The step as tables (``str()`` gives them all), lines at most ``width``
        characters wide where a formula can be wrapped (a formula too long for
        its table's row goes on its own line below it).

        Show less: ``layer`` (from 1) only that layer's neurons and the weights
        into it; ``neuron`` (from 0, with ``layer``) only that unit and the
        weights into it; ``sample`` (from 0) only that sample's rows and terms
        (the loss and the gradients stay those of the whole batch);
        ``updates_only`` only the update table (old value, gradient, new
        value).  ``names="mazur"`` labels a 2-2-2 network's weights with the
        post's names too ("W2[0,0] w5").

        >>> import pynn
        >>> net = pynn.Network([pynn.Dense(1, 1, "sigmoid")], loss="mse", optimizer=pynn.SGD(lr=1.0),
        ...                    dtype="float64")
        >>> net.set_weights([[[0.0]], [0.0]])
        >>> print(net.explain_step([[2.0]], [[1.0]]).to_text(updates_only=True))   # doctest: +ELLIPSIS
        One training step of a 1-1 network (sigmoid), loss mse, in float64
        ...
        Update (SGD): w ← w − lr·∂E/∂w, lr = 1
          weight   old  ∂E/∂w  new
          W1[0,0]  0    −0.5   0.5
          b1[0]    0    −0.25  0.25
        """
        return _render(self, _Selection.check(self, layer, neuron, sample, names, width), updates_only)

    def to_dict(self, sample: int = 0) -> Dict[str, Any]:
        """The step as JSON-ready data (numbers as floats, formulas as text with
        this sample's numbers): what :func:`pynn.explain_html.explanation_json`
        returns and the page of :meth:`to_html` embeds."""
        return _as_dict(self, sample)

    def to_html(self, path: PathLike, title: Optional[str] = None, sample: int = 0) -> str:
        """Write the step as one self-contained HTML page to ``path`` (and
        return the path): the network drawn as neurons and edges with every
        number, each weight's chain-rule product and update on click or hover,
        the loss with its formula (no network access; printable).  ``sample``
        (from 0) picks the sample whose forward pass is drawn.  See
        :mod:`pynn.explain_html`."""
        from .explain_html import write_html
        return write_html(self, path, title=title, sample=sample)


# ---- text ----------------------------------------------------------------------------------------

def _f(x: Optional[float]) -> str:
    """A number as the tables print it: 8 significant digits, "−" (U+2212) for minus, never "−0"."""
    if x is None:
        return "—"
    if x == 0:
        return "0"
    return ("%.8g" % x).replace("-", "−")


def _factor(x: Optional[float]) -> str:
    """A number as a factor or subtrahend: in brackets when negative, "(−0.5)"."""
    text = _f(x)
    return "(%s)" % text if text.startswith("−") else text


def _sum_text(terms: Sequence[Tuple[float, Optional[float]]]) -> str:
    """"a·b + c·d − e·f" for pairs (a, b), the sign of each product carried by its first factor."""
    text = ""
    for i, (x, w) in enumerate(terms):
        neg = x is not None and x < 0
        body = "%s·%s" % (_f(-x if neg else x), _factor(w)) if w is not None else _f(-x if neg else x)
        text += ("−" if neg else "") + body if i == 0 else (" − " if neg else " + ") + body
    return text


def _count_text(e: Explanation) -> Tuple[str, int]:
    """The divisor of the mean in the loss and its value: "N·K" for the elementwise losses, "N" else."""
    if e.loss_name == "cross_entropy":
        return "N", e.n_samples
    return "N·K", int(e.targets.size)


def _loss_formula(e: Explanation) -> str:
    """The loss as a formula, e.g. "E = mean over the N·K = 2 values of (out − y)²"."""
    what, value = _count_text(e)
    return {
        "mse": "E = Σ (out − y)² / (N·K), the mean over the N·K = %d values",
        "mae": "E = Σ |out − y| / (N·K), the mean over the N·K = %d values",
        "huber": "E = Σ h(out − y) / (N·K), h(d) = ½d² if |d| ≤ 1 else |d| − ½, the mean over the N·K = %d values",
        "binary_cross_entropy": "E = Σ −(y·log p + (1 − y)·log(1 − p)) / (N·K), p = out (the sigmoid), "
                                "the mean over the N·K = %d values",
        "cross_entropy": "E = Σ_samples −Σ_k y_k·log p_k / N, p = out (the softmax), the mean over the "
                         "N = %d samples",
    }[e.loss_name] % value


def _dE_formula(e: Explanation) -> str:
    """How ∂E/∂out (or δ) of an output neuron follows from the loss, in symbols."""
    return {
        "mse": "∂E/∂out = 2·(out − y)/(N·K)",
        "mae": "∂E/∂out = sign(out − y)/(N·K)",
        "huber": "∂E/∂out = clip(out − y, −1, 1)/(N·K)",
        "binary_cross_entropy": "sigmoid and cross-entropy in one piece: δ = ∂E/∂net = (p − y)/(N·K)",
        "cross_entropy": "softmax and cross-entropy in one piece: δ = ∂E/∂net = (p·Σ_k y_k − y)/N, "
                         "(p − y)/N for one-hot y",
    }[e.loss_name]


def _output_source(e: Explanation, n: NeuronRow) -> str:
    """How ∂E/∂out (or δ) of output neuron row ``n`` is computed from the loss, with its numbers."""
    out, y = _f(n.out), _factor(e.targets[n.sample, n.unit])
    _, count = _count_text(e)
    if e.loss_name == "mse":
        return "∂E/∂out = 2·(%s − %s)/%d" % (out, y, count)
    if e.loss_name == "mae":
        return "∂E/∂out = sign(%s − %s)/%d" % (out, y, count)
    if e.loss_name == "huber":
        return "∂E/∂out = clip(%s − %s, −1, 1)/%d" % (out, y, count)
    if e.loss_name == "binary_cross_entropy":
        return "δ = (p − y)/(N·K) = (%s − %s)/%d" % (out, y, count)
    total = float(e.targets[n.sample].sum())
    if abs(total - 1.0) < 1e-12:
        return "δ = (p − y)/N = (%s − %s)/%d" % (out, y, count)
    return "δ = (p·Σ_k y_k − y)/N = (%s·%s − %s)/%d" % (out, _factor(total), y, count)


def _weighted_sum(e: Explanation, n: NeuronRow) -> str:
    """"w·in + w·in + b" with the numbers of neuron row ``n`` (empty when the fan-in is above 4)."""
    fan_in = e.sizes[n.layer - 1]
    if fan_in > 4:  # too long to write out
        return ""
    if n.layer == 1:
        ins = list(e.inputs[n.sample] * (1.0 if e.input_mask is None else e.input_mask[n.sample]))
    else:
        ins = [m.out * (1.0 if m.mask is None else m.mask)
               for m in e.neurons if m.sample == n.sample and m.layer == n.layer - 1]
    by_name = {w.name: w for w in e.weights if w.layer == n.layer and w.unit == n.unit}
    terms = [(by_name["W%d[%d,%d]" % (n.layer, i, n.unit)].old, ins[i]) for i in range(fan_in)]
    return _sum_text(terms + [(by_name["b%d[%d]" % (n.layer, n.unit)].old, None)])


def _dE_source(e: Explanation, n: NeuronRow) -> str:
    """∂E/∂out (or δ) of neuron row ``n`` written out with its numbers."""
    if not n.paths:
        return _output_source(e, n)
    label = "Σ_k δ_k·W%d[%d,k]" % (n.layer + 1, n.unit)
    path_sum = _sum_text([(p.delta, p.weight) for p in n.paths])
    if n.mask is None:
        return "∂E/∂out = %s = %s" % (label, path_sum)
    return "∂E/∂out = m·%s = %s·(%s)" % (label, _f(n.mask), path_sum)


def _derivative_text(n: NeuronRow) -> Optional[str]:
    """∂out/∂net of neuron row ``n`` written out with its numbers (None for a fused output)."""
    if n.dout_dnet is None:
        return None
    out = _factor(n.out)
    by_activation = {
        "sigmoid": "out·(1 − out) = %s·(1 − %s)" % (out, out),
        "tanh": "1 − out² = 1 − %s²" % out,
        "linear": "1",
        "relu": "1 if net > 0 else 0, net = %s" % _f(n.net),
        "leaky_relu": "1 if net > 0 else 0.01, net = %s" % _f(n.net),
        "gelu": "Φ(net) + net·φ(net), net = %s" % _f(n.net),
    }
    return "∂out/∂net = %s = %s" % (by_activation.get(n.activation, n.activation), _f(n.dout_dnet))


def _chain_text(w: WeightRow, t: Term) -> str:
    """One sample's chain-rule product for weight row ``w``, with its numbers."""
    if t.dE_dout is None:
        return "δ · ∂net/∂w = %s · %s = %s" % (_factor(t.delta), _factor(t.dnet_dw), _f(t.product))
    return "∂E/∂out · ∂out/∂net · ∂net/∂w = %s · %s · %s = %s" % (
        _factor(t.dE_dout), _factor(t.dout_dnet), _factor(t.dnet_dw), _f(t.product))


def _update_text(e: Explanation, w: WeightRow) -> str:
    """The update of weight row ``w`` with its numbers."""
    if e.plain_sgd:
        return "w ← w − lr·∂E/∂w = %s − %s·%s = %s" % (_f(w.old), _f(w.lr), _factor(w.grad), _f(w.new))
    return "%s → %s (the optimizer's update from ∂E/∂w = %s)" % (_f(w.old), _f(w.new), _f(w.grad))


class _Selection:
    """What a table shows: which layers, units and samples."""

    def __init__(self, layer: Optional[int], unit: Optional[int], sample: Optional[int], mazur: bool,
                 width: int) -> None:
        self.layer, self.unit, self.sample, self.mazur, self.width = layer, unit, sample, mazur, width

    @classmethod
    def check(cls, e: Explanation, layer: Optional[int], neuron: Optional[int], sample: Optional[int],
              names: str, width: int) -> "_Selection":
        def index(value: Optional[int], name: str, low: int, high: int) -> Optional[int]:
            if value is None:
                return None
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError("%s must be an int or None; got %r" % (name, value))
            if not low <= value <= high:
                raise ValueError("%s must be in [%d, %d]; got %d" % (name, low, high, value))
            return int(value)
        layer = index(layer, "layer (from 1; layer 0 is the inputs)", 1, e.n_layers)
        if neuron is not None and layer is None:
            raise ValueError("neuron needs layer: to_text(layer=l, neuron=j) shows unit j of layer l")
        unit = index(neuron, "neuron (from 0)", 0, e.sizes[layer] - 1 if layer is not None else 0)
        sample = index(sample, "sample (from 0)", 0, e.n_samples - 1)
        if names not in ("pynn", "mazur"):
            raise ValueError("names must be 'pynn' or 'mazur'; got %r" % (names,))
        if names == "mazur" and not e.mazur_names:
            raise ValueError("names='mazur' needs a 2-2-2 network (Mazur's w1..w8); this one is %s"
                             % "-".join(map(str, e.sizes)))
        w = index(width, "width", 40, 10 ** 6)
        assert w is not None
        return cls(layer, unit, sample, names == "mazur", w)

    def neuron(self, n: NeuronRow) -> bool:
        return ((self.layer is None or n.layer == self.layer) and (self.unit is None or n.unit == self.unit)
                and (self.sample is None or n.sample == self.sample))

    def weight(self, w: WeightRow) -> bool:
        return (self.layer is None or w.layer == self.layer) and (self.unit is None or w.unit == self.unit)

    def samples(self, e: Explanation) -> List[int]:
        return list(range(e.n_samples)) if self.sample is None else [self.sample]


def _table(header: List[str], rows: List[List[str]], width: int, notes: Optional[List[str]] = None) -> List[str]:
    """Rows in aligned columns; each row's note (a formula) as one more column when the lines stay
    within ``width``, else wrapped on lines of its own below the row."""
    def lay(head: List[str], body: List[List[str]]) -> List[str]:
        widths = [max(len(c) for c in col) for col in zip(head, *body)]
        return ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in [head] + body]

    if notes is not None and any(notes):
        inline = lay(header + [""], [row + [note] for row, note in zip(rows, notes)])
        if max(len(line) for line in inline) <= width:
            return inline
        lines = lay(header, rows)[:1]
        for line, note in zip(lay(header, rows)[1:], notes):
            lines.append(line)
            if note:
                lines += textwrap.wrap(note, width, initial_indent="      ", subsequent_indent="        ",
                                       break_on_hyphens=False)
        return lines
    return lay(header, rows)


def _wrap(text: str, width: int, indent: str = "") -> List[str]:
    return textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_on_hyphens=False) or [""]


def _render(e: Explanation, sel: _Selection, updates_only: bool) -> str:
    N, width = e.n_samples, sel.width
    multi = N > 1 and sel.sample is None
    samples = sel.samples(e)
    layers_code = ", ".join("W%d = net.layers[%d].W" % (l, p) for l, p in enumerate(e.positions, 1))
    lines = _wrap("One training step of a %s network (%s), loss %s, in float64"
                  % ("-".join(map(str, e.sizes)), ", ".join(e.activations), e.loss_name), width)
    lines += _wrap("optimizer: %s" % e.optimizer, width)
    lines += _wrap("N = %d sample%s, K = %d output%s each. Layer 0 is the inputs, layer l (from 1) the l-th "
                   "Dense layer%s; units and samples count from 0: Wl[i,j] is the weight from unit i of "
                   "layer l−1 to unit j of layer l, bl[j] the bias of unit j. Numbers to 8 significant digits."
                   % (N, "s" if N > 1 else "", e.sizes[-1], "s" if e.sizes[-1] > 1 else "",
                      " (%s)" % layers_code if layers_code else ""), width)
    if sel.mazur:
        lines += _wrap("Mazur's names: " + ", ".join("%s = %s" % kv for kv in MAZUR_NAMES.items())
                       + "; his b1, b2 are one bias per layer that he does not update, pynn's b1[0], b1[1], "
                       "b2[0], b2[1] are updated.", width)
    shown = [] if sel.layer is None and sel.unit is None and sel.sample is None else [
        "%s %d" % (k, v) for k, v in (("layer", sel.layer), ("unit", sel.unit), ("sample", sel.sample))
        if v is not None]
    if shown:
        lines.append("Showing only " + ", ".join(shown) + ".")

    def label(w: WeightRow) -> str:
        alias = e.alias(w.name) if sel.mazur else None
        return w.name + (" " + alias if alias else "")

    weights = [w for w in e.weights if sel.weight(w)]
    if not updates_only:
        lines.append("")
        for s in samples:
            lines += _wrap("inputs%s x = [%s]   target y = [%s]"
                           % (" (sample %d)" % s if N > 1 else "", ", ".join(_f(v) for v in e.inputs[s]),
                              ", ".join(_f(v) for v in e.targets[s])), width)
        masked = e.input_mask is not None or any(n.mask is not None for n in e.neurons)
        if e.input_mask is not None:
            for s in samples:
                lines += _wrap("dropout on the inputs%s: m = [%s], so the first layer sees in = x·m"
                               % (" (sample %d)" % s if N > 1 else "",
                                  ", ".join(_f(v) for v in e.input_mask[s])), width)
        neurons = [n for n in e.neurons if sel.neuron(n)]
        lines += [""] + _wrap("Forward pass: net = Σ_i in_i·W[i,j] + b[j] (the weighted sum), out = act(net)",
                              width)
        if masked:
            lines += _wrap("dropout: the next layer sees out·m, m = 0 (dropped) or 1/(1 − p) (kept), drawn for "
                           "this step", width, "  ")
        rows = [([str(n.sample)] if multi else []) + [str(n.layer), str(n.unit), _f(n.net), n.activation, _f(n.out)]
                + ([_f(n.mask)] if masked else []) for n in neurons]
        notes = [("net = " + _weighted_sum(e, n)) if _weighted_sum(e, n) else "" for n in neurons]
        lines += _table((["sample"] if multi else []) + ["layer", "unit", "net", "act", "out"]
                        + (["dropout m"] if masked else []), rows, width, notes)

        lines += [""] + _wrap("Loss (%s): %s" % (e.loss_name, _loss_formula(e)), width)
        lines.append("  E = %s" % _f(e.loss))

        lines += [""] + _wrap("Backward pass: δ = ∂E/∂net = ∂E/∂out · ∂out/∂net", width)
        lines += _wrap("output layer: %s; hidden layers: ∂E/∂out_j = Σ_k δ_k·W[j,k], a sum over the paths to "
                       "the next layer's units k (their δ, the weights before the update)%s"
                       % (_dE_formula(e), ", times the unit's dropout m" if masked else ""), width, "  ")
        derivs = sorted({n.activation for n in neurons if n.dout_dnet is not None})
        if derivs:
            lines += _wrap("∂out/∂net: " + "; ".join("%s %s" % (a, _DERIVATIVES[a][1]) for a in derivs),
                           width, "  ")
        order = sorted(neurons, key=lambda r: (r.sample, -r.layer, r.unit))
        rows = [([str(n.sample)] if multi else []) + [str(n.layer), str(n.unit), _f(n.dE_dout), _f(n.dout_dnet),
                                                      _f(n.delta)] for n in order]
        lines += _table((["sample"] if multi else []) + ["layer", "unit", "∂E/∂out", "∂out/∂net", "δ"], rows,
                        width, [_dE_source(e, n) for n in order])

        lines += [""] + _wrap("Gradients: ∂E/∂w = ∂E/∂out · ∂out/∂net · ∂net/∂w = δ · ∂net/∂w (∂net/∂w: the "
                              "input w multiplies; 1 for a bias)" + (", summed over the samples" if N > 1 else ""),
                              width)
        rows = []
        for w in weights:
            if N > 1:
                for t in w.terms:
                    if t.sample in samples:
                        rows.append([label(w), str(t.sample), _f(t.dE_dout), _f(t.dout_dnet), _f(t.dnet_dw),
                                     _f(t.product)])
                rows.append([label(w), "sum", "", "", "", _f(w.grad)])
            else:
                t = w.terms[0]
                rows.append([label(w), _f(t.dE_dout), _f(t.dout_dnet), _f(t.dnet_dw), _f(w.grad)])
        header = (["weight", "sample", "∂E/∂out", "∂out/∂net", "∂net/∂w", "product"] if N > 1
                  else ["weight", "∂E/∂out", "∂out/∂net", "∂net/∂w", "∂E/∂w"])
        lines += _table(header, rows, width)
        lines.append("")
    else:
        lines += ["", "Loss: E = %s" % _f(e.loss)]
    if e.plain_sgd:
        lines.append("Update (SGD): w ← w − lr·∂E/∂w, lr = %s" % _f(e.lr))
    else:
        lines.append("Update by the optimizer: the rows show ∂E/∂w and the new value it produced")
    lines += _table(["weight", "old", "∂E/∂w", "new"], [[label(w), _f(w.old), _f(w.grad), _f(w.new)]
                                                        for w in weights], width)
    return "\n".join(lines)


# ---- data for the page ---------------------------------------------------------------------------

def _number(x: Optional[float]) -> Optional[float]:
    """A float for JSON: None for None and for a non-finite value (JSON has no inf/nan)."""
    return None if x is None or not np.isfinite(x) else float(x)


def _as_dict(e: Explanation, sample: int = 0) -> Dict[str, Any]:
    """See Explanation.to_dict."""
    if isinstance(sample, bool) or not isinstance(sample, (int, np.integer)) or not 0 <= sample < e.n_samples:
        raise ValueError("sample must be an int in [0, %d]; got %r" % (e.n_samples - 1, sample))
    s = int(sample)
    neurons = []
    for n in e.neurons:
        if n.sample != s:
            continue
        neurons.append(dict(
            layer=n.layer, unit=n.unit, activation=n.activation, net=_number(n.net), out=_number(n.out),
            dE_dout=_number(n.dE_dout), dout_dnet=_number(n.dout_dnet), delta=_number(n.delta),
            mask=_number(n.mask), weighted_sum=_weighted_sum(e, n),
            derivative=_DERIVATIVES[n.activation][1] if n.dout_dnet is not None else None,
            derivative_text=_derivative_text(n),
            dE_text=_dE_source(e, n),
            paths=[dict(unit=p.unit, delta=_number(p.delta), weight=_number(p.weight)) for p in n.paths]))
    weights = []
    for w in e.weights:
        t = w.terms[s]
        weights.append(dict(
            name=w.name, alias=e.alias(w.name), layer=w.layer, source=w.source, unit=w.unit, old=_number(w.old),
            grad=_number(w.grad), lr=_number(w.lr), new=_number(w.new),
            term=dict(sample=t.sample, dE_dout=_number(t.dE_dout), dout_dnet=_number(t.dout_dnet),
                      delta=_number(t.delta), dnet_dw=_number(t.dnet_dw), product=_number(t.product)),
            chain_text=_chain_text(w, t), sum_text=_sum_text([(u.product, None) for u in w.terms])
            if e.n_samples > 1 else "", update_text=_update_text(e, w)))
    return dict(
        format="pynn.explain/1", sizes=list(e.sizes), activations=list(e.activations), loss_name=e.loss_name,
        optimizer=e.optimizer, plain_sgd=e.plain_sgd, lr=_number(e.lr), n_samples=e.n_samples, sample=s,
        positions=list(e.positions),
        inputs=[_number(v) for v in e.inputs[s]], targets=[_number(v) for v in e.targets[s]],
        input_mask=None if e.input_mask is None else [_number(v) for v in e.input_mask[s]],
        loss=_number(e.loss), loss_formula=_loss_formula(e), loss_text="E = %s" % _f(e.loss),
        dE_formula=_dE_formula(e), neurons=neurons, weights=weights)


def _output_delta(loss: str, z: Float64Array, out: Float64Array, T: Float64Array
                  ) -> Tuple[float, Optional[Float64Array], Optional[Float64Array], Optional[Float64Array]]:
    """(loss E, ∂E/∂out or None, ∂out/∂net or None, δ = ∂E/∂net) of the output layer, float64."""
    N, K = out.shape
    if loss in ("mse", "mae", "huber"):
        d = out - T
        n = d.size
        if loss == "mse":
            E, dE = np.sum(d * d) / n, 2 * d / n
        elif loss == "mae":
            E, dE = np.sum(np.abs(d)) / n, np.sign(d) / n
        else:
            E = np.sum(np.where(np.abs(d) <= 1, 0.5 * d * d, np.abs(d) - 0.5)) / n
            dE = np.clip(d, -1, 1) / n
        return float(E), dE, None, None
    if loss == "binary_cross_entropy":  # on the logits z, as BCEWithLogitsLoss
        E = np.sum(np.maximum(z, 0) - z * T + np.log1p(np.exp(-np.abs(z)))) / z.size
        return float(E), None, None, (out - T) / z.size
    # cross_entropy on the logits, as CrossEntropyLoss: E = Σ_rows Σ_k y_k (lse - z_k) / N
    m = z.max(axis=1, keepdims=True)
    lse = m + np.log(np.exp(z - m).sum(axis=1, keepdims=True))
    E = np.sum(T * (lse - z)) / N
    return float(E), None, None, (out * T.sum(axis=1, keepdims=True) - T) / N


#: default bound on the chain-rule terms an explanation keeps (rows × parameters):
#: about 1 KB each, so the default keeps it near 100 MB and a few seconds
MAX_TERMS = 100_000


def explain_step(net: Network, X: ArrayLike, y: ArrayLike, max_terms: int = MAX_TERMS) -> Explanation:
    """Perform one training step of ``net`` on (X, y), as ``net.train_step``,
    and return an :class:`Explanation` of it computed with the chain rule in
    float64 (see the module's documentation).  Meant for small networks and a
    few samples: the table has a row per neuron and per weight, and keeps one
    chain-rule term per sample and parameter.  If rows × parameters is above
    ``max_terms`` it raises ValueError before doing anything (the step is not
    made): pass fewer rows, a smaller network, or a larger ``max_terms``.

    Matt Mazur's worked 2-2-2 example, whose numbers it reproduces:

    >>> import pynn
    >>> net = pynn.Network([pynn.Dense(2, 2, "sigmoid"), pynn.Dense(2, 2, "sigmoid")],
    ...                    loss="mse", optimizer=pynn.SGD(lr=0.5), dtype="float64")
    >>> net.set_weights([[[0.15, 0.25], [0.20, 0.30]], [0.35, 0.35],
    ...                  [[0.40, 0.50], [0.45, 0.55]], [0.60, 0.60]])
    >>> step = net.explain_step([[0.05, 0.10]], [[0.01, 0.99]])
    >>> round(step.loss, 8), round(step.neuron(2, 0).out, 8)
    (0.29837111, 0.75136507)
    >>> w5 = step.weight("W2[0,0]")                 # ∂E/∂w5 = ∂E/∂out · ∂out/∂net · ∂net/∂w5
    >>> [round(v, 8) for v in (w5.dE_dout, w5.dout_dnet, w5.dnet_dw, w5.grad, w5.new)]
    [0.74136507, 0.1868156, 0.59326999, 0.08216704, 0.35891648]
    >>> step.weight("w5") is w5                       # the post's names work for a 2-2-2 network
    True
    >>> print(step.to_text().splitlines()[0])
    One training step of a 2-2-2 network (sigmoid, sigmoid), loss mse, in float64
    """
    plan = net._plan
    Xc, Y, labels = plan.batch(X, y)
    terms = Xc.shape[0] * plan.n_params
    if terms > max_terms:
        raise ValueError(
            "explain_step keeps a chain-rule term for every sample and parameter: %d rows x %d parameters = %d "
            "terms, more than max_terms=%d (about 1 KB each). Pass fewer rows (e.g. X[:%d]), explain a smaller "
            "network, or raise max_terms" % (Xc.shape[0], plan.n_params, terms, max_terms,
                                             max(1, max_terms // plan.n_params)))
    x = Xc.astype(np.float64)
    if labels is not None:
        T = np.zeros((x.shape[0], net.n_outputs))
        T[np.arange(x.shape[0]), labels] = 1.0
    else:
        assert Y is not None  # plan.batch gives Y or labels
        T = Y.astype(np.float64)
    params = [(W.astype(np.float64), b.astype(np.float64)) for W, b in plan.param_views]
    acts = list(plan.activations)
    L, N = len(params), x.shape[0]

    # dropout factors on each layer's input for this step: 0 or 1/(1 - p)
    masks: List[Optional[Float64Array]] = [None] * L
    for l in range(L):
        p = float(plan.drop_rates[l])
        if p > 0:
            keep = dropout.keep_mask(plan.dropout_seed, net.optimizer.step + 1, l, N * int(plan.sizes[l]), p)
            masks[l] = np.where(keep.reshape(N, -1), 1.0 / (1.0 - p), 0.0)

    ins: List[Float64Array] = []
    zs: List[Float64Array] = []
    outs: List[Float64Array] = []
    a = x
    for (W, b), act, mask in zip(params, acts, masks):
        if mask is not None:
            a = a * mask
        ins.append(a)
        z = a @ W + b
        a = activations.forward(act, z)
        zs.append(z)
        outs.append(a)

    loss, dE, dact, delta = _output_delta(plan.loss, zs[-1], outs[-1], T)
    if delta is None:
        assert dE is not None  # the elementwise losses give ∂E/∂out
        dact = _DERIVATIVES[acts[-1]][0](zs[-1], outs[-1])
        delta = dE * dact
    dE_douts: List[Optional[Float64Array]] = [None] * L
    dacts: List[Optional[Float64Array]] = [None] * L
    deltas: List[Float64Array] = [delta] * L  # each entry is set below
    dE_douts[-1], dacts[-1], deltas[-1] = dE, dact, delta
    for l in range(L - 1, 0, -1):  # hidden layer l - 1 from layer l
        dE_dout = deltas[l] @ params[l][0].T
        mask_l = masks[l]
        if mask_l is not None:  # the chain rule through the dropout: out·m
            dE_dout = dE_dout * mask_l
        dact_hidden = _DERIVATIVES[acts[l - 1]][0](zs[l - 1], outs[l - 1])
        dE_douts[l - 1], dacts[l - 1] = dE_dout, dact_hidden
        deltas[l - 1] = dE_dout * dact_hidden

    neurons: List[NeuronRow] = []
    for s in range(N):
        for l in range(L):
            for j in range(params[l][1].size):
                paths: Tuple[Path, ...] = ()
                if l < L - 1:
                    W_next = params[l + 1][0]
                    paths = tuple(Path(k, float(deltas[l + 1][s, k]), float(W_next[j, k]))
                                  for k in range(W_next.shape[1]))
                dE_dout_l, dact_l = dE_douts[l], dacts[l]
                next_mask = masks[l + 1] if l < L - 1 else None
                neurons.append(NeuronRow(
                    s, l + 1, j, acts[l], float(zs[l][s, j]), float(outs[l][s, j]),
                    None if dE_dout_l is None else float(dE_dout_l[s, j]),
                    None if dact_l is None else float(dact_l[s, j]),
                    float(deltas[l][s, j]), paths, None if next_mask is None else float(next_mask[s, j])))

    opt = net.optimizer
    plain = type(opt) is SGD and opt.momentum == 0 and opt.weight_decay == 0
    lr = opt.lr
    target = Y if labels is None else labels
    assert target is not None
    net.train_step(Xc, target)  # the step itself, on the backend
    after = net.get_weights()

    def term(l: int, s: int, j: int, dnet_dw: float) -> Term:
        dE_dout, dact = dE_douts[l], dacts[l]
        return Term(s, None if dE_dout is None else float(dE_dout[s, j]),
                    None if dact is None else float(dact[s, j]), float(deltas[l][s, j]), float(dnet_dw))

    weights: List[WeightRow] = []
    for l, (W, b) in enumerate(params):
        new_W, new_b = after[2 * l].astype(np.float64), after[2 * l + 1].astype(np.float64)
        entries: List[Tuple[Optional[int], int, float, float]] = [
            (i, j, W[i, j], new_W[i, j]) for i in range(W.shape[0]) for j in range(W.shape[1])]
        entries += [(None, j, b[j], new_b[j]) for j in range(b.size)]
        for i, j, old, actual in entries:
            terms = tuple(term(l, s, j, 1.0 if i is None else ins[l][s, i]) for s in range(N))
            grad = float(np.sum(deltas[l][:, j] * (1.0 if i is None else ins[l][:, i])))
            name = "b%d[%d]" % (l + 1, j) if i is None else "W%d[%d,%d]" % (l + 1, i, j)
            new = old - lr * grad if plain else actual
            weights.append(WeightRow(l + 1, name, i, j, float(old), terms, grad, lr, float(new)))

    return Explanation(
        sizes=tuple(int(s) for s in plan.sizes), activations=tuple(acts), loss_name=plan.loss,
        optimizer=repr(opt), plain_sgd=plain, lr=lr, inputs=x, targets=T, loss=loss,
        neurons=neurons, weights=weights, input_mask=masks[0], positions=tuple(dense_positions(net.layers)))
