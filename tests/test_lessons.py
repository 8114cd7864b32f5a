"""The lessons: a learning-rate sweep with a divergent run that does not crash, and the
symmetry of equal initial weights."""
import math

import numpy as np
import pytest

import pynn
from pynn.lessons import init_demo, lr_sweep, sine_data


def test_lr_sweep_small_good_divergent():
    r = lr_sweep(lrs=(0.001, 0.1, 1.0), epochs=20)
    assert r.lrs == (0.001, 0.1, 1.0)
    # divergence is recorded, not raised: inf at the epoch it happened, and the run stopped there
    assert r.diverged[1.0] == 1 and r.curves[1.0] == [math.inf]
    assert r.final[1.0] == math.inf
    assert r.diverged[0.001] is None and r.diverged[0.1] is None
    assert len(r.curves[0.001]) == len(r.curves[0.1]) == 20
    assert all(math.isfinite(v) for v in r.curves[0.1])
    assert r.best_lr == 0.1
    # too small: still far above the good run; both improve on the start
    assert r.final[0.001] > 3 * r.final[0.1]
    assert r.final[0.1] < r.final[0.001] < r.initial_loss
    assert r.verdict(0.001).startswith("too small") and r.verdict(0.1).startswith("good")
    assert r.verdict(1.0) == "too large: diverged at epoch 1"
    text = r.to_text()
    assert "diverged at epoch 1" in text and "good: lowest final loss" in text


def test_lr_sweep_same_start_for_every_rate():
    """The runs differ only by the rate: the starting loss is shared and equals a fresh network's."""
    r = lr_sweep(lrs=(0.01, 0.02), epochs=2)
    X, y = sine_data()
    net = pynn.Network([pynn.Dense(1, 16, "tanh"), pynn.Dense(16, 1)], loss="mse", seed=0, dtype="float64")
    assert r.initial_loss == pytest.approx(net.evaluate(X, y)["loss"], rel=1e-14)
    assert r.curves[0.01][0] != r.curves[0.02][0]


def test_lr_sweep_on_user_data_classification():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = (X[:, 0] > 0).astype(int)
    r = lr_sweep(lrs=(0.01, 1.0), epochs=5, X=X, y=y, loss="cross_entropy")
    assert all(len(c) == 5 for c in r.curves.values())
    assert r.final[1.0] < r.final[0.01]


def test_lr_sweep_one_feature_as_a_vector():
    x = np.linspace(-1, 1, 20)
    r = lr_sweep(lrs=(0.1,), epochs=2, X=x, y=2 * x)
    assert len(r.curves[0.1]) == 2 and r.curves[0.1][1] < r.initial_loss


def test_lr_sweep_huge_rate_stays_quiet():
    with np.errstate(all="raise"):  # the sweep itself silences the overflow on the way to inf
        r = lr_sweep(lrs=(1e6,), epochs=3)
    assert r.diverged[1e6] == 1


def test_lr_sweep_bad_arguments():
    with pytest.raises(ValueError, match="lrs"):
        lr_sweep(lrs=())
    with pytest.raises(ValueError, match=r"lrs\[1\]"):
        lr_sweep(lrs=(0.1, -1.0))


def test_init_demo_symmetry():
    r = init_demo(epochs=30)
    for name in ("zeros", "constant"):
        # identical hidden units before and after every epoch, not just roughly
        assert r.spread[name] == [0.0] * 31
        assert r.distinct_units[name] == 1
    assert r.spread["random"][0] > 0.1 and r.spread["random"][-1] > r.spread["random"][0]
    assert r.distinct_units["random"] == 8
    assert r.final_accuracy["random"] > 0.95
    assert r.final_accuracy["zeros"] < 0.8 and r.final_accuracy["constant"] < 0.8
    assert len(r.accuracy["random"]) == 30
    text = r.to_text()
    assert "1 of 8" in text and "8 of 8" in text


def test_init_demo_other_names():
    r = init_demo(inits=("ones", "he_normal"), epochs=5, hidden=4)
    assert r.distinct_units == {"ones": 1, "he_normal": 4}
    with pytest.raises(ValueError, match="inits"):
        init_demo(inits=("nope",), epochs=1)


def test_charts(tmp_path):
    pytest.importorskip("matplotlib")
    r = lr_sweep(lrs=(0.01, 1.0), epochs=3, path=tmp_path / "sweep.png")
    assert (tmp_path / "sweep.png").read_bytes()[:4] == b"\x89PNG"
    fig = r.plot()
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert labels == ["lr = 0.01", "lr = 1 (diverged)"]
    init_demo(epochs=3, path=tmp_path / "init.png")
    assert (tmp_path / "init.png").read_bytes()[:4] == b"\x89PNG"
