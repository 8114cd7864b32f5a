"""The speed suite runs end to end and reports what it measured (no speed is
asserted here: timings are for benchmarks/, not for unit tests)."""
import json
import os
import runpy

import pytest

import pynn
from pynn import benchmark

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks")
DROPOUT_SCRIPT = os.path.join(BENCHMARKS, "dropout_overhead.py")
THREADS_SCRIPT = os.path.join(BENCHMARKS, "thread_scaling.py")


def test_flop_count_of_a_training_step(backend):
    # 4-16-3, batch 16: forward 2*16*(4*16 + 16*3); dW the same; dX for the second layer only
    forward = 2 * 16 * (4 * 16 + 16 * 3)
    assert benchmark.flops((4, 16, 3), 16, training=False) == forward
    assert benchmark.flops((4, 16, 3), 16, training=True) == 2 * forward + 2 * 16 * 16 * 3


def test_plain_numpy_baseline_learns(backend):
    import numpy as np
    mlp = benchmark.PlainNumpyMLP((4, 16, 3), "relu", "cross_entropy")
    X, y = benchmark.make_data((4, 16, 3), 64, "cross_entropy")
    before = -np.log(mlp.forward(X)[-1][np.arange(64), y]).mean()
    for _ in range(200):
        mlp.step(X, y)
    after = -np.log(mlp.forward(X)[-1][np.arange(64), y]).mean()
    assert after < 0.8 * before


def test_suite_writes_its_reports(backend, tmp_path, capsys, monkeypatch):
    """A smoke run sized down: small workloads, a 64x64 matmul for the GEMM
    peak (the real suite's 2048x2048 one takes minutes under emulation), a
    tiny time budget."""
    sizes = []
    real_peak = benchmark.machine_peak

    def machine_peak(n=2048, *args, **kwargs):
        sizes.append(n)
        return real_peak(n, *args, **kwargs)

    monkeypatch.setattr(benchmark, "machine_peak", machine_peak)
    contenders = "pynn-c,pynn-numpy,numpy" if "c" in pynn.available_backends() else "pynn-numpy,numpy"
    assert benchmark.main(["--workloads", "tiny,iris-size", "--contenders", contenders, "--budget", "0.01",
                           "--no-fit", "--no-float64", "--peak-size", "64", "--rounds", "2", "--out", str(tmp_path)]) == 0
    assert sizes == [64, 64]  # the peak before and after the contenders
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["gemm_peak_gflops"] > 0 and data["info"]["peak_size"] == 64
    assert data["gemm_peaks"]["numpy"] > 0  # measured in a process of its own
    rows = [r for r in data["rows"] if "skipped" not in r]
    assert {r["workload"] for r in rows} == {"tiny", "iris-size"}
    assert all(r["rounds"] == 2 for r in rows)  # every contender timed in each of the rounds
    assert all(r["step_s"] > 0 and r["forward_s"] > 0 for r in rows)
    table = (tmp_path / "results.md").read_text()
    assert "| tiny | numpy |" in table and "GFLOP/s" in table and "64x64 matmul" in table
    out = capsys.readouterr().out
    assert "pynn" in out and "round 2/2  iris-size" in out


def test_contender_process_reports_its_error(backend):
    """A contender that fails in its own process raises in the suite's, not hangs."""
    proc = benchmark.ContenderProcess("no-such-contender", benchmark._settings_now())
    try:
        with pytest.raises(KeyError, match="no-such-contender"):
            proc.time(benchmark.WORKLOADS[0], 0.01)
    finally:
        proc.close()
    assert not proc.process.is_alive()


def test_dropout_overhead_script_prints_its_table(backend, capsys):
    if not os.path.exists(DROPOUT_SCRIPT):  # e.g. testing an installed wheel without the checkout
        pytest.skip("benchmarks/ is not next to these tests")
    main = runpy.run_path(DROPOUT_SCRIPT)["main"]
    main(["--backend", backend, "--workloads", "tiny,iris-size", "--rounds", "1", "--budget", "0.01"])
    rows = [line.split("|") for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert [r[1].strip() for r in rows[1:]] == ["tiny", "iris-size"]
    for r in rows[1:]:
        assert float(r[3].split()[0]) > 0 and float(r[4].split()[0]) > 0 and r[5].strip().endswith("%")


def test_thread_scaling_script_prints_its_table(backend, capsys):
    if not os.path.exists(THREADS_SCRIPT):
        pytest.skip("benchmarks/ is not next to these tests")
    if "c" not in pynn.available_backends():
        pytest.skip("threads only split the C core's products")
    threads_before = pynn.get_num_threads()
    main = runpy.run_path(THREADS_SCRIPT)["main"]
    assert main(["--threads", "2", "--workloads", "tiny,tabular-20", "--rounds", "2", "--budget", "0.01"]) == 0
    rows = [line.split("|") for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert [r[1].strip() for r in rows[1:]] == ["tiny", "tabular-20"]
    for r in rows[1:]:
        one, two = float(r[3].split()[0]), float(r[4].split()[0])
        fastest, slowest = (float(x.split()[0]) for x in r[5].split(","))
        assert 0 < fastest <= two <= slowest and one > 0
        speedup = float(r[6].strip().rstrip("x"))  # from the unrounded times: within the printed ones' rounding
        assert (one - 0.05) / (two + 0.05) - 0.005 <= speedup <= (one + 0.05) / (two - 0.05) + 0.005
    assert pynn.get_num_threads() == threads_before and pynn.backend() == backend  # put back as found


def test_contender_process_that_does_not_answer_is_killed(backend, monkeypatch):
    """A contender that takes longer than REPLY_TIMEOUT to answer fails the run
    instead of hanging it: here a 5 s timing budget against a 1 s limit."""
    monkeypatch.setattr(benchmark, "REPLY_TIMEOUT", 1)
    proc = benchmark.ContenderProcess("numpy", benchmark._settings_now())
    try:
        with pytest.raises(TimeoutError, match="numpy contender gave no time for tiny"):
            proc.time(benchmark.WORKLOADS[0], 5.0)
        proc.process.join(timeout=10)
        assert not proc.process.is_alive()
    finally:
        proc.close()
