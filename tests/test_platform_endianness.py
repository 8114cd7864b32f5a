"""pynn.load reads tensors as little-endian, as safetensors stores them, on
any machine (issue 16: on a big-endian host, safetensors before 0.4.4 read
them in the host's order, so [-0.5, -0.25] came back as tiny finite numbers
and the file was accepted).

The files here are written by hand, byte by byte, with ``struct``'s explicit
little-endian codes; a big-endian host is simulated by making the dtypes
that pynn.serialization asks numpy for *without* a byte order mean
big-endian, so a read in the native order gets the wrong numbers here too."""
import json
import struct
import types

import numpy as np
import pytest

import pynn
import pynn.serialization as serialization

W = [-0.5, -0.25]  # a (2, 1) weight matrix, row-major
B = [3.0]
X = [[1.0, 2.0]]
Y = 1.0 * -0.5 + 2.0 * -0.25 + 3.0  # 2.0: the hand-worked prediction of the linear layer


def hand_written_file(path, dtype):
    """A pynn model file (one linear Dense(2, 1), SGD) written with struct."""
    code, size, st = {"float32": ("F32", 4, "<f"), "float64": ("F64", 8, "<d")}[dtype]
    meta = {"format": "pynn", "version": 1, "dtype": dtype, "loss": "mse",
            "layers": [{"type": "Dense", "n_in": 2, "n_out": 1, "activation": "linear"}],
            "optimizer": {"name": "sgd", "config": {"lr": 0.1, "momentum": 0.0, "nesterov": False,
                                                    "weight_decay": 0.0}, "step": 0}}
    header = {"__metadata__": {"pynn": json.dumps(meta)},
              "layers.0.W": {"dtype": code, "shape": [2, 1], "data_offsets": [0, 2 * size]},
              "layers.0.b": {"dtype": code, "shape": [1], "data_offsets": [2 * size, 3 * size]}}
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    data = b"".join(struct.pack(st, v) for v in W + B)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw + data)


def big_endian_numpy():
    """numpy as serialization.py sees it on a big-endian host: a dtype given
    with no byte order ("float32", np.float64, ...) is big-endian; an explicit
    "<" still means little-endian."""
    def be(dtype):
        if isinstance(dtype, np.dtype) or dtype is None:
            return dtype  # already made through np.dtype below, or the default
        if isinstance(dtype, str) and dtype[:1] in ("<", ">", "|", "="):
            return np.dtype(dtype)
        d = np.dtype(dtype)
        return d.newbyteorder(">") if d.kind in "fiu" and d.itemsize > 1 else d

    def with_dtype(fn):
        def call(*args, **kwargs):
            if "dtype" in kwargs:
                kwargs["dtype"] = be(kwargs["dtype"])
            elif len(args) > 1 and fn is not np.dtype:
                args = (args[0], be(args[1])) + args[2:]
            return fn(*args, **kwargs)
        return call

    fake = types.SimpleNamespace(**{k: getattr(np, k) for k in dir(np) if not k.startswith("__")})
    fake.dtype = lambda d, *a, **k: be(d) if not a and not k else np.dtype(d, *a, **k)
    for name in ("empty", "zeros", "frombuffer", "fromfile", "ndarray", "array", "asarray"):
        setattr(fake, name, with_dtype(getattr(np, name)))
    return fake


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_load_reads_a_hand_written_little_endian_file(backend, tmp_path, dtype):
    path = tmp_path / "m.safetensors"
    hand_written_file(path, dtype)
    net = pynn.load(path)
    W_, b_ = net.get_weights()
    assert W_.dtype == np.dtype(dtype) and W_.dtype.isnative
    assert W_.tolist() == [[-0.5], [-0.25]] and b_.tolist() == [3.0]
    assert net.predict(X).tolist() == [[Y]]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_load_reads_little_endian_on_a_big_endian_host(backend, tmp_path, monkeypatch, dtype):
    path = tmp_path / "m.safetensors"
    hand_written_file(path, dtype)
    fake = big_endian_numpy()
    # the simulation itself: a native-order read of the file's bytes is wrong under it
    raw = path.read_bytes()
    data = raw[-3 * (4 if dtype == "float32" else 8):]
    assert fake.frombuffer(data, dtype=dtype).astype(dtype).tolist() != W + B
    monkeypatch.setattr(serialization, "np", fake)
    net = pynn.load(path)
    monkeypatch.undo()
    W_, b_ = net.get_weights()
    assert W_.tolist() == [[-0.5], [-0.25]] and b_.tolist() == [3.0]
    assert net.predict(X).tolist() == [[Y]]


def test_load_does_not_use_safetensors_readers(backend, tmp_path, monkeypatch):
    """safetensors' numpy readers follow the host's byte order before 0.4.4
    (which pyproject still allows): pynn must not call them."""
    import safetensors
    import safetensors.numpy

    def refuse(*args, **kwargs):
        raise AssertionError("pynn.load called a safetensors reader")

    path = tmp_path / "m.safetensors"
    hand_written_file(path, "float32")
    for module, name in ((safetensors, "safe_open"), (safetensors.numpy, "load_file"), (safetensors.numpy, "load")):
        monkeypatch.setattr(module, name, refuse)
    assert pynn.load(path).get_weights()[0].tolist() == [[-0.5], [-0.25]]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_save_writes_little_endian(backend, tmp_path, dtype):
    """What save writes, read back byte by byte with struct's "<" codes."""
    net = pynn.Network([pynn.Dense(2, 1)], optimizer=pynn.SGD(lr=0.1), dtype=dtype, seed=0)
    net.set_weights([np.array([[-0.5], [-0.25]]), np.array([3.0])])
    path = tmp_path / "m.safetensors"
    net.save(path)
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    st, size = ("<f", 4) if dtype == "float32" else ("<d", 8)
    values = {}
    for name in ("layers.0.W", "layers.0.b"):
        begin, end = header[name]["data_offsets"]
        chunk = raw[8 + n + begin:8 + n + end]
        values[name] = [struct.unpack(st, chunk[i:i + size])[0] for i in range(0, len(chunk), size)]
    assert values == {"layers.0.W": W, "layers.0.b": B}
