"""What practitioners stumbled on (issue 14): evaluate() gives mae and r2 for regression (as
scikit-learn's metrics compute them), summary() prints, and the messages point somewhere: string
labels, class labels under a sigmoid output, and diverging losses in scientific notation."""
import numpy as np
import pytest

import pynn


def _regressor(n_out=2, seed=0):
    return pynn.Network([pynn.Dense(3, 5, "tanh"), pynn.Dense(5, n_out)], dtype="float64", seed=seed)


def _by_hand(P, Y, w=None):
    mae = np.average(np.abs(P - Y).mean(axis=1), weights=w)
    mean = np.average(Y, axis=0, weights=w)
    r2 = 1 - np.average((P - Y) ** 2, axis=0, weights=w) / np.average((Y - mean) ** 2, axis=0, weights=w)
    return mae, r2.mean()


@pytest.mark.parametrize("weighted", [False, True])
def test_evaluate_regression_metrics(weighted):
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(30, 3)), rng.normal(size=(30, 2))
    w = rng.uniform(0.5, 2.0, size=30) if weighted else None
    net = _regressor()
    scores = net.evaluate(X, Y, sample_weight=w)
    assert sorted(scores) == ["loss", "mae", "r2"]
    mae, r2 = _by_hand(net.predict(X), Y, w)
    assert scores["mae"] == pytest.approx(mae, rel=1e-12) and scores["r2"] == pytest.approx(r2, rel=1e-12)
    metrics = pytest.importorskip("sklearn.metrics")
    assert scores["r2"] == pytest.approx(metrics.r2_score(Y, net.predict(X), sample_weight=w), rel=1e-12)
    assert scores["mae"] == pytest.approx(metrics.mean_absolute_error(Y, net.predict(X), sample_weight=w),
                                          rel=1e-12)


def test_r2_of_a_constant_target_follows_scikit_learn():
    net = pynn.Network([pynn.Dense(1, 1)], dtype="float64")
    net.set_weights([[[0.0]], [2.0]])  # predicts 2 everywhere
    X = [[0.0], [1.0], [2.0]]
    assert net.evaluate(X, [2.0, 2.0, 2.0])["r2"] == 1.0  # constant target, predicted exactly
    assert net.evaluate(X, [3.0, 3.0, 3.0])["r2"] == 0.0  # constant target, missed


def test_classifiers_keep_accuracy_only():
    net = pynn.Network([pynn.Dense(2, 3, "softmax")], loss="cross_entropy", seed=0)
    assert sorted(net.evaluate([[0, 1], [1, 0]], [0, 2])) == ["accuracy", "loss"]


def test_summary_prints_the_table(capsys):
    net = pynn.Network([pynn.Dense(2, 8, "tanh"), pynn.Dropout(0.1), pynn.Dense(8, 1)], seed=0)
    assert net.summary() is None
    printed = capsys.readouterr().out
    assert printed == str(net) + "\n"
    assert "Dense(2 -> 8)" in printed and "Dropout(p=0.1)" in printed and "total parameters: 33" in printed
    lines = []
    net.summary(print_fn=lines.append)
    assert lines == [str(net)]


def test_string_labels_say_what_to_do():
    net = pynn.Network([pynn.Dense(2, 2, "softmax")], loss="cross_entropy")
    for y in (np.array(["cat", "dog"]), ["cat", "dog"]):
        with pytest.raises(TypeError) as info:
            net.fit([[0, 1], [1, 0]], y, verbose=0)
        message = str(info.value)
        assert "'cat'" in message and "np.unique(y, return_inverse=True)" in message and "PynnClassifier" in message


def test_class_labels_under_a_sigmoid_output_suggest_softmax():
    net = pynn.Network([pynn.Dense(2, 1, "sigmoid")], loss="binary_cross_entropy")
    X = np.zeros((20, 2))
    with pytest.raises(ValueError) as info:
        net.fit(X, np.arange(20) % 10, verbose=0)
    message = str(info.value)
    assert "values from 0 to 9" in message and "10 distinct integers" in message
    assert "softmax" in message and "cross_entropy" in message


def test_huge_losses_print_in_scientific_notation(capsys):
    net = pynn.Network([pynn.Dense(1, 1)], optimizer=pynn.SGD(lr=0.0), dtype="float64")
    net.set_weights([[[0.0]], [0.0]])
    net.fit([[1.0], [2.0]], [1.3e17, -1.3e17], epochs=1, verbose=2)
    line = capsys.readouterr().out.strip()
    assert "loss: 1.69e+34" in line, line  # (1.3e17)², not 35 digits
