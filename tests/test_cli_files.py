"""The command's files: `pynn train --save` writes the model file once, and the CSV is read
column-wise a chunk of rows at a time (cli.CHUNK_ROWS) with every behaviour of reading it whole:
the same numbers, labels, line numbers in errors and order of errors, whatever the chunking."""
import csv
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from safetensors import safe_open

import pynn
from pynn import cli, serialization

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_lines(path, lines):
    with open(path, "w", newline="") as f:
        f.write("\r\n".join(lines) + "\r\n")
    return str(path)


def run(argv, capsys):
    code = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def read_file(path):
    with safe_open(str(path), framework="numpy") as f:
        return dict(f.metadata()), {k: f.get_tensor(k) for k in f.keys()}


# ---- --save: one write -----------------------------------------------------------------------

def test_train_writes_the_model_file_once(tmp_path, capsys, monkeypatch, backend):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    data = write_lines(tmp_path / "d.csv", ["a,b,label"] + ["%r,%r,%s" % (a, b, "yes" if a > b else "no")
                                                          for a, b in X.tolist()])
    model = tmp_path / "m.safetensors"
    real, calls = serialization.write_atomically, []

    def spy(tensors, path, metadata):
        calls.append((os.path.abspath(path), sorted(metadata), os.path.exists(path)))
        real(tensors, path, metadata)

    monkeypatch.setattr(serialization, "write_atomically", spy)
    code, out, err = run(["train", data, "--target", "label", "--hidden", "4", "--dropout", "0.1", "--epochs", "2",
                          "--save", model, "--verbose", "0"], capsys)
    assert code == 0, err
    # one write, of the whole file: the model and the preprocessing together
    assert calls == [(str(model), ["pynn", "pynn_cli"], False)]
    assert sorted(os.listdir(tmp_path)) == ["d.csv", "m.safetensors"]  # no temporary file left behind

    # it is the file Network.save writes for that network, plus the pynn_cli key
    monkeypatch.setattr(serialization, "write_atomically", real)
    net = pynn.load(str(model))
    net.save(str(tmp_path / "again.safetensors"))
    meta, tensors = read_file(model)
    meta_again, tensors_again = read_file(tmp_path / "again.safetensors")
    assert set(meta) == {"pynn", "pynn_cli"} and set(meta_again) == {"pynn"}
    assert json.loads(meta["pynn"]) == json.loads(meta_again["pynn"])
    assert json.loads(meta["pynn"])["optimizer"]["step"] == 2 * 2  # 64 training rows, batch 32, 2 epochs
    assert sorted(tensors) == sorted(tensors_again)
    for key in tensors:
        np.testing.assert_array_equal(tensors[key], tensors_again[key])
    assert json.loads(meta["pynn_cli"])["classes"] == ["no", "yes"]

    # and pynn predict uses it, in a fresh process
    r = subprocess.run([sys.executable, "-m", "pynn", "predict", str(model), data], capture_output=True, text=True,
                       timeout=120, env=dict(os.environ, PYNN_BACKEND=backend))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "prediction,p_no,p_yes" and len(r.stdout.splitlines()) == 81


# ---- reading the CSV in chunks ---------------------------------------------------------------

def messy_file(path, n=50, seed=0):
    """n rows of two inputs and a text label, with blank lines, spaces around cells and a
    header with a byte-order mark; returns (path, X, labels) as an independent reading sees it."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2)) * [1.0, 1000.0]
    labels = np.where(X[:, 0] + X[:, 1] / 1000 > 0, "up", "down")
    lines = ["\ufeffa, b ,label", ""]
    for i, ((a, b), label) in enumerate(zip(X.tolist(), labels)):
        lines.append(" %r ,\t%r, %s " % (a, b, label))
        if i % 9 == 4:
            lines.append(" , ,")  # blank: cells of whitespace only
        if i % 13 == 0:
            lines.append("")
    return write_lines(path, lines), X, labels


@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_chunked_reading_gives_the_numbers_and_labels(tmp_path, capsys, monkeypatch, chunk):
    monkeypatch.setattr(cli, "CHUNK_ROWS", chunk)
    data, X, labels = messy_file(tmp_path / "d.csv")
    model = tmp_path / "m.safetensors"
    code, out, err = run(["train", data, "--target", "label", "--epochs", "2", "--save", model, "--verbose", "0"],
                         capsys)
    assert code == 0, err
    assert "classification of 'label' into 2 classes from 2 input columns, 50 rows" in out
    meta = cli.read_metadata(str(model))
    train = X[np.random.default_rng(0).permutation(50)][:40]  # shuffled with --seed 0; 20% held out
    np.testing.assert_allclose([c["mean"] for c in meta["columns"]], train.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose([c["std"] for c in meta["columns"]], train.std(axis=0), rtol=1e-12)
    assert [c["name"] for c in meta["columns"]] == ["a", "b"] and meta["classes"] == ["down", "up"]

    code, out, err = run(["predict", model, data], capsys)
    assert code == 0, err
    rows = [line.split(",") for line in out.splitlines()]
    assert rows[0] == ["prediction", "p_down", "p_up"] and len(rows) == 51
    expected = pynn.load(str(model)).predict((X - train.mean(axis=0)) / train.std(axis=0))
    np.testing.assert_allclose([[float(p) for p in r[1:]] for r in rows[1:]], expected, rtol=1e-5, atol=1e-6)
    assert [r[0] for r in rows[1:]] == ["down" if p[0] > p[1] else "up" for p in expected]
    accuracy = np.mean([r[0] == t for r, t in zip(rows[1:], labels)])
    assert "accuracy on %s: %.4f (50 rows" % (data, accuracy) in err


@pytest.mark.parametrize("chunk", [1, 3, 4096])
@pytest.mark.parametrize("long_first", [True, False])
def test_read_csv_numbers_and_line_numbers(tmp_path, monkeypatch, chunk, long_first):
    """The numbers of the kept columns and each row's line, whether the rows read first are
    longer than the rest (the row count estimated from them is too low) or shorter."""
    monkeypatch.setattr(cli, "CHUNK_ROWS", chunk)
    long = [[1 / 3 + i, -2 / 7 * i, 1e-300 * i] for i in range(6)]
    short = [[float(i), float(i % 7), 0.0] for i in range(300)]
    values = long + short if long_first else short + long
    lines, where = ["p,q,r"], []
    for i, v in enumerate(values):
        if i % 50 == 7:
            lines += ["", ",,"]  # blank lines shift the line numbers
        lines.append("%r,%r,%r" % tuple(v))
        where.append(len(lines))
    path = write_lines(tmp_path / "d.csv", lines)
    table = cli.read_csv(path, lambda header: [("r", "number"), ("p", "number")])
    assert table.n_rows == 306 and table.chosen == ["r", "p"] and table.header == ["p", "q", "r"]
    np.testing.assert_array_equal(table.matrix(["p", "r"]), np.array(values)[:, [0, 2]])
    np.testing.assert_array_equal(table.values("r"), np.array(values)[:, 2])
    assert [table.line(i) for i in range(306)] == where


def test_many_text_labels_are_read_again(tmp_path, capsys, monkeypatch):
    """More distinct target cells than the reader remembers: text labels come from a second pass."""
    monkeypatch.setattr(cli, "CHUNK_ROWS", 5)
    monkeypatch.setattr(cli, "MAX_TEXT_LABELS", 3)
    names = ["k%02d" % i for i in range(12)]
    rng = np.random.default_rng(1)
    x = rng.normal(size=60)
    label = [names[i % 12] for i in range(60)]
    label[7] = "7"  # numbers among the text labels stay text
    data = write_lines(tmp_path / "d.csv", ["x,who"] + ["%r,%s" % (v, w) for v, w in zip(x.tolist(), label)])
    model = tmp_path / "m.safetensors"
    code, out, err = run(["train", data, "--target", "who", "--epochs", "1", "--save", model, "--verbose", "0"],
                         capsys)
    assert code == 0, err
    assert cli.read_metadata(str(model))["classes"] == sorted(set(label))
    code, out, err = run(["predict", model, data], capsys)
    assert code == 0, err
    predicted = [line.split(",")[0] for line in out.splitlines()[1:]]
    assert "accuracy on %s: %.4f" % (data, np.mean(np.array(predicted) == np.array(label))) in err


def test_repeated_feature_column(tmp_path, capsys):
    data = write_lines(tmp_path / "d.csv", ["a,b,y"] + ["%d,%d,%d" % (i, i % 3, i % 2) for i in range(30)])
    code, out, err = run(["train", data, "--target", "y", "--features", "a,a", "--epochs", "1", "--verbose", "0",
                          "--save", tmp_path / "m.safetensors"], capsys)
    assert code == 0 and "from 2 input columns" in out, err
    meta = cli.read_metadata(str(tmp_path / "m.safetensors"))
    a, again = meta["columns"]
    assert a["name"] == again["name"] == "a" and a["mean"] == again["mean"]
    assert run(["predict", tmp_path / "m.safetensors", data], capsys)[0] == 0


@pytest.mark.parametrize("lines,argv,message", [
    # a bad cell after the first chunks: its own line number (blank lines counted)
    (["a,b,y"] + ["%d,%d,%d" % (i, i, i % 2) for i in range(30)] + ["", "1,inf,0"], [],
     "line 33: column 'b' has 'inf', which is not a finite number"),
    (["a,b,y"] + ["%d,%d,%d" % (i, i, i % 2) for i in range(30)] + ["-1e999,1,0"], [],
     "line 32: column 'a' has '-1e999', which is not a finite number"),
    # two bad columns: the first input column is reported, though its bad cell comes later
    (["a,b,y", "1,-inf,0"] + ["%d,%d,%d" % (i, i, i % 2) for i in range(30)] + ["Infinity,1,0"], [],
     "line 33: column 'a' has 'Infinity'"),
    # a text cell after the first chunks makes the column categorical (read again): too many categories
    (["a,b,y"] + ["%d,%d,%d" % (i, i, i % 2) for i in range(30)] + ["", "1,x,0"], ["--max-categories", "20"],
     "column 'b' has more than 20 distinct values (it is categorical because line 33 has 'x', which is not a "
     "number): too many categories"),
    # a missing target cell, however it is written
    (["a,b,y"] + ["%d,%d,%d" % (i, i, i % 2) for i in range(30)] + ["1,2, n/a "], [],
     "line 32: the target column 'y' has 'n/a', which marks a missing value"),
    # errors in the file's structure come before those in its cells or its header
    (["a,b,y", "1,x,0"] + ["%d,%d,%d" % (i, i, i % 2) for i in range(30)] + ["1,2"], [],
     "line 33: 2 fields, but the header has 3"),
    (["a,a,y"] + ["%d,%d,%d" % (i, i, i % 2) for i in range(30)] + ["1,2"], [], "line 32: 2 fields"),
    (["a,a,y"] + ["%d,%d,%d" % (i, i, i % 2) for i in range(30)], [], "column 'a' appears twice in the header"),
    (["a,b,z"] + ["%d,%d,%d" % (i, i, i % 2) for i in range(30)] + ["1,2,3,4"], [], "line 32: 4 fields"),
    (["a,b,z"] + ["%d,%d,%d" % (i, i, i % 2) for i in range(30)], [], "has no column 'y'"),
    (["a,b,y"] + ["%d,%d,%d" % (i, i, i % 2) for i in range(30)] + ["1,2,"], [],
     "line 32: the target column 'y' is empty"),
    (["a,b,y"] + ["%d,%d,%d" % (i, i, i % 2) for i in range(30)] + ["1,2,cat"], ["--task", "regression"],
     "--task regression needs a numeric target; it has 'cat'"),
    (["a,b,y", "", " , "], [], "has a header but no data rows"),
])
def test_chunked_reading_keeps_the_errors(tmp_path, capsys, monkeypatch, lines, argv, message):
    monkeypatch.setattr(cli, "CHUNK_ROWS", 4)
    data = write_lines(tmp_path / "d.csv", lines)
    code, out, err = run(["train", data, "--target", "y", "--epochs", "1", "--verbose", "0"] + argv, capsys)
    assert code == 1 and err.startswith("pynn: error: ") and message in err, err
    assert len(err.splitlines()) == 1


def test_the_command_needs_no_pandas(tmp_path, backend):
    """train and predict in a process where importing pandas fails."""
    data, _, _ = messy_file(tmp_path / "d.csv")
    script = ("import sys; sys.modules['pandas'] = None\n"
              "from pynn.cli import main\n"
              "assert main(['train', 'd.csv', '--target', 'label', '--epochs', '1', '--verbose', '0', "
              "'--save', 'm.safetensors']) == 0\n"
              "assert main(['predict', 'm.safetensors', 'd.csv', '-o', 'p.csv']) == 0\n")
    r = subprocess.run([sys.executable, "-c", script], cwd=str(tmp_path), capture_output=True, text=True,
                       timeout=120, env=dict(os.environ, PYNN_BACKEND=backend))
    assert r.returncode == 0, r.stderr
    with open(tmp_path / "p.csv", newline="") as f:
        assert len(list(csv.reader(f))) == 51


# ---- the memory benchmark --------------------------------------------------------------------

def test_the_memory_benchmark_runs(tmp_path, backend):
    """benchmarks/cli_memory.py on a 1 MB file prints the CSV's size and each command's peak and
    its ratio to that size (what it measures is for the benchmark to report, not asserted)."""
    r = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "cli_memory.py"), "--mb", "1",
                        "--backend", backend, "--dir", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert re.fullmatch(r"csv: [\d.]+ MB \(\d+ bytes\), \d+ rows x 11 columns, [\d.]+ bytes per cell", lines[0])
    assert re.fullmatch(r"baseline \(a process that only imports pynn.cli\): peak RSS [\d.]+ MB", lines[1])
    for line, name in zip(lines[2:], ["train", "predict"]):
        assert re.fullmatch(r"%s: +peak RSS +[\d.]+ MB = [\d.]+x the CSV's size \([\d.]+ s\)" % name, line), line
    assert len(lines) == 4 and os.listdir(tmp_path) == []  # its files are removed
