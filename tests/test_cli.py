"""The pynn command end to end: train on a CSV, predict, the lessons, and the errors with
their exit codes (0 ok, 1 data or run error, 2 usage error)."""
import csv
import os
import subprocess
import sys
import types

import numpy as np
import pytest

import pynn
from pynn import cli


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def blobs(path, n=200, seed=0):
    """Two separable blobs with string labels; inputs on very different scales."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, size=n)
    x1 = rng.normal(size=n) + 3 * label
    x2 = 1000 + 100 * rng.normal(size=n)        # noise only: standardisation must cope
    x3 = 0.01 * (rng.normal(size=n) - 3 * label)
    names = np.array(["cat", "dog"])[label]
    return write_csv(path, ["x1", "x2", "x3", "animal"], [[a, b, c, d] for a, b, c, d in zip(x1, x2, x3, names)])


def run(argv, capsys):
    code = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_train_then_predict_classification(tmp_path, capsys, backend):
    data = blobs(tmp_path / "train.csv")
    model = tmp_path / "model.safetensors"
    code, out, err = run(["train", data, "--target", "animal", "--hidden", "16", "--epochs", "15",
                          "--lr", "0.01", "--batch-size", "16", "--save", model, "--verbose", "0"], capsys)
    assert code == 0, err
    assert "classification of 'animal' into 2 classes from 3 input columns, 200 rows" in out
    assert "network: 3-16-2 (relu, softmax)" in out and "backend %s" % backend in out
    assert "val_accuracy" in out and "saved the model and its preprocessing" in out
    # the file is an ordinary pynn model plus the preprocessing metadata
    net = pynn.load(str(model))
    assert net.loss == "cross_entropy" and net.n_inputs == 3
    meta = cli.read_metadata(str(model))
    assert [c["name"] for c in meta["columns"]] == ["x1", "x2", "x3"] and meta["classes"] == ["cat", "dog"]
    assert {c["kind"] for c in meta["columns"]} == {"numeric"} and meta["id_columns"] == []
    assert meta["columns"][1]["mean"] == pytest.approx(1000, abs=30) and meta["delimiter"] == ","

    test = blobs(tmp_path / "test.csv", n=100, seed=1)
    code, out, err = run(["predict", model, test, "--output", tmp_path / "pred.csv"], capsys)
    assert code == 0, err
    assert "wrote 100 predictions to" in out
    accuracy = float(out.split("accuracy on ")[1].split(": ")[1].split()[0])
    assert accuracy >= 0.95
    with open(tmp_path / "pred.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["prediction", "p_cat", "p_dog"] and len(rows) == 101
    truth = [r[3] for r in list(csv.reader(open(test)))[1:]]
    assert np.mean([r[0] == t for r, t in zip(rows[1:], truth)]) == pytest.approx(accuracy, abs=1e-4)
    for r in rows[1:]:
        assert float(r[1]) + float(r[2]) == pytest.approx(1, abs=1e-5)
        assert r[0] == ("cat" if float(r[1]) > float(r[2]) else "dog")

    # without --output: the CSV on stdout, the score on stderr
    code, out, err = run(["predict", model, test], capsys)
    assert code == 0 and out.splitlines()[0] == "prediction,p_cat,p_dog" and len(out.splitlines()) == 101
    assert "accuracy on" in err


def test_predict_is_the_same_model(tmp_path, capsys):
    """predict == standardise with the stored mean/std, then net.predict."""
    data = blobs(tmp_path / "d.csv", n=60)
    model = tmp_path / "m.safetensors"
    assert run(["train", data, "--target", "animal", "--epochs", "2", "--save", model, "--verbose", "0"],
               capsys)[0] == 0
    code, out, _ = run(["predict", model, data], capsys)
    probs = np.array([[float(v) for v in line.split(",")[1:]] for line in out.splitlines()[1:]])
    rows = list(csv.reader(open(data)))[1:]
    X = np.array([[float(v) for v in r[:3]] for r in rows])
    columns = cli.read_metadata(str(model))["columns"]
    mean, std = np.array([c["mean"] for c in columns]), np.array([c["std"] for c in columns])
    expected = pynn.load(str(model)).predict((X - mean) / std)
    np.testing.assert_allclose(probs, expected, rtol=1e-5, atol=1e-6)
    # the mean and std are those of the training rows: shuffled with the seed, the last 20% held out
    train = X[np.random.default_rng(0).permutation(60)][:48]
    np.testing.assert_allclose(mean, train.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(std, train.std(axis=0), rtol=1e-12)
    assert [c["fill"] for c in columns] == [c["mean"] for c in columns]


def test_train_with_dropout(tmp_path, capsys):
    data = blobs(tmp_path / "d.csv", n=200)
    model = tmp_path / "m.safetensors"
    code, out, err = run(["train", data, "--target", "animal", "--hidden", "16,8", "--dropout", "0.2", "--epochs", "20",
                          "--lr", "0.01", "--save", model, "--verbose", "0"], capsys)
    assert code == 0, err
    assert "network: 3-16-8-2 (relu, relu, softmax), dropout 0.2 after each hidden layer" in out
    net = pynn.load(str(model))
    assert [repr(l) for l in net.layers[1::2]] == ["Dropout(p=0.2)", "Dropout(p=0.2)"]
    code, out, err = run(["predict", model, data, "--output", tmp_path / "p.csv"], capsys)
    assert code == 0, err
    assert float(out.split("accuracy on ")[1].split(": ")[1].split()[0]) >= 0.95


def test_regression_and_integer_classes(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(300, 2))
    price = 100 + 20 * X[:, 0] - 10 * X[:, 1]   # many distinct values: regression
    grade = (X[:, 0] > 0).astype(int) + 1          # values 1, 2: classification
    data = write_csv(tmp_path / "d.csv", ["a", "b", "price", "grade"],
                     [[a, b, p, g] for (a, b), p, g in zip(X, price, grade)])
    model = tmp_path / "r.safetensors"
    code, out, err = run(["train", data, "--target", "price", "--features", "a,b", "--hidden", "8",
                          "--epochs", "40", "--lr", "0.01", "--save", model, "--verbose", "0"], capsys)
    assert code == 0, err
    assert "regression of 'price' from 2 input columns" in out and "mae in the target's units" in out
    meta = cli.read_metadata(str(model))
    assert meta["task"] == "regression" and meta["target_mean"] == pytest.approx(100, abs=2)
    code, out, err = run(["predict", model, data], capsys)
    assert code == 0
    pred = np.array([float(v) for v in out.splitlines()[1:]])
    assert np.mean(np.abs(pred - price)) < 1.5          # in dollars: the target was un-standardised
    assert "mae on" in err

    code, out, err = run(["train", data, "--target", "grade", "--features", "a,b", "--epochs", "3",
                          "--verbose", "0", "--save", model], capsys)
    assert code == 0 and "classification of 'grade' into 2 classes" in out
    assert cli.read_metadata(str(model))["classes"] == [1, 2]
    code, out, err = run(["predict", model, data], capsys)
    lines = out.splitlines()
    assert lines[0] == "prediction,p_1,p_2" and {line.split(",")[0] for line in lines[1:]} <= {"1", "2"}
    code, out, _ = run(["train", data, "--target", "grade", "--task", "regression", "--epochs", "1",
                        "--verbose", "0"], capsys)
    assert code == 0 and "regression of 'grade'" in out


def test_predict_with_a_plain_model(tmp_path, capsys):
    """A model saved from Python (no CLI metadata) is applied to the CSV's columns as they are."""
    net = pynn.Network([pynn.Dense(2, 3, "softmax")], loss="cross_entropy", seed=0)
    net.save(str(tmp_path / "plain.safetensors"))
    data = write_csv(tmp_path / "x.csv", ["u", "v"], [[0.5, 1.0], [-1.0, 2.0]])
    code, out, err = run(["predict", tmp_path / "plain.safetensors", data], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "prediction,p_0,p_1,p_2" and len(lines) == 3
    assert int(lines[1].split(",")[0]) == int(net.predict([[0.5, 1.0]]).argmax())


def test_lessons_commands(tmp_path, capsys):
    code, out, _ = run(["lr-sweep", "--lrs", "0.01,0.1,1", "--epochs", "10"], capsys)
    assert code == 0 and "too large: diverged at epoch 1" in out and "good: lowest final loss" in out
    code, out, _ = run(["init-demo", "--epochs", "10", "--hidden", "4"], capsys)
    assert code == 0 and "1 of 4" in out and "4 of 4" in out


def test_bench_passes_its_arguments(monkeypatch, capsys):
    seen = []
    fake = types.ModuleType("pynn.benchmark")
    fake.main = lambda argv: seen.append(argv) or 3
    monkeypatch.setitem(sys.modules, "pynn.benchmark", fake)
    monkeypatch.setattr(pynn, "benchmark", fake, raising=False)
    assert cli.main(["bench", "--quick", "x"]) == 3 and seen == [["--quick", "x"]]


def test_bench_without_the_module(monkeypatch, capsys):
    monkeypatch.delattr(pynn, "benchmark", raising=False)
    monkeypatch.setitem(sys.modules, "pynn.benchmark", None)
    code, _, err = run(["bench"], capsys)
    assert code == 1 and "no module pynn.benchmark" in err


@pytest.mark.parametrize("argv,message", [
    (["train", "{tmp}/missing.csv", "--target", "y"], "no such file: {tmp}/missing.csv"),
    (["train", "{blobs}", "--target", "colour"], "has no column 'colour'; its columns are: x1, x2, x3, animal"),
    (["train", "{infinite}", "--target", "b"], "line 3: column 'a' has 'inf', which is not a finite number"),
    (["train", "{ragged}", "--target", "b"], "line 3: 1 fields, but the header has 2"),
    (["train", "{empty_cell}", "--target", "a"], "line 3: the target column 'a' is empty"),
    (["train", "{blobs}", "--target", "animal", "--id", "x1,nope"], "has no column 'nope'"),
    (["train", "{blobs}", "--target", "animal", "--id", "animal"], "target column 'animal' cannot also be an --id"),
    (["train", "{blobs}", "--target", "animal", "--id", "x1", "--features", "x1,x2"],
     "column 'x1' cannot be both an input (--features) and an --id column"),
    (["train", "{blobs}", "--target", "animal", "--categorical", "animal"], "--categorical names the target"),
    (["train", "{blobs}", "--target", "animal", "--features", "x2", "--categorical", "x1"],
     "--categorical names 'x1', which is not an input column"),
    (["train", "{empty_column}", "--target", "b", "--features", "a,c"],
     "column 'c' has no value in the training rows"),
    (["train", "{empty_column}", "--target", "b", "--features", "c"], "column 'c' has no value"),
    (["train", "{blobs}", "--target", "animal", "--categorical", "x1", "--max-categories", "15"],
     "column 'x1' has more than 15 distinct values: too many categories to one-hot encode"),
    (["train", "{one_class}", "--target", "b"], "has only one value"),
    (["train", "{header_only}", "--target", "b"], "has a header but no data rows"),
    (["predict", "{tmp}/nope.safetensors", "{blobs}"], "no such file"),
    (["predict", "{blobs}", "{blobs}"], "is not a readable safetensors file"),
    (["predict", "{model}", "{one_class}"], "lacks the input columns 'x1', 'x2', 'x3'"),
    (["train", "{blobs}", "--target", "animal", "--epochs", "1", "--validation-split", "0.999"],
     "validation_split=0.999 leaves 0 training"),
])
def test_data_errors_exit_1(tmp_path, capsys, argv, message):
    files = dict(tmp=str(tmp_path), blobs=blobs(tmp_path / "b.csv", n=20),
                 ragged=write_csv(tmp_path / "r.csv", ["a", "b"], [[1, 2], [3]]),
                 empty_cell=write_csv(tmp_path / "e.csv", ["a", "b"], [[1, 2], ["", 3]]),
                 infinite=write_csv(tmp_path / "i.csv", ["a", "b"], [[1, 2], ["inf", 3]]),
                 empty_column=write_csv(tmp_path / "c.csv", ["a", "b", "c"], [[1, 2, ""], [3, 4, "NA"], [5, 6, "?"]]),
                 one_class=write_csv(tmp_path / "o.csv", ["a", "b"], [[1, "x"], [2, "x"]]),
                 header_only=write_csv(tmp_path / "h.csv", ["a", "b"], []),
                 model=str(tmp_path / "m.safetensors"))
    if "{model}" in argv:
        run(["train", files["blobs"], "--target", "animal", "--epochs", "1", "--verbose", "0",
             "--save", files["model"]], capsys)
    code, out, err = run([a.format(**files) for a in argv], capsys)
    assert code == 1
    assert err.startswith("pynn: error: ") and message.format(**files) in err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv,message", [
    (["train", "x.csv"], "the following arguments are required: --target"),
    (["train", "x.csv", "--target", "y", "--hidden", "64,a"], "--hidden must be layer sizes"),
    (["train", "x.csv", "--target", "y", "--epochs", "0"], "--epochs: must be >= 1"),
    (["train", "x.csv", "--target", "y", "--lr", "-1"], "--lr: must be a finite number > 0"),
    (["train", "x.csv", "--target", "y", "--validation-split", "1"], "must be in [0, 1)"),
    (["train", "x.csv", "--target", "y", "--dropout", "1"], "--dropout: must be in [0, 1)"),
    (["predict", "m.safetensors"], "the following arguments are required: data"),
    (["predict", "m.safetensors", "x.csv", "--delimiter", ";;"], "--delimiter: expected one character"),
    (["train", "x.csv", "--target", "y", "--delimiter", "a"], "--delimiter: expected one character"),
    (["train", "x.csv", "--target", "y", "--max-categories", "0"], "--max-categories: must be >= 1"),
    (["lr-sweep", "--lrs", "0.1,x"], "expected numbers"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["--epochs", "0"], "--epochs must be >= 1"),
])
def test_usage_errors_exit_2(capsys, argv, message):
    code, _, err = run(argv, capsys)
    assert code == 2 and message in err


def test_help_and_version(capsys):
    code, out, _ = run(["--help"], capsys)
    assert code == 0
    for command in ("demo", "train", "predict", "bench", "lr-sweep", "init-demo"):
        assert command in out
    code, out, _ = run(["--version"], capsys)
    assert code == 0 and out.strip() == "pynn %s" % pynn.__version__


def test_the_installed_command(tmp_path, backend):
    """`python -m pynn train/predict` in a fresh process (what the `pynn` console script runs)."""
    env = dict(os.environ, PYNN_BACKEND=backend)
    blobs(tmp_path / "d.csv", n=80)

    def pynn_cmd(*argv):
        return subprocess.run([sys.executable, "-m", "pynn"] + list(argv), cwd=str(tmp_path), env=env,
                              capture_output=True, text=True, timeout=120)

    r = pynn_cmd("train", "d.csv", "--target", "animal", "--epochs", "20", "--lr", "0.01", "--save", "m.safetensors")
    assert r.returncode == 0, r.stderr
    assert "Epoch 20/20" in r.stdout  # not a terminal: one line per epoch
    r = pynn_cmd("predict", "m.safetensors", "d.csv", "-o", "p.csv")
    assert r.returncode == 0 and os.path.exists(tmp_path / "p.csv")
    assert float(r.stdout.split("accuracy on d.csv: ")[1].split()[0]) >= 0.9
    r = pynn_cmd("train", "nope.csv", "--target", "x")
    assert r.returncode == 1 and r.stderr == "pynn: error: no such file: nope.csv\n"
    r = pynn_cmd("train", "d.csv")
    assert r.returncode == 2 and "--target" in r.stderr
