"""Loss and activation values and gradients, checked against PyTorch autograd in float64.

A two-layer net ``X -> act(X @ W1 + b1) -> out_act(. @ W2 + b2)`` is rebuilt in torch from the
same weights; ``predict``, ``evaluate(...)["loss"]`` and ``gradients`` must match torch's
forward value, loss and ``.grad``.  The last tests check numerical stability: pre-activations
of magnitude 1e4 must give finite, correct numbers in float32 and float64.
"""
import numpy as np
import pytest

import pynn

torch = pytest.importorskip("torch")
F = torch.nn.functional

ACTS = {
    "linear": lambda z: z,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, 0.01),
    "gelu": lambda z: F.gelu(z),  # exact erf form
}
REG_LOSSES = {
    "mse": torch.nn.MSELoss(),
    "mae": torch.nn.L1Loss(),
    "huber": torch.nn.HuberLoss(delta=1.0),
}
N, N_IN, N_HID = 16, 4, 6


def _build(hidden_act, out_act, n_out, loss, dtype="float64", seed=11):
    return pynn.Network(
        [pynn.Dense(N_IN, N_HID, activation=hidden_act),
         pynn.Dense(N_HID, n_out, activation=out_act)],
        loss=loss, dtype=dtype, seed=seed,
    )


def _torch_forward(net, X, hidden_act):
    """Return (pre-activation of the last layer, torch parameter list) for net's weights."""
    ps = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in net.get_weights()]
    W1, b1, W2, b2 = ps
    h = ACTS[hidden_act](torch.from_numpy(np.asarray(X, dtype=np.float64)) @ W1 + b1)
    return h @ W2 + b2, ps


def _check_grads(net, X, y, loss_t, ps, rtol=1e-10):
    loss_t.backward()
    got = net.gradients(X, y)
    assert len(got) == len(ps)
    for g, p in zip(got, ps):
        assert g.shape == tuple(p.shape)
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=rtol, atol=1e-13)


def _data(n_out, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, N_IN)) * 1.5
    Y = rng.normal(size=(N, n_out)) * 1.5  # spread so huber sees both |r| < 1 and |r| > 1
    return X, Y


@pytest.mark.parametrize("loss", sorted(REG_LOSSES))
@pytest.mark.parametrize("act", sorted(ACTS))
def test_regression_loss_and_activation(act, loss):
    """predict, loss and gradients for every activation (hidden and output) x regression loss."""
    X, Y = _data(3)
    net = _build(act, act, 3, loss)
    z, ps = _torch_forward(net, X, act)
    pred_t = ACTS[act](z)
    np.testing.assert_allclose(net.predict(X), pred_t.detach().numpy(), rtol=1e-12, atol=1e-14)
    loss_t = REG_LOSSES[loss](pred_t, torch.from_numpy(Y))
    assert net.evaluate(X, Y)["loss"] == pytest.approx(loss_t.item(), rel=1e-12)
    _check_grads(net, X, Y, loss_t, ps)


def test_huber_sees_both_branches():
    """Guard for the test above: the data really exercise both pieces of the huber loss."""
    X, Y = _data(3)
    net = _build("tanh", "linear", 3, "huber")
    r = np.abs(net.predict(X) - Y)
    assert (r < 1).any() and (r > 1).any()


@pytest.mark.parametrize("loss", ["mse", "mae", "huber"])
def test_regression_1d_target(loss):
    """A regression net with one output accepts y of shape (N,) and gives the (N, 1) answer."""
    X, Y = _data(1)
    net = _build("tanh", "linear", 1, loss)
    z, ps = _torch_forward(net, X, "tanh")
    loss_t = REG_LOSSES[loss](z, torch.from_numpy(Y))
    assert net.evaluate(X, Y[:, 0])["loss"] == pytest.approx(loss_t.item(), rel=1e-12)
    _check_grads(net, X, Y[:, 0], loss_t, ps)


@pytest.mark.parametrize("hidden", ["tanh", "relu", "gelu"])
def test_cross_entropy_int_labels(hidden):
    """softmax + cross_entropy with int labels == CrossEntropyLoss on the pre-softmax values."""
    X, _ = _data(3)
    labels = np.random.default_rng(1).integers(0, 3, size=N)
    net = _build(hidden, "softmax", 3, "cross_entropy")
    z, ps = _torch_forward(net, X, hidden)
    np.testing.assert_allclose(net.predict(X), torch.softmax(z, 1).detach().numpy(),
                               rtol=1e-12, atol=1e-15)
    loss_t = torch.nn.CrossEntropyLoss()(z, torch.from_numpy(labels))
    assert net.evaluate(X, labels)["loss"] == pytest.approx(loss_t.item(), rel=1e-12)
    _check_grads(net, X, labels, loss_t, ps)


def test_cross_entropy_prob_rows():
    """cross_entropy with probability rows (N, K) == CrossEntropyLoss with probability targets."""
    X, _ = _data(4)
    P = np.random.default_rng(2).dirichlet(np.ones(4), size=N)
    net = _build("tanh", "softmax", 4, "cross_entropy")
    z, ps = _torch_forward(net, X, "tanh")
    loss_t = torch.nn.CrossEntropyLoss()(z, torch.from_numpy(P))
    assert net.evaluate(X, P)["loss"] == pytest.approx(loss_t.item(), rel=1e-12)
    _check_grads(net, X, P, loss_t, ps)


def test_cross_entropy_one_hot_equals_labels():
    """One-hot rows and the equivalent int labels give the same loss and gradients."""
    X, _ = _data(3)
    labels = np.random.default_rng(3).integers(0, 3, size=N)
    net = _build("tanh", "softmax", 3, "cross_entropy")
    onehot = np.eye(3)[labels]
    assert net.evaluate(X, onehot)["loss"] == pytest.approx(net.evaluate(X, labels)["loss"],
                                                            rel=1e-12)
    for a, b in zip(net.gradients(X, onehot), net.gradients(X, labels)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("shape", ["N", "N1"])
@pytest.mark.parametrize("targets", ["binary", "probabilities"])
def test_binary_cross_entropy(shape, targets):
    """sigmoid + binary_cross_entropy == BCEWithLogitsLoss on the pre-sigmoid values."""
    X, _ = _data(1)
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, size=N).astype(float) if targets == "binary" else rng.uniform(size=N)
    net = _build("tanh", "sigmoid", 1, "binary_cross_entropy")
    z, ps = _torch_forward(net, X, "tanh")
    np.testing.assert_allclose(net.predict(X), torch.sigmoid(z).detach().numpy(),
                               rtol=1e-12, atol=1e-15)
    loss_t = torch.nn.BCEWithLogitsLoss()(z, torch.from_numpy(y[:, None]))
    yy = y if shape == "N" else y[:, None]
    assert net.evaluate(X, yy)["loss"] == pytest.approx(loss_t.item(), rel=1e-12)
    _check_grads(net, X, yy, loss_t, ps)


def test_multi_output_bce():
    """BCE over several sigmoid outputs is the mean over all elements (as BCEWithLogitsLoss)."""
    X, _ = _data(3)
    y = np.random.default_rng(5).integers(0, 2, size=(N, 3)).astype(float)
    net = _build("relu", "sigmoid", 3, "binary_cross_entropy")
    z, ps = _torch_forward(net, X, "relu")
    loss_t = torch.nn.BCEWithLogitsLoss()(z, torch.from_numpy(y))
    assert net.evaluate(X, y)["loss"] == pytest.approx(loss_t.item(), rel=1e-12)
    _check_grads(net, X, y, loss_t, ps)


# ---------------------------------------------------------------- numerical stability

def _big_single_layer(out_act, loss, dtype, n_out):
    """One Dense(3, n_out) whose pre-activations on X below are about +-1e4."""
    net = pynn.Network([pynn.Dense(3, n_out, activation=out_act)], loss=loss, dtype=dtype)
    rng = np.random.default_rng(6)
    W = rng.choice([-1.0, 1.0], size=(3, n_out)) * 1e4 * rng.uniform(0.5, 1.0, size=(3, n_out))
    net.set_weights([W, np.zeros(n_out)])
    X = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.5, -0.5, 0.25]])
    return net, X, W


def _torch_single(W, X):
    Wt = torch.tensor(W, dtype=torch.float64, requires_grad=True)
    bt = torch.zeros(W.shape[1], dtype=torch.float64, requires_grad=True)
    return torch.from_numpy(X) @ Wt + bt, [Wt, bt]


def _check_stable(net, X, y, loss_t, ps, dtype, pred_t):
    rtol = 1e-10 if dtype == "float64" else 1e-4
    pred = net.predict(X)
    assert np.all(np.isfinite(pred))
    np.testing.assert_allclose(pred, pred_t, rtol=rtol, atol=1e-6 if dtype == "float32" else 1e-12)
    loss = net.evaluate(X, y)["loss"]
    assert np.isfinite(loss)
    assert loss == pytest.approx(loss_t.item(), rel=rtol)
    loss_t.backward()
    grads = net.gradients(X, y)
    for g, p in zip(grads, ps):
        assert np.all(np.isfinite(g))
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=rtol, atol=1e-6)
    assert np.isfinite(net.train_step(X, y))
    assert all(np.all(np.isfinite(w)) for w in net.get_weights())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_cross_entropy_large_logits(dtype):
    """Logits of size 1e4: finite loss/gradients, probabilities sum to 1, match torch."""
    net, X, W = _big_single_layer("softmax", "cross_entropy", dtype, 3)
    labels = np.array([0, 1, 2, 1])
    z, ps = _torch_single(W.astype(dtype).astype(np.float64), X)
    loss_t = torch.nn.CrossEntropyLoss()(z, torch.from_numpy(labels))
    pred = net.predict(X)
    np.testing.assert_allclose(pred.sum(axis=1), 1.0, rtol=0, atol=1e-6 if dtype == "float32"
                               else 1e-12)
    assert np.all(pred >= 0)
    assert loss_t.item() > 1e3  # the case really is extreme
    _check_stable(net, X, labels, loss_t, ps, dtype, torch.softmax(z, 1).detach().numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_bce_large_logits(dtype):
    """Logits of size 1e4 with BCE: finite loss (~1e4 when wrong) and gradients, match torch."""
    net, X, W = _big_single_layer("sigmoid", "binary_cross_entropy", dtype, 2)
    y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    z, ps = _torch_single(W.astype(dtype).astype(np.float64), X)
    loss_t = torch.nn.BCEWithLogitsLoss()(z, torch.from_numpy(y))
    assert loss_t.item() > 1e3
    _check_stable(net, X, y, loss_t, ps, dtype, torch.sigmoid(z).detach().numpy())


@pytest.mark.parametrize("act", ["sigmoid", "tanh", "gelu", "relu", "leaky_relu"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_saturating_activations_large_inputs(act, dtype):
    """Activations at +-1e4 (mse loss) stay finite and equal torch's values and gradients."""
    net, X, W = _big_single_layer(act, "mse", dtype, 2)
    y = np.zeros((4, 2))
    z, ps = _torch_single(W.astype(dtype).astype(np.float64), X)
    pred_t = ACTS[act](z)
    loss_t = torch.nn.MSELoss()(pred_t, torch.from_numpy(y))
    _check_stable(net, X, y, loss_t, ps, dtype, pred_t.detach().numpy())


def test_softmax_predict_rows_sum_to_one():
    """predict of a softmax net gives probability rows (non-negative, summing to 1)."""
    X, _ = _data(5)
    net = _build("relu", "softmax", 5, "cross_entropy", dtype="float32")
    P = net.predict(X * 50)
    assert P.shape == (N, 5)
    assert np.all(P >= 0) and np.all(P <= 1)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-6)
