"""The plan: everything a network's numbers depend on, in one object.

A :class:`Plan` is the Python twin of the C core's ``pynn_net`` struct
(csrc/pynn.h): the layer widths, the activation and loss codes, the dropout
rates and seed, the dtype, and the one flat parameter buffer with its
gradient and optimizer-state buffers (and the per-layer views into them).
Both backends take a plan (and, to train, the optimizer), never a Network;
the Network, the files, explain, gradcheck, the ONNX export and the speed
suite read a network's state through ``net._plan`` and the attributes
documented here, and nothing else.

A plan never changes its shape or codes: when a user changes something that
they describe (``layer.activation``, ``Dropout.p``, ``net.loss``, the
optimizer and its state layout), the Network makes a new plan with
:meth:`Plan.replace` that shares the parameter and gradient buffers, and
swaps it in.  A backend call that started on the old plan finishes on it,
so the C side's cached struct (``plan.c``, made by the C backend on first
use) always matches the plan it belongs to.  The values in the buffers
(weights, gradients, optimizer state) do change in place, under the
network's lock (see pynn.network).

Layout of the flat buffers, layer by layer: W (n_in * n_out, row-major
(n_in, n_out)) then b (n_out).  The optimizer state is ``len(state_slots)``
buffers of ``n_params`` values one after the other, named by
``state_slots`` (PyTorch's state names: "momentum_buffer", "exp_avg", ...).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import activations, losses
from ._typing import ArrayLike, BoolArray, Float64Array, FloatArray, IntArray
from ._validation import as_matrix
from .layers import dense_param_count

_INT64 = np.dtype(np.int64)

# Elements of workspace per predict/evaluate call: bounds memory on big inputs.
CHUNK_ELEMENTS = 1 << 22


def param_count(sizes: Sequence[int]) -> int:
    """Weights and biases of dense layers with these widths (inputs first)."""
    return sum(dense_param_count(a, b) for a, b in zip(sizes[:-1], sizes[1:]))


class Plan:
    """One network's shape, codes and buffers (see the module docstring).

    Attributes (read them; replace a plan instead of changing them):

    - ``sizes``: int64 array, the input width then each Dense layer's width;
      ``n_in``, ``n_out``, ``n_layers``, ``n_params``;
    - ``activations``: tuple of names; ``act_codes``: their int32 codes;
    - ``loss``: the loss name; ``loss_code``;
    - ``drop_rates``: float64 array, the dropout rate on each Dense layer's
      input (0 for none); ``has_dropout``; ``dropout_seed``;
    - ``dtype``: float32 or float64;
    - ``rng``: the network's random generator (made from its seed), which
      shuffles the rows in fit and draws a dropout seed;
    - ``params``, ``grads``: flat buffers of n_params; ``state``: the
      optimizer's slots, named by ``state_slots``;
    - ``param_views``, ``grad_views``: per layer (W, b) views into them;
    - ``rows_per_call``: rows per predict/evaluate call into a backend;
    - ``c``: the C backend's cache for this plan (None until it runs).
    """

    __slots__ = ("sizes", "activations", "act_codes", "loss", "loss_code", "drop_rates", "has_dropout",
                 "dropout_seed", "dtype", "rng", "params", "grads", "state", "state_slots", "param_views", "grad_views",
                 "n_in", "n_out", "n_layers", "n_params", "rows_per_call", "c")

    def __init__(self, sizes: Union[Sequence[int], IntArray], activations_: Sequence[str], loss: str,
                 dtype: np.dtype[Any], drop_rates: Union[Sequence[float], Float64Array], dropout_seed: int,
                 rng: np.random.Generator, params: FloatArray, grads: FloatArray, state: FloatArray,
                 state_slots: Sequence[str]) -> None:
        self.sizes: IntArray = np.array(sizes, dtype=np.int64)
        self.activations: Tuple[str, ...] = tuple(activations_)
        self.act_codes = np.array([activations.CODES[a] for a in self.activations], dtype=np.int32)
        self.loss = loss
        self.loss_code = losses.CODES[loss]
        self.drop_rates = np.array(drop_rates, dtype=np.float64)
        self.has_dropout = bool(self.drop_rates.any())
        self.dropout_seed = int(dropout_seed)
        self.dtype = dtype
        self.rng = rng
        self.n_layers = len(self.activations)
        self.n_in, self.n_out = int(self.sizes[0]), int(self.sizes[-1])
        self.n_params = param_count(self.sizes.tolist())
        self.state_slots: Tuple[str, ...] = tuple(state_slots)
        for name, buffer, length in (("params", params, self.n_params), ("grads", grads, self.n_params),
                                     ("state", state, self.n_params * len(self.state_slots))):
            if (buffer.shape != (length,) or buffer.dtype != dtype or not buffer.flags.c_contiguous
                    or not buffer.flags.writeable):
                raise ValueError("pynn bug: plan %s must be a writable contiguous (%d,) %s array"
                                 % (name, length, dtype))
        self.params, self.grads, self.state = params, grads, state
        self.param_views = self._views(params)
        self.grad_views = self._views(grads)
        # workspace per row: Z and A of each layer, backward scratch, dropped-out inputs and their masks
        widths = (2 * int(self.sizes[1:].sum()) + 2 * int(self.sizes[1:].max())
                  + 2 * int(self.sizes[:-1][self.drop_rates > 0].sum()))
        self.rows_per_call = max(1, CHUNK_ELEMENTS // widths)
        self.c: Any = None

    @classmethod
    def new(cls, sizes: Sequence[int], activations_: Sequence[str], loss: str, dtype: np.dtype[Any],
            drop_rates: Sequence[float], rng: np.random.Generator, state_slots: Sequence[str]) -> Plan:
        """A plan with zeroed buffers (and no dropout seed yet)."""
        n = param_count(sizes)
        return cls(sizes, activations_, loss, dtype, drop_rates, 0, rng, np.zeros(n, dtype=dtype),
                   np.zeros(n, dtype=dtype), np.zeros(n * len(state_slots), dtype=dtype), state_slots)

    def replace(self, activations_: Optional[Sequence[str]] = None, loss: Optional[str] = None,
                drop_rates: Union[Sequence[float], Float64Array, None] = None, dropout_seed: Optional[int] = None,
                state: Optional[FloatArray] = None, state_slots: Optional[Sequence[str]] = None) -> Plan:
        """A new plan with some fields changed, sharing this one's generator,
        parameter and gradient buffers (and its state unless a new one is given)."""
        return Plan(self.sizes, self.activations if activations_ is None else activations_,
                    self.loss if loss is None else loss, self.dtype,
                    self.drop_rates if drop_rates is None else drop_rates,
                    self.dropout_seed if dropout_seed is None else dropout_seed, self.rng, self.params,
                    self.grads, self.state if state is None else state,
                    self.state_slots if state_slots is None else state_slots)

    def with_state_slots(self, slots: Sequence[str]) -> Plan:
        """A plan whose optimizer state holds ``slots``: slots kept by name
        keep their values, new ones start at zero, others are dropped."""
        slots = tuple(slots)
        n = self.n_params
        state = np.zeros(n * len(slots), dtype=self.dtype)
        for i, name in enumerate(slots):
            if name in self.state_slots:
                j = self.state_slots.index(name)
                state[i * n:(i + 1) * n] = self.state[j * n:(j + 1) * n]
        return self.replace(state=state, state_slots=slots)

    def _views(self, flat: FloatArray) -> List[Tuple[FloatArray, FloatArray]]:
        views, start = [], 0
        for n_in, n_out in zip(self.sizes[:-1].tolist(), self.sizes[1:].tolist()):
            W = flat[start:start + n_in * n_out].reshape(n_in, n_out)
            b = flat[start + n_in * n_out:start + dense_param_count(n_in, n_out)]
            views.append((W, b))
            start += dense_param_count(n_in, n_out)
        return views

    def weight_mask(self) -> BoolArray:
        """A mask over the flat parameters: True on the weights (W), False on
        the biases (b); e.g. for a penalty on the weights only."""
        mask = np.zeros(self.n_params, dtype=bool)
        for W, _ in self._views(mask):
            W[...] = True
        return mask

    def inputs(self, X: ArrayLike) -> FloatArray:
        """X checked and converted to what the backends read: a C-contiguous
        (N, n_in) array of the plan's dtype (no copy when it already is)."""
        return as_matrix(X, "X", self.n_in, self.dtype)

    def batch(self, X: ArrayLike, y: ArrayLike) -> Tuple[FloatArray, Optional[FloatArray], Optional[IntArray]]:
        """Checked, converted (X, Y, labels) for the loss: Y (N, n_out) of the
        plan's dtype, or int64 class labels (N,) for cross-entropy."""
        if type(X) is np.ndarray and type(y) is np.ndarray:
            # the per-step case, decided in one place (as_matrix's and
            # prepare_targets' fast paths, without their calls: a step of a
            # tiny network costs about a microsecond in all)
            xs, ys = X.shape, y.shape
            if X.dtype is self.dtype and len(xs) == 2 and xs[1] == self.n_in and xs[0] >= 1 and ys[:1] == xs[:1]:
                fx, fy = X.flags, y.flags
                if fx.c_contiguous and fx.aligned and fy.c_contiguous and fy.aligned:
                    if len(ys) == 2 and y.dtype is self.dtype and ys[1] == self.n_out:
                        return X, y, None
                    if len(ys) == 1 and y.dtype is _INT64 and self.loss == "cross_entropy":
                        return X, None, y
        X = as_matrix(X, "X", self.n_in, self.dtype)
        Y, labels = losses.prepare_targets(self.loss, y, X.shape[0], self.n_out, self.dtype)
        return X, Y, labels

    def chunks(self, n_rows: int) -> List[Tuple[int, int]]:
        """[lo, hi) row ranges of at most ``rows_per_call`` rows covering n_rows."""
        step = self.rows_per_call
        return [(i, min(i + step, n_rows)) for i in range(0, n_rows, step)]

    def __getstate__(self) -> Dict[str, Any]:
        # pickling: the buffers and codes; the C cache points into this process
        return {name: getattr(self, name) for name in ("sizes", "activations", "loss", "dtype", "drop_rates",
                                                       "dropout_seed", "rng", "params", "grads", "state",
                                                       "state_slots")}

    def __setstate__(self, state: Dict[str, Any]) -> None:
        def own(array: FloatArray) -> FloatArray:  # e.g. joblib.load(..., mmap_mode="r"): a writable copy
            return array if array.flags.writeable and array.flags.c_contiguous else np.array(array, order="C")

        Plan.__init__(self, state["sizes"], state["activations"], state["loss"], state["dtype"],
                      state["drop_rates"], state["dropout_seed"], state["rng"], own(state["params"]),
                      own(state["grads"]),
                      own(state["state"]), state["state_slots"])
