"""Network.save on Windows (issue 16): there ``os.fsync`` (the C runtime's
``_commit``) refuses a handle opened read-only with EBADF, so the temporary
file must be flushed to disk through a writable handle.  Simulated here with
an fsync that behaves like Windows' one: it fails on a read-only descriptor."""
import errno
import os

import numpy as np
import pytest

import pynn
import pynn.serialization as serialization

fcntl = pytest.importorskip("fcntl")  # to ask a descriptor's access mode (POSIX)


def windows_fsync(synced):
    real = os.fsync

    def fsync(fd):
        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDONLY:
            raise OSError(errno.EBADF, "Bad file descriptor")
        synced.append(os.readlink("/proc/self/fd/%d" % fd) if os.path.exists("/proc/self/fd") else fd)
        return real(fd)
    return fsync


def test_save_flushes_the_file_through_a_writable_handle(backend, tmp_path, monkeypatch):
    synced = []
    monkeypatch.setattr(serialization.os, "fsync", windows_fsync(synced))
    net = pynn.Network([pynn.Dense(2, 3, "tanh"), pynn.Dense(3, 1)], seed=0)
    path = tmp_path / "model.safetensors"
    net.save(path)  # the old code (open(tmp, "rb") + fsync) raised EBADF here
    assert synced, "the temporary file was not flushed to disk before the rename"
    if isinstance(synced[0], str):
        assert os.path.basename(synced[0]).startswith(".pynn-tmp-"), synced
    monkeypatch.undo()
    same = pynn.load(path)
    X = np.array([[0.5, -1.0]], dtype=np.float32)
    assert (same.predict(X) == net.predict(X)).all()
