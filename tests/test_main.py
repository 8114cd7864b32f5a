"""``python -m pynn`` (the demo job) trains the spirals and reports the
backend, the test accuracy and the time, on whichever backend is selected."""
import os
import re
import subprocess
import sys


def test_python_m_pynn_trains_the_demo(backend, tmp_path):
    env = dict(os.environ, PYNN_BACKEND=backend)
    # run outside the checkout, so the installed pynn is the one under test
    run = subprocess.run([sys.executable, "-m", "pynn", "--epochs", "40"], env=env, cwd=str(tmp_path),
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "backend: %s" % backend in out
    assert "epoch   40/40" in out
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)", out).group(1))
    assert accuracy >= 0.9  # three spirals: a linear model would get about a third
    assert re.search(r"time: [0-9.]+ s for 40 epochs", out)


def test_python_m_pynn_rejects_bad_arguments(backend, tmp_path):
    run = subprocess.run([sys.executable, "-m", "pynn", "--epochs", "0"], cwd=str(tmp_path),
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "--epochs must be >= 1" in run.stderr
