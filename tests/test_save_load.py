"""net.save / pynn.load: a safetensors file that restores the whole training state.

Checked: weights, predictions, architecture, dtype, loss and optimizer (type, hyper-parameters
and state) survive the round trip, so training continued after loading is bit-identical to
training continued without saving (float64).  The file is read independently with the
``safetensors`` package: tensors "layers.{i}.W" / "layers.{i}.b" and JSON metadata "pynn".
"""
import json

import numpy as np
import pytest

import pynn

safetensors_numpy = pytest.importorskip("safetensors.numpy")


def _data(n_out=2, n=20):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    Y = rng.normal(size=(n, n_out))
    return X, Y


OPTIMIZERS = {
    "sgd_momentum": lambda: pynn.SGD(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "adam": lambda: pynn.Adam(lr=0.01, betas=(0.8, 0.99), eps=1e-7, weight_decay=1e-2),
    "adamw": lambda: pynn.AdamW(lr=0.01, weight_decay=0.1),
    "rmsprop": lambda: pynn.RMSprop(lr=0.01, alpha=0.9, momentum=0.5),
}


def _net(make_opt, dtype="float64", loss="huber"):
    return pynn.Network(
        [pynn.Dense(3, 5, activation="gelu"), pynn.Dense(5, 4, activation="tanh"),
         pynn.Dense(4, 2, activation="linear")],
        loss=loss, optimizer=make_opt(), dtype=dtype, seed=1,
    )


@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
def test_continued_training_is_identical(tmp_path, opt):
    """After 3 steps, save+load then 4 more steps == 4 more steps on the original (exact)."""
    X, Y = _data()
    net = _net(OPTIMIZERS[opt])
    for _ in range(3):
        net.train_step(X, Y)
    path = tmp_path / "model.safetensors"
    net.save(path)
    loaded = pynn.load(path)
    assert type(loaded.optimizer) is type(net.optimizer)
    assert loaded.optimizer.lr == net.optimizer.lr
    for _ in range(4):
        la = net.train_step(X, Y)
        lb = loaded.train_step(X, Y)
        assert la == lb
    for a, b in zip(net.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_round_trip_weights_predictions_dtype(tmp_path, dtype):
    """Weights, predictions, dtype, layer sizes and activations are restored exactly."""
    X, Y = _data()
    net = _net(OPTIMIZERS["adam"], dtype=dtype)
    net.train_step(X, Y)
    path = str(tmp_path / "m.safetensors")  # str path works as well as a Path
    net.save(path)
    loaded = pynn.load(path)
    assert len(loaded.layers) == 3
    assert [L.activation for L in loaded.layers] == ["gelu", "tanh", "linear"]
    assert [L.W.shape for L in loaded.layers] == [(3, 5), (5, 4), (4, 2)]
    for a, b in zip(net.get_weights(), loaded.get_weights()):
        assert b.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(a, b)
    pred = loaded.predict(X)
    assert pred.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(pred, net.predict(X))


@pytest.mark.parametrize("loss,out,n_out", [
    ("mae", "linear", 2), ("huber", "linear", 2), ("mse", "sigmoid", 2),
    ("cross_entropy", "softmax", 3), ("binary_cross_entropy", "sigmoid", 1),
])
def test_loss_is_restored(tmp_path, loss, out, n_out):
    """The loss survives: evaluate on the loaded net equals evaluate on the original."""
    X, _ = _data()
    rng = np.random.default_rng(3)
    if loss == "cross_entropy":
        y = rng.integers(0, n_out, size=len(X))
    elif loss == "binary_cross_entropy":
        y = rng.integers(0, 2, size=len(X)).astype(float)
    else:
        y = rng.normal(size=(len(X), n_out)) * 2
    net = pynn.Network([pynn.Dense(3, 4, activation="relu"), pynn.Dense(4, n_out, activation=out)],
                       loss=loss, dtype="float64", seed=2)
    net.save(tmp_path / "m.safetensors")
    loaded = pynn.load(tmp_path / "m.safetensors")
    a, b = net.evaluate(X, y), loaded.evaluate(X, y)
    assert a == b
    for g, h in zip(net.gradients(X, y), loaded.gradients(X, y)):
        np.testing.assert_array_equal(g, h)


def test_file_readable_by_safetensors(tmp_path):
    """The file opens with safetensors.numpy; layers.{i}.W / .b hold the weights exactly."""
    net = _net(OPTIMIZERS["sgd_momentum"], dtype="float32")
    path = tmp_path / "m.safetensors"
    net.save(path)
    tensors = safetensors_numpy.load_file(str(path))
    w = net.get_weights()
    for i in range(3):
        W, b = tensors[f"layers.{i}.W"], tensors[f"layers.{i}.b"]
        assert W.dtype == np.float32 and b.dtype == np.float32
        np.testing.assert_array_equal(W, w[2 * i])
        np.testing.assert_array_equal(b, w[2 * i + 1])
    assert "layers.3.W" not in tensors


def test_metadata_is_json(tmp_path):
    """The "pynn" metadata entry is a JSON string describing the model."""
    from safetensors import safe_open

    net = _net(OPTIMIZERS["adam"])
    path = tmp_path / "m.safetensors"
    net.save(path)
    with safe_open(str(path), framework="numpy") as f:
        meta = f.metadata()
    assert "pynn" in meta
    info = json.loads(meta["pynn"])
    assert isinstance(info, dict)
    text = meta["pynn"]
    for word in ("gelu", "tanh", "huber", "float64"):
        assert word in text, word


def test_file_written_by_safetensors_is_loadable(tmp_path):
    """Editing the weights with safetensors and loading again uses the edited weights."""
    from safetensors import safe_open
    from safetensors.numpy import save_file

    net = _net(OPTIMIZERS["adam"])
    path = tmp_path / "m.safetensors"
    net.save(path)
    with safe_open(str(path), framework="numpy") as f:
        meta = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    tensors["layers.2.b"] = np.array([5.0, -5.0])
    save_file(tensors, str(path), metadata=meta)
    loaded = pynn.load(path)
    np.testing.assert_array_equal(loaded.get_weights()[5], [5.0, -5.0])
    np.testing.assert_array_equal(loaded.get_weights()[0], net.get_weights()[0])


def test_load_on_other_backend(tmp_path, backend):
    """A file saved under one backend loads under the other and predicts the same."""
    others = [b for b in pynn.available_backends() if b != backend]
    if not others:
        pytest.skip("only one backend available")
    X, Y = _data()
    net = _net(OPTIMIZERS["adam"])
    net.train_step(X, Y)
    net.save(tmp_path / "m.safetensors")
    pynn.set_backend(others[0])
    loaded = pynn.load(tmp_path / "m.safetensors")
    for a, b in zip(net.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(loaded.predict(X), net.predict(X), rtol=1e-12, atol=1e-14)


def test_load_rejects_garbage(tmp_path):
    """A file that is not a pynn safetensors file raises an error (and does not crash)."""
    path = tmp_path / "junk.safetensors"
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}      ")
    with pytest.raises(Exception):
        pynn.load(path)
