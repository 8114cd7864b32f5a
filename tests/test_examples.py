"""Each script in examples/ runs (in a fresh process, in a temporary directory) and prints what it promises."""
import os
import re
import subprocess
import sys

import pytest

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def run_example(name, backend, tmp_path):
    env = dict(os.environ, PYNN_BACKEND=backend)
    result = subprocess.run([sys.executable, os.path.join(EXAMPLES, name)], cwd=str(tmp_path), env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert os.listdir(tmp_path) == []  # examples leave no files behind
    return result.stdout


def test_every_example_is_tested():
    assert sorted(f for f in os.listdir(EXAMPLES) if f.endswith(".py")) == [
        "digits.py", "hand_worked_2_2_2.py", "regression.py", "xor.py"]


def test_xor(backend, tmp_path):
    out = run_example("xor.py", backend, tmp_path)
    assert "backend: %s" % backend in out
    assert "0 xor 1 -> " in out and "accuracy: 1.0" in out


def test_hand_worked(backend, tmp_path):
    out = run_example("hand_worked_2_2_2.py", backend, tmp_path)
    assert "E_total = 0.298371109" in out
    assert "w5+ = 0.35891648" in out and "w1+ = 0.149780716" in out
    assert "W2[0,0]" in out and "0.082167041" in out  # the table: dE/dw5


def test_digits(backend, tmp_path):
    out = run_example("digits.py", backend, tmp_path)
    try:
        import sklearn  # noqa: F401
    except ImportError:
        assert out.startswith("skipped: this example needs scikit-learn")
        pytest.skip("scikit-learn is not installed; the example said so and exited 0")
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)", out).group(1))
    assert accuracy > 0.93


def test_regression(backend, tmp_path):
    out = run_example("regression.py", backend, tmp_path)
    mae, sd = map(float, re.search(r"test mae: ([0-9.]+) +\(the target's standard deviation: ([0-9.]+)", out).groups())
    assert mae < 0.1 * sd


def test_digits_without_sklearn(backend, tmp_path):
    """With scikit-learn missing, the example says so and exits 0."""
    code = ("import runpy, sys; sys.modules['sklearn'] = None; "
            "runpy.run_path(%r, run_name='__main__')" % os.path.join(EXAMPLES, "digits.py"))
    result = subprocess.run([sys.executable, "-c", code], cwd=str(tmp_path), capture_output=True, text=True,
                            env=dict(os.environ, PYNN_BACKEND=backend), timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "skipped: this example needs scikit-learn (pip install scikit-learn)\n"
