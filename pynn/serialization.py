"""Model files: safetensors tensors plus JSON metadata; nothing is unpickled.

A file holds the tensors ``layers.{i}.W`` (n_in, n_out) and ``layers.{i}.b``
(n_out,) of every Dense layer, i its index in ``net.layers`` (as PyTorch
numbers an ``nn.Sequential``'s modules: a Dropout's index has no tensors),
``optimizer.state`` (the optimizer's flat state buffer, when it has one), and
under the metadata key "pynn" a JSON document:

    {"format": "pynn", "version": 1, "dtype": "float32", "loss": "mse",
     "layers": [{"type": "Dense", "n_in": 2, "n_out": 2, "activation": "sigmoid"},
                {"type": "Dropout", "p": 0.5}, ...],
     "optimizer": {"name": "sgd", "config": {...}, "step": 0},
     "dropout_seed": 123}

("dropout_seed" only when there is a Dropout layer: with the step count it
fixes the masks of the next steps, so training resumes exactly.)

Any safetensors reader can open it (``safetensors.numpy.load_file``, or
``safetensors.torch`` into an ``nn.Sequential`` after transposing W to
PyTorch's (out, in) layout).

Saving writes a temporary file next to the target and renames it over, so an
interrupted save never leaves half a file, and a reader sees either the old
file or the new one.  A symbolic link is written through: the file it points
to is replaced (in that file's folder), the link stays.  Anything that is not
a regular file (a folder, a FIFO, a device) is refused, and so are
parameters that are NaN or infinite: a good file is never replaced by one
``load`` would refuse.  A save killed half-way leaves its temporary file
(``.pynn-tmp-...``); the next save into that folder removes it once its
process is gone (or, for one written from another machine, after a day).

Format versions (issue 5).  ``version`` is one integer, the version of the
layout described above.  Additions that an older reader can safely ignore
(a new optional metadata key) keep the version; any change that an older
pynn would misread (renamed or re-shaped tensors, a changed meaning of a
key) bumps it.  ``load`` reads every version in ``SUPPORTED_VERSIONS`` --
old files stay loadable, converted on load if needed -- and refuses newer
ones with a ValueError that says to upgrade pynn.  Each version has a small
checked-in file, ``tests/data/model_v{N}.safetensors`` (made once by
``tests/data/make_model_v{N}.py``), that the tests load and predict with.

Loading never trusts the file: the safetensors header is parsed and checked
here first (header size, JSON, dtypes, shapes, data offsets against the file
size), then the "pynn" metadata (types, names, sizes), and every tensor's
shape and dtype is compared with the declared architecture *before* anything
the size of the model is allocated; a bad file raises ValueError.  The file
is opened once and everything is read through that one handle, so a file
replaced while it is read (another process saving) gives one consistent
model, never one file's weights with another's metadata.  Tensors are read as
little-endian, as safetensors stores them, on any machine.
"""
from __future__ import annotations

import json
import os
import re
import socket
import stat
import time
import zlib
from io import BufferedReader
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

import numpy as np
import numpy.typing as npt

from ._typing import PathLike, Shape
from .layers import dense_positions

if TYPE_CHECKING:
    from .network import Layer, Network
    from .optimizers import Optimizer

FORMAT_VERSION = 1  # the version save() writes
SUPPORTED_VERSIONS = (1,)  # the versions load() reads: never drop one (see the module docstring)
_MAX_HEADER_BYTES = 100 * 1000 * 1000  # safetensors' own limit for the JSON header
_MAX_STEP = 2 ** 62  # the optimizer step count is an int64 in the C core
_DTYPES = {"F32": "float32", "F64": "float64"}  # safetensors dtype codes that pynn files hold
_STALE_SECONDS = 24 * 3600  # a temporary file from another machine is abandoned after this


def save(net: Network, path: PathLike) -> None:
    """Write ``net`` to ``path`` (str or os.PathLike); see the module docstring."""
    tensors, metadata = model_tensors_and_metadata(net)
    write_atomically(tensors, path, metadata)


def model_tensors_and_metadata(net: Network) -> Tuple[Dict[str, npt.NDArray[Any]], Dict[str, str]]:
    """What ``save`` writes: the tensors by name and the metadata ({"pynn":
    JSON}), copied in one consistent snapshot (no step runs meanwhile).
    ValueError, naming the tensor, if a parameter or the optimizer state is
    NaN or infinite."""
    tensors: Dict[str, npt.NDArray[Any]] = {}
    with net._training() as plan:
        for i, (W, b) in zip(dense_positions(net.layers), plan.param_views):
            tensors["layers.%d.W" % i] = W.copy()
            tensors["layers.%d.b" % i] = b.copy()
        if plan.state.size:
            tensors["optimizer.state"] = plan.state.copy()
        meta = {
            "format": "pynn",
            "version": FORMAT_VERSION,
            "dtype": plan.dtype.name,
            "loss": plan.loss,
            "layers": [layer.get_config() for layer in net.layers],
            "optimizer": {"name": net.optimizer.name, "config": net.optimizer.get_config(),
                          "step": net.optimizer.step},
        }
        if plan.has_dropout:
            meta["dropout_seed"] = plan.dropout_seed
    for name, value in tensors.items():
        if not np.isfinite(value).all():
            raise ValueError("%s contains NaN or infinity: not saved (pynn.load would refuse the file); "
                             "the training diverged, or set_weights/layer.W put it there" % name)
    return tensors, {"pynn": json.dumps(meta)}


def write_atomically(tensors: Dict[str, npt.NDArray[Any]], path: PathLike, metadata: Dict[str, str]) -> None:
    """Write a safetensors file to ``path`` through a temporary file in the
    same folder, renamed over the target once it is complete and on disk: an
    interrupted write leaves any old file intact.  A symbolic link is written
    through to its target; a target that exists and is not a regular file is
    refused (ValueError), and a missing folder is named (FileNotFoundError)."""
    from safetensors.numpy import save_file

    target = _save_target(path)
    directory = os.path.dirname(target)
    _remove_stale_temporaries(directory)
    tmp = os.path.join(directory, ".pynn-tmp-%s-%d-%s-%s" % (_HOST, os.getpid(), os.urandom(4).hex(),
                                                              os.path.basename(target)))
    try:
        save_file(tensors, tmp, metadata=metadata)
        # safetensors makes it 0600: give it the mode a plain open() would (an
        # existing target's mode, else 0666 less the umask)
        try:
            mode = os.stat(target).st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        os.chmod(tmp, mode)
        fd = os.open(tmp, os.O_RDWR)  # a writable handle: Windows refuses fsync on a read-only one
        try:
            os.fsync(fd)  # on disk before the rename, so a power cut cannot leave it empty
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _save_target(path: PathLike) -> str:
    """The file a save to ``path`` replaces: symbolic links followed, checked
    to be a regular file or a new name in an existing folder."""
    name = os.fspath(path)
    if not isinstance(name, str) or not name:
        raise ValueError("path must be a non-empty file name; got %r" % (path,))
    if name.endswith(os.sep) or (os.altsep and name.endswith(os.altsep)):
        raise ValueError("%s names a folder; give a file name" % name)
    target = os.path.realpath(name)  # through every link, also a dangling one's target
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        directory = os.path.dirname(target)
        if not os.path.isdir(directory):
            raise FileNotFoundError("cannot save to %s: the folder %s does not exist" % (name, directory)) from None
        return target
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else \
            "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else \
            "not a regular file"
        via = "" if target == os.path.abspath(name) else " (%s points to it)" % name
        raise ValueError("cannot save to %s%s: it is %s; pynn replaces only regular files" % (target, via, kind))
    return target


# the name of this machine in temporary file names, so a later save can tell
# whether the process that wrote one is gone (its pid is only meaningful here)
_HOST = "%08x" % (zlib.crc32(socket.gethostname().encode("utf-8", "replace")) & 0xFFFFFFFF)
_TEMPORARY = re.compile(r"\.pynn-tmp-([0-9a-f]{8})-(\d+)-[0-9a-f]{8}-")


def _remove_stale_temporaries(directory: str) -> None:
    """Delete temporary files that killed saves left in ``directory``: ours
    whose process no longer exists, and any (another machine's) older than a
    day.  A save under way in another process is never touched."""
    try:
        names = [n for n in os.listdir(directory) if n.startswith(".pynn-tmp-")]
    except OSError:
        return
    for name in names:
        match = _TEMPORARY.match(name)
        if match is None:
            continue
        path = os.path.join(directory, name)
        try:
            st = os.lstat(path)
            if not stat.S_ISREG(st.st_mode):
                continue
            gone = _process_gone(int(match.group(2))) if match.group(1) == _HOST else None
            if gone or (gone is None and time.time() - st.st_mtime > _STALE_SECONDS):
                os.unlink(path)
        except OSError:  # gone meanwhile, or not ours to delete
            continue


def _process_gone(pid: int) -> Optional[bool]:
    """Whether process ``pid`` of this machine has ended (None: cannot tell)."""
    if os.name == "nt":
        return None  # os.kill(pid, 0) would send it Ctrl-C there
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether it exists
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False  # another user's process, or not a pid: keep the file
    except OSError:
        return None
    return False


def _umask() -> int:
    """The process's umask: read from /proc where it can be (os.umask can only
    be read by setting it, which races with other threads making files)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_directory(directory: str) -> None:
    """Make the rename durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _read_header(f: BufferedReader) -> Tuple[Dict[str, str], Dict[str, Tuple[str, Shape, int]], int]:
    """Parse and check the header of the safetensors file open as ``f``,
    without trusting it.

    Returns (metadata dict of str, {name: (dtype name, shape, offset of its
    data in the file)}, file size).  The file layout is: 8 bytes
    little-endian header length n, n bytes of JSON {name: {"dtype", "shape",
    "data_offsets": [begin, end]}, "__metadata__": {str: str}}, then the
    tensor data, offsets relative to its start."""
    size = os.fstat(f.fileno()).st_size
    head = f.read(8)
    if len(head) < 8:
        raise ValueError("the file is %d bytes long, too short for a safetensors header" % size)
    n = int.from_bytes(head, "little")
    if n > size - 8 or n > _MAX_HEADER_BYTES:
        raise ValueError("the header declares %d bytes but the file has %d after the size field"
                         " (at most %d allowed)" % (n, size - 8, _MAX_HEADER_BYTES))
    raw = f.read(n)
    if len(raw) < n:
        raise ValueError("the file ended inside its header")
    data_len = size - 8 - n
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ValueError("the safetensors header is not valid JSON: %s" % (exc,)) from None
    if not isinstance(header, dict):
        raise ValueError("the safetensors header must be a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ValueError("the safetensors __metadata__ must map strings to strings")
    tensors, spans = {}, []
    for name, info in header.items():
        if not isinstance(info, dict):
            raise ValueError("tensor %r: its header entry must be a JSON object" % (name,))
        dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if not isinstance(dtype, str) or dtype not in _DTYPES:
            raise ValueError("tensor %r has dtype %r; pynn files hold %s" % (name, dtype, " or ".join(_DTYPES)))
        if (not isinstance(shape, list) or len(shape) > 8
                or not all(type(d) is int and 0 <= d < 2 ** 62 for d in shape)):
            raise ValueError("tensor %r: shape must be a list of non-negative ints; got %r" % (name, shape))
        if (not isinstance(offsets, list) or len(offsets) != 2 or not all(type(o) is int for o in offsets)
                or not 0 <= offsets[0] <= offsets[1] <= data_len):
            raise ValueError("tensor %r: data_offsets %r are not inside the %d bytes of data"
                             % (name, offsets, data_len))
        n_bytes = 4 if dtype == "F32" else 8
        for d in shape:
            n_bytes *= d  # Python ints: no overflow
        if offsets[1] - offsets[0] != n_bytes:
            raise ValueError("tensor %r: shape %s of %s needs %d bytes; its data_offsets give %d"
                             % (name, shape, dtype, n_bytes, offsets[1] - offsets[0]))
        tensors[name] = (_DTYPES[dtype], tuple(shape), 8 + n + offsets[0])
        spans.append(tuple(offsets))
    spans.sort()
    for (_, end), (begin, _) in zip(spans, spans[1:]):
        if begin < end:
            raise ValueError("the tensors' data_offsets overlap")
    return metadata, tensors, size


def _read_tensor(f: BufferedReader, dtype: str, shape: Shape, offset: int) -> npt.NDArray[Any]:
    """One tensor's data from the open file: little-endian as safetensors
    stores it, in the machine's byte order."""
    values = np.empty(shape, dtype=np.dtype(dtype).newbyteorder("<"))
    f.seek(offset)
    if f.readinto(values.data) != values.nbytes:
        raise ValueError("the file ended inside the tensor data (truncated while it was read?)")
    return values.astype(dtype, copy=False)


def _int(value: object, what: str, minimum: int = 1, maximum: int = 2 ** 62) -> int:
    if type(value) is not int or not minimum <= value <= maximum:
        raise ValueError("%s must be an int in [%d, %d]; got %r" % (what, minimum, maximum, value))
    return value


def _check_meta(meta: object) -> Tuple[List[Layer], Any, str, Optimizer, int, int]:
    """The "pynn" metadata, checked for types and names: (layers, loss,
    dtype, optimizer, step, dropout seed), nothing allocated yet."""
    from . import optimizers
    from .layers import Dense, Dropout

    if not isinstance(meta, dict) or meta.get("format") != "pynn":
        raise ValueError("its metadata is not a pynn model description (no \"format\": \"pynn\")")
    version = meta.get("version")
    if type(version) is not int or version not in SUPPORTED_VERSIONS:
        if type(version) is int and version > max(SUPPORTED_VERSIONS):
            raise ValueError("it has format version %d, newer than this pynn reads (%s); upgrade pynn"
                             % (version, ", ".join(map(str, SUPPORTED_VERSIONS))))
        raise ValueError("unsupported format version %r (this pynn reads version %s)"
                         % (version, ", ".join(map(str, SUPPORTED_VERSIONS))))
    dtype = meta.get("dtype")
    if dtype not in ("float32", "float64"):
        raise ValueError("dtype must be 'float32' or 'float64'; got %r" % (dtype,))
    configs = meta.get("layers")
    if not isinstance(configs, list) or not configs:
        raise ValueError("layers must be a non-empty list; got %r" % (configs,))
    layers: List[Layer] = []
    for i, c in enumerate(configs):
        if isinstance(c, dict) and c.get("type") == "Dropout":
            try:
                layers.append(Dropout(c.get("p")))  # type: ignore[arg-type]  # Dropout checks it
            except (TypeError, ValueError) as exc:
                raise ValueError("layers[%d].%s" % (i, exc)) from None
            continue
        if not isinstance(c, dict) or c.get("type") != "Dense":
            raise ValueError("layers[%d] must be {\"type\": \"Dense\", ...} or {\"type\": \"Dropout\", "
                             "\"p\": ...}; got %r" % (i, c))
        n_in = _int(c.get("n_in"), "layers[%d].n_in" % i)
        n_out = _int(c.get("n_out"), "layers[%d].n_out" % i)
        activation: Any = c.get("activation")  # any value: Dense checks it
        layers.append(Dense(n_in, n_out, activation, init="zeros"))  # allocates nothing
    opt = meta.get("optimizer")
    if not isinstance(opt, dict) or not isinstance(opt.get("name"), str) or not isinstance(opt.get("config"), dict):
        raise ValueError("optimizer must be {\"name\": str, \"config\": {...}, \"step\": int}; got %r" % (opt,))
    try:
        optimizer = optimizers.from_config(opt["name"], opt["config"])
    except TypeError as exc:  # unknown or mistyped hyperparameters
        raise ValueError("optimizer config %r: %s" % (opt["config"], exc)) from None
    step = _int(opt.get("step", 0), "optimizer step", minimum=0, maximum=_MAX_STEP)
    dropout_seed = _int(meta.get("dropout_seed", 0), "dropout_seed", minimum=0, maximum=2 ** 64 - 1)
    return layers, meta.get("loss"), dtype, optimizer, step, dropout_seed


def load(path: PathLike) -> Network:
    """Read a Network saved with ``Network.save``.

    Raises ValueError if the file is not a pynn model file, is damaged, or
    does not match the architecture it declares (see the module docstring);
    FileNotFoundError / OSError if it cannot be read.

    The network comes back with its weights, loss, dtype and optimizer
    (settings, state and step count), so training can continue:

    >>> import os, tempfile
    >>> import pynn
    >>> net = pynn.Network([pynn.Dense(2, 4, "relu"), pynn.Dense(4, 1)], optimizer=pynn.Adam(lr=0.01),
    ...                    dtype="float64", seed=0)
    >>> loss = net.train_step([[0.0, 1.0]], [[1.0]])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
    >>> net.save(path)
    >>> same = pynn.load(path)
    >>> same.optimizer, same.optimizer.step, same.dtype
    (Adam(lr=0.01, betas=[0.9, 0.999], eps=1e-08, weight_decay=0.0), 1, dtype('float64'))
    >>> all((a == b).all() for a, b in zip(same.get_weights(), net.get_weights()))
    True
    """
    return load_with_metadata(path)[0]


def load_with_metadata(path: PathLike) -> Tuple[Network, Dict[str, str]]:
    """:func:`load`, and the file's safetensors metadata (every key, e.g. the
    command line's preprocessing), both from one read of one file."""
    path = os.fspath(path)
    with _open_regular(path) as f:  # everything below reads this one handle: one file, even if replaced meanwhile
        try:
            metadata, header, _ = _read_header(f)
        except ValueError as exc:
            raise ValueError("%s is not a readable safetensors file: %s" % (path, exc)) from None
        try:
            layers, loss, dtype, optimizer, step, dropout_seed, expected = _check_model(metadata, header)
        except ValueError as exc:
            raise ValueError("%s is not a valid pynn model file: %s" % (path, exc)) from None
        tensors = {}
        for key in expected:
            try:
                tensors[key] = _read_tensor(f, *header[key])
            except ValueError as exc:
                raise ValueError("%s: tensor %s: %s" % (path, key, exc)) from None
            if not np.isfinite(tensors[key]).all():
                raise ValueError("%s: tensor %s contains NaN or infinity" % (path, key))
    return _build(layers, loss, dtype, optimizer, step, dropout_seed, tensors), metadata


def _open_regular(path: str) -> BufferedReader:
    """``path`` opened for reading, refused (ValueError) unless it is a regular
    file: opening a FIFO to read would wait for a writer forever, and a device
    has no end."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ValueError("%s is not a regular file (%s); pynn loads model files only"
                             % (path, "a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode)
                                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "special"))
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _check_model(metadata: Dict[str, str], header: Dict[str, Tuple[str, Shape, int]]
                 ) -> Tuple[List[Layer], str, str, Optimizer, int, int, Dict[str, Shape]]:
    """The "pynn" metadata checked, and against the tensors the file holds
    (whose sizes the file size bounds), before anything is allocated:
    (layers, loss, dtype, optimizer, step, dropout seed, {tensor: shape})."""
    from .layers import Dense
    from .network import check_architecture

    if "pynn" not in metadata:
        raise ValueError("it has no pynn metadata; it was not written by Network.save")
    try:
        meta = json.loads(metadata["pynn"])
    except (ValueError, RecursionError) as exc:
        raise ValueError("its pynn metadata is not valid JSON: %s" % (exc,)) from None
    layers, loss, dtype, optimizer, step, dropout_seed = _check_meta(meta)
    check_architecture(layers, loss)  # sizes chain, softmax last, loss fits: what Network() checks
    dense = [layer for layer in layers if isinstance(layer, Dense)]
    expected: Dict[str, Shape] = {}
    for i, layer in zip(dense_positions(layers), dense):
        expected["layers.%d.W" % i] = (layer.n_in, layer.n_out)
        expected["layers.%d.b" % i] = (layer.n_out,)
    n_params = sum(l.n_params for l in dense)
    if optimizer.slots():
        expected["optimizer.state"] = (optimizer.slots() * n_params,)
    if set(header) != set(expected):
        raise ValueError("it holds tensors %s; its metadata declares %s" % (sorted(header), sorted(expected)))
    for key, shape in expected.items():
        if header[key][:2] != (dtype, shape):
            raise ValueError("tensor %s has shape %s and dtype %s; expected %s and %s"
                             % (key, header[key][1], header[key][0], shape, dtype))
    return layers, loss, dtype, optimizer, step, dropout_seed, expected


def _build(layers: List[Layer], loss: str, dtype: str, optimizer: Optimizer, step: int, dropout_seed: int,
           tensors: Dict[str, npt.NDArray[Any]]) -> Network:
    from .network import Network

    net = Network(layers, loss=loss, optimizer=optimizer, dtype=dtype)
    weights = [tensors["layers.%d.%s" % (i, name)] for i in dense_positions(layers) for name in "Wb"]
    net._restore(weights, tensors.get("optimizer.state"), step, dropout_seed)
    return net
