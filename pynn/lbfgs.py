"""L-BFGS: a quasi-Newton optimizer for small data sets, as ``torch.optim.LBFGS``.

Gradient descent steps along the gradient; L-BFGS also remembers the last
``history_size`` steps and how the gradient changed along them, builds from
them an estimate of the inverse curvature (the two-loop recursion), and
steps along that better direction, with a strong-Wolfe line search choosing
how far.  On a small data set trained full-batch it usually needs far fewer
steps than SGD or Adam; scikit-learn recommends its ``solver="lbfgs"`` there.

One ``train_step`` (or one batch of ``fit``) is one L-BFGS step: up to
``max_iter`` iterations, each with one or more evaluations of the loss and
its gradient on that batch.  Full batch is the usual use:
``net.fit(X, y, batch_size=len(X), epochs=...)``.

The algorithm is PyTorch's (torch/optim/lbfgs.py), line for line, over the
network's one flat parameter buffer: the same arguments, the same stopping
tests, the same cubic interpolation in the line search; the tests hold its
iterates to ``torch.optim.LBFGS``'s in float64.  On the C backend a whole
step -- every evaluation, the two-loop recursion, the line search -- is one
call into the C core (csrc/lbfgs.inc, ``pynn_lbfgs_step``); the numpy
backend runs the same algorithm here, over the same state (LBFGSState, the
layout of the C struct), so a network may switch backends between steps.
Dot products are accumulated in float64 in both.  With dropout, every
evaluation within one step uses that step's masks.  The curvature history
lives in the optimizer, not in model files: a loaded network's L-BFGS starts
a new history.

>>> import numpy as np
>>> import pynn
>>> X = np.linspace(-1, 1, 20).reshape(-1, 1); y = 3 * X + 1
>>> net = pynn.Network([pynn.Dense(1, 1)], loss="mse", optimizer=pynn.LBFGS(), dtype="float64", seed=0)
>>> loss = net.train_step(X, y)           # one step: up to 20 iterations with line searches
>>> [round(float(w), 3) for w in np.concatenate([p.ravel() for p in net.get_weights()])]
[3.0, 1.0]
>>> net.evaluate(X, y)["loss"] < 1e-8     # it stops once the loss changes by less than 1e-9
True
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

from ._plan import Plan
from ._typing import FloatArray, IntArray
from ._validation import as_float, as_int
from .errors import DIVERGED_MESSAGE, DivergenceError
from .optimizers import OPTIMIZERS, Hyperparameter, Optimizer

_Eval = Callable[[], Tuple[float, float]]


def _positive_int(name: str) -> Callable[[Any, Any], int]:
    return lambda opt, value: as_int(value, name)


def _non_negative(name: str) -> Callable[[Any, Any], float]:
    return lambda opt, value: as_float(value, name, minimum=0.0)


def _check_max_eval(opt: Any, value: Any) -> Optional[int]:
    return None if value is None else as_int(value, "max_eval")


def _check_line_search(opt: Any, value: Any) -> Optional[str]:
    if value not in (None, "strong_wolfe"):
        raise ValueError("line_search_fn must be None or 'strong_wolfe'; got %r" % (value,))
    return value


class LBFGS(Optimizer):
    """L-BFGS with ``torch.optim.LBFGS``'s arguments and meanings (see the
    module docstring).  ``max_eval`` defaults to ``max_iter * 5 // 4``.

    Unlike torch's, the default ``line_search_fn`` is "strong_wolfe" (pynn's
    API fixes it so): without a line search the step is ``lr`` times the
    direction, which needs a well-chosen ``lr``.
    """

    name = "lbfgs"
    kind = -1  # no update kernel of its own in the C core: it calls the backend's gradients
    needs_closure = True

    max_iter = Hyperparameter(_positive_int("max_iter"), "Iterations per step.")
    max_eval = Hyperparameter(_check_max_eval, "Loss evaluations per step (default max_iter * 5 // 4).")
    tolerance_grad = Hyperparameter(_non_negative("tolerance_grad"), "Stop when max |gradient| is below it.")
    tolerance_change = Hyperparameter(_non_negative("tolerance_change"),
                                      "Stop when the loss or the step changes less than this.")
    history_size = Hyperparameter(_positive_int("history_size"), "Update pairs remembered.")
    line_search_fn = Hyperparameter(_check_line_search, '"strong_wolfe" or None.')
    weight_decay = 0.0  # for the Optimizer interface: L-BFGS has none

    def __init__(self, lr: float = 1, max_iter: int = 20, max_eval: Optional[int] = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: Optional[str] = "strong_wolfe") -> None:
        super().__init__(lr)
        self.max_iter = max_iter
        self.max_eval = max_eval
        self.tolerance_grad = tolerance_grad
        self.tolerance_change = tolerance_change
        self.history_size = history_size
        self.line_search_fn = line_search_fn
        self.history: Optional[LBFGSState] = None  # the curvature memory, made at the first step

    def slot_names(self) -> Tuple[str, ...]:
        return ()  # the curvature history lives here, not in the network's state buffer

    def get_config(self) -> Dict[str, Any]:
        return {"lr": self.lr, "max_iter": self.max_iter, "max_eval": self.max_eval,
                "tolerance_grad": self.tolerance_grad, "tolerance_change": self.tolerance_change,
                "history_size": self.history_size, "line_search_fn": self.line_search_fn}

    def numpy_update(self, params: FloatArray, grads: FloatArray, state: FloatArray) -> None:
        raise TypeError("LBFGS needs the loss, not only a gradient: train with train_step or fit")

    def run_rows(self, plan: Plan, backend: Any, X: FloatArray, Y: Optional[FloatArray],
                 labels: Optional[IntArray], weights: Optional[FloatArray], batch_size: int) -> Tuple[float, float]:
        """One L-BFGS step per consecutive batch of ``batch_size`` rows, as a
        backend's train_rows: returns (sum of loss * rows (or batch weight),
        number correct), each batch's loss taken before its step.  A backend
        with ``lbfgs_step`` (the C core) runs the whole step; otherwise (numpy,
        or an objective of the caller's) it runs here, each evaluation through
        ``backend.gradients``."""
        state = self._state_for(plan)
        total = correct = 0.0
        for lo in range(0, X.shape[0], batch_size):
            hi = lo + batch_size
            w = None if weights is None else weights[lo:hi]
            batch = (X[lo:hi], None if Y is None else Y[lo:hi], None if labels is None else labels[lo:hi], w)
            step = self.step + 1  # the dropout masks of this step, for all its evaluations
            if hasattr(backend, "lbfgs_step"):
                loss, right = backend.lbfgs_step(plan, self, state, *batch, step)
            else:
                def evaluate(batch: Any = batch, step: int = step) -> Tuple[float, float]:
                    return backend.gradients(plan, *batch, step)

                loss, right = self._step(plan, state, evaluate)
            if not np.isfinite(plan.params).all():
                raise DivergenceError(DIVERGED_MESSAGE, batches_done=lo // batch_size)
            self.step = step
            total += loss * (min(hi, X.shape[0]) - lo if w is None else float(w.sum(dtype=np.float64)))
            correct += right
        return total, correct

    def _state_for(self, plan: Plan) -> LBFGSState:
        state = self.history
        if state is None or state.d.shape != (plan.n_params,) or state.d.dtype != plan.dtype \
                or state.ro.shape != (self.history_size,):
            state = self.history = LBFGSState(plan.n_params, self.history_size, plan.dtype)
        return state

    # ---- torch.optim.LBFGS.step, over plan.params (csrc/lbfgs.inc is the same in C) -------------

    def _step(self, plan: Plan, h: LBFGSState, evaluate: _Eval) -> Tuple[float, float]:
        max_eval = self.max_eval if self.max_eval is not None else self.max_iter * 5 // 4
        lr, tol_grad, tol_change = self.lr, self.tolerance_grad, self.tolerance_change
        params, d, m = plan.params, h.d, self.history_size

        orig_loss, correct = evaluate()
        if not np.isfinite(orig_loss):
            raise DivergenceError(DIVERGED_MESSAGE)
        loss = orig_loss
        flat_grad = plan.grads.copy()
        current_evals = 1
        h.func_evals += 1
        if np.abs(flat_grad).max() <= tol_grad:
            return orig_loss, correct

        t = h.t
        n_iter = 0
        while n_iter < self.max_iter:
            n_iter += 1
            h.n_iter += 1
            if h.n_iter == 1:
                np.negative(flat_grad, out=d)
                h.n_pairs = h.head = 0
                h.H_diag = 1.0
            else:
                y = flat_grad - h.prev_flat_grad
                s = d * d.dtype.type(t)
                ys = _dot(y, s)
                if ys > 1e-10:
                    if h.n_pairs == m:  # full: the oldest pair goes
                        slot = h.head
                        h.head = (h.head + 1) % m
                    else:
                        slot = (h.head + h.n_pairs) % m
                        h.n_pairs += 1
                    h.old_dirs[slot], h.old_stps[slot], h.ro[slot] = y, s, 1.0 / ys
                    h.H_diag = ys / _dot(y, y)
                slots = [(h.head + k) % m for k in range(h.n_pairs)]
                np.negative(flat_grad, out=d)  # q, then r, in place: d
                for k in range(len(slots) - 1, -1, -1):
                    h.al[k] = _dot(h.old_stps[slots[k]], d) * h.ro[slots[k]]
                    d += d.dtype.type(-h.al[k]) * h.old_dirs[slots[k]]
                d *= d.dtype.type(h.H_diag)
                for k in range(len(slots)):
                    be = _dot(h.old_dirs[slots[k]], d) * h.ro[slots[k]]
                    d += d.dtype.type(h.al[k] - be) * h.old_stps[slots[k]]
            h.prev_flat_grad[...] = flat_grad
            prev_loss = loss
            if h.n_iter == 1:
                g_sum = float(np.abs(flat_grad.astype(np.float64)).sum())
                t = (min(1.0, 1.0 / g_sum) if g_sum > 0 else 1.0) * lr
            else:
                t = lr
            gtd = _dot(flat_grad, d)
            if gtd > -tol_change:
                break

            ls_func_evals = 0
            if self.line_search_fn is not None:
                x_init = params.copy()
                counter = [0]

                def directional(t_: float, x_: FloatArray = x_init) -> Tuple[float, FloatArray]:
                    params[...] = x_ + d.dtype.type(t_) * d
                    value = evaluate()[0]
                    counter[0] += 1
                    grad = plan.grads.copy()
                    params[...] = x_
                    return value, grad

                # the evaluations left in this step bound the line search (torch passes the same)
                loss, flat_grad, t = _strong_wolfe(directional, t, d, loss, flat_grad, gtd,
                                                   max_ls=max(0, max_eval - current_evals))
                ls_func_evals = counter[0]
                params += d.dtype.type(t) * d
                opt_cond = np.abs(flat_grad).max() <= tol_grad
            else:
                params += d.dtype.type(t) * d
                opt_cond = False
                if n_iter != self.max_iter:
                    loss = evaluate()[0]
                    flat_grad = plan.grads.copy()
                    opt_cond = np.abs(flat_grad).max() <= tol_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            h.func_evals += ls_func_evals

            if n_iter == self.max_iter or current_evals >= max_eval or opt_cond:
                break
            if np.abs(d * d.dtype.type(t)).max() <= tol_change or abs(loss - prev_loss) < tol_change:
                break
        h.t = t
        return orig_loss, correct


class LBFGSState:
    """L-BFGS's state between steps, in the layout of the C core's pynn_lbfgs
    (csrc/pynn.h): the last direction and gradient, and the last
    ``history_size`` update pairs in a ring whose oldest is at ``head``."""

    def __init__(self, n: int, history_size: int, dtype: Any) -> None:
        self.d = np.zeros(n, dtype=dtype)
        self.prev_flat_grad = np.zeros(n, dtype=dtype)
        self.old_dirs = np.zeros((history_size, n), dtype=dtype)
        self.old_stps = np.zeros((history_size, n), dtype=dtype)
        self.ro = np.zeros(history_size)
        self.al = np.zeros(history_size)
        self.scratch = np.zeros(7 * n, dtype=dtype)  # the C core's working space
        self.n_iter = self.func_evals = self.n_pairs = self.head = 0
        self.t = 0.0
        self.H_diag = 1.0


def _dot(a: FloatArray, b: FloatArray) -> float:
    """a . b accumulated in float64, as the C core does."""
    return float(a.astype(np.float64).dot(b.astype(np.float64)))


def _cubic_interpolate(x1: float, f1: float, g1: float, x2: float, f2: float, g2: float,
                       bounds: Optional[Tuple[float, float]] = None) -> float:
    """The minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), kept
    within ``bounds`` (torch's _cubic_interpolate)."""
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = d2_square ** 0.5
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func: Callable[[float], Tuple[float, FloatArray]], t: float, d: FloatArray, f: float,
                  g: FloatArray, gtd: float, c1: float = 1e-4, c2: float = 0.9, tolerance_change: float = 1e-9,
                  max_ls: int = 25) -> Tuple[float, FloatArray, float]:
    """A step length t satisfying the strong Wolfe conditions along d from
    loss f and gradient g (torch's _strong_wolfe): (f_new, g_new, t)."""
    d_norm = float(np.abs(d).max())
    g = g.copy()
    f_new, g_new = obj_func(t)
    gtd_new = _dot(g_new, d)
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    ls_iter = 0
    bracket: List[float] = []
    bracket_f: List[float] = []
    bracket_g: List[FloatArray] = []
    bracket_gtd: List[float] = []
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new.copy(), gtd_new
        f_new, g_new = obj_func(t)
        gtd_new = _dot(g_new, d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0.0, t], [f, f_new], [g, g_new]

    # zoom: shrink the bracket until a point satisfies the conditions
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                t = max(bracket) - eps if abs(t - max(bracket)) < abs(t - min(bracket)) else min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(t)
        gtd_new = _dot(g_new, d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new.copy(), gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos], bracket_gtd[high_pos] = bracket_g[low_pos], bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new.copy(), gtd_new
    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos]


OPTIMIZERS[LBFGS.name] = LBFGS  # by name too: pynn.Network(..., optimizer="lbfgs"), and model files
