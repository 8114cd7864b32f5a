"""Data-parallel training under a real MPI: ``mpiexec -n 2`` and ``-n 3`` as
subprocesses (mpi4py with the mpich wheel in CI), each with MPIEXEC_TIMEOUT
and a subprocess timeout so a hang fails fast.  PYNN_REQUIRE_MPI=1 (CI)
makes a missing mpiexec or mpi4py a failure instead of a skip."""
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

import pynn

SCRIPT = os.path.join(os.path.dirname(__file__), "mpi_scripts", "train.py")


def _mpiexec():
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")  # the venv's (the mpich wheel's)
    found = here if os.path.exists(here) else shutil.which("mpiexec")
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        found = None
    if found is None:
        if os.environ.get("PYNN_REQUIRE_MPI") == "1":
            pytest.fail("PYNN_REQUIRE_MPI=1 but mpiexec or mpi4py is missing (pip install mpi4py mpich)")
        pytest.skip("needs mpiexec and mpi4py (pip install mpi4py mpich)")
    return found


def _run(n, out, mode, backend, timeout=60):
    env = dict(os.environ, PYNN_BACKEND=backend, MPIEXEC_TIMEOUT="30", PYTHONUNBUFFERED="1")
    env.pop("PYNN_NUM_THREADS", None)
    env.pop("OMP_NUM_THREADS", None)
    start = time.monotonic()
    proc = subprocess.run([_mpiexec(), "-n", str(n), sys.executable, SCRIPT, out, mode], env=env,
                          capture_output=True, text=True, timeout=timeout)
    return proc, time.monotonic() - start


@pytest.mark.parametrize("n", [2, 3])
def test_mpiexec_ranks_train_as_one_process_and_stay_identical(n, tmp_path, backend):
    out = str(tmp_path / "run")
    proc, _ = _run(n, out, "ok", backend)
    assert proc.returncode == 0, proc.stderr
    ranks = [np.load("%s.rank%d.npz" % (out, r)) for r in range(n)]
    weights = [[f["arr_%d" % i] for i in range(4)] for f in ranks]
    for w in weights[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(weights[0], w))
    assert all(np.array_equal(f["loss"], ranks[0]["loss"]) for f in ranks)
    cpus = len(os.sched_getaffinity(0))
    assert int(ranks[0]["threads"][0]) == max(1, cpus // n)  # cores ÷ processes on this machine

    # one process, batches = the ranks' batches of 4 concatenated in rank order
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 4)), rng.integers(0, 3, 50)
    bounds = np.linspace(0, 50, n + 1).astype(int)
    ref = pynn.Network([pynn.Dense(4, 8, "tanh"), pynn.Dropout(0.2), pynn.Dense(8, 3, "softmax")],
                       loss="cross_entropy", optimizer=pynn.Adam(lr=0.02), dtype="float64", seed=10)
    steps = max(-(-(b - a) // 4) for a, b in zip(bounds[:-1], bounds[1:]))
    for _ in range(3):
        for k in range(steps):
            rows = [i for a, b in zip(bounds[:-1], bounds[1:]) for i in range(a + 4 * k, min(a + 4 * k + 4, b))]
            ref.train_step(X[rows], y[rows])
    assert max(float(np.abs(a - b).max()) for a, b in zip(weights[0], ref.get_weights())) < 1e-12
    saved = pynn.load(out + ".safetensors")
    assert all(np.array_equal(a, b) for a, b in zip(saved.get_weights(), weights[0]))


@pytest.mark.parametrize("mode", ["raise", "kill"])
def test_a_failing_rank_ends_the_whole_job_quickly(mode, tmp_path, backend):
    proc, seconds = _run(3, str(tmp_path / "run"), mode, backend, timeout=40)
    assert proc.returncode != 0
    assert seconds < 10, "the job took %.1f s to end after a rank failed" % seconds
    if mode == "raise":
        assert "rank 1 fails on purpose" in proc.stderr
        assert "aborting the job" in proc.stderr
