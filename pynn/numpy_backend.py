"""The numpy backend: the network's forward pass, backward pass and updates in
plain numpy, over the same parameter buffers as the C core (csrc/network.inc)
and with the same formulas, so both give the same numbers.

Backpropagation is the chain rule applied layer by layer, from the output
back: with ``delta`` = dLoss/dz for a layer (z = a_prev @ W + b),

    dLoss/dW      = a_prev.T @ delta
    dLoss/db      = delta summed over the batch
    dLoss/da_prev = delta @ W.T,   and the previous layer's delta is that
                    times its activation's derivative.

With dropout on a layer's input, a_prev above is the dropped-out input, and
dLoss/da_prev goes back through the same mask (see pynn.dropout) before the
activation's derivative.
"""
from __future__ import annotations

import math
from typing import Any, List, Optional, Tuple

import numpy as np

from . import activations, dropout
from ._plan import Plan
from ._typing import BoolArray, FloatArray, IntArray
from ._validation import all_finite, check_index, nonfinite_error
from .errors import DIVERGED_MESSAGE, DivergenceError
from .losses import FUSED, check_values, numpy_loss
from .optimizers import Optimizer


def check_inputs(plan: Plan, X: FloatArray, Y: Optional[FloatArray], labels: Optional[IntArray],
                 weights: Optional[FloatArray] = None) -> None:
    """The checks the C core makes on its inputs, with the same errors."""
    _check_x(X)
    if weights is None:  # the per-step cases first, each in one pass (check_values makes the same checks)
        if Y is None:
            if (labels is not None and labels.dtype is _INT64 and labels.size
                    and np.maximum.reduce(labels.view(_UINT64)) < plan.n_out):
                return  # int64 labels in range (a negative one read as unsigned is beyond any class count)
        elif plan.loss not in FUSED and all_finite(Y):
            return  # regression targets: finite is all there is to check
    check_values(plan.loss, Y, labels, plan.n_out, weights)


_INT64, _UINT64 = np.dtype(np.int64), np.dtype(np.uint64)


_CHECK_BLOCK = 1 << 18  # elements per isfinite pass over a large X: its mask stays small


def _check_x(X: FloatArray) -> None:
    if X.size <= _CHECK_BLOCK:
        if not all_finite(X):
            raise nonfinite_error("X")
        return
    rows = max(1, _CHECK_BLOCK // max(1, X.shape[1]))  # a memory map is checked without a mask as big as X
    for lo in range(0, X.shape[0], rows):
        if not np.isfinite(X[lo:lo + rows]).all():
            raise nonfinite_error("X")


def _forward(plan: Plan, X: FloatArray, step: int = 0, first_row: int = 0, logits_only: bool = False
             ) -> Tuple[List[FloatArray], List[FloatArray], List[FloatArray], List[Optional[BoolArray]]]:
    """Every layer's input (after dropout), pre-activation z and output a, and
    its dropout mask (or None), for X (batch, n_in).  step 0: inference;
    step >= 1: training in update ``step``, with its dropout masks (X's rows
    being rows ``first_row``, ... of the step's whole batch).  ``logits_only``:
    the last layer's activation is not applied (its a is its z), for a loss
    computed from the logits."""
    ins: List[FloatArray] = []
    zs: List[FloatArray] = []
    outs: List[FloatArray] = []
    keeps: List[Optional[BoolArray]] = [None] * plan.n_layers
    a = X
    rates = plan.drop_rates if step and plan.has_dropout else None
    last = plan.n_layers - 1 if logits_only else -1
    forward = activations.FORWARD
    for i, (name, (W, b)) in enumerate(zip(plan.activations, plan.param_views)):
        if rates is not None and rates[i] > 0:
            p = float(rates[i])
            keep = dropout.keep_mask(plan.dropout_seed, step, i, a.size, p, first_row * a.shape[1]).reshape(a.shape)
            a = dropout.apply(a, keep, p)
            keeps[i] = keep
        ins.append(a)
        z = a @ W
        z += b  # the bias after the product, as the C core adds it
        a = z if i == last else forward[name](z)
        zs.append(z)
        outs.append(a)
    return ins, zs, outs, keeps


def _loss_input(plan: Plan, zs: List[FloatArray], outs: List[FloatArray]) -> FloatArray:
    return zs[-1] if plan.loss in FUSED else outs[-1]


def predict(plan: Plan, X: FloatArray, logits: bool = False) -> FloatArray:
    """The network's output for X: probabilities for sigmoid/softmax outputs,
    or with ``logits`` the last layer's values before its activation."""
    _check_x(X)
    _, zs, outs, _ = _forward(plan, X)
    out = zs[-1] if logits else outs[-1]
    return out if out.dtype == plan.dtype else out.astype(plan.dtype)


def evaluate(plan: Plan, X: FloatArray, Y: Optional[FloatArray], labels: Optional[IntArray],
             weights: Optional[FloatArray] = None) -> Tuple[float, float]:
    """(mean loss, number correct) for one batch, without gradients."""
    check_inputs(plan, X, Y, labels, weights)
    _, zs, outs, _ = _forward(plan, X)
    loss, _, correct = numpy_loss(plan.loss, _loss_input(plan, zs, outs), Y, labels, weights, want_grad=False)
    return loss, correct


def gradients(plan: Plan, X: FloatArray, Y: Optional[FloatArray], labels: Optional[IntArray],
              weights: Optional[FloatArray], step: int, first_row: int = 0) -> Tuple[float, float]:
    """Fill plan.grads with dLoss/dparams for one batch, with the dropout
    masks of update ``step`` (X's rows being rows ``first_row``, ... of the
    step's whole batch); return (loss, correct)."""
    check_inputs(plan, X, Y, labels, weights)
    return _backprop(plan, step, X, Y, labels, weights, first_row)


def _backprop(plan: Plan, step: int, X: FloatArray, Y: Optional[FloatArray], labels: Optional[IntArray],
              weights: Optional[FloatArray], first_row: int = 0) -> Tuple[float, float]:
    fused = plan.loss in FUSED  # the loss reads the logits: the last activation is not needed
    ins, zs, outs, keeps = _forward(plan, X, step, first_row, logits_only=fused)
    loss, delta, correct = numpy_loss(plan.loss, zs[-1] if fused else outs[-1], Y, labels, weights)
    assert delta is not None  # numpy_loss gives the gradient when asked (want_grad)
    acts = plan.activations
    backward = activations.BACKWARD
    if not fused:  # the fused losses already gave dLoss/dz
        delta = backward[acts[-1]](zs[-1], outs[-1], delta)
    params, grads = plan.param_views, plan.grad_views
    for i in range(plan.n_layers - 1, -1, -1):
        dW, db = grads[i]
        np.matmul(ins[i].T, delta, out=dW)
        if delta.shape[0] == 1:  # one row: the reduction's 0 + row, without a reduction's cost (and 0 + -0 is +0)
            np.add(delta[0], 0, out=db)
        else:
            np.add.reduce(delta, axis=0, out=db)  # np.sum's reduction, without its wrapper
        if i > 0:
            d_in = delta @ params[i][0].T
            keep = keeps[i]
            if keep is not None:  # back through the forward pass's mask
                d_in = dropout.apply(d_in, keep, float(plan.drop_rates[i]))
            delta = backward[acts[i - 1]](zs[i - 1], outs[i - 1], d_in)
    return loss, correct


def train_rows(plan: Plan, optimizer: Optimizer, X: FloatArray, Y: Optional[FloatArray],
               labels: Optional[IntArray], weights: Optional[FloatArray], batch_size: int,
               index: Optional[IntArray] = None) -> Tuple[float, float]:
    """Train on all rows of X in consecutive batches of ``batch_size``, every
    row checked first -- or, with ``index``, on the rows it lists in that
    order, taken (and checked) batch by batch, so X is never copied whole;
    returns (sum of loss * batch rows (or batch weight), number correct)."""
    if index is None:
        check_inputs(plan, X, Y, labels, weights)
        n = X.shape[0]
        if n <= batch_size:  # one batch, X itself (train_step's case)
            loss, right = _backprop(plan, optimizer.step + 1, X, Y, labels, weights)
            if not math.isfinite(loss) or not _update(plan, optimizer):  # as the C step: no update
                raise DivergenceError(DIVERGED_MESSAGE, batches_done=0)
            # 0.0 + ...: the sums of the loop below, from their start, to the bit
            return 0.0 + loss * (n if weights is None else float(weights.astype(np.float64).sum())), 0.0 + right
    else:
        check_index(index, X.shape[0])
        n = index.shape[0]
    total = correct = 0.0
    for lo in range(0, n, batch_size):
        hi = min(lo + batch_size, n)
        rows: Any = slice(lo, hi) if index is None else index[lo:hi]
        x, w = X[rows], None if weights is None else weights[rows]
        y, lab = None if Y is None else Y[rows], None if labels is None else labels[rows]
        if index is not None:
            check_inputs(plan, x, y, lab, w)
        loss, right = _backprop(plan, optimizer.step + 1, x, y, lab, w)
        if not math.isfinite(loss) or not _update(plan, optimizer):  # as the C step: no update
            raise DivergenceError(DIVERGED_MESSAGE, batches_done=lo // batch_size)
        total += loss * (hi - lo if w is None else float(w.astype(np.float64).sum()))
        correct += right
    return total, correct


def apply_gradients(plan: Plan, optimizer: Optimizer) -> None:
    """One optimizer update of plan.params from plan.grads."""
    if not _update(plan, optimizer):
        raise DivergenceError(DIVERGED_MESSAGE)


def _update(plan: Plan, optimizer: Optimizer) -> bool:
    """The update, if every gradient is finite (else nothing changes: False)."""
    if not all_finite(plan.grads):
        return False
    optimizer.step += 1
    optimizer.numpy_update(plan.params, plan.grads, plan.state)
    return True
