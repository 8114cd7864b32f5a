"""Odd values that used to escape as the wrong exception, or not at all (issue 11):

- a batch_size beyond the C core's int64 is one ValueError on both backends (it was cffi's
  OverflowError on C while numpy trained);
- a growing learning-rate schedule that overflows is a ValueError naming the schedule and epoch
  (it was an OverflowError out of LearningRateScheduler);
- explain_step refuses, before doing anything, a request that would keep more chain-rule terms
  than max_terms, and says what to pass;
- a fit called from inside a fit's callback returns its own History and leaves net.history to
  the outer fit.
"""
import numpy as np
import pytest

import pynn
from pynn.callbacks import LearningRateScheduler
from pynn.schedules import ExponentialDecay, StepDecay


def _net(seed=0):
    return pynn.Network([pynn.Dense(2, 4, "tanh"), pynn.Dense(4, 1)], optimizer=pynn.SGD(lr=0.01),
                        dtype="float64", seed=seed)


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 2))
    return X, X.sum(axis=1)


@pytest.mark.parametrize("batch_size", [2 ** 63, 2 ** 64 + 5])
def test_huge_batch_size_is_a_value_error(batch_size):
    net = _net()
    before = net.get_weights()
    with pytest.raises(ValueError, match="batch_size must be <= 4611686018427387904"):
        net.fit(*_data(), batch_size=batch_size, verbose=0)
    for a, b in zip(net.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    net.fit(*_data(), batch_size=2 ** 62, verbose=0)  # the largest allowed: one batch of all rows
    ref = _net()
    ref.train_step(*_data())
    for a, b in zip(net.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("schedule", [StepDecay(0.1, drop=2.0, step_size=1), ExponentialDecay(0.1, decay_rate=2.0)])
def test_growing_schedule_overflow_is_a_value_error(schedule):
    assert schedule(10) == pytest.approx(0.1 * 2 ** 10)
    with pytest.raises(ValueError, match="no finite learning rate at epoch 1100"):
        schedule(1100)
    scheduler = LearningRateScheduler(lambda epoch: schedule(epoch + 1100))  # far out, where it overflows
    with pytest.raises(ValueError, match="no finite learning rate"):
        _net().fit(*_data(), epochs=1, verbose=0, callbacks=[scheduler])


def test_explain_step_refuses_too_many_terms_before_the_step():
    net = pynn.Network([pynn.Dense(20, 100, "relu"), pynn.Dense(100, 10)], optimizer=pynn.SGD(lr=0.1), seed=0)
    X = np.random.default_rng(0).normal(size=(64, 20))
    Y = np.zeros((64, 10))
    before = net.get_weights()
    with pytest.raises(ValueError) as info:
        net.explain_step(X, Y)  # 64 rows x 3110 parameters = 199040 terms
    message = str(info.value)
    assert "64 rows x 3110 parameters = 199040" in message and "max_terms=100000" in message
    assert "X[:32]" in message  # what fits: 100000 // 3110 = 32 rows
    assert net.optimizer.step == 0
    for a, b in zip(net.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    step = net.explain_step(X[:32], Y[:32])  # as the message says: it fits
    assert len(step.weights) == 3110 and net.optimizer.step == 1
    net.explain_step(X, Y, max_terms=200_000)  # or a larger bound
    assert net.optimizer.step == 2


def test_fit_inside_a_callback_keeps_the_outer_history():
    outer_net = _net()
    inner_histories = []

    class FitAgain(pynn.Callback):
        def on_epoch_end(self, epoch, logs=None):
            inner_histories.append(self.model.fit(*_data(), epochs=2, verbose=0))

    history = outer_net.fit(*_data(), epochs=3, verbose=0, callbacks=[FitAgain()])
    assert outer_net.history is history and len(history.epoch) == 3
    assert all(len(h.epoch) == 2 and h is not history for h in inner_histories)
    later = outer_net.fit(*_data(), epochs=1, verbose=0)  # a new outermost fit takes over
    assert outer_net.history is later
