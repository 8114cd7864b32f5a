"""The C backend: thin wrappers that hand the network's buffers to the
compiled core (pynn._core, built from csrc/ by cffi) in one call each.

Callers (pynn.network) have already checked and converted every array: X and
y are C-contiguous arrays of the network's dtype, labels are int64 and in
range.  The C side checks sizes again and never writes outside the buffers
described in its pynn_net struct.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, List, Optional, Tuple

import numpy as np

from . import backends
from ._core import ffi, lib

from . import losses
from ._typing import FloatArray, IntArray
from ._validation import nonfinite_error
from .errors import DIVERGED_MESSAGE, DivergenceError
from .optimizers import Optimizer

if TYPE_CHECKING:
    from .network import Network


def _check(status: int, net: Network, labels: Optional[IntArray] = None) -> None:
    """Turn a pynn_status into the exception the numpy backend would raise."""
    if status == lib.PYNN_OK:
        return
    if status == lib.PYNN_ERR_X_NONFINITE:
        raise nonfinite_error("X")
    if status == lib.PYNN_ERR_Y_NONFINITE:
        raise nonfinite_error("y")
    if status == lib.PYNN_ERR_Y_RANGE:
        raise losses.range_error(net.loss)
    if status == lib.PYNN_ERR_LABEL:
        assert labels is not None  # the C core only reports labels it was given
        raise losses.label_error(labels, net.n_outputs)
    if status == lib.PYNN_ERR_DIVERGED:
        raise DivergenceError(DIVERGED_MESSAGE)
    if status == lib.PYNN_ERR_WORKSPACE:
        raise RuntimeError("pynn bug: workspace too small for the batch")
    raise RuntimeError("pynn bug: the C core rejected its arguments (status %d)" % status)


class _Threads:
    """The process's pool of C worker threads, remade when the thread count
    changes and after fork (the child has none of the parent's threads)."""

    pool: Any = None
    size = 0
    generation = 0  # bumped whenever `pool` is replaced

    @classmethod
    def get(cls) -> Any:
        n = backends.get_num_threads()
        if cls.pool is None or cls.size != n:
            pool = lib.pynn_pool_create(n)
            if pool == ffi.NULL:
                raise MemoryError("could not start %d threads" % n)
            # destroyed (threads joined) when no network refers to it any more
            cls.pool = ffi.gc(pool, lib.pynn_pool_destroy)
            cls.size = n
            cls.generation += 1
        return cls.pool

    @classmethod
    def forget_after_fork(cls) -> None:
        if cls.pool is not None:
            ffi.gc(cls.pool, None)  # its threads do not exist here: never join them
            cls.pool = None
            cls.generation += 1
        backends.config_generation += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_Threads.forget_after_fork)


class CNetwork:
    """The pynn_net struct for one Network, and everything it points to kept alive."""

    def __init__(self, net: Network) -> None:
        self.ctype = "float" if net.dtype == np.float32 else "double"
        suffix = "_f32" if net.dtype == np.float32 else "_f64"
        self.predict_fn = getattr(lib, "pynn_predict" + suffix)
        self.evaluate_fn = getattr(lib, "pynn_evaluate" + suffix)
        self.gradients_fn = getattr(lib, "pynn_gradients" + suffix)
        self.train_rows_fn = getattr(lib, "pynn_train_rows" + suffix)
        self.sizes = ffi.new("int64_t[]", [int(s) for s in net._sizes])
        self.acts = ffi.new("int32_t[]", [int(a) for a in net._act_codes])
        self.buffers: dict[str, Tuple[FloatArray, Any]] = {}  # keep-alive for the from_buffer views the struct points into
        self.struct = s = ffi.new("pynn_net *")
        s.n_layers = len(net._dense)
        s.sizes = self.sizes
        s.acts = self.acts
        s.loss = net._loss_code
        s.n_params = net._params.size
        s.params = self._buffer("params", net._params)
        s.grads = self._buffer("grads", net._grads)
        s.state = self._buffer("state", net._state)
        s.state_len = net._state.size
        self.dropout: Any = None  # keep-alive for the rates the struct points to
        if net._has_dropout:
            self.dropout = s.dropout = ffi.new("double[]", [float(p) for p in net._drop_rates])
            s.dropout_seed = net._dropout_seed
        self.capacity = 0
        self.workspace_size = getattr(lib, "pynn_workspace_size" + suffix)
        self.pool_generation = -1
        self.config = -1  # backends.config_generation when threads and simd were last read
        self.pool: Any = None
        self.opt = ffi.new("pynn_optimizer *")
        self.opt_owner: Optional[Optimizer] = None
        self.opt_version: Optional[int] = None
        self.views: List[Optional[Tuple[Any, Any]]] = [None, None, None]  # (array, view) for X, y and labels: see cached_view
        self.loss_out = ffi.new("double[2]")  # loss, number correct
        self.correct_out = self.loss_out + 1

    def _buffer(self, name: str, array: FloatArray) -> Any:
        view = ffi.from_buffer(self.ctype + "[]", array, require_writable=True)
        self.buffers[name] = (array, view)
        return view

    def reserve(self, batch: int) -> None:
        """Point the struct at the current thread pool and kernels, and make
        the workspace big enough for ``batch`` rows (it only grows)."""
        if batch <= self.capacity and self.config == backends.config_generation:
            return  # the per-step fast path
        self.config = backends.config_generation
        s = self.struct
        s.simd = backends.simd_code()
        pool = _Threads.get()
        if self.pool_generation != _Threads.generation:
            self.pool = pool  # keeps the pool alive while this network may use it
            s.pool = pool
            self.pool_generation = _Threads.generation
            self.capacity = 0  # packing space depends on the number of threads
        if batch <= self.capacity:
            return
        size = self.workspace_size(s, batch)
        if size < 0:
            raise MemoryError("a batch of %d rows needs more workspace than can be addressed" % batch)
        work = np.empty(size, dtype=np.float32 if self.ctype == "float" else np.float64)
        s.work = self._buffer("work", work)
        s.work_len = size
        self.capacity = batch

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

    def view(self, array: Optional[FloatArray], writable: bool = False) -> Any:
        """The cffi view of one of the batch's arrays (NULL for None)."""
        if array is None:
            return ffi.NULL
        return ffi.from_buffer(self.ctype + "[]", array, require_writable=writable)

    def cached_view(self, array: Any, slot: int, ctype: Optional[str] = None) -> Any:
        """view(), remembered for the last small array seen in ``slot``.

        Making a view costs about a microsecond, as much as a whole training
        step of a tiny network; a training loop that passes the same small
        arrays again reuses their views.  The cache holds the array itself,
        so its memory cannot move or be freed while the view exists."""
        if array is None:
            return ffi.NULL
        last = self.views[slot]
        if last is not None and last[0] is array:
            return last[1]
        v = ffi.from_buffer((ctype or self.ctype) + "[]", array)
        if array.nbytes <= _CACHE_BYTES:
            self.views[slot] = (array, v)
        return v

    @staticmethod
    def labels(labels: Optional[IntArray]) -> Any:
        return ffi.NULL if labels is None else ffi.from_buffer("int64_t[]", labels)


_CACHE_BYTES = 1 << 16  # views of arrays up to this size are reused (cached_view)


def _cnet(net: Network) -> CNetwork:
    c = net._c
    if c is None:
        c = net._c = CNetwork(net)
    return c


def predict(net: Network, X: FloatArray) -> FloatArray:
    c = _cnet(net)
    n = X.shape[0]
    c.reserve(n)
    out = np.empty((n, net.n_outputs), dtype=net.dtype)
    status = c.predict_fn(c.struct, n, c.cached_view(X, 0), ffi.from_buffer(c.ctype + "[]", out, require_writable=True))
    if status:
        _check(status, net)
    return out


def evaluate(net: Network, X: FloatArray, Y: Optional[FloatArray], labels: Optional[IntArray]) -> Tuple[float, float]:
    c = _cnet(net)
    c.reserve(X.shape[0])
    _check(c.evaluate_fn(c.struct, X.shape[0], c.view(X), c.view(Y), c.labels(labels), c.loss_out,
                         c.correct_out), net, labels)
    return c.loss_out[0], c.loss_out[1]


def gradients(net: Network, X: FloatArray, Y: Optional[FloatArray], labels: Optional[IntArray],
              step: int) -> Tuple[float, float]:
    c = _cnet(net)
    c.reserve(X.shape[0])
    _check(c.gradients_fn(c.struct, step, X.shape[0], c.view(X), c.view(Y), c.labels(labels), c.loss_out,
                          c.correct_out), net, labels)
    return c.loss_out[0], c.loss_out[1]


def train_rows(net: Network, X: FloatArray, Y: Optional[FloatArray], labels: Optional[IntArray],
               batch_size: int) -> Tuple[float, float]:
    """Train on all rows of X in consecutive batches of ``batch_size``, in one
    C call; returns (sum of loss * batch rows, number correct)."""
    c = net._c or _cnet(net)
    rows = X.shape[0] if X.shape[0] < batch_size else batch_size
    if rows > c.capacity or c.config != backends.config_generation:  # reserve()'s test, inlined
        c.reserve(rows)
    opt = c.sync_optimizer(net.optimizer)
    steps_before = opt.step
    status = c.train_rows_fn(c.struct, opt, X.shape[0], batch_size, c.cached_view(X, 0), c.cached_view(Y, 1),
                             c.cached_view(labels, 2, "int64_t"), c.loss_out, c.correct_out)
    net.optimizer.step = opt.step
    if status == lib.PYNN_ERR_DIVERGED:
        raise DivergenceError(DIVERGED_MESSAGE, batches_done=opt.step - steps_before)
    if status:
        _check(status, net, labels)
    return c.loss_out[0], c.loss_out[1]
