"""pynn.export_onnx: onnxruntime runs the exported model and gets net.predict,
for every activation as a hidden and as an output layer, in float32 and
float64."""
import math
import sys

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import pynn  # noqa: E402

HIDDEN = ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "gelu"]
# output layer -> the loss it pairs with
OUTPUTS = {"linear": "mse", "sigmoid": "binary_cross_entropy", "softmax": "cross_entropy", "tanh": "mse",
           "relu": "mse", "leaky_relu": "mse", "gelu": "mse"}
TOLERANCE = {"float32": 1e-5, "float64": 1e-12}


def run(path, X):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["Y"], {"X": X})[0]


def network(hidden, output, dtype, seed=0):
    layers = [pynn.Dense(4, 7, hidden), pynn.Dense(7, 5, hidden), pynn.Dense(5, 3, output)]
    net = pynn.Network(layers, loss=OUTPUTS[output], dtype=dtype, seed=seed)
    rng = np.random.default_rng(seed + 1)
    for layer in net.layers:  # nonzero biases, and weights large enough to reach every regime
        layer.W[...] = rng.normal(scale=1.5, size=layer.W.shape)
        layer.b[...] = rng.normal(scale=0.5, size=layer.b.shape)
    return net


def inputs(dtype, n=64, seed=2):
    return (np.random.default_rng(seed).normal(scale=2.0, size=(n, 4))).astype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("output", list(OUTPUTS))
@pytest.mark.parametrize("hidden", HIDDEN)
def test_onnxruntime_matches_predict(hidden, output, dtype, tmp_path):
    net = network(hidden, output, dtype)
    path = tmp_path / "net.onnx"
    pynn.export_onnx(net, path)
    X = inputs(dtype)
    Y = run(path, X)
    assert Y.dtype == np.dtype(dtype) and Y.shape == (64, 3)
    np.testing.assert_allclose(Y, net.predict(X), rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("activation", HIDDEN)
def test_matches_the_formulas(activation, dtype, tmp_path):
    """One layer, identity weights: Y is the activation itself, written out here."""
    formulas = {"linear": lambda z: z, "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh,
                "relu": lambda z: np.maximum(z, 0), "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
                "gelu": lambda z: 0.5 * z * (1 + np.vectorize(math.erf)(z / math.sqrt(2)))}
    net = pynn.Network([pynn.Dense(1, 1, activation)], dtype=dtype)
    net.set_weights([[[1.0]], [0.0]])
    z = np.concatenate([np.linspace(-12, 12, 2401), [-0.0, 1e-30, -1e-30, 0.46875, -4.0, 4.0, 30.0]])
    X = z.reshape(-1, 1).astype(dtype)
    pynn.export_onnx(net, tmp_path / "act.onnx")
    Y = run(tmp_path / "act.onnx", X)[:, 0]
    expected = formulas[activation](X[:, 0].astype(np.float64))
    tol = TOLERANCE[dtype] if dtype == "float32" else 1e-14
    np.testing.assert_allclose(Y, expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("opset", [13, 17, 20])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_opsets(opset, dtype, tmp_path):
    net = network("gelu", "softmax", dtype)
    model = pynn.export_onnx(net, tmp_path / "net.onnx", opset=opset)
    assert [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")] == [opset]
    ops = {node.op_type for node in model.graph.node}
    if dtype == "float32":  # the standard ops; float64 builds erf from elementwise ops (no float64 Erf in onnxruntime)
        assert ("Gelu" in ops) == (opset >= 20) and ("Erf" in ops) == (opset < 20)
    X = inputs(dtype)
    np.testing.assert_allclose(run(tmp_path / "net.onnx", X), net.predict(X), rtol=TOLERANCE[dtype],
                               atol=TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_model_interface(dtype, tmp_path):
    net = network("relu", "softmax", dtype)
    path = tmp_path / "net.onnx"
    pynn.export_onnx(net, str(path))
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    elem = onnx.TensorProto.FLOAT if dtype == "float32" else onnx.TensorProto.DOUBLE
    (inp,), (out,) = model.graph.input, model.graph.output
    assert inp.name == "X" and out.name == "Y"
    assert inp.type.tensor_type.elem_type == elem and out.type.tensor_type.elem_type == elem
    in_dims = [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim]
    out_dims = [d.dim_param or d.dim_value for d in out.type.tensor_type.shape.dim]
    assert in_dims == ["N", 4] and out_dims == ["N", 3]
    assert min(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) >= 13
    weights = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    for i, layer in enumerate(net.layers):
        np.testing.assert_array_equal(weights["layers.%d.W" % i], layer.W)
        np.testing.assert_array_equal(weights["layers.%d.b" % i], layer.b)
    # the batch dimension is dynamic
    for n in (1, 2, 1000):
        X = inputs(dtype, n=n, seed=n)
        np.testing.assert_allclose(run(path, X), net.predict(X), rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


def test_trained_network(tmp_path):
    X, y = pynn.datasets.spirals(n_per_class=60, seed=0)
    n_classes = int(np.max(y)) + 1
    net = pynn.Network([pynn.Dense(X.shape[1], 16, "gelu"), pynn.Dense(16, n_classes, "softmax")],
                       loss="cross_entropy", optimizer=pynn.Adam(lr=0.01), seed=0)
    net.fit(X, y, epochs=20, batch_size=32, verbose=0)
    pynn.export_onnx(net, tmp_path / "trained.onnx")
    Xf = np.asarray(X, dtype=np.float32)
    P = run(tmp_path / "trained.onnx", Xf)
    np.testing.assert_allclose(P, net.predict(Xf), atol=1e-5)
    np.testing.assert_allclose(P.sum(axis=1), 1, rtol=1e-5)


def test_bad_arguments(tmp_path):
    net = network("relu", "linear", "float32")
    with pytest.raises(TypeError, match="net"):
        pynn.export_onnx("not a network", tmp_path / "x.onnx")
    with pytest.raises(ValueError, match="opset"):
        pynn.export_onnx(net, tmp_path / "x.onnx", opset=12)
    with pytest.raises(TypeError, match="opset"):
        pynn.export_onnx(net, tmp_path / "x.onnx", opset="17")


def test_missing_onnx_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)  # makes "import onnx" raise ImportError
    with pytest.raises(ImportError, match=r"pip install pynn\[onnx\]"):
        pynn.export_onnx(network("relu", "linear", "float32"), tmp_path / "x.onnx")
