"""Learning-rate schedules against their documented formulas, and driving training."""
import math

import numpy as np
import pytest

import pynn
from pynn.callbacks import LearningRateScheduler
from pynn.schedules import CosineDecay, ExponentialDecay, StepDecay


def test_step_decay_formula():
    s = StepDecay(0.1, drop=0.5, step_size=10)
    assert s.values(31)[:10] == [0.1] * 10
    assert s(10) == s(19) == pytest.approx(0.05, rel=1e-15)
    assert s(20) == pytest.approx(0.025, rel=1e-15)
    assert s(30) == pytest.approx(0.0125, rel=1e-15)
    for e in range(60):
        assert s(e) == pytest.approx(0.1 * 0.5 ** math.floor(e / 10), rel=1e-15)


def test_exponential_decay_formula():
    s = ExponentialDecay(0.2, decay_rate=0.5, decay_epochs=4)
    assert s(0) == 0.2
    assert s(4) == pytest.approx(0.1, rel=1e-15)
    assert s(2) == pytest.approx(0.2 * 0.5 ** 0.5, rel=1e-15)  # smooth between steps
    stair = ExponentialDecay(0.2, decay_rate=0.5, decay_epochs=4, staircase=True)
    assert stair.values(9) == pytest.approx([0.2] * 4 + [0.1] * 4 + [0.05], rel=1e-15)
    for e in range(30):
        assert s(e) == pytest.approx(0.2 * 0.5 ** (e / 4), rel=1e-15)


def test_cosine_decay_with_warmup_formula():
    lr, W, D, lo = 0.1, 4, 10, 0.001
    s = CosineDecay(lr, decay_epochs=D, warmup_epochs=W, min_lr=lo)
    # warm-up: lr * (e + 1) / (W + 1): 0.02, 0.04, 0.06, 0.08, then the peak at epoch W
    assert s.values(W + 1) == pytest.approx([0.02, 0.04, 0.06, 0.08, 0.1], rel=1e-14)
    # half way through the decay: the mean of peak and floor
    assert s(W + D // 2) == pytest.approx((lr + lo) / 2, rel=1e-14)
    # the floor from W + D on
    assert s(W + D) == pytest.approx(lo, rel=1e-14) and s(W + D + 50) == pytest.approx(lo, rel=1e-14)
    for e in range(W, W + D + 5):
        t = min(e - W, D)
        assert s(e) == pytest.approx(lo + (lr - lo) * (1 + math.cos(math.pi * t / D)) / 2, rel=1e-14)
    # decreasing after the warm-up, increasing during it
    v = s.values(W + D + 1)
    assert all(a < b for a, b in zip(v[:W], v[1:W + 1]))
    assert all(a > b for a, b in zip(v[W:], v[W + 1:]))


def test_cosine_without_warmup_starts_at_the_peak():
    s = CosineDecay(0.5, decay_epochs=4)
    assert s.values(5) == pytest.approx([0.5, 0.5 * (1 + math.cos(math.pi / 4)) / 2, 0.25,
                                         0.5 * (1 + math.cos(3 * math.pi / 4)) / 2, 0.0], abs=1e-15)


@pytest.mark.parametrize("make", [
    lambda: StepDecay(-0.1), lambda: StepDecay(0.1, step_size=0), lambda: ExponentialDecay(0.1, decay_epochs=0),
    lambda: CosineDecay(0.1, decay_epochs=0), lambda: CosineDecay(0.1, 10, min_lr=0.2),
    lambda: CosineDecay(0.1, 10, warmup_epochs=-1),
])
def test_bad_arguments(make):
    with pytest.raises(ValueError):
        make()


def test_bad_epoch():
    with pytest.raises(ValueError, match="epoch"):
        StepDecay(0.1)(-1)
    with pytest.raises(TypeError, match="epoch"):
        StepDecay(0.1)(1.5)


def test_a_schedule_drives_training_exactly():
    """fit with LearningRateScheduler == one-epoch fits with lr set by hand (the backend uses the new lr)."""
    X = np.random.default_rng(0).normal(size=(24, 3))
    y = X @ np.array([[1.0], [-2.0], [0.5]])
    sched = StepDecay(0.1, drop=0.3, step_size=2)

    def make():
        return pynn.Network([pynn.Dense(3, 4, "tanh"), pynn.Dense(4, 1)], loss="mse",
                            optimizer=pynn.SGD(lr=0.1), dtype="float64", seed=3)

    a = make()
    hist = a.fit(X, y, epochs=6, batch_size=8, verbose=0, callbacks=[LearningRateScheduler(sched)])
    assert hist.history["lr"] == pytest.approx(sched.values(6), rel=1e-15)
    b = make()
    for e in range(6):
        b.optimizer.lr = sched(e)
        b.fit(X, y, epochs=1, batch_size=8, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    c = make()  # and the rate matters: a constant 0.1 trains differently
    c.fit(X, y, epochs=6, batch_size=8, verbose=0)
    assert not np.array_equal(c.get_weights()[0], a.get_weights()[0])
