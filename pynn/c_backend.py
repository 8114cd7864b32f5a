"""The C backend: thin wrappers that hand a plan's buffers to the compiled
core (pynn._core, built from csrc/ by cffi) in one call each.

Callers have already checked and converted every array (``Plan.batch``): X
and y are C-contiguous arrays of the plan's dtype, labels are int64.  The C
side checks sizes and values again and never writes outside the buffers
described in its pynn_net struct.

Per plan, a :class:`CPlan` holds the struct's fixed part (sizes, codes and
the parameter, gradient and state buffers).  Each predict or evaluate call
borrows a :class:`Workspace` -- its own copy of the struct with its own
scratch memory -- from the plan's free list and gives it back afterwards, so
calls from several threads never share scratch memory (the C calls run
without the GIL), and a workspace is never reallocated while a call uses
it.  The training calls (gradients, train_rows) write the plan's buffers, so
their callers run them one at a time per plan (the Network's lock does):
they share one workspace of their own.  The worker
threads are shared by every network: one pool per thread count, made on
first use (:class:`_Pools`).
"""
from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from . import losses, settings
from ._core import ffi, lib
from ._plan import Plan
from ._typing import FloatArray, IntArray
from ._validation import check_index, nonfinite_error
from .errors import DIVERGED_MESSAGE, DivergenceError
from .optimizers import Optimizer


def _check(status: int, plan: Plan, labels: Optional[IntArray] = None, Y: Optional[FloatArray] = None) -> None:
    """Turn a pynn_status into the exception the numpy backend would raise."""
    if status == lib.PYNN_OK:
        return
    if status == lib.PYNN_ERR_X_NONFINITE:
        raise nonfinite_error("X")
    if status == lib.PYNN_ERR_Y_NONFINITE:
        raise nonfinite_error("y")
    if status == lib.PYNN_ERR_Y_RANGE:
        raise losses.range_error(plan.loss, Y)
    if status == lib.PYNN_ERR_LABEL:
        assert labels is not None  # the C core only reports labels it was given
        raise losses.label_error(labels, plan.n_out)
    if status == lib.PYNN_ERR_DIVERGED:
        raise DivergenceError(DIVERGED_MESSAGE)
    if status == lib.PYNN_ERR_WEIGHTS:
        raise losses.weights_error()
    if status == lib.PYNN_ERR_WORKSPACE:
        raise RuntimeError("pynn bug: workspace too small for the batch")
    raise RuntimeError("pynn bug: the C core rejected its arguments (status %d)" % status)


class _Pools:
    """The process's pools of C worker threads, one per thread count, shared
    by every network and kept for the life of the process: however many
    networks there are, the OS threads are at most the sum over the thread
    counts used of (count - 1).  After fork the child has none of them."""

    by_size: Dict[int, Any] = {}

    @classmethod
    def get(cls, n: int) -> Any:
        pool = cls.by_size.get(n)
        if pool is None:
            if n == 1:
                pool = ffi.NULL  # the kernels run on the calling thread
            else:
                made = lib.pynn_pool_create(n)
                if made == ffi.NULL:
                    raise MemoryError("could not start %d threads" % n)
                pool = ffi.gc(made, lib.pynn_pool_destroy)  # joined at exit
            pool = cls.by_size.setdefault(n, pool)  # another thread may have made one meanwhile
        return pool

    @classmethod
    def forget_after_fork(cls) -> None:
        for pool in cls.by_size.values():
            if pool != ffi.NULL:
                ffi.gc(pool, None)  # its threads do not exist here: never join them
        cls.by_size = {}
        settings.changed()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_Pools.forget_after_fork)


class CPlan:
    """The C side of one plan: the fixed part of its pynn_net struct (and
    everything that part points to, kept alive), its functions, the
    optimizer struct, and the free workspaces."""

    def __init__(self, plan: Plan) -> None:
        self.dtype = plan.dtype
        self.array = "float[]" if plan.dtype == np.float32 else "double[]"  # cffi's type for a buffer of it
        suffix = "_f32" if plan.dtype == np.float32 else "_f64"
        self.predict_fn = getattr(lib, "pynn_predict" + suffix)
        self.logits_fn = getattr(lib, "pynn_logits" + suffix)
        self.evaluate_fn = getattr(lib, "pynn_evaluate" + suffix)
        self.gradients_fn = getattr(lib, "pynn_gradients" + suffix)
        self.train_rows_fn = getattr(lib, "pynn_train_rows" + suffix)
        self.check_fn = getattr(lib, "pynn_check_inputs" + suffix)
        self.apply_fn = getattr(lib, "pynn_apply_gradients" + suffix)
        self.lbfgs_fn = getattr(lib, "pynn_lbfgs_step" + suffix)
        self.workspace_size = getattr(lib, "pynn_workspace_size" + suffix)
        self.keep: List[Any] = []  # what the struct points into
        self.base = s = ffi.new("pynn_net *")
        s.n_layers = plan.n_layers
        s.sizes = self._keep(ffi.new("int64_t[]", plan.sizes.tolist()))
        s.acts = self._keep(ffi.new("int32_t[]", plan.act_codes.tolist()))
        s.loss = plan.loss_code
        s.n_params = plan.n_params
        s.params = self._keep(ffi.from_buffer(self.array, plan.params, require_writable=True))
        s.grads = self._keep(ffi.from_buffer(self.array, plan.grads, require_writable=True))
        s.state = self._keep(ffi.from_buffer(self.array, plan.state, require_writable=True))
        s.state_len = plan.state.size
        self.keep.append(plan)  # the buffers themselves
        if plan.has_dropout:
            s.dropout = self._keep(ffi.new("double[]", plan.drop_rates.tolist()))
            s.dropout_seed = plan.dropout_seed
        self.free: List[Workspace] = []  # for predict and evaluate
        self.trainer = Workspace(self)  # for the training calls, one at a time
        self.opt = ffi.new("pynn_optimizer *")
        self.opt_owner: Optional[Optimizer] = None
        self.opt_version: Optional[int] = None

    def _keep(self, cdata: Any) -> Any:
        self.keep.append(cdata)
        return cdata

    def borrow(self, rows: int) -> Workspace:
        """A workspace for ``rows`` rows, for this call only (give it back)."""
        try:
            ws = self.free.pop()  # atomic: two threads never get the same one
        except IndexError:
            ws = Workspace(self)
        if rows > ws.capacity or ws.config != settings.generation:
            ws.reserve(self, rows)
        return ws

    def training(self, rows: int) -> Workspace:
        """The training calls' workspace, ready for ``rows`` rows."""
        ws = self.trainer
        if rows > ws.capacity or ws.config != settings.generation:
            ws.reserve(self, rows)
        return ws

    def sync_optimizer(self, optimizer: Optimizer) -> Any:
        """Copy the optimizer's hyperparameters (when changed) and step count."""
        o = self.opt
        if self.opt_owner is not optimizer or self.opt_version != optimizer._version:
            o.kind = optimizer.kind
            o.lr = optimizer.lr
            o.weight_decay = optimizer.weight_decay
            o.momentum = getattr(optimizer, "momentum", 0.0)
            o.nesterov = getattr(optimizer, "nesterov", False)
            o.alpha = getattr(optimizer, "alpha", 0.0)
            o.eps = getattr(optimizer, "eps", 0.0)
            o.beta1, o.beta2 = getattr(optimizer, "betas", (0.0, 0.0))
            self.opt_owner, self.opt_version = optimizer, optimizer._version
        o.step = optimizer.step
        return o


class Workspace:
    """One call's pynn_net struct: the plan's fixed part, with this
    workspace's scratch memory and the current threads and kernels."""

    __slots__ = ("struct", "work", "work_view", "capacity", "config", "pool", "views", "last", "last_views", "out",
                 "correct")

    def __init__(self, c: CPlan) -> None:
        self.struct = ffi.new("pynn_net *")
        ffi.memmove(self.struct, c.base, ffi.sizeof("pynn_net"))
        self.work: Optional[FloatArray] = None  # the scratch memory, and the struct's view of it
        self.work_view: Any = None
        self.capacity = 0
        self.config = -1  # settings.generation when threads and kernels were last read
        self.pool: Any = None
        self.views: List[Optional[Tuple[Any, Any]]] = [None, None, None]  # (array, view): see cached_view
        self.last: Tuple[Any, Any, Any] = (None, None, None)  # train_rows' last (X, Y, labels) ...
        self.last_views: Tuple[Any, Any, Any] = (None, None, None)  # ... and their views
        self.out = ffi.new("double[2]")  # loss, number correct
        self.correct = self.out + 1  # a pointer to the second

    def reserve(self, c: CPlan, batch: int) -> None:
        """Point the struct at the current threads and kernels, and make the
        scratch memory big enough for ``batch`` rows (it only grows)."""
        s = self.struct
        if self.config != settings.generation:
            self.config = settings.generation
            s.simd = settings.simd_code()
            pool = _Pools.get(settings.get_num_threads())
            if pool != self.pool:
                self.pool = s.pool = pool
                self.capacity = 0  # packing space depends on the number of threads
        if batch <= self.capacity:
            return
        size = c.workspace_size(s, batch)
        if size < 0:
            raise MemoryError("a batch of %d rows needs more workspace than can be addressed" % batch)
        self.work = np.empty(size, dtype=c.dtype)
        self.work_view = s.work = ffi.from_buffer(c.array, self.work, require_writable=True)
        s.work_len = size
        self.capacity = batch

    def cached_view(self, array: Any, slot: int, array_type: str) -> Any:
        """A cffi view of a batch array (NULL for None), remembered for the
        last small array seen in ``slot``.

        Making a view costs about a microsecond, as much as a whole training
        step of a tiny network; a training loop that passes the same small
        arrays again reuses their views.  The cache holds the array itself,
        so its memory cannot move or be freed while the view exists; only
        small arrays that own their memory are kept (a slice would keep its
        whole base alive: fit's shuffled epoch, say)."""
        if array is None:
            return ffi.NULL
        last = self.views[slot]
        if last is not None and last[0] is array:
            return last[1]
        v = ffi.from_buffer(array_type, array)
        if array.nbytes <= _CACHE_BYTES and array.base is None:
            self.views[slot] = (array, v)
        return v


_NULL = ffi.NULL
_CACHE_BYTES = 1 << 16  # views of arrays up to this size are reused (cached_view)


def _cplan(plan: Plan) -> CPlan:
    c = plan.c
    if c is None:
        c = plan.c = CPlan(plan)  # two threads may both make one: either is right
    return c


def workspaces(plan: Plan) -> List[Tuple[int, int]]:
    """(bytes, rows) of the plan's training workspace and idle prediction
    workspaces that hold memory: for the speed suite's memory report."""
    c = plan.c
    if c is None:
        return []
    return [(0 if ws.work is None else ws.work.nbytes, ws.capacity) for ws in [c.trainer] + list(c.free)
            if ws.capacity]


def _view(array_type: str, array: Optional[Any]) -> Any:
    return ffi.NULL if array is None else ffi.from_buffer(array_type, array)


def check_inputs(plan: Plan, X: FloatArray, Y: Optional[FloatArray], labels: Optional[IntArray],
                 weights: Optional[FloatArray] = None) -> None:
    c = plan.c or _cplan(plan)
    _check(c.check_fn(c.base, X.shape[0], _view(c.array, X), _view(c.array, Y), _view("int64_t[]", labels),
                      _view(c.array, weights)), plan, labels, Y)


def predict(plan: Plan, X: FloatArray, logits: bool = False) -> FloatArray:
    c = plan.c or _cplan(plan)
    n = X.shape[0]
    try:  # c.borrow(n), inlined: this is the per-call path of small predictions
        ws = c.free.pop()
    except IndexError:
        ws = Workspace(c)
    try:
        if n > ws.capacity or ws.config != settings.generation:
            ws.reserve(c, n)
        out = np.empty((n, plan.n_out), dtype=plan.dtype)
        status = (c.logits_fn if logits else c.predict_fn)(ws.struct, n, ws.cached_view(X, 0, c.array),
                                                           ffi.from_buffer(c.array, out, require_writable=True))
    finally:
        c.free.append(ws)
    if status:
        _check(status, plan)
    return out


def evaluate(plan: Plan, X: FloatArray, Y: Optional[FloatArray], labels: Optional[IntArray],
             weights: Optional[FloatArray] = None) -> Tuple[float, float]:
    c = plan.c or _cplan(plan)
    ws = c.borrow(X.shape[0])
    try:
        status = c.evaluate_fn(ws.struct, X.shape[0], _view(c.array, X), _view(c.array, Y), _view("int64_t[]", labels),
                               _view(c.array, weights), ws.out, ws.correct)
        result = ws.out[0], ws.out[1]
    finally:
        c.free.append(ws)
    _check(status, plan, labels, Y)
    return result


def gradients(plan: Plan, X: FloatArray, Y: Optional[FloatArray], labels: Optional[IntArray],
              weights: Optional[FloatArray], step: int, first_row: int = 0) -> Tuple[float, float]:
    c = plan.c or _cplan(plan)
    ws = c.training(X.shape[0])
    ws.struct.dropout_row = first_row
    try:
        status = c.gradients_fn(ws.struct, step, X.shape[0], _view(c.array, X), _view(c.array, Y),
                                _view("int64_t[]", labels), _view(c.array, weights), ws.out, ws.correct)
    finally:
        ws.struct.dropout_row = 0
    _check(status, plan, labels, Y)
    return ws.out[0], ws.out[1]


def apply_gradients(plan: Plan, optimizer: Optimizer) -> None:
    """One optimizer update of plan.params from plan.grads, on the pool's threads."""
    c = plan.c or _cplan(plan)
    ws = c.training(1)  # for its struct's threads
    opt = c.sync_optimizer(optimizer)
    status = c.apply_fn(ws.struct, opt)
    optimizer.step = opt.step
    _check(status, plan)


def lbfgs_step(plan: Plan, optimizer: Any, state: Any, X: FloatArray, Y: Optional[FloatArray],
               labels: Optional[IntArray], weights: Optional[FloatArray], step: int) -> Tuple[float, float]:
    """One L-BFGS step in the C core (pynn_lbfgs_step): ``optimizer`` a
    pynn.LBFGS, ``state`` its LBFGSState (the same layout as pynn_lbfgs),
    whose counters are copied in and back."""
    c = plan.c or _cplan(plan)
    ws = c.training(X.shape[0])
    o = ffi.new("pynn_lbfgs *")
    o.lr, o.max_iter = optimizer.lr, optimizer.max_iter
    o.max_eval = optimizer.max_eval if optimizer.max_eval is not None else optimizer.max_iter * 5 // 4
    o.tolerance_grad, o.tolerance_change = optimizer.tolerance_grad, optimizer.tolerance_change
    o.history_size, o.line_search = optimizer.history_size, optimizer.line_search_fn is not None
    o.n_iter, o.func_evals, o.n_pairs, o.head = state.n_iter, state.func_evals, state.n_pairs, state.head
    o.t, o.H_diag = state.t, state.H_diag
    keep = [ffi.from_buffer(c.array, getattr(state, name), require_writable=True)
            for name in ("d", "prev_flat_grad", "old_dirs", "old_stps", "scratch")]
    o.d, o.prev_flat_grad, o.old_dirs, o.old_stps, o.scratch = keep
    ro, al = (ffi.from_buffer("double[]", state.ro, require_writable=True),
              ffi.from_buffer("double[]", state.al, require_writable=True))
    o.ro, o.al = ro, al
    status = c.lbfgs_fn(ws.struct, o, step, X.shape[0], _view(c.array, X), _view(c.array, Y),
                        _view("int64_t[]", labels), _view(c.array, weights), ws.out, ws.correct)
    state.n_iter, state.func_evals, state.n_pairs, state.head = o.n_iter, o.func_evals, o.n_pairs, o.head
    state.t, state.H_diag = o.t, o.H_diag
    _check(status, plan, labels, Y)
    return ws.out[0], ws.out[1]


def train_rows(plan: Plan, optimizer: Optimizer, X: FloatArray, Y: Optional[FloatArray],
               labels: Optional[IntArray], weights: Optional[FloatArray], batch_size: int,
               index: Optional[IntArray] = None) -> Tuple[float, float]:
    """Train on all rows of X (or on the rows ``index`` lists, in that order,
    gathered batch by batch in C) in consecutive batches of ``batch_size``,
    in one C call; returns (sum of loss * batch rows, number correct)."""
    c = plan.c or _cplan(plan)
    n = X.shape[0] if index is None else index.shape[0]
    rows = n if n < batch_size else batch_size
    if index is not None:
        check_index(index, X.shape[0])
    ws = c.trainer
    if rows > ws.capacity or ws.config != settings.generation:  # c.training(rows), inlined
        ws.reserve(c, rows)
    opt = c.opt
    steps_before = optimizer.step
    if c.opt_owner is optimizer and c.opt_version == optimizer._version:  # c.sync_optimizer, inlined
        opt.step = steps_before
    else:
        c.sync_optimizer(optimizer)
    last = ws.last  # a training loop passing the same small arrays again: one test for all three views
    if last[0] is X and last[1] is Y and last[2] is labels:
        vx, vy, vl = ws.last_views
    else:
        vx, vy, vl = ws.cached_view(X, 0, c.array), ws.cached_view(Y, 1, c.array), ws.cached_view(labels, 2, "int64_t[]")
        if ws.views[0] is not None and ws.views[0][0] is X:  # small enough to be cached
            ws.last, ws.last_views = (X, Y, labels), (vx, vy, vl)
    out = ws.out
    status = c.train_rows_fn(ws.struct, opt, n, batch_size, vx, vy, vl,
                             _NULL if weights is None else ffi.from_buffer(c.array, weights), X.shape[0],
                             _NULL if index is None else ffi.from_buffer("int64_t[]", index), out, ws.correct)
    optimizer.step = opt.step
    if status:
        if status == lib.PYNN_ERR_DIVERGED:
            raise DivergenceError(DIVERGED_MESSAGE, batches_done=opt.step - steps_before)
        _check(status, plan, labels, Y)
    return out[0], out[1]
