"""Model files: safetensors tensors plus JSON metadata; nothing is unpickled.

A file holds the tensors ``layers.{i}.W`` (n_in, n_out) and ``layers.{i}.b``
(n_out,) of every layer, ``optimizer.state`` (the optimizer's flat state
buffer, when it has one), and under the metadata key "pynn" a JSON document:

    {"format": "pynn", "version": 1, "dtype": "float32", "loss": "mse",
     "layers": [{"type": "Dense", "n_in": 2, "n_out": 2, "activation": "sigmoid"}, ...],
     "optimizer": {"name": "sgd", "config": {...}, "step": 0}}

Any safetensors reader can open it (``safetensors.numpy.load_file``, or
``safetensors.torch`` into an ``nn.Sequential`` after transposing W to
PyTorch's (out, in) layout).  Saving writes a temporary file next to the
target and renames it over, so an interrupted save never leaves half a file.
"""
import json
import os
import tempfile

import numpy as np

FORMAT_VERSION = 1


def save(net, path):
    """Write ``net`` to ``path`` (str or os.PathLike)."""
    from safetensors.numpy import save_file

    path = os.fspath(path)
    tensors = {}
    for i, (W, b) in enumerate(net._param_views):
        tensors["layers.%d.W" % i] = np.ascontiguousarray(W)
        tensors["layers.%d.b" % i] = np.ascontiguousarray(b)
    if net._state.size:
        tensors["optimizer.state"] = net._state.copy()
    meta = {
        "format": "pynn",
        "version": FORMAT_VERSION,
        "dtype": net.dtype.name,
        "loss": net.loss,
        "layers": [layer.get_config() for layer in net.layers],
        "optimizer": {"name": net.optimizer.name, "config": net.optimizer.get_config(),
                      "step": net.optimizer.step},
    }
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".pynn-", suffix=".tmp", dir=directory)
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata={"pynn": json.dumps(meta)})
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load(path):
    """Read a Network saved with ``Network.save``.

    Raises ValueError if the file is not a pynn model file or does not match
    the architecture it declares.
    """
    from safetensors import safe_open

    from . import optimizers
    from .layers import Dense
    from .network import Network

    path = os.fspath(path)
    try:
        with safe_open(path, framework="numpy") as f:
            metadata = f.metadata() or {}
            tensors = {key: f.get_tensor(key) for key in f.keys()}
    except FileNotFoundError:
        raise
    except Exception as exc:  # safetensors raises its own error types for bad files
        raise ValueError("%s is not a readable safetensors file: %s" % (path, exc)) from None
    if "pynn" not in metadata:
        raise ValueError("%s has no pynn metadata; it was not written by Network.save" % path)
    try:
        meta = json.loads(metadata["pynn"])
        if meta.get("format") != "pynn":
            raise ValueError("format is not 'pynn'")
        if meta.get("version") != FORMAT_VERSION:
            raise ValueError("unsupported format version %r (this pynn reads version %d)"
                             % (meta.get("version"), FORMAT_VERSION))
        layers = [Dense(int(c["n_in"]), int(c["n_out"]), c["activation"], init="zeros") for c in meta["layers"]]
        opt_meta = meta["optimizer"]
        optimizer = optimizers.from_config(opt_meta["name"], opt_meta["config"])
        net = Network(layers, loss=meta["loss"], optimizer=optimizer, dtype=meta["dtype"])
        step = opt_meta.get("step", 0)
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ValueError("optimizer step must be a non-negative int")
    except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
        raise ValueError("%s has malformed pynn metadata: %r" % (path, exc)) from None
    except ValueError as exc:
        raise ValueError("%s: %s" % (path, exc)) from None

    expected = {}
    for i, (W, b) in enumerate(net._param_views):
        expected["layers.%d.W" % i] = W
        expected["layers.%d.b" % i] = b
    if net._state.size:
        expected["optimizer.state"] = net._state
    if set(tensors) != set(expected):
        raise ValueError("%s holds tensors %s; its metadata declares %s"
                         % (path, sorted(tensors), sorted(expected)))
    for key, target in expected.items():
        value = tensors[key]
        if value.shape != target.shape or value.dtype != net.dtype:
            raise ValueError("%s: tensor %s has shape %s and dtype %s; expected %s and %s"
                             % (path, key, value.shape, value.dtype, target.shape, net.dtype))
        if not np.isfinite(value).all():
            raise ValueError("%s: tensor %s contains NaN or infinity" % (path, key))
    for key, target in expected.items():
        target[...] = tensors[key]
    net.optimizer.step = step
    return net
