"""A pynn model file read by other tools: safetensors.numpy (names, shapes,
values, and a forward pass by hand) and PyTorch (an nn.Sequential whose
outputs are net.predict's).  The two loaders below are the README's code,
word for word (test_readme_shows_this_code checks it)."""
import inspect
import json
import os

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import load_file

import pynn

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")
ACTIVATIONS = ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "gelu"]
LOSS_FOR = {"linear": "mse", "sigmoid": "binary_cross_entropy", "softmax": "cross_entropy", "tanh": "mse",
            "relu": "mse", "leaky_relu": "mse", "gelu": "mse"}


# ---- the README's code --------------------------------------------------------------

def read_pynn_file(path):
    """The layers of a pynn model file as [(W, b, activation), ...], with
    W of shape (n_in, n_out): y = activation(x @ W + b)."""
    tensors = load_file(path)  # safetensors.numpy.load_file
    with safe_open(path, framework="numpy") as f:
        meta = json.loads(f.metadata()["pynn"])
    return [(tensors["layers.%d.W" % i], tensors["layers.%d.b" % i], layer["activation"])
            for i, layer in enumerate(meta["layers"])]


def pynn_to_torch(path):
    """A torch.nn.Sequential that computes what pynn.load(path).predict does."""
    import torch
    from safetensors.torch import load_file as load_torch

    tensors = load_torch(path)
    with safe_open(path, framework="pt") as f:
        meta = json.loads(f.metadata()["pynn"])
    activation = {"linear": torch.nn.Identity, "sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh,
                  "relu": torch.nn.ReLU, "leaky_relu": lambda: torch.nn.LeakyReLU(0.01),
                  "gelu": torch.nn.GELU,  # exact erf form, as pynn's
                  "softmax": lambda: torch.nn.Softmax(dim=-1)}
    modules = []
    for i, layer in enumerate(meta["layers"]):
        W, b = tensors["layers.%d.W" % i], tensors["layers.%d.b" % i]
        linear = torch.nn.Linear(layer["n_in"], layer["n_out"], dtype=W.dtype)
        with torch.no_grad():
            linear.weight.copy_(W.T)  # pynn's W is (n_in, n_out); torch's weight is (n_out, n_in)
            linear.bias.copy_(b)
        modules += [linear, activation[layer["activation"]]()]
    return torch.nn.Sequential(*modules)


# ---- tests --------------------------------------------------------------------------

def make_net(hidden, output, dtype, optimizer="adam", seed=0):
    layers = [pynn.Dense(4, 6, hidden), pynn.Dense(6, 5, hidden), pynn.Dense(5, 3, output)]
    net = pynn.Network(layers, loss=LOSS_FOR[output], optimizer=optimizer, dtype=dtype, seed=seed)
    rng = np.random.default_rng(seed + 1)
    for layer in net.layers:
        layer.b[...] = rng.normal(scale=0.5, size=layer.b.shape)  # nonzero biases
    return net


def test_readme_shows_this_code():
    with open(README, encoding="utf-8") as f:
        text = f.read()
    for function in (read_pynn_file, pynn_to_torch):
        assert inspect.getsource(function) in text, "README.md must show %s as tests/test_interop.py has it" \
            % function.__name__


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_safetensors_numpy_names_shapes_values(dtype, tmp_path):
    net = make_net("relu", "softmax", dtype)
    X = np.random.default_rng(3).normal(size=(16, 4))
    net.fit(X, np.arange(16) % 3, epochs=2, batch_size=4, verbose=0)  # an optimizer state worth saving
    path = str(tmp_path / "model.safetensors")
    net.save(path)
    tensors = load_file(path)
    expected = {"layers.0.W": (4, 6), "layers.0.b": (6,), "layers.1.W": (6, 5), "layers.1.b": (5,),
                "layers.2.W": (5, 3), "layers.2.b": (3,), "optimizer.state": (2 * net.n_params,)}  # Adam: m, v
    assert {k: v.shape for k, v in tensors.items()} == expected
    assert all(v.dtype == np.dtype(dtype) for v in tensors.values())
    weights = net.get_weights()
    for i in range(3):
        np.testing.assert_array_equal(tensors["layers.%d.W" % i], weights[2 * i])
        np.testing.assert_array_equal(tensors["layers.%d.b" % i], weights[2 * i + 1])
    with safe_open(path, framework="numpy") as f:
        meta = json.loads(f.metadata()["pynn"])
    assert meta["format"] == "pynn" and meta["dtype"] == dtype and meta["loss"] == "cross_entropy"
    assert [(l["n_in"], l["n_out"], l["activation"]) for l in meta["layers"]] == [
        (4, 6, "relu"), (6, 5, "relu"), (5, 3, "softmax")]

    # the forward pass by hand from what safetensors.numpy read: y = act(x @ W + b)
    a = X
    for W, b, activation in read_pynn_file(path):
        z = a.astype(np.float64) @ W.astype(np.float64) + b
        if activation == "relu":
            a = np.maximum(z, 0)
        else:
            e = np.exp(z - z.max(axis=1, keepdims=True))
            a = e / e.sum(axis=1, keepdims=True)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(a, net.predict(X), rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("output", list(LOSS_FOR))
@pytest.mark.parametrize("hidden", ACTIVATIONS)
def test_torch_sequential_matches_predict(hidden, output, dtype, tmp_path):
    torch = pytest.importorskip("torch")
    net = make_net(hidden, output, dtype, optimizer="sgd")
    path = str(tmp_path / "model.safetensors")
    net.save(path)
    model = pynn_to_torch(path)
    assert [type(m).__name__ for m in model][0::2] == ["Linear"] * 3
    assert tuple(model[0].weight.shape) == (6, 4)  # torch's (out, in)
    X = np.random.default_rng(7).normal(scale=2.0, size=(50, 4)).astype(dtype)
    with torch.no_grad():
        out = model(torch.from_numpy(X)).numpy()
    assert out.dtype == np.dtype(dtype)
    tol = 1e-6 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(out, net.predict(X), rtol=tol, atol=tol)
    if dtype == "float64":  # in fact equal to float64 rounding
        np.testing.assert_allclose(out, net.predict(X), rtol=1e-12, atol=1e-13)
