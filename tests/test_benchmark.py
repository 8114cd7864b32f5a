"""The speed suite runs end to end and reports what it measured (no speed is
asserted here: timings are for benchmarks/, not for unit tests)."""
import json

import pynn
from pynn import benchmark


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


def test_suite_writes_its_reports(backend, tmp_path, capsys):
    contenders = "pynn-c,pynn-numpy,numpy" if "c" in pynn.available_backends() else "pynn-numpy,numpy"
    assert benchmark.main(["--workloads", "tiny,iris-size", "--contenders", contenders, "--budget", "0.01",
                           "--no-fit", "--no-float64", "--out", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "results.json").read_text())
    rows = [r for r in data["rows"] if "skipped" not in r]
    assert {r["workload"] for r in rows} == {"tiny", "iris-size"}
    assert all(r["step_s"] > 0 and r["forward_s"] > 0 for r in rows)
    table = (tmp_path / "results.md").read_text()
    assert "| tiny | numpy |" in table and "GFLOP/s" in table
    assert "pynn" in capsys.readouterr().out
