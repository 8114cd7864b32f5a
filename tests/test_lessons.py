"""The lessons: a learning-rate sweep with a divergent run that does not crash, and the
symmetry of equal initial weights."""
import csv
import functools
import math

import numpy as np
import pytest

import pynn
from pynn import cli
from pynn.lessons import init_demo, lr_sweep, sine_data, xor_data


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
    assert len(r.accuracy["random"]) == 31 and len(r.loss["random"]) == 31  # before training, then each epoch
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


def _trained(init, epochs, hidden=8, lr=0.5, batch_size=20, seed=0):
    """init_demo's network for ``init``, trained here (not by init_demo), and the XOR data."""
    X, y = xor_data(seed=seed)
    kw = {} if init is None else {"init": init}
    net = pynn.Network([pynn.Dense(2, hidden, "tanh", **kw), pynn.Dense(hidden, 1, "sigmoid", **kw)],
                       loss="binary_cross_entropy", optimizer=pynn.SGD(lr=lr), seed=seed, dtype="float64")
    net.fit(X, y, epochs=epochs, batch_size=batch_size, verbose=0)
    return net, X, y


def test_init_demo_chart_plots_what_the_table_reports():
    """The chart's accuracy is the final network's, evaluated on all the data, as in the table (it used
    to be the running batch accuracy: constant init climbed to ~0.70 on the chart, 0.500 in the table),
    and every curve is visible: each has its own line style and markers (zeros and constant have spread
    0 throughout, one on top of the other)."""
    pytest.importorskip("matplotlib")
    r = init_demo(epochs=12)
    fig = r.plot()
    spread_ax, accuracy_ax, loss_ax = fig.axes
    for name, line in zip(r.spread, accuracy_ax.lines):
        assert line.get_label() == name
        xs, ys = line.get_data()
        assert list(xs) == list(range(13)) and list(ys) == r.accuracy[name]
        assert ys[-1] == r.final_accuracy[name]  # the table's number ends the curve
        assert "%.3f" % ys[-1] in [row.split()[-2] for row in r.to_text().splitlines() if row.startswith(name)]
    for name, line in zip(r.spread, loss_ax.lines):
        assert line.get_data()[1][-1] == r.final_loss[name]
    # independently: the same network trained here, evaluated after 12 epochs
    for name, init in (("constant", functools.partial(pynn.init.constant, value=0.5)), ("random", None)):
        net, X, y = _trained(init, 12)
        scores = net.evaluate(X, y)
        assert r.accuracy[name][-1] == pytest.approx(scores["accuracy"], abs=1e-12)
        assert r.loss[name][-1] == pytest.approx(scores["loss"], rel=1e-9)
    assert r.accuracy["zeros"][0] == 0.5  # before training: every output 0.5
    looks = [(line.get_linestyle(), line.get_marker()) for line in spread_ax.lines]
    assert len(set(looks)) == 3 and all(marker not in (None, "None", "") for _, marker in looks)
    zeros, constant = spread_ax.lines[0], spread_ax.lines[1]
    assert list(zeros.get_data()[1]) == list(constant.get_data()[1]) == [0.0] * 13  # overlapping: styles tell apart
    assert zeros.get_marker() != constant.get_marker() and zeros.get_linestyle() != constant.get_linestyle()


def test_lr_sweep_chart_shows_the_data_and_the_fits():
    pytest.importorskip("matplotlib")
    r = lr_sweep(lrs=(0.01, 0.1, 1.0), epochs=8)
    fig = r.plot()
    loss_ax, data_ax = fig.axes
    X, y = sine_data()
    points = data_ax.collections[0].get_offsets()
    np.testing.assert_array_equal(points[:, 0], X[:, 0])
    np.testing.assert_array_equal(points[:, 1], y[:, 0])
    fits = {line.get_label(): line for line in data_ax.lines}
    assert set(fits) == {"lr = 0.01", "lr = 0.1", "lr = 1 (diverged): no fit"}
    assert len(fits["lr = 1 (diverged): no fit"].get_xdata()) == 0
    for lr in (0.01, 0.1):  # each curve is that rate's trained network, trained again here
        net = pynn.Network([pynn.Dense(1, 16, "tanh"), pynn.Dense(16, 1)], loss="mse", optimizer=pynn.SGD(lr=lr),
                           seed=0, dtype="float64")
        net.fit(X, y, epochs=8, batch_size=16, verbose=0)
        xs, ys = fits["lr = %g" % lr].get_data()
        np.testing.assert_allclose(ys, net.predict(np.asarray(xs).reshape(-1, 1))[:, 0], rtol=1e-12, atol=1e-12)
        assert min(xs) < X.min() and max(xs) > X.max()
    assert [line.get_label() for line in loss_ax.lines] == ["lr = 0.01", "lr = 0.1", "lr = 1 (diverged)"]


def test_lr_sweep_chart_two_inputs_and_many_inputs():
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    fig = lr_sweep(lrs=(0.1, 1.0), epochs=3, X=X, y=y, loss="cross_entropy").plot()
    assert fig.axes[1].get_title() == "the data and each run's decision boundary"
    assert len(fig.axes[1].collections) >= 2  # the two classes
    fig = lr_sweep(lrs=(0.1,), epochs=3, X=rng.normal(size=(30, 3)), y=rng.normal(size=30)).plot()
    assert fig.axes[1].get_title() == "predictions against the targets"


def _write(path, header, rows):
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows([header] + rows)
    return str(path)


def test_the_lesson_commands_read_a_csv(tmp_path, capsys):
    rng = np.random.default_rng(3)
    x = rng.uniform(-2, 2, size=60)
    data = _write(tmp_path / "sine.csv", ["x", "noise", "y"],
                  [[a, "n%d" % i, np.sin(1.5 * a)] for i, a in enumerate(x)])
    code = cli.main(["lr-sweep", data, "--target", "y", "--id", "noise", "--lrs", "0.01,0.1", "--epochs", "5"])
    out = capsys.readouterr().out
    assert code == 0 and "regression of 'y' (standardised) from 1 input, 60 rows" in out
    # the same sweep run here on the standardised column (as pynn train standardises it)
    order = np.random.default_rng(0).permutation(60)
    X = ((x - x.mean()) / x.std())[order].reshape(-1, 1)
    t = np.sin(1.5 * x)
    y = ((t - t.mean()) / t.std())[order].reshape(-1, 1)
    want = lr_sweep(lrs=(0.01, 0.1), epochs=5, X=X, y=y)
    assert "loss before training %.4g" % want.initial_loss in out

    labels = _write(tmp_path / "xor.csv", ["a", "b", "c"],
                    [[a, b, "same" if (a > 0) == (b > 0) else "other"] for a, b in rng.normal(size=(80, 2))])
    code = cli.main(["init-demo", labels, "--target", "c", "--epochs", "5", "--hidden", "3"])
    out = capsys.readouterr().out
    assert code == 0 and "classification of 'c' into 2 classes" in out and "on your data" in out
    assert "1 of 3" in out and "3 of 3" in out
    for argv, message in [(["lr-sweep", data], "needs --target"), (["init-demo", "--target", "y"], "needs a CSV"),
                          (["lr-sweep", data, "--target", "nope"], "no column 'nope'")]:
        assert cli.main(argv) == 1
        assert message in capsys.readouterr().err
