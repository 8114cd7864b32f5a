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
(:class:`NeuronRow`, :class:`WeightRow`) that code can check, and
``to_text()`` / ``str()`` for the table.  The computation does not use the
backends (they run fused kernels); the tests hold it to ``net.gradients`` and
to the hand-worked 2-2-2 network.

With Dropout layers, the masks are those of this step (the same the backend
draws, see :mod:`pynn.dropout`): the next layer sees ``out · m`` with ``m`` =
0 for a dropped neuron and 1/(1 − p) for a kept one, and by the chain rule
``∂E/∂out = m · Σ_k δ_k · W[j, k]``.  A dropped input or neuron has
``∂net/∂w = 0`` for the weights it feeds.

For the two cross-entropies the output layer's δ is computed in one piece
(∂E/∂net = (p − y)/n, see :mod:`pynn.losses`); their ∂E/∂out and ∂out/∂net are
then None.  With plain SGD each row's new value is ``old − lr·grad`` computed
in float64 (the network stores it rounded to its dtype); with any other
optimizer (momentum, weight decay, Adam, ...) the rows show the gradient and
the new value the optimizer actually produced.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from . import activations, dropout
from ._typing import ArrayLike, Float64Array
from .optimizers import SGD

if TYPE_CHECKING:
    from .network import Network

__all__ = ["Explanation", "NeuronRow", "Path", "Term", "WeightRow", "explain_step"]

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

# ∂E/∂out of an output neuron for the elementwise losses (d = out − y, n = N·K)
_LOSS_TEXT: Dict[str, Tuple[str, str]] = {
    "mse": ("mean over the %s outputs of (out − y)²", "2·(out − y)/n"),
    "mae": ("mean over the %s outputs of |out − y|", "sign(out − y)/n"),
    "huber": ("mean over the %s outputs of ½d² if |d| ≤ 1 else |d| − ½, d = out − y", "clip(out − y, −1, 1)/n"),
    "binary_cross_entropy": ("mean over the %s outputs of −(y·log p + (1 − y)·log(1 − p)), p = out",
                             "for sigmoid + cross-entropy in one piece δ = (p − y)/n"),
    "cross_entropy": ("mean over the %s samples of −Σ_k y_k·log p_k, p = out",
                      "for softmax + cross-entropy in one piece δ = (p − y)/n"),
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


@dataclass(eq=False)
class Explanation:
    """What :func:`explain_step` found: rows that code can check, and a table."""
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

    def weight(self, name: str) -> WeightRow:
        """The WeightRow called ``name``, e.g. "W2[0,1]" or "b1[0]"."""
        for row in self.weights:
            if row.name == name:
                return row
        raise KeyError(name)

    def neuron(self, layer: int, unit: int, sample: int = 0) -> NeuronRow:
        """The NeuronRow of ``unit`` in ``layer`` (from 1) for ``sample``."""
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

    def to_text(self) -> str:
        """The step as a table (what ``str()`` gives)."""
        return _render(self)


def _f(x: Optional[float]) -> str:
    return "—" if x is None else "%.8g" % x


def _sum_text(terms: Sequence[Tuple[float, Optional[float]]]) -> str:
    """"a·b + c·d − e·f" for pairs (a, b), the sign of each product carried by its first factor."""
    text = ""
    for i, (x, w) in enumerate(terms):
        neg = x is not None and x < 0
        body = "%s·%s" % (_f(-x if neg else x), _f(w)) if w is not None else _f(-x if neg else x)
        text += ("−" if neg else "") + body if i == 0 else (" − " if neg else " + ") + body
    return text


def _output_source(e: Explanation, n: NeuronRow) -> str:
    """How ∂E/∂out (or δ) of output neuron row ``n`` is computed from the loss, with its numbers."""
    out, y = _f(n.out), _f(e.targets[n.sample, n.unit])
    count = e.targets.size
    if e.loss_name == "mse":
        return "2·(%s − %s)/%d" % (out, y, count)
    if e.loss_name == "mae":
        return "sign(%s − %s)/%d" % (out, y, count)
    if e.loss_name == "huber":
        return "clip(%s − %s, −1, 1)/%d" % (out, y, count)
    if e.loss_name == "binary_cross_entropy":
        return "δ = (p − y)/n = (%s − %s)/%d" % (out, y, count)
    N = e.targets.shape[0]
    if abs(e.targets[n.sample].sum() - 1.0) < 1e-12:
        return "δ = (p − y)/N = (%s − %s)/%d" % (out, y, N)
    return "δ = (p·Σy − y)/N"


def _table(header: List[Any], rows: List[List[Any]]) -> List[str]:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    lines = []
    for row in [header] + rows:
        lines.append("  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
    return lines


def _render(e: Explanation) -> str:
    N = e.inputs.shape[0]
    multi = N > 1
    lines = ["One training step of a %s network (%s), loss %s, %s, %d sample%s, in float64."
             % ("-".join(map(str, e.sizes)), ", ".join(e.activations), e.loss_name, e.optimizer, N,
                "s" if multi else "")]
    for s in range(N):
        lines.append("inputs%s x = [%s]   target y = [%s]"
                     % (" (sample %d)" % s if multi else "", ", ".join(_f(v) for v in e.inputs[s]),
                        ", ".join(_f(v) for v in e.targets[s])))
    masked = e.input_mask is not None or any(n.mask is not None for n in e.neurons)
    if e.input_mask is not None:
        for s in range(N):
            lines.append("dropout on the inputs%s: m = [%s], so the first layer sees in = x·m"
                         % (" (sample %d)" % s if multi else "", ", ".join(_f(v) for v in e.input_mask[s])))
    lines += ["", "Forward pass: net = Σ_i in_i·W[i,j] + b[j] (the weighted sum), out = act(net)"]
    if masked:
        lines.append("  dropout: the next layer sees out·m, m = 0 (dropped) or 1/(1 − p) (kept), drawn for this "
                     "step")
    by_name = {w.name: w for w in e.weights}
    rows = []
    for n in e.neurons:
        fan_in = e.sizes[n.layer - 1]
        if fan_in <= 4:  # small enough to write out
            if n.layer == 1:
                ins = list(e.inputs[n.sample] * (1.0 if e.input_mask is None else e.input_mask[n.sample]))
            else:
                ins = [m.out * (1.0 if m.mask is None else m.mask)
                       for m in e.neurons if m.sample == n.sample and m.layer == n.layer - 1]
            terms = [(by_name["W%d[%d,%d]" % (n.layer, i, n.unit)].old, ins[i]) for i in range(fan_in)]
            weighted = _sum_text(terms + [(by_name["b%d[%d]" % (n.layer, n.unit)].old, None)])
        else:
            weighted = ""
        rows.append(([n.sample] if multi else []) + [n.layer, n.unit, weighted, _f(n.net), n.activation,
                                                      _f(n.out)] + ([_f(n.mask)] if masked else []))
    lines += _table((["sample"] if multi else []) + ["layer", "unit", "Σ w·in + b", "net", "act", "out"]
                    + (["dropout m"] if masked else []), rows)

    n_out = e.targets.size if e.loss_name != "cross_entropy" else N
    what, dE = _LOSS_TEXT[e.loss_name]
    lines += ["", "Loss: E = %s = %s" % (what % n_out, _f(e.loss))]

    lines += ["", "Backward pass: δ = ∂E/∂net = ∂E/∂out · ∂out/∂net",
              "  output layer: ∂E/∂out from the loss, %s with n = %d; hidden layer: ∂E/∂out_j = Σ_k δ_k·W[j,k],"
              % (dE, n_out),
              "  a sum over the paths to the next layer's neurons k (their δ, the weight before the update)"
              + (", times the neuron's dropout m" if masked else "")]
    rows = []
    for n in sorted(e.neurons, key=lambda r: (r.sample, -r.layer, r.unit)):
        if n.paths:
            label = "Σ_k δ_k·W%d[%d,k]" % (n.layer + 1, n.unit)
            path_sum = _sum_text([(p.delta, p.weight) for p in n.paths])
            source = ("%s = %s" % (label, path_sum) if n.mask is None
                      else "m·%s = %s·(%s)" % (label, _f(n.mask), path_sum))
        else:
            source = _output_source(e, n)
        d_act = _DERIVATIVES.get(n.activation, (None, "—"))[1] if n.dout_dnet is not None else "—"
        rows.append(([n.sample] if multi else []) + [n.layer, n.unit, _f(n.dE_dout), _f(n.dout_dnet),
                                                      _f(n.delta), d_act, source])
    lines += _table((["sample"] if multi else []) + ["layer", "unit", "∂E/∂out", "∂out/∂net", "δ",
                                                     "∂out/∂net =", "∂E/∂out (or δ) ="], rows)

    lines += ["", "Gradients: ∂E/∂w = ∂E/∂out · ∂out/∂net · ∂net/∂w = δ · (the input w multiplies; 1 for a bias)"
              + (", summed over the samples" if multi else "")]
    if e.plain_sgd:
        lines.append("Update (SGD): w ← w − lr·∂E/∂w with lr = %s" % _f(e.lr))
    else:
        lines.append("Update by %s: the rows show ∂E/∂w and the new value it produced" % e.optimizer)
    rows = []
    for w in e.weights:
        if multi:
            for t in w.terms:
                rows.append([w.name, t.sample, _f(t.dE_dout), _f(t.dout_dnet), _f(t.dnet_dw), _f(t.product),
                             "", "", ""])
            rows.append([w.name, "sum", "", "", "", "", _f(w.old), _f(w.grad), _f(w.new)])
        else:
            t = w.terms[0]
            rows.append([w.name, _f(w.old), _f(t.dE_dout), _f(t.dout_dnet), _f(t.dnet_dw), _f(w.grad),
                         _f(w.new)])
    if multi:
        header = ["weight", "sample", "∂E/∂out", "∂out/∂net", "∂net/∂w", "product", "old", "∂E/∂w", "new"]
    else:
        header = ["weight", "old", "∂E/∂out", "∂out/∂net", "∂net/∂w", "∂E/∂w", "new"]
    lines += _table(header, rows)
    return "\n".join(lines)


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
    >>> print(step.to_text().splitlines()[0])
    One training step of a 2-2-2 network (sigmoid, sigmoid), loss mse, SGD(lr=0.5, momentum=0.0, nesterov=False, weight_decay=0.0), 1 sample, in float64.
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
        neurons=neurons, weights=weights, input_mask=masks[0])
