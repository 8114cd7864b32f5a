"""Saving and loading under odd conditions (issue 11): nothing lost, nothing mixed.

- save() writes through a symbolic link to its target (the link stays a link), creates a dangling
  link's target, and refuses what is not a regular file (a folder, a FIFO, a device node) with a
  ValueError, leaving it untouched; load() refuses them too, at once (a FIFO would block it); a missing folder is named in the error; save("") writes
  nothing; parameters that are NaN or infinite are refused, so a good file is never replaced by
  one load() would refuse.
- Temporary files of killed saves are removed by the next save into the folder once their
  process is gone (a real process killed with SIGKILL mid-save, and files made to look like one),
  while a save under way elsewhere keeps its file.
- load() reads one file once: with another process replacing the file again and again (each
  save atomic), every load returns exactly one of the saved models, weights and metadata
  together.
- Values beyond float32's range are refused after the cast (set_weights, layer.W, init).
"""
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import pynn
from pynn import serialization

TIMEOUT = 60


def _net(value=None, dtype="float32"):
    net = pynn.Network([pynn.Dense(3, 4, "tanh"), pynn.Dense(4, 2)], optimizer=pynn.SGD(lr=0.1, momentum=0.9),
                       dtype=dtype, seed=0)
    if value is not None:
        net.set_weights([np.full(w.shape, value) for w in net.get_weights()])
    return net


def _weights_of(path):
    return pynn.load(path).get_weights()


def test_save_writes_through_a_symlink(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    target = models / "v1.safetensors"
    _net(1.0).save(target)
    link = tmp_path / "current.safetensors"
    link.symlink_to(target)
    _net(2.0).save(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert all((w == 2.0).all() for w in _weights_of(target))
    assert sorted(os.listdir(models)) == ["v1.safetensors"]  # no temporary file left
    assert sorted(os.listdir(tmp_path)) == ["current.safetensors", "models"]


def test_save_through_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "current.safetensors"
    link.symlink_to(tmp_path / "v2.safetensors")
    _net(3.0).save(link)
    assert link.is_symlink()
    assert all((w == 3.0).all() for w in _weights_of(tmp_path / "v2.safetensors"))


def test_save_refuses_a_fifo(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="FIFO"):
        _net().save(fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["pipe"]


def test_save_refuses_a_device_node(tmp_path):
    node = tmp_path / "null"
    try:
        os.mknod(node, stat.S_IFCHR | 0o600, os.makedev(1, 3))  # as /dev/null
    except (PermissionError, OSError) as exc:
        pytest.skip("cannot make a device node here: %s" % exc)
    link = tmp_path / "model.safetensors"
    link.symlink_to(node)
    for path in (node, link):
        with pytest.raises(ValueError, match="device"):
            _net().save(path)
    assert stat.S_ISCHR(os.lstat(node).st_mode) and link.is_symlink()


def test_load_refuses_a_fifo_or_device_without_waiting(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "m.safetensors"
    link.symlink_to(fifo)
    for path in (fifo, link):  # opening a FIFO to read would wait for a writer forever
        with pytest.raises(ValueError, match="not a regular file.*FIFO"):
            pynn.load(path)
    with pytest.raises(ValueError, match="not a regular file.*device"):
        pynn.load("/dev/zero")
    with pytest.raises(ValueError, match="not a regular file.*folder"):
        pynn.load(tmp_path)


def test_load_through_a_symlink(tmp_path):
    _net(1.5).save(tmp_path / "v1.safetensors")
    (tmp_path / "current").symlink_to(tmp_path / "v1.safetensors")
    assert all((w == 1.5).all() for w in _weights_of(tmp_path / "current"))


def test_save_refuses_a_folder(tmp_path):
    (tmp_path / "m.safetensors").mkdir()
    with pytest.raises(ValueError, match="folder"):
        _net().save(tmp_path / "m.safetensors")
    with pytest.raises(ValueError, match="folder"):
        _net().save(str(tmp_path) + os.sep)


def test_save_into_a_missing_folder_names_it(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        _net().save(tmp_path / "nowhere" / "m.safetensors")
    assert str(tmp_path / "nowhere") in str(info.value) and ".pynn" not in str(info.value)


def test_save_to_an_empty_name_writes_nothing(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    with pytest.raises(ValueError, match="path"):
        _net().save("")
    assert os.listdir(work) == [] and os.listdir(tmp_path) == ["work"]


def test_save_refuses_non_finite_parameters_and_keeps_the_good_file(tmp_path):
    path = tmp_path / "m.safetensors"
    net = _net(0.5)
    net.save(path)
    good = path.read_bytes()
    net._plan.params[3] = np.inf  # as an update that overflowed would leave it
    with pytest.raises(ValueError, match=r"layers\.0\.W contains NaN or infinity"):
        net.save(path)
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["m.safetensors"]
    net._plan.params[3] = 0.0
    net._plan.state[0] = np.nan
    with pytest.raises(ValueError, match="optimizer.state"):
        net.save(path)


def _temporary(directory, host, pid, name="m.safetensors", age=0.0):
    path = os.path.join(directory, ".pynn-tmp-%s-%d-%s-%s" % (host, pid, "0badf00d", name))
    with open(path, "wb") as f:
        f.write(b"\0" * 1000)
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def _dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=TIMEOUT)
    return child.pid


def test_next_save_removes_temporaries_of_finished_processes(tmp_path):
    host = serialization._HOST
    other = "%08x" % (int(host, 16) ^ 1)
    dead = _temporary(tmp_path, host, _dead_pid())
    live = _temporary(tmp_path, host, os.getppid())  # a save under way in a living process
    old_foreign = _temporary(tmp_path, other, 4242, age=2 * 24 * 3600)
    new_foreign = _temporary(tmp_path, other, 4243, age=60)
    _net().save(tmp_path / "m.safetensors")
    left = set(os.listdir(tmp_path))
    assert os.path.basename(dead) not in left and os.path.basename(old_foreign) not in left
    assert os.path.basename(live) in left and os.path.basename(new_foreign) in left


SAVER = textwrap.dedent("""
    import sys
    import pynn
    net = pynn.Network([pynn.Dense(2000, 2000), pynn.Dense(2000, 1)], dtype="float64", seed=0)
    print("ready", flush=True)
    while True:
        net.save(sys.argv[1])
""")


def test_a_save_killed_midway_is_cleaned_by_the_next(tmp_path):
    """A real process saving a 32 MB model in a loop is killed (SIGKILL) while its temporary file
    exists; the next save into the folder removes that file."""
    path = tmp_path / "m.safetensors"

    def temporaries():
        return [n for n in os.listdir(tmp_path) if n.startswith(".pynn-")]

    for attempt in range(20):
        child = subprocess.Popen([sys.executable, "-c", SAVER, str(path)], stdout=subprocess.PIPE, text=True)
        try:
            assert child.stdout.readline().strip() == "ready"
            deadline = time.time() + 10
            while time.time() < deadline and not temporaries():
                time.sleep(0.001)
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.kill()
            child.wait(timeout=TIMEOUT)
        if temporaries():
            break
    else:
        pytest.fail("could not kill the saver while its temporary file existed")
    _net().save(tmp_path / "other.safetensors")
    assert temporaries() == []


WRITER = textwrap.dedent("""
    import sys, time
    import numpy as np
    import pynn
    nets = []
    for value in (1.0, 2.0):
        net = pynn.Network([pynn.Dense(64, 256, "tanh"), pynn.Dense(256, 4)],
                           optimizer=pynn.SGD(lr=value / 10, momentum=0.5), dtype="float64", seed=0)
        net.set_weights([np.full(w.shape, value) for w in net.get_weights()])
        net.optimizer.step = int(value)
        nets.append(net)
    nets[0].save(sys.argv[1])
    print("ready", flush=True)
    end = time.time() + float(sys.argv[2])
    i = 0
    while time.time() < end:
        nets[i % 2].save(sys.argv[1])
        i += 1
""")


def test_load_while_another_process_saves_gives_one_whole_model(tmp_path):
    path = tmp_path / "m.safetensors"
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(path), "6"], stdout=subprocess.PIPE, text=True)
    seen = set()
    try:
        assert child.stdout.readline().strip() == "ready"
        deadline = time.time() + 5
        loads = 0
        while time.time() < deadline:
            net = pynn.load(path)  # never a KeyError, never a mix
            values = {float(v) for w in net.get_weights() for v in np.unique(w)}
            assert len(values) == 1, values
            value = values.pop()
            assert net.optimizer.step == int(value) and net.optimizer.lr == value / 10
            seen.add(value)
            loads += 1
    finally:
        child.kill()
        child.wait(timeout=TIMEOUT)
    assert loads > 20 and seen == {1.0, 2.0}


@pytest.mark.parametrize("how", ["set_weights", "layer.W", "init"])
def test_values_beyond_float32_are_refused_after_the_cast(how):
    big = [[1e300, 0.0, 0.0, 0.0]] * 3
    if how == "init":
        with pytest.raises(ValueError, match="NaN or infinity"):
            pynn.Network([pynn.Dense(3, 4, init=lambda shape, rng: np.array(big))])
        return
    net = _net(0.25)
    with pytest.raises(ValueError, match="NaN or infinity"):
        if how == "set_weights":
            net.set_weights([np.array(big)] + net.get_weights()[1:])
        else:
            net.layers[0].W = big
    assert all((w == 0.25).all() for w in net.get_weights())
    twin = _net(0.25, dtype="float64")  # in float64, 1e300 is a number
    twin.layers[0].W = big
    assert twin.get_weights()[0][0, 0] == 1e300
