"""pynn.LBFGS against torch.optim.LBFGS, which it follows line for line (issue 14).

The same network and data in float64, both optimizers from the same weights: the iterates agree
iteration by iteration (max_iter=1: each step one iteration; the history carries over), with and
without the strong-Wolfe line search, with a history short enough to drop pairs, and over whole
steps of 20 iterations.  Plus what does not need PyTorch: a least-squares problem solved to its
closed form, fit as repeated full-batch steps, the arguments' checks, and model files."""
import numpy as np
import pytest

import pynn

torch = None


def _torch():
    global torch
    torch = pytest.importorskip("torch")
    return torch


def _problem(loss, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(30, 3))
    if loss == "mse":
        return X, np.sin(X @ rng.normal(size=(3, 2))), "linear", 2
    return X, rng.integers(0, 3, size=30), "softmax", 3


def _pair(loss, **options):
    """A pynn network with LBFGS(**options) and torch parameters and optimizer at the same weights."""
    t = _torch()
    X, y, out, k = _problem(loss)
    net = pynn.Network([pynn.Dense(3, 5, "tanh"), pynn.Dense(5, k, out)], loss=loss,
                       optimizer=pynn.LBFGS(**options), dtype="float64", seed=0)
    params = [t.tensor(w.T.copy() if w.ndim == 2 else w.copy(), requires_grad=True) for w in net.get_weights()]
    opt = t.optim.LBFGS(params, **options)
    Xt, yt = t.tensor(X), t.tensor(y)

    def closure():
        opt.zero_grad()
        z = t.tanh(Xt @ params[0].T + params[1]) @ params[2].T + params[3]
        value = t.nn.functional.mse_loss(z, yt) if loss == "mse" else t.nn.functional.cross_entropy(z, yt)
        value.backward()
        return value

    def torch_weights():
        return np.concatenate([(p.detach().numpy().T if p.ndim == 2 else p.detach().numpy()).ravel()
                               for p in params])

    return net, X, y, opt, closure, torch_weights


def _flat(net):
    return np.concatenate([w.ravel() for w in net.get_weights()])


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
@pytest.mark.parametrize("line_search", ["strong_wolfe", None])
@pytest.mark.parametrize("history", [100, 3])
def test_iterates_match_pytorch_one_iteration_at_a_time(loss, line_search, history):
    net, X, y, opt, closure, torch_weights = _pair(loss, max_iter=1, history_size=history,
                                                   line_search_fn=line_search)
    for step in range(12):
        assert net.train_step(X, y) == pytest.approx(opt.step(closure).item(), rel=1e-9)
        np.testing.assert_allclose(_flat(net), torch_weights(), rtol=1e-8, atol=1e-10,
                                   err_msg="iteration %d" % step)
    assert net.optimizer.step == 12


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_whole_steps_match_pytorch(loss):
    net, X, y, opt, closure, torch_weights = _pair(loss, line_search_fn="strong_wolfe")
    for step in range(2):  # 20 iterations each, with line searches
        assert net.train_step(X, y) == pytest.approx(opt.step(closure).item(), rel=1e-9)
        np.testing.assert_allclose(_flat(net), torch_weights(), rtol=1e-7, atol=1e-9)


def test_least_squares_reaches_the_closed_form():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 3.0]) + 0.7 + 0.01 * rng.normal(size=50)
    net = pynn.Network([pynn.Dense(4, 1)], loss="mse", dtype="float64", seed=0,
                       optimizer=pynn.LBFGS(max_iter=100, tolerance_grad=1e-12, tolerance_change=1e-15))
    net.train_step(X, y)
    A = np.column_stack([X, np.ones(50)])
    exact = np.linalg.lstsq(A, y, rcond=None)[0]
    np.testing.assert_allclose(_flat(net), exact, rtol=1e-6, atol=1e-8)


def test_fit_full_batch_is_one_step_per_epoch():
    X, y, out, k = _problem("cross_entropy", seed=2)
    make = lambda: pynn.Network([pynn.Dense(3, 8, "tanh"), pynn.Dense(8, k, out)], loss="cross_entropy",  # noqa: E731
                                optimizer=pynn.LBFGS(max_iter=5), dtype="float64", seed=3)
    a, b = make(), make()
    history = a.fit(X, y, epochs=4, batch_size=len(X), shuffle=False, verbose=0)
    losses = [b.train_step(X, y) for _ in range(4)]
    np.testing.assert_allclose(history.history["loss"], losses, rtol=1e-12)
    np.testing.assert_array_equal(_flat(a), _flat(b))
    assert a.optimizer.step == 4 and all(later < earlier for earlier, later in zip(losses, losses[1:]))


def test_arguments_are_checked():
    for bad in ({"max_iter": 0}, {"history_size": 0}, {"tolerance_grad": -1.0}, {"lr": -1.0},
                {"line_search_fn": "armijo"}, {"max_eval": 0}):
        with pytest.raises(ValueError):
            pynn.LBFGS(**bad)
    net = pynn.Network([pynn.Dense(2, 1)], optimizer="lbfgs")
    assert isinstance(net.optimizer, pynn.LBFGS) and net.optimizer.line_search_fn == "strong_wolfe"
    with pytest.raises(TypeError, match="train_step or fit"):
        net.apply_gradients(net.gradients([[0.0, 1.0]], [1.0]))


def test_model_file_keeps_the_settings_and_restarts_the_history(tmp_path):
    X, y, out, k = _problem("mse")
    net = pynn.Network([pynn.Dense(3, 4, "tanh"), pynn.Dense(4, k)], optimizer=pynn.LBFGS(max_iter=3, history_size=7),
                       dtype="float64", seed=0)
    net.train_step(X, y)
    net.save(tmp_path / "m.safetensors")
    loaded = pynn.load(tmp_path / "m.safetensors")
    assert loaded.optimizer.get_config() == net.optimizer.get_config() and loaded.optimizer.step == 1
    fresh = pynn.Network([pynn.Dense(3, 4, "tanh"), pynn.Dense(4, k)], optimizer=pynn.LBFGS(max_iter=3, history_size=7),
                         dtype="float64", seed=0)
    fresh.set_weights(net.get_weights())
    assert loaded.train_step(X, y) == fresh.train_step(X, y)  # a new history, as after a restart
    np.testing.assert_array_equal(_flat(loaded), _flat(fresh))


def test_the_c_core_runs_the_whole_step(backend, monkeypatch):
    """On the C backend one train_step is one call of pynn_lbfgs_step (csrc/lbfgs.inc); the numpy
    backend runs the same algorithm in pynn/lbfgs.py.  Both meet PyTorch's iterates above."""
    from pynn import backends
    impl = backends.implementation()
    assert hasattr(impl, "lbfgs_step") == (backend == "c")
    if backend == "c":
        calls = []
        original = impl.lbfgs_step
        monkeypatch.setattr(impl, "lbfgs_step", lambda *a: calls.append(1) or original(*a))
        X, y, out, k = _problem("mse")
        net = pynn.Network([pynn.Dense(3, k)], optimizer=pynn.LBFGS(), dtype="float64", seed=0)
        net.train_step(X, y)
        net.train_step(X, y)
        assert len(calls) == 2 and net.optimizer.history.n_iter >= 2


def test_float32_steps_agree_between_backends():
    X, y, out, k = _problem("cross_entropy", seed=4)
    results = []
    for name in pynn.available_backends():
        pynn.set_backend(name)
        net = pynn.Network([pynn.Dense(3, 6, "tanh"), pynn.Dense(6, k, out)], loss="cross_entropy",
                           optimizer=pynn.LBFGS(max_iter=4), dtype="float32", seed=0)
        results.append([net.train_step(X, y) for _ in range(3)] + list(_flat(net)))
    for other in results[1:]:
        np.testing.assert_allclose(other, results[0], rtol=2e-4, atol=1e-5)
