"""fit's options: validation_split, the metrics recorded per epoch, verbose output, History.plot."""
import sys

import numpy as np
import pytest

import pynn
import pynn.training

rng = np.random.default_rng(0)
XC = rng.normal(size=(40, 2))
YC = (XC[:, 0] + XC[:, 1] > 0).astype(int)
XR = rng.normal(size=(30, 3))
YR = XR @ np.array([[1.0, 0.0], [0.5, -1.0], [0.0, 2.0]])


def classifier(seed=0):
    return pynn.Network([pynn.Dense(2, 4, "tanh"), pynn.Dense(4, 2, "softmax")], loss="cross_entropy",
                        optimizer=pynn.Adam(lr=0.05), dtype="float64", seed=seed)


def regressor(loss="mse", seed=0):
    return pynn.Network([pynn.Dense(3, 5, "tanh"), pynn.Dense(5, 2)], loss=loss,
                        optimizer=pynn.SGD(lr=0.05), dtype="float64", seed=seed)


def test_validation_split_is_the_last_rows_before_shuffling():
    a, b = classifier(), classifier()
    ha = a.fit(XC, YC, epochs=3, batch_size=8, validation_split=0.25, verbose=0)
    hb = b.fit(XC[:30], YC[:30], epochs=3, batch_size=8, validation_data=(XC[30:], YC[30:]), verbose=0)
    assert ha.history == hb.history
    assert ha.params["samples"] == 30
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_validation_split_rounds_down_the_training_part_as_keras():
    net = regressor()
    hist = net.fit(XR, YR, epochs=1, validation_split=0.15, verbose=0)  # floor(30 * 0.85) = 25
    assert hist.params["samples"] == 25
    assert hist.history["val_mae"][0] == pytest.approx(np.mean(np.abs(net.predict(XR[25:]) - YR[25:])), rel=1e-12)


def test_validation_data_wins_over_split():
    net = classifier()
    hist = net.fit(XC, YC, epochs=1, validation_data=(XC[:5], YC[:5]), validation_split=0.5, verbose=0)
    assert hist.params["samples"] == 40
    assert hist.history["val_loss"][0] == pytest.approx(net.evaluate(XC[:5], YC[:5])["loss"], rel=1e-12)


@pytest.mark.parametrize("split", [-0.1, 1.0, 1.5, float("nan")])
def test_bad_validation_split(split):
    with pytest.raises(ValueError, match="validation_split"):
        classifier().fit(XC, YC, validation_split=split, verbose=0)


def test_validation_split_leaving_no_rows():
    with pytest.raises(ValueError, match="validation_split=0.5 leaves 0 training and 1 validation rows of 1"):
        classifier().fit(XC[:1], YC[:1], validation_split=0.5, verbose=0)
    with pytest.raises(ValueError, match="leaves 3 training and 0 validation rows of 3"):
        classifier().fit(XC[:3], YC[:3], validation_split=1e-17, verbose=0)


def test_classifier_metrics():
    net = classifier()
    hist = net.fit(XC[:30], YC[:30], epochs=4, batch_size=30, shuffle=False, validation_data=(XC[30:], YC[30:]),
                   verbose=0)
    assert list(hist.history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert hist.epoch == [0, 1, 2, 3]
    # one full batch per epoch: the epoch's accuracy is that of the weights before its step
    twin = classifier()
    for e in range(4):
        before = twin.evaluate(XC[:30], YC[:30])
        twin.train_step(XC[:30], YC[:30])
        assert hist.history["accuracy"][e] == before["accuracy"]
        assert hist.history["loss"][e] == pytest.approx(before["loss"], rel=1e-12)
        assert hist.history["val_accuracy"][e] == twin.evaluate(XC[30:], YC[30:])["accuracy"]


@pytest.mark.parametrize("loss", ["mse", "mae", "huber"])
def test_regression_metrics_include_mae_and_r2(loss):
    net = regressor(loss)
    hist = net.fit(XR[:20], YR[:20], epochs=2, batch_size=5, validation_data=(XR[20:], YR[20:]), verbose=0)
    assert list(hist.history) == ["loss", "mae", "r2", "val_loss", "val_mae", "val_r2"]
    # mae and val_mae: mean |prediction - y| over all outputs with the weights at the end of the epoch
    assert hist.history["mae"][-1] == pytest.approx(np.mean(np.abs(net.predict(XR[:20]) - YR[:20])), rel=1e-12)
    assert hist.history["val_mae"][-1] == pytest.approx(np.mean(np.abs(net.predict(XR[20:]) - YR[20:])), rel=1e-12)
    assert hist.history["val_loss"][-1] == pytest.approx(net.evaluate(XR[20:], YR[20:])["loss"], rel=1e-12)
    # r2: 1 - SS_res / SS_tot per output, averaged over the outputs (scikit-learn's r2_score)
    for key, rows in (("r2", slice(None, 20)), ("val_r2", slice(20, None))):
        P, Y = net.predict(XR[rows]).astype(np.float64), YR[rows].reshape(len(XR[rows]), -1)
        r2 = np.mean(1 - ((P - Y) ** 2).sum(0) / ((Y - Y.mean(0)) ** 2).sum(0))
        assert hist.history[key][-1] == pytest.approx(r2, rel=1e-12)


def test_verbose_0_prints_nothing(capsys):
    classifier().fit(XC, YC, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""


def test_verbose_2_one_line_per_epoch(capsys):
    classifier().fit(XC, YC, epochs=3, validation_split=0.25, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    for e, line in enumerate(lines):
        assert line.startswith("Epoch %d/3 - " % (e + 1))
        assert "loss: " in line and "accuracy: " in line and "val_loss: " in line and "val_accuracy: " in line


def test_verbose_1_plain_progress_line(capsys, monkeypatch):
    monkeypatch.setattr(pynn.training, "_USE_TQDM", False)
    hist = classifier().fit(XC, YC, epochs=2, batch_size=8, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2  # not a terminal: only the finished line of each epoch
    assert lines[0].startswith("Epoch 1/2 [==============================] 5/5 - ")
    assert lines[1].endswith("loss: %.4f - accuracy: %.4f" % (hist.history["loss"][1], hist.history["accuracy"][1]))


def test_verbose_1_plain_line_redrawn_on_a_terminal(capsys, monkeypatch):
    monkeypatch.setattr(pynn.training, "_USE_TQDM", False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    classifier().fit(XC, YC, epochs=1, batch_size=8, verbose=1)
    out = capsys.readouterr().out
    assert out.startswith("\rEpoch 1/1 [") and out.endswith("\n")


def test_verbose_1_with_tqdm(capsys):
    pytest.importorskip("tqdm")
    hist = classifier().fit(XC, YC, epochs=2, batch_size=8, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "5/5" in out
    assert "loss: %.4f" % hist.history["loss"][-1] in out


@pytest.mark.parametrize("verbose", [3, -1, True, "1"])
def test_bad_verbose(verbose):
    with pytest.raises(ValueError, match="verbose"):
        classifier().fit(XC, YC, verbose=verbose)


def test_history_params_and_net_history():
    net = classifier()
    hist = net.fit(XC, YC, epochs=2, batch_size=16, verbose=0)
    assert hist.params == {"epochs": 2, "batch_size": 16, "samples": 40, "steps": 3, "verbose": 0}
    assert net.history is hist and "History(epochs=2" in repr(hist)


def test_callbacks_share_logs_and_history_records_what_they_add():
    class Add(pynn.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["twice_loss"] = 2 * logs["loss"]

    class Read(pynn.Callback):
        seen = []

        def on_epoch_end(self, epoch, logs=None):
            self.seen.append(logs["twice_loss"])

    hist = classifier().fit(XC, YC, epochs=2, verbose=0, callbacks=[Add(), Read()])
    assert hist.history["twice_loss"] == [2 * v for v in hist.history["loss"]] == Read.seen


def test_history_plot_png(tmp_path):
    pytest.importorskip("matplotlib")
    hist = classifier().fit(XC, YC, epochs=3, validation_split=0.25, verbose=0,
                            callbacks=[pynn.callbacks.LearningRateScheduler(lambda e: 0.01)])
    path = tmp_path / "curves.png"
    fig = hist.plot(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]  # lr only when asked
    assert [line.get_label() for line in fig.axes[0].lines] == ["training", "validation"]
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_ydata(), hist.history["loss"])
    fig = hist.plot(metrics=["lr"])
    assert fig.axes[0].get_yscale() == "log"
    with pytest.raises(ValueError, match="metrics"):
        hist.plot(metrics=["mae"])


def test_plot_without_matplotlib_says_how_to_install(monkeypatch):
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails
    hist = classifier().fit(XC, YC, epochs=1, verbose=0)
    with pytest.raises(ImportError, match=r"pip install pynn\[plot\]"):
        hist.plot()


@pytest.mark.parametrize("where", ["X", "y"])
def test_non_finite_data_is_refused_before_any_step(where):
    """Even when the bad row would come in a late chunk of batches."""
    X = np.random.default_rng(0).normal(size=(20000, 3))
    Y = X @ np.ones((3, 2))
    (X if where == "X" else Y)[19990, 1] = np.nan
    net = regressor()
    before = net.get_weights()
    with pytest.raises(ValueError, match="%s contains NaN or infinity" % where):
        net.fit(X, Y, epochs=1, verbose=0)
    for a, b in zip(net.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    assert net.optimizer.step == 0


@pytest.mark.parametrize("bad", ["label", "probability"])
def test_bad_targets_are_refused_before_any_step(bad):
    X = np.random.default_rng(0).normal(size=(20000, 2))
    if bad == "label":
        net, y = classifier(), (X[:, 0] > 0).astype(int)
        y[19990] = 5
        match = "label"
    else:
        net = pynn.Network([pynn.Dense(2, 1, "sigmoid")], loss="binary_cross_entropy", seed=0)
        y = (X[:, :1] > 0).astype(float)
        y[19990] = 1.5
        match = r"\[0, 1\]"
    before = net.get_weights()
    with pytest.raises(ValueError, match=match):
        net.fit(X, y, epochs=1, verbose=0)
    for a, b in zip(net.get_weights(), before):
        np.testing.assert_array_equal(a, b)
