"""Optimizer update rules: each pynn optimizer must follow its PyTorch namesake exactly.

Checked two ways over several steps in float64:
  (a) the published update formula, written here in numpy and fed with ``net.gradients`` at each
      step (so only the update rule is under test);
  (b) ``torch.optim`` driving an equivalent ``torch.nn.Sequential`` from the same initial weights
      (so the gradients and the update rule are both under test).
"""
import numpy as np
import pytest

import pynn

N_STEPS = 5

# name -> (class name in pynn and in torch.optim, hyper-parameters)
CONFIGS = {
    "sgd": ("SGD", dict(lr=0.1)),
    "sgd_momentum": ("SGD", dict(lr=0.1, momentum=0.9)),
    "sgd_nesterov": ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    "sgd_weight_decay": ("SGD", dict(lr=0.1, weight_decay=0.05)),
    "sgd_momentum_wd": ("SGD", dict(lr=0.05, momentum=0.8, weight_decay=0.1)),
    "adam": ("Adam", dict(lr=0.01)),
    "adam_betas": ("Adam", dict(lr=0.02, betas=(0.8, 0.95), eps=1e-6)),
    "adam_weight_decay": ("Adam", dict(lr=0.01, weight_decay=0.1)),
    "adamw": ("AdamW", dict(lr=0.01)),
    "adamw_wd": ("AdamW", dict(lr=0.01, weight_decay=0.2, betas=(0.85, 0.99))),
    "rmsprop": ("RMSprop", dict(lr=0.01)),
    "rmsprop_momentum": ("RMSprop", dict(lr=0.01, momentum=0.9)),
    "rmsprop_weight_decay": ("RMSprop", dict(lr=0.01, alpha=0.9, weight_decay=0.1)),
    "rmsprop_momentum_wd": ("RMSprop", dict(lr=0.005, momentum=0.5, weight_decay=0.05, eps=1e-6)),
}


class RefOptimizer:
    """The PyTorch update rules (docs of torch.optim), float64 numpy, no PyTorch involved."""

    def __init__(self, kind, hp):
        self.kind, self.hp, self.t, self.state = kind, hp, 0, {}

    def step(self, params, grads):
        self.t += 1
        return [self._one(i, p, g) for i, (p, g) in enumerate(zip(params, grads))]

    def _one(self, i, p, g):
        hp, t, st = self.hp, self.t, self.state.setdefault(i, {})
        lr, wd = hp["lr"], hp.get("weight_decay", 0.0)
        p = p.copy()
        g = g.copy()
        if self.kind == "SGD":
            mu, nesterov = hp.get("momentum", 0.0), hp.get("nesterov", False)
            if wd:
                g = g + wd * p
            if mu:
                st["buf"] = g.copy() if t == 1 else mu * st["buf"] + g
                g = g + mu * st["buf"] if nesterov else st["buf"]
            return p - lr * g
        if self.kind in ("Adam", "AdamW"):
            b1, b2 = hp.get("betas", (0.9, 0.999))
            eps = hp.get("eps", 1e-8)
            if self.kind == "AdamW":
                p = p * (1 - lr * hp.get("weight_decay", 1e-2))
            elif wd:
                g = g + wd * p
            st["m"] = b1 * st.get("m", 0.0) + (1 - b1) * g
            st["v"] = b2 * st.get("v", 0.0) + (1 - b2) * g * g
            m_hat = st["m"] / (1 - b1 ** t)
            v_hat = st["v"] / (1 - b2 ** t)
            return p - lr * m_hat / (np.sqrt(v_hat) + eps)
        if self.kind == "RMSprop":
            alpha, eps, mu = hp.get("alpha", 0.99), hp.get("eps", 1e-8), hp.get("momentum", 0.0)
            if wd:
                g = g + wd * p
            st["v"] = alpha * st.get("v", 0.0) + (1 - alpha) * g * g
            avg = np.sqrt(st["v"]) + eps
            if mu:
                st["buf"] = mu * st.get("buf", 0.0) + g / avg
                return p - lr * st["buf"]
            return p - lr * g / avg
        raise AssertionError(self.kind)


def _data():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(12, 3))
    Y = rng.normal(size=(12, 2))
    return X, Y


def _net(kind, hp):
    opt = getattr(pynn, kind)(**hp)
    return pynn.Network(
        [pynn.Dense(3, 5, activation="tanh"), pynn.Dense(5, 2, activation="linear")],
        loss="mse", optimizer=opt, dtype="float64", seed=3,
    )


def _close(got, want, rtol=1e-12):
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=1e-15)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_update_rule_matches_formula(name):
    """Each step moves the weights exactly as the published rule applied to net.gradients."""
    kind, hp = CONFIGS[name]
    X, Y = _data()
    net = _net(kind, hp)
    ref = RefOptimizer(kind, hp)
    for _ in range(N_STEPS):
        params = net.get_weights()
        grads = net.gradients(X, Y)
        expected = ref.step(params, grads)
        net.train_step(X, Y)
        got = net.get_weights()
        _close(got, expected)
        # the weights really moved (a no-op optimizer cannot pass)
        assert any(not np.array_equal(a, b) for a, b in zip(got, params))


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_matches_torch_optim(name):
    """Losses and weights over several steps equal torch.optim on the same Sequential, float64."""
    torch = pytest.importorskip("torch")
    kind, hp = CONFIGS[name]
    X, Y = _data()
    net = _net(kind, hp)
    W1, b1, W2, b2 = net.get_weights()
    model = torch.nn.Sequential(
        torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2)
    ).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(W1.T.copy()))
        model[0].bias.copy_(torch.from_numpy(b1))
        model[2].weight.copy_(torch.from_numpy(W2.T.copy()))
        model[2].bias.copy_(torch.from_numpy(b2))
    opt = getattr(torch.optim, kind)(model.parameters(), **hp)
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    for _ in range(N_STEPS):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(Xt), Yt)
        loss.backward()
        opt.step()
        got_loss = net.train_step(X, Y)
        assert got_loss == pytest.approx(loss.item(), rel=1e-12)
        want = [
            model[0].weight.detach().numpy().T, model[0].bias.detach().numpy(),
            model[2].weight.detach().numpy().T, model[2].bias.detach().numpy(),
        ]
        _close(net.get_weights(), want)


def test_default_optimizer_is_sgd_001():
    """Network() without an optimizer uses plain SGD with lr 0.01: w -= 0.01 * grad."""
    X, Y = _data()
    net = pynn.Network([pynn.Dense(3, 2)], loss="mse", dtype="float64", seed=0)
    assert net.optimizer.lr == pytest.approx(0.01)
    p = net.get_weights()
    g = net.gradients(X, Y)
    net.train_step(X, Y)
    _close(net.get_weights(), [a - 0.01 * b for a, b in zip(p, g)])


@pytest.mark.parametrize("name,kind", [("sgd", "SGD"), ("adam", "Adam"), ("adamw", "AdamW"),
                                       ("rmsprop", "RMSprop")])
def test_optimizer_by_name_uses_defaults(name, kind):
    """optimizer="<name>" behaves like the class with its PyTorch-default hyper-parameters."""
    X, Y = _data()
    defaults = {"SGD": dict(lr=0.01), "Adam": dict(lr=1e-3), "AdamW": dict(lr=1e-3),
                "RMSprop": dict(lr=1e-2)}[kind]
    net = pynn.Network(
        [pynn.Dense(3, 5, activation="tanh"), pynn.Dense(5, 2)],
        loss="mse", optimizer=name, dtype="float64", seed=3,
    )
    assert isinstance(net.optimizer, getattr(pynn, kind))
    ref = RefOptimizer(kind, defaults)
    for _ in range(3):
        expected = ref.step(net.get_weights(), net.gradients(X, Y))
        net.train_step(X, Y)
        _close(net.get_weights(), expected)


def test_lr_is_writable():
    """Changing net.optimizer.lr between steps changes the next step size accordingly."""
    X, Y = _data()
    net = pynn.Network([pynn.Dense(3, 2)], loss="mse", optimizer=pynn.SGD(lr=0.1),
                       dtype="float64", seed=0)
    net.optimizer.lr = 0.025
    assert net.optimizer.lr == pytest.approx(0.025)
    p = net.get_weights()
    g = net.gradients(X, Y)
    net.train_step(X, Y)
    _close(net.get_weights(), [a - 0.025 * b for a, b in zip(p, g)])
