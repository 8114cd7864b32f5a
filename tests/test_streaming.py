"""fit on a stream of (X, y) pieces: the same parameters as fit on the
pieces concatenated without shuffling, whatever the pieces' sizes."""
import numpy as np
import pytest

import pynn


def _net(seed=0, loss="cross_entropy"):
    out = pynn.Dense(8, 3, "softmax") if loss == "cross_entropy" else pynn.Dense(8, 2)
    return pynn.Network([pynn.Dense(5, 8, "tanh"), out], loss=loss, optimizer=pynn.Adam(lr=0.01),
                        dtype="float64", seed=seed)


def _data(n=103, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 5)), rng.integers(0, 3, n), rng.uniform(0.5, 2, n)


@pytest.mark.parametrize("cuts", [[103], [10, 7, 50, 36], [1] * 103, [32, 32, 39]])
def test_a_stream_trains_as_its_concatenation(cuts):
    X, y, w = _data()
    bounds = np.cumsum([0] + cuts)
    pieces = [(X[a:b], y[a:b], w[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    streamed, whole = _net(), _net()
    hs = streamed.fit(pieces, epochs=3, batch_size=16, verbose=0, validation_data=(X[:20], y[:20]))
    hw = whole.fit(X, y, sample_weight=w, epochs=3, batch_size=16, shuffle=False, verbose=0,
                   validation_data=(X[:20], y[:20]))
    assert all(np.array_equal(a, b) for a, b in zip(streamed.get_weights(), whole.get_weights()))
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert hs.history[key] == pytest.approx(hw.history[key], rel=1e-12)


def test_a_function_giving_a_new_iterator_each_epoch_and_a_generator_once():
    X, y, _ = _data(40)
    a, b = _net(1, "mse"), _net(1, "mse")
    Y = np.stack([X[:, 0], X[:, 1] * 2], 1)

    def pieces():
        for lo in range(0, 40, 15):
            yield X[lo:lo + 15], Y[lo:lo + 15]

    a.fit(pieces, epochs=2, batch_size=8, verbose=0)
    b.fit(X, Y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    assert all(np.array_equal(p, q) for p, q in zip(a.get_weights(), b.get_weights()))
    with pytest.raises(ValueError, match="read only once"):
        _net(1, "mse").fit(pieces(), epochs=2, batch_size=8, verbose=0)
    _net(1, "mse").fit(pieces(), epochs=1, batch_size=8, verbose=0)  # one epoch: a generator is fine


def test_stream_mistakes_are_named():
    X, y, _ = _data(10)
    with pytest.raises(ValueError, match=r"\(X, y\) or \(X, y, sample_weight\)"):
        _net().fit([X], epochs=1, verbose=0)
    with pytest.raises(ValueError, match="sample_weight does not apply"):
        _net().fit([(X, y)], sample_weight=np.ones(10), verbose=0)
    with pytest.raises(ValueError, match="no rows"):
        _net().fit([], verbose=0)
    with pytest.raises(ValueError, match="fit needs y"):
        _net().fit(X, verbose=0)
