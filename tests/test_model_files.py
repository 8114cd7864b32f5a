"""Model files under attack (issue 5): the checked-in format-version-1 file still loads and
predicts what its closed-form weights say; damaged, oversized and malicious files each give a
clear ValueError (never a crash, never a large allocation); a save that fails half-way leaves
the old file intact.

The hostile files are made here from the checked-in file by editing its bytes, its safetensors
header or its "pynn" metadata; ``HOSTILE_COUNT`` below adds them up (reported in issue 5).
"""
import copy
import json
import os
import pathlib
import struct
import tracemalloc

import numpy as np
import pytest

import pynn

DATA = pathlib.Path(__file__).parent / "data"
V1 = DATA / "model_v1.safetensors"


# ---- the checked-in file ---------------------------------------------------------------------

def _v1_closed_form():
    """The weights make_model_v1.py wrote, written down again."""
    W1 = np.array([[((4 * i + j) % 5 - 2) / 4 for j in range(4)] for i in range(3)])
    W2 = np.array([[((3 * i + j) % 3 - 1) / 2 for j in range(3)] for i in range(4)])
    return W1, np.array([0.125, -0.25, 0.375, 0.0]), W2, np.array([0.5, 0.0, -0.5])


def test_checked_in_v1_file_loads_and_predicts():
    net = pynn.load(V1)
    assert net.dtype == np.float32 and net.loss == "cross_entropy"
    assert [(l.n_in, l.n_out, l.activation) for l in net.layers] == [(3, 4, "tanh"), (4, 3, "softmax")]
    W1, b1, W2, b2 = _v1_closed_form()
    for got, want in zip(net.get_weights(), (W1, b1, W2, b2)):
        np.testing.assert_array_equal(got, want)  # all exactly representable in float32
    opt = net.optimizer
    assert type(opt) is pynn.Adam and opt.step == 5
    assert (opt.lr, opt.betas, opt.eps, opt.weight_decay) == (0.01, (0.8, 0.99), 1e-7, 0.001)
    np.testing.assert_array_equal(net._plan.state, np.arange(62) % 7 / 128)

    # the forward pass by hand, in float64 with the math module
    X = [[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0], [0.0, 0.0, 0.0], [3.0, -2.0, 0.25]]
    import math
    want = []
    for x in X:
        h = [math.tanh(sum(x[i] * W1[i][j] for i in range(3)) + b1[j]) for j in range(4)]
        z = [sum(h[i] * W2[i][k] for i in range(4)) + b2[k] for k in range(3)]
        e = [math.exp(v - max(z)) for v in z]
        want.append([v / sum(e) for v in e])
    pred = net.predict(X)
    assert pred.dtype == np.float32 and pred.flags.c_contiguous
    np.testing.assert_allclose(pred, want, rtol=2e-6, atol=1e-7)


def test_checked_in_v1_file_continues_training_like_its_closed_form():
    """Optimizer state and step were restored: a step of the loaded network equals a step of
    one built from the closed form."""
    net = pynn.load(V1)
    twin = pynn.Network([pynn.Dense(3, 4, "tanh"), pynn.Dense(4, 3, "softmax")], loss="cross_entropy",
                        optimizer=pynn.Adam(lr=0.01, betas=(0.8, 0.99), eps=1e-7, weight_decay=0.001))
    twin.set_weights(_v1_closed_form())
    twin._plan.state[...] = np.arange(62) % 7 / 128
    twin.optimizer.step = 5
    X, y = [[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]], [0, 2]
    assert net.train_step(X, y) == twin.train_step(X, y)
    for a, b in zip(net.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert net.optimizer.step == 6


def test_v1_file_is_format_version_1():
    """Nobody regenerated it with a later format: its metadata still says version 1."""
    header, _ = _split(V1.read_bytes())
    assert json.loads(header["__metadata__"]["pynn"])["version"] == 1


def test_newer_version_says_upgrade(tmp_path):
    path = _write(tmp_path, _edit_meta(lambda m: m.update(version=2)))
    with pytest.raises(ValueError, match="newer than this pynn reads.*upgrade pynn"):
        pynn.load(path)


# ---- making hostile files --------------------------------------------------------------------

def _split(raw):
    n = struct.unpack("<Q", raw[:8])[0]
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def _join(header, data, size=None):
    text = json.dumps(header).encode() if isinstance(header, dict) else header
    return struct.pack("<Q", len(text) if size is None else size) + text + data


def _edit_header(fn):
    header, data = _split(V1.read_bytes())
    header = copy.deepcopy(header)
    result = fn(header)
    if isinstance(result, tuple):  # (header, data)
        return _join(*result)
    return _join(header, data)


def _edit_meta(fn):
    def edit(header):
        meta = json.loads(header["__metadata__"]["pynn"])
        result = fn(meta)
        header["__metadata__"]["pynn"] = result if isinstance(result, str) else json.dumps(meta)
    return _edit_header(edit)


def _set_layer(i, **kw):
    return _edit_meta(lambda m: m["layers"][i].update(kw))


def _set_opt(**kw):
    return _edit_meta(lambda m: m["optimizer"].update(kw))


def _set_config(**kw):
    return _edit_meta(lambda m: m["optimizer"]["config"].update(kw))


def _tensor_values(name, values):
    """The file with tensor ``name``'s bytes replaced by ``values`` (float32)."""
    def edit(header):
        _, data = _split(V1.read_bytes())
        a, b = header[name]["data_offsets"]
        new = np.asarray(values, dtype=np.float32).tobytes()
        assert len(new) == b - a
        return header, data[:a] + new + data[b:]
    return _edit_header(edit)


def _rename(old, new):
    def edit(header):
        header[new] = header.pop(old)
    return _edit_header(edit)


def _retype(name, dtype):
    return _edit_header(lambda h: h[name].update(dtype=dtype))


def _drop_tensor(name):
    """The tensor removed from header and data (offsets of the others moved)."""
    def edit(header):
        _, data = _split(V1.read_bytes())
        a, b = header.pop(name)["data_offsets"]
        for info in header.values():
            if "data_offsets" in info and info["data_offsets"][0] >= b:
                info["data_offsets"] = [o - (b - a) for o in info["data_offsets"]]
        return header, data[:a] + data[b:]
    return _edit_header(edit)


def _add_tensor(name, shape, dtype="F32"):
    def edit(header):
        _, data = _split(V1.read_bytes())
        n = int(np.prod(shape)) * (4 if dtype == "F32" else 8)
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [len(data), len(data) + n]}
        return header, data + bytes(n)
    return _edit_header(edit)


def _deep_json(depth):
    return "[" * depth + "]" * depth


VALID = None  # filled lazily: the checked-in bytes


HOSTILE = {
    # ---- raw bytes and the safetensors header
    "empty file": lambda: b"",
    "7 bytes": lambda: b"\x01" * 7,
    "size field only": lambda: struct.pack("<Q", 0),
    "header size 2**64-1": lambda: b"\xff" * 8 + V1.read_bytes()[8:],
    "header size 2**40": lambda: struct.pack("<Q", 2 ** 40) + V1.read_bytes()[8:],
    "header size one past the end": lambda: struct.pack("<Q", len(V1.read_bytes()) - 7) + V1.read_bytes()[8:],
    "header size 1": lambda: struct.pack("<Q", 1) + V1.read_bytes()[8:],
    "header not utf-8": lambda: _join(b"\xff\xfe{}", b""),
    "header not json": lambda: _join(b"{not json}", b""),
    "header a json list": lambda: _join(b"[1, 2, 3]", b""),
    "header deeply nested": lambda: _join(_deep_json(100000).encode(), b""),
    "header entry not an object": lambda: _edit_header(lambda h: h.update({"layers.0.W": 5})),
    "metadata not a dict": lambda: _edit_header(lambda h: h.update(__metadata__=[1])),
    "metadata value not a string": lambda: _edit_header(lambda h: h["__metadata__"].update(pynn=5)),
    "no pynn metadata": lambda: _edit_header(lambda h: h.pop("__metadata__")),
    "offsets past the end": lambda: _edit_header(lambda h: h["layers.1.b"].update(data_offsets=[112, 10 ** 6])),
    "offsets reversed": lambda: _edit_header(lambda h: h["layers.1.b"].update(data_offsets=[124, 112])),
    "offsets negative": lambda: _edit_header(lambda h: h["layers.0.W"].update(data_offsets=[-48, 0])),
    "offsets not ints": lambda: _edit_header(lambda h: h["layers.0.W"].update(data_offsets=[0.0, 48.0])),
    "offsets overlap": lambda: _edit_header(lambda h: h["layers.0.b"].update(data_offsets=[40, 56])),
    "offsets too short for the shape": lambda: _edit_header(lambda h: h["layers.0.W"].update(shape=[3, 5])),
    "shape negative": lambda: _edit_header(lambda h: h["layers.0.W"].update(shape=[-3, -4])),
    "shape huge": lambda: _edit_header(lambda h: h["layers.0.W"].update(shape=[2 ** 40, 2 ** 40])),
    "shape not a list": lambda: _edit_header(lambda h: h["layers.0.W"].update(shape="3x4")),
    "truncated data": lambda: V1.read_bytes()[:-4],
    # ---- dtypes and values
    "dtype F16": lambda: _retype("layers.0.b", "F16"),
    "dtype I32": lambda: _retype("layers.0.b", "I32"),
    "dtype F64 in a float32 model": lambda: _edit_header(
        lambda h: h["layers.1.b"].update(dtype="F64", shape=[1], data_offsets=[112, 120])),
    "dtype unknown": lambda: _retype("layers.0.b", "X99"),
    "dtype a list": lambda: _edit_header(lambda h: h["layers.0.b"].update(dtype=["F32"])),  # atheris, 2026-11-30
    "dtype an object": lambda: _edit_header(lambda h: h["layers.0.b"].update(dtype={"F32": 1})),
    "NaN weight": lambda: _tensor_values("layers.0.W", [np.nan] + [0.0] * 11),
    "inf bias": lambda: _tensor_values("layers.1.b", [0.0, np.inf, 0.0]),
    "NaN optimizer state": lambda: _tensor_values("optimizer.state", [0.0] * 61 + [np.nan]),
    # ---- tensors against the declared architecture
    "extra tensor": lambda: _add_tensor("layers.2.W", (3, 3)),
    "missing tensor": lambda: _drop_tensor("layers.1.b"),
    "missing optimizer state": lambda: _drop_tensor("optimizer.state"),
    "renamed tensor": lambda: _rename("layers.0.W", "layers.0.weight"),
    "W transposed": lambda: _edit_header(lambda h: h["layers.0.W"].update(shape=[4, 3])),
    "W flattened": lambda: _edit_header(lambda h: h["layers.0.W"].update(shape=[12])),
    # ---- the pynn metadata
    "pynn metadata not json": lambda: _edit_meta(lambda m: "{oops"),
    "pynn metadata a list": lambda: _edit_meta(lambda m: "[]"),
    "pynn metadata deeply nested": lambda: _edit_meta(lambda m: _deep_json(100000)),
    "format not pynn": lambda: _edit_meta(lambda m: m.update(format="keras")),
    "version missing": lambda: _edit_meta(lambda m: m.pop("version")),
    "version a string": lambda: _edit_meta(lambda m: m.update(version="1")),
    "version true": lambda: _edit_meta(lambda m: m.update(version=True)),
    "version 0": lambda: _edit_meta(lambda m: m.update(version=0)),
    "dtype float16": lambda: _edit_meta(lambda m: m.update(dtype="float16")),
    "dtype a list": lambda: _edit_meta(lambda m: m.update(dtype=["float32"])),
    "layers empty": lambda: _edit_meta(lambda m: m.update(layers=[])),
    "layers not a list": lambda: _edit_meta(lambda m: m.update(layers={"0": 1})),
    "layer not an object": lambda: _edit_meta(lambda m: m["layers"].__setitem__(0, "Dense")),
    "layer type Conv2D": lambda: _set_layer(0, type="Conv2D"),
    "n_in a string": lambda: _set_layer(0, n_in="3"),
    "n_in a float": lambda: _set_layer(0, n_in=3.0),
    "n_in true": lambda: _set_layer(0, n_in=True),
    "n_in 0": lambda: _set_layer(0, n_in=0),
    "n_in -3": lambda: _set_layer(0, n_in=-3),
    "n_in 10**12": lambda: _set_layer(0, n_in=10 ** 12),
    "n_out 10**12": lambda: _set_layer(1, n_out=10 ** 12),
    "n_in 10**30": lambda: _set_layer(0, n_in=10 ** 30),
    "n_in missing": lambda: _edit_meta(lambda m: m["layers"][0].pop("n_in")),
    "layer sizes do not chain": lambda: _set_layer(1, n_in=5),
    "activation unknown": lambda: _set_layer(0, activation="swish"),
    "activation a number": lambda: _set_layer(0, activation=3),
    "activation a list": lambda: _set_layer(0, activation=["relu"]),
    "softmax not last": lambda: _set_layer(0, activation="softmax"),
    "loss unknown": lambda: _edit_meta(lambda m: m.update(loss="hinge")),
    "loss missing": lambda: _edit_meta(lambda m: m.pop("loss")),
    "loss does not fit the output": lambda: _edit_meta(lambda m: m.update(loss="mse")),
    "optimizer unknown": lambda: _set_opt(name="lbfgs"),
    "optimizer name a dict": lambda: _set_opt(name={"adam": 1}),
    "optimizer not an object": lambda: _edit_meta(lambda m: m.update(optimizer="adam")),
    "optimizer config a list": lambda: _set_opt(config=[0.01]),
    "optimizer config unknown key": lambda: _set_config(amsgrad=True),
    "lr a string": lambda: _set_config(lr="fast"),
    "lr negative": lambda: _set_config(lr=-1.0),
    "lr NaN": lambda: _edit_meta(lambda m: json.dumps(m).replace('"lr": 0.01', '"lr": NaN')),
    "lr Infinity": lambda: _edit_meta(lambda m: json.dumps(m).replace('"lr": 0.01', '"lr": Infinity')),
    "betas out of range": lambda: _set_config(betas=[2.0, 3.0]),
    "betas a number": lambda: _set_config(betas=0.9),
    "betas a string": lambda: _set_config(betas="ab"),
    "step negative": lambda: _set_opt(step=-1),
    "step 2**70": lambda: _set_opt(step=2 ** 70),
    "step a float": lambda: _set_opt(step=1.5),
    "step a string": lambda: _set_opt(step="5"),
    "sgd config on an adam state": lambda: _set_opt(name="sgd", config={"lr": 0.1}),
    # ---- dropout
    "dropout p 1": lambda: _edit_meta(lambda m: m["layers"].insert(0, {"type": "Dropout", "p": 1.0})),
    "dropout p negative": lambda: _edit_meta(lambda m: m["layers"].insert(0, {"type": "Dropout", "p": -0.5})),
    "dropout p a string": lambda: _edit_meta(lambda m: m["layers"].insert(0, {"type": "Dropout", "p": "0.5"})),
    "dropout p missing": lambda: _edit_meta(lambda m: m["layers"].insert(0, {"type": "Dropout"})),
    "dropout last": lambda: _edit_meta(lambda m: m["layers"].append({"type": "Dropout", "p": 0.5})),
    "dropout twice in a row": lambda: _edit_meta(lambda m: m.update(
        layers=m["layers"][:1] + [{"type": "Dropout", "p": 0.5}] * 2 + m["layers"][1:])),
    "dropout shifts the tensor names": lambda: _edit_meta(
        lambda m: m["layers"].insert(1, {"type": "Dropout", "p": 0.5})),
    "dropout_seed negative": lambda: _edit_meta(lambda m: m.update(dropout_seed=-1)),
    "dropout_seed 2**64": lambda: _edit_meta(lambda m: m.update(dropout_seed=2 ** 64)),
    "dropout_seed a string": lambda: _edit_meta(lambda m: m.update(dropout_seed="7")),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_file_gives_value_error(tmp_path, case):
    path = _write(tmp_path, HOSTILE[case]())
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as info:
            pynn.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(info.value)
    assert str(path) in message and len(message) < 2000  # names the file, stays readable
    assert peak < 64 << 20, "%s: %d bytes allocated before refusing the file" % (case, peak)


def _write(tmp_path, raw, name="hostile.safetensors"):
    path = tmp_path / name
    path.write_bytes(raw)
    return path


TRUNCATIONS = range(0, 1148)  # every strict prefix of the checked-in file


def test_every_truncation_gives_value_error(tmp_path):
    raw = V1.read_bytes()
    assert len(raw) == len(TRUNCATIONS) + 0  # the file is 1148 bytes: every prefix below
    path = tmp_path / "cut.safetensors"
    for n in TRUNCATIONS:
        path.write_bytes(raw[:n])
        with pytest.raises(ValueError):
            pynn.load(path)


MUTATIONS = 400


def test_random_byte_mutations_load_or_give_value_error(tmp_path):
    """Random bytes overwritten anywhere: a ValueError or a network with finite weights,
    nothing else (a changed digit of lr or a weight can still be a valid file)."""
    raw = bytearray(V1.read_bytes())
    rng = np.random.default_rng(5)
    path = tmp_path / "mutated.safetensors"
    loaded = 0
    for _ in range(MUTATIONS):
        data = bytearray(raw)
        for _ in range(rng.integers(1, 4)):
            data[rng.integers(0, len(data))] = rng.integers(0, 256)
        path.write_bytes(bytes(data))
        try:
            net = pynn.load(path)
        except ValueError:
            continue
        loaded += 1
        assert all(np.isfinite(w).all() for w in net.get_weights())
        assert net.predict(np.ones((2, net.n_inputs))).shape == (2, net.n_outputs)
    assert 0 < loaded < MUTATIONS  # both outcomes happened


HOSTILE_COUNT = len(HOSTILE) + len(TRUNCATIONS) + MUTATIONS


def test_huge_layer_in_metadata_fails_before_allocating(tmp_path):
    """n_in=10**12 with a matching (claimed) tensor shape: refused from the header alone."""
    def edit(header):
        meta = json.loads(header["__metadata__"]["pynn"])
        meta["layers"][0]["n_in"] = 10 ** 12
        header["__metadata__"]["pynn"] = json.dumps(meta)
        header["layers.0.W"]["shape"] = [10 ** 12, 4]
    path = _write(tmp_path, _edit_header(edit))
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="layers.0.W"):
            pynn.load(path)
        assert tracemalloc.get_traced_memory()[1] < 64 << 20
    finally:
        tracemalloc.stop()


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        pynn.load(tmp_path / "nope.safetensors")


# ---- saving ----------------------------------------------------------------------------------

def _net(seed):
    return pynn.Network([pynn.Dense(3, 4, "relu"), pynn.Dense(4, 2)], optimizer=pynn.Adam(), seed=seed)


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_failed_save_leaves_the_old_file_intact(tmp_path, monkeypatch, error):
    import safetensors.numpy

    path = tmp_path / "model.safetensors"
    old = _net(1)
    old.save(path)
    before = path.read_bytes()

    def broken_save_file(tensors, filename, metadata=None):
        with open(filename, "wb") as f:  # half a file, then the crash
            f.write(b"\x10\x00\x00\x00\x00\x00\x00\x00{\"partial")
        raise error

    monkeypatch.setattr(safetensors.numpy, "save_file", broken_save_file)
    with pytest.raises(type(error)):
        _net(2).save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]  # no temporary left
    monkeypatch.undo()
    for a, b in zip(pynn.load(path).get_weights(), old.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_saved_file_has_the_mode_of_a_plain_file(tmp_path):
    """The temporary file (mkstemp: 0600) gets the usual mode before it is renamed."""
    mask = os.umask(0o022)
    try:
        _net(0).save(tmp_path / "m.safetensors")
    finally:
        os.umask(mask)
    assert (tmp_path / "m.safetensors").stat().st_mode & 0o777 == 0o644


def test_save_over_keeps_the_existing_mode(tmp_path):
    path = tmp_path / "m.safetensors"
    _net(0).save(path)
    os.chmod(path, 0o600)
    _net(1).save(path)
    assert path.stat().st_mode & 0o777 == 0o600
