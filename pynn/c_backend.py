"""The C backend: thin wrappers that hand the network's buffers to the
compiled core (pynn._core, built from csrc/ by cffi) in one call each.

Callers (pynn.network) have already checked and converted every array: X and
y are C-contiguous arrays of the network's dtype, labels are int64 and in
range.  The C side checks sizes again and never writes outside the buffers
described in its pynn_net struct.
"""
import os

import numpy as np

from . import backends
from ._core import ffi, lib

_ERRORS = {
    lib.PYNN_ERR_ARGUMENT: (ValueError, "invalid argument passed to the C core"),
    lib.PYNN_ERR_WORKSPACE: (RuntimeError, "workspace too small for the batch (a pynn bug)"),
    lib.PYNN_ERR_LABEL: (ValueError, "a class label in y is out of range"),
}


class _Threads:
    """The process's pool of C worker threads, remade when the thread count
    changes and after fork (the child has none of the parent's threads)."""

    pool = None
    size = 0
    generation = 0  # bumped whenever `pool` is replaced

    @classmethod
    def get(cls):
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
    def forget_after_fork(cls):
        if cls.pool is not None:
            ffi.gc(cls.pool, None)  # its threads do not exist here: never join them
            cls.pool = None
            cls.generation += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_Threads.forget_after_fork)


def _check(status):
    if status != lib.PYNN_OK:
        exc, message = _ERRORS.get(status, (RuntimeError, "C core error %d" % status))
        raise exc(message)


class CNetwork:
    """The pynn_net struct for one Network, and everything it points to kept alive."""

    def __init__(self, net):
        self.ctype = "float" if net.dtype == np.float32 else "double"
        suffix = "_f32" if net.dtype == np.float32 else "_f64"
        self.predict_fn = getattr(lib, "pynn_predict" + suffix)
        self.evaluate_fn = getattr(lib, "pynn_evaluate" + suffix)
        self.gradients_fn = getattr(lib, "pynn_gradients" + suffix)
        self.train_step_fn = getattr(lib, "pynn_train_step" + suffix)
        self.sizes = ffi.new("int64_t[]", [int(s) for s in net._sizes])
        self.acts = ffi.new("int32_t[]", [int(a) for a in net._act_codes])
        self.buffers = {}  # keep-alive for the from_buffer views the struct points into
        self.struct = s = ffi.new("pynn_net *")
        s.n_layers = len(net.layers)
        s.sizes = self.sizes
        s.acts = self.acts
        s.loss = net._loss_code
        s.n_params = net._params.size
        s.params = self._buffer("params", net._params)
        s.grads = self._buffer("grads", net._grads)
        s.state = self._buffer("state", net._state)
        s.state_len = net._state.size
        self.capacity = 0
        self.workspace_size = getattr(lib, "pynn_workspace_size" + suffix)
        self.pool_generation = -1
        self.pool = None
        self.opt = ffi.new("pynn_optimizer *")
        self.loss_out = ffi.new("double[2]")  # loss, number correct

    def _buffer(self, name, array):
        view = ffi.from_buffer(self.ctype + "[]", array, require_writable=True)
        self.buffers[name] = (array, view)
        return view

    def reserve(self, batch):
        """Point the struct at the current thread pool and kernels, and make
        the workspace big enough for ``batch`` rows (it only grows)."""
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

    def sync_optimizer(self, optimizer):
        o = self.opt
        o.kind = optimizer.kind
        o.lr = optimizer.lr
        o.step = optimizer.step
        o.weight_decay = optimizer.weight_decay
        o.momentum = getattr(optimizer, "momentum", 0.0)
        o.nesterov = getattr(optimizer, "nesterov", False)
        o.alpha = getattr(optimizer, "alpha", 0.0)
        o.eps = getattr(optimizer, "eps", 0.0)
        o.beta1, o.beta2 = getattr(optimizer, "betas", (0.0, 0.0))

    def read(self, X, Y=None, labels=None):
        """The cffi views of one batch's arrays (NULL for absent targets)."""
        x = ffi.from_buffer(self.ctype + "[]", X)
        y = ffi.NULL if Y is None else ffi.from_buffer(self.ctype + "[]", Y)
        lab = ffi.NULL if labels is None else ffi.from_buffer("int64_t[]", labels)
        return x, y, lab


def _cnet(net):
    if net._c is None:
        net._c = CNetwork(net)
    return net._c


def predict(net, X):
    c = _cnet(net)
    n = X.shape[0]
    c.reserve(n)
    out = np.empty((n, net.layers[-1].n_out), dtype=net.dtype)
    x, _, _ = c.read(X)
    _check(c.predict_fn(c.struct, n, x, ffi.from_buffer(c.ctype + "[]", out, require_writable=True)))
    return out


def evaluate(net, X, Y, labels):
    c = _cnet(net)
    c.reserve(X.shape[0])
    x, y, lab = c.read(X, Y, labels)
    _check(c.evaluate_fn(c.struct, X.shape[0], x, y, lab, c.loss_out, c.loss_out + 1))
    return c.loss_out[0], c.loss_out[1]


def gradients(net, X, Y, labels):
    c = _cnet(net)
    c.reserve(X.shape[0])
    x, y, lab = c.read(X, Y, labels)
    _check(c.gradients_fn(c.struct, X.shape[0], x, y, lab, c.loss_out, c.loss_out + 1))
    return c.loss_out[0], c.loss_out[1]


def train_step(net, X, Y, labels):
    c = _cnet(net)
    c.reserve(X.shape[0])
    c.sync_optimizer(net.optimizer)
    x, y, lab = c.read(X, Y, labels)
    _check(c.train_step_fn(c.struct, c.opt, X.shape[0], x, y, lab, c.loss_out, c.loss_out + 1))
    return c.loss_out[0], c.loss_out[1]
