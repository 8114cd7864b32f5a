"""The command line on real CSV files: categorical columns one-hot encoded, missing cells
filled in (and flagged with --missing-indicator), the delimiter sniffed or given, pandas'
unnamed index column ignored, --id columns copied into predict's output, string class labels.

Every check of predict's numbers rebuilds the network's input independently here, in numpy,
from the preprocessing stored in the model file."""
import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from safetensors import safe_open

import pynn
from pynn import cli

#: what the command treats as a missing cell (ignoring case and surrounding spaces)
MISSING = {"", "na", "n/a", "nan", "null", "none", "?"}


def run(argv, capsys):
    code = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def write_rows(path, header, rows, delimiter=","):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def read_rows(path, delimiter=","):
    with open(path, newline="") as f:
        rows = list(csv.reader(f, delimiter=delimiter))
    return rows[0], rows[1:]


def stored(model):
    """The model file's pynn_cli metadata, as JSON, read with safetensors' own API."""
    with safe_open(str(model), framework="numpy") as f:
        return json.loads(f.metadata()["pynn_cli"])


def tensors(model):
    with safe_open(str(model), framework="numpy") as f:
        return {key: f.get_tensor(key) for key in f.keys()}


def network_inputs(meta, cells):
    """The network's input matrix built from the stored metadata: ``cells`` maps each column
    name to its cells (text, as in the file).  Numeric: missing -> fill, then (x - mean) / std;
    categorical: missing -> fill, one-hot in the stored category order, an unknown value all
    zeros; after a column with a missing indicator, 1 where its cell was missing."""
    blocks = []
    for c in meta["columns"]:
        texts = [t.strip() for t in cells[c["name"]]]
        missing = np.array([t.lower() in MISSING for t in texts])
        if c["kind"] == "numeric":
            x = np.array([c["fill"] if m else float(t) for t, m in zip(texts, missing)])
            blocks.append(((x - c["mean"]) / c["std"])[:, None])
        else:
            values = [c["fill"] if m else t for t, m in zip(texts, missing)]
            blocks.append(np.array([[float(v == k) for k in c["categories"]] for v in values]))
        if c["missing_indicator"]:
            blocks.append(missing[:, None].astype(float))
    return np.hstack(blocks)


def training_rows(n, validation_split=0.2, seed=0):
    """The rows `pynn train` learns from: shuffled with --seed, the last --validation-split held out."""
    return np.random.default_rng(seed).permutation(n)[:int(np.floor(n * (1 - validation_split)))]


# ---- a messy file, end to end ----------------------------------------------------------------

def messy_rows(n, seed, unseen=()):
    """Rows of a ';'-separated file as pandas writes it (a leading unnamed index column): an id
    column, a categorical column (M/F/X, some missing), numeric columns with missing cells
    written in several ways, a text column whose cells hold the delimiter (quoted), and a
    three-class string target."""
    rng = np.random.default_rng(seed)
    sex = list(rng.choice(["M", "F", "X"], size=n))
    age = rng.normal(40, 12, size=n)
    income = rng.lognormal(10, 0.5, size=n)
    city = list(rng.choice(["Paris; FR", "Oslo", "Lima; PE"], size=n))
    score = (age - 40) / 12 + (np.array(sex) == "F") * 1.5 - (np.array(city) == "Oslo")
    risk = np.where(score > 0.7, "high", np.where(score < -0.3, "low", "mid"))
    age_cells = ["%.2f" % a for a in age]
    markers = ["", "NA", " n/a ", "?", "NaN", "null", "None"]
    for i in range(3, n, 7):
        age_cells[i] = markers[(i // 7) % len(markers)]
    for i in range(5, n, 17):
        sex[i] = "" if i % 2 else "NA"
    for i, value in zip(range(2, n, 11), unseen * n):
        sex[i] = value
    income_cells = ["%.1f" % v if i % 23 else "" for i, v in enumerate(income)]
    pids = ["P%05d" % v for v in rng.permutation(90000)[:n] + 10000]
    header = ["", "pid", "sex", "age", "income", "city", "risk"]
    rows = [[i, pids[i], sex[i], age_cells[i], income_cells[i], city[i], risk[i]] for i in range(n)]
    return header, rows


def test_messy_csv_round_trip(tmp_path, backend):
    """train and predict in fresh processes on ';'-separated files with pandas' index column, an
    id column, a categorical column and missing cells; predict's file has unseen categories."""
    header, rows = messy_rows(400, seed=0)
    train = write_rows(tmp_path / "train.csv", header, rows, delimiter=";")
    test_header, test_rows = messy_rows(60, seed=1, unseen=("U", "Z"))
    test = write_rows(tmp_path / "test.csv", test_header, test_rows, delimiter=";")
    env = dict(os.environ, PYNN_BACKEND=backend)

    def pynn_cmd(*argv):
        return subprocess.run([sys.executable, "-m", "pynn"] + list(argv), cwd=str(tmp_path), env=env,
                              capture_output=True, text=True, timeout=300)

    r = pynn_cmd("train", train, "--target", "risk", "--id", "pid", "--missing-indicator", "--hidden", "16",
                 "--epochs", "20", "--lr", "0.01", "--verbose", "0", "--save", "m.safetensors")
    assert r.returncode == 0, r.stderr
    assert "classification of 'risk' into 3 classes from 4 input columns, 400 rows" in r.stdout
    assert r.stderr == ""

    # the preprocessing stored, against what the training rows hold
    meta = stored(tmp_path / "m.safetensors")
    assert meta["version"] == 2 and meta["delimiter"] == ";" and meta["id_columns"] == ["pid"]
    assert meta["target"] == "risk" and meta["classes"] == ["high", "low", "mid"]
    assert [c["name"] for c in meta["columns"]] == ["sex", "age", "income", "city"]
    assert [c["kind"] for c in meta["columns"]] == ["categorical", "numeric", "numeric", "categorical"]
    learnt = [rows[i] for i in training_rows(400)]
    sex = [r[2] for r in learnt if r[2] not in ("", "NA")]
    assert meta["columns"][0]["categories"] == ["F", "M", "X"]
    assert meta["columns"][0]["fill"] == max(sorted(set(sex)), key=sex.count)
    ages = np.array([float(r[3]) for r in learnt if r[3].strip().lower() not in MISSING])
    assert len(ages) < len(learnt)  # some missing among the training rows
    np.testing.assert_allclose([meta["columns"][1][k] for k in ("mean", "std", "fill")],
                               [ages.mean(), ages.std(), ages.mean()], rtol=1e-12)
    assert meta["columns"][3]["categories"] == ["Lima; PE", "Oslo", "Paris; FR"]
    assert [c["missing_indicator"] for c in meta["columns"]] == [True, True, True, False]
    net = pynn.load(str(tmp_path / "m.safetensors"))
    assert net.n_inputs == 3 + 1 + 1 + 1 + 1 + 1 + 3

    r = pynn_cmd("predict", "m.safetensors", test, "--out", "pred.csv")
    assert r.returncode == 0, r.stderr
    assert "wrote 60 predictions to pred.csv" in r.stdout
    # one warning, naming the column and its unseen values
    assert len(r.stderr.splitlines()) == 1, r.stderr
    n_unseen = sum(row[2] in ("U", "Z") for row in test_rows)
    assert r.stderr == ("pynn: warning: %s: values not seen in training, encoded as all zeros: column 'sex': "
                        "'U', 'Z' (%d rows)\n" % (test, n_unseen))

    out_header, out = read_rows(tmp_path / "pred.csv")
    assert out_header == ["pid", "prediction", "p_high", "p_low", "p_mid"]
    assert [row[0] for row in out] == [row[1] for row in test_rows]  # the ids, in the file's order
    assert {row[1] for row in out} <= {"high", "low", "mid"}

    # the numbers: the network applied to the input rebuilt from the metadata
    columns = {name: [row[j] for row in test_rows] for j, name in enumerate(test_header)}
    X = network_inputs(meta, columns)
    assert X.shape == (60, net.n_inputs)
    assert np.all(X[[row[2] in ("U", "Z") for row in test_rows], 0:3] == 0)
    expected = net.predict(X)
    np.testing.assert_allclose([[float(p) for p in row[2:]] for row in out], expected, rtol=1e-5, atol=1e-6)
    assert [row[1] for row in out] == [meta["classes"][k] for k in expected.argmax(axis=1)]
    accuracy = np.mean([row[1] == t[-1] for row, t in zip(out, test_rows)])
    assert "accuracy on %s: %.4f (60 rows, target column 'risk')" % (test, accuracy) in r.stdout


# ---- the delimiter ---------------------------------------------------------------------------

@pytest.mark.parametrize("delimiter,spelled", [(";", ";"), ("\t", "tab"), ("\t", "\\t"), ("|", "|"), (",", ",")])
def test_delimiter_given_or_sniffed_gives_the_same_model(tmp_path, capsys, delimiter, spelled):
    header, rows = messy_rows(120, seed=2)
    data = write_rows(tmp_path / "d.csv", header, rows, delimiter=delimiter)
    reference = write_rows(tmp_path / "comma.csv", header, rows, delimiter=",")
    argv = ["--target", "risk", "--id", "pid", "--epochs", "2", "--hidden", "4", "--verbose", "0"]
    models = []
    for name, extra in [("given", ["--delimiter", spelled]), ("sniffed", []), ("comma", ["--delimiter", ","])]:
        model = tmp_path / ("%s.safetensors" % name)
        code, _, err = run(["train", reference if name == "comma" else data] + argv + extra + ["--save", model],
                           capsys)
        assert code == 0, err
        models.append(model)
    metas = [stored(m) for m in models]
    assert metas[0]["delimiter"] == metas[1]["delimiter"] == delimiter and metas[2]["delimiter"] == ","
    for meta in metas:
        meta.pop("delimiter")
    assert metas[0] == metas[1] == metas[2]  # the same preprocessing, whichever the delimiter
    weights = [tensors(m) for m in models]
    for key in weights[0]:
        np.testing.assert_array_equal(weights[0][key], weights[1][key])
        np.testing.assert_array_equal(weights[0][key], weights[2][key])
    # and predict reads either file the same way
    outs = []
    for path in (data, reference):
        code, out, err = run(["predict", models[0], path], capsys)
        assert code == 0, err
        outs.append(out)
    assert outs[0] == outs[1] and outs[0].splitlines()[0] == "pid,prediction,p_high,p_low,p_mid"


def test_a_wrong_delimiter_is_named(tmp_path, capsys):
    data = write_rows(tmp_path / "d.csv", ["a", "b", "y"], [[1, 2, 0], [3, 4, 1]] * 5, delimiter=";")
    code, _, err = run(["train", data, "--target", "y", "--delimiter", ",", "--epochs", "1"], capsys)
    assert code == 1 and "has no column 'y'; its columns are: a;b;y" in err


# ---- pandas' files ---------------------------------------------------------------------------

@pytest.mark.parametrize("sep", [",", ";"])
def test_a_file_written_by_pandas_to_csv(tmp_path, capsys, sep):
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(3)
    n = 80
    age = rng.normal(50, 5, size=n)
    age[::9] = np.nan
    df = pd.DataFrame({"colour": rng.choice(["red", "blue"], size=n), "age": age,
                       "ok": rng.choice(["yes", "no"], size=n)})
    df.loc[4, "colour"] = None
    path = str(tmp_path / "df.csv")
    df.to_csv(path, sep=sep)  # the index as an unnamed first column; NaN and None as empty cells
    with open(path) as f:
        assert f.readline().startswith(sep + "colour")
    model = tmp_path / "m.safetensors"
    code, out, err = run(["train", path, "--target", "ok", "--epochs", "2", "--verbose", "0", "--save", model],
                         capsys)
    assert code == 0, err
    assert "from 2 input columns, 80 rows" in out
    meta = stored(model)
    assert [c["name"] for c in meta["columns"]] == ["colour", "age"]
    assert meta["columns"][0]["categories"] == ["blue", "red"] and meta["delimiter"] == sep
    learnt = df.iloc[training_rows(n)]
    assert meta["columns"][1]["fill"] == pytest.approx(learnt["age"].mean(), rel=1e-12)
    assert meta["columns"][1]["std"] == pytest.approx(learnt["age"].std(ddof=0), rel=1e-12)
    code, out, err = run(["predict", model, path], capsys)
    assert code == 0, err
    probs = np.array([[float(v) for v in line.split(",")[1:]] for line in out.splitlines()[1:]])
    header, rows = read_rows(path, delimiter=sep)
    assert header[0] == "" and rows[4][1] == "" and rows[9][2] == ""
    cells = {name: [r[j] for r in rows] for j, name in enumerate(header) if name}
    np.testing.assert_allclose(probs, pynn.load(str(model)).predict(network_inputs(meta, cells)),
                               rtol=1e-5, atol=1e-6)


# ---- missing cells ---------------------------------------------------------------------------

def test_every_missing_marker(tmp_path, capsys):
    """Empty, NA, N/A, NaN, null, None and ? (any case, spaces around) are missing: the column
    stays numeric and takes the mean of the rest; in a categorical column the most frequent."""
    markers = ["", "NA", "na", " N/A ", "NaN", "nan", "NULL", "None", "?", "  "]
    rng = np.random.default_rng(4)
    x = rng.normal(size=40)
    cells = ["%r" % v for v in x.tolist()]
    for i, m in enumerate(markers):
        cells[3 * i] = m
    kind = ["b"] * 25 + ["a"] * 5 + ["c"] * 5 + markers[:5]
    rows = [[c, k, "yes" if v > 0 else "no"] for c, k, v in zip(cells, kind, x)]
    data = write_rows(tmp_path / "d.csv", ["x", "kind", "y"], rows)
    model = tmp_path / "m.safetensors"
    code, out, err = run(["train", data, "--target", "y", "--epochs", "1", "--validation-split", "0", "--verbose",
                          "0", "--save", model], capsys)
    assert code == 0, err
    meta = stored(model)
    present = np.array([i not in range(0, 30, 3) for i in range(40)])
    x_col, kind_col = meta["columns"]
    assert x_col["kind"] == "numeric" and x_col["fill"] == pytest.approx(x[present].mean(), rel=1e-12)
    assert kind_col == {"name": "kind", "kind": "categorical", "categories": ["a", "b", "c"], "fill": "b",
                        "missing_indicator": False}
    assert ("'x' 10 missing cells filled with the mean %.6g; 'kind' categorical, 3 categories one-hot, "
            "5 missing cells filled with the most frequent, 'b'" % x[present].mean()) in out
    assert pynn.load(str(model)).n_inputs == 1 + 3  # no indicators without --missing-indicator
    code, out, err = run(["predict", model, data], capsys)
    assert code == 0, err
    probs = np.array([[float(v) for v in line.split(",")[1:]] for line in out.splitlines()[1:]])
    inputs = network_inputs(meta, {"x": cells, "kind": kind})
    np.testing.assert_allclose(probs, pynn.load(str(model)).predict(inputs), rtol=1e-5, atol=1e-6)
    assert np.all(inputs[[i for i in range(0, 30, 3)], 0] == 0)  # the mean, standardised


def test_missing_indicator_only_for_columns_with_missing_training_cells(tmp_path, capsys):
    rows = [[i, "" if i % 5 == 0 else i * 2.0, "p" if i % 3 else "q", i % 2] for i in range(50)]
    data = write_rows(tmp_path / "d.csv", ["full", "holey", "cat", "y"], rows)
    model = tmp_path / "m.safetensors"
    code, out, err = run(["train", data, "--target", "y", "--missing-indicator", "--epochs", "1", "--verbose", "0",
                          "--save", model], capsys)
    assert code == 0, err
    meta = stored(model)
    assert [c["missing_indicator"] for c in meta["columns"]] == [False, True, False]
    assert "network: 5-64-32-2" in out  # full, holey, its indicator, two categories
    cells = {name: [str(r[j]) for r in rows] for j, name in enumerate(["full", "holey", "cat"])}
    X = network_inputs(meta, cells)
    np.testing.assert_array_equal(X[:, 2], [i % 5 == 0 for i in range(50)])
    code, out, err = run(["predict", model, data], capsys)
    probs = np.array([[float(v) for v in line.split(",")[1:]] for line in out.splitlines()[1:]])
    np.testing.assert_allclose(probs, pynn.load(str(model)).predict(X), rtol=1e-5, atol=1e-6)


def test_an_all_missing_column_is_left_out_with_a_warning(tmp_path, capsys):
    rows = [[i, "NA" if i % 2 else "", (i * 7) % 5, i % 2] for i in range(30)]
    data = write_rows(tmp_path / "d.csv", ["a", "empty", "b", "y"], rows)
    model = tmp_path / "m.safetensors"
    code, out, err = run(["train", data, "--target", "y", "--epochs", "1", "--verbose", "0", "--save", model],
                         capsys)
    assert code == 0, err
    assert err == ("pynn: warning: %s: column 'empty' has no value in the training rows (every cell missing): "
                   "left out of the inputs\n" % data)
    assert "from 2 input columns" in out and "network: 2-" in out
    assert [c["name"] for c in stored(model)["columns"]] == ["a", "b"]
    # predict does not need it
    new = write_rows(tmp_path / "new.csv", ["b", "a"], [[1, 2], [3, 4]])
    code, out, err = run(["predict", model, new], capsys)
    assert code == 0 and len(out.splitlines()) == 3, err
    # named as an input, it is an error
    code, out, err = run(["train", data, "--target", "y", "--features", "a,empty", "--epochs", "1"], capsys)
    assert code == 1 and "column 'empty' has no value in the training rows" in err


def test_missing_targets_are_not_scored(tmp_path, capsys):
    rng = np.random.default_rng(5)
    x = rng.normal(size=60)
    data = write_rows(tmp_path / "d.csv", ["x", "y"], [[v, "up" if v > 0 else "down"] for v in x])
    model = tmp_path / "m.safetensors"
    assert run(["train", data, "--target", "y", "--epochs", "1", "--verbose", "0", "--save", model], capsys)[0] == 0
    labels = ["up" if v > 0 else "down" for v in x]
    for i in range(0, 60, 4):
        labels[i] = ["", "NA", "?"][i % 3]
    new = write_rows(tmp_path / "new.csv", ["x", "y"], list(zip(x, labels)))
    code, out, err = run(["predict", model, new], capsys)
    assert code == 0, err
    predicted = [line.split(",")[0] for line in out.splitlines()[1:]]
    scored = [(p, t) for p, t in zip(predicted, labels) if t in ("up", "down")]
    assert len(scored) == 45
    assert "accuracy on %s: %.4f (45 rows" % (new, np.mean([p == t for p, t in scored])) in err


# ---- categorical columns ---------------------------------------------------------------------

def test_categorical_forces_numbers_to_categories(tmp_path, capsys):
    """--categorical: zip codes stay text (leading zeros kept); without it they are numbers."""
    zips = ["02134", "10001", "94105", "00501"]
    rows = [[zips[i % 4], i % 3, i % 2] for i in range(40)]
    data = write_rows(tmp_path / "d.csv", ["zip", "n", "y"], rows)
    model = tmp_path / "m.safetensors"
    code, _, err = run(["train", data, "--target", "y", "--epochs", "1", "--verbose", "0", "--save", model],
                       capsys)
    assert code == 0 and stored(model)["columns"][0]["kind"] == "numeric", err
    code, out, err = run(["train", data, "--target", "y", "--categorical", "zip", "--epochs", "1", "--verbose",
                          "0", "--save", model], capsys)
    assert code == 0, err
    zip_col = stored(model)["columns"][0]
    assert zip_col["kind"] == "categorical" and zip_col["categories"] == sorted(zips)
    assert "network: 5-" in out
    # at predict time, "2134" is not "02134": an unseen value
    new = write_rows(tmp_path / "new.csv", ["zip", "n"], [["2134", 1], ["02134", 1]])
    code, out, err = run(["predict", model, new], capsys)
    assert code == 0 and "column 'zip': '2134' (1 row)" in err
    X = network_inputs(stored(model), {"zip": ["2134", "02134"], "n": ["1", "1"]})
    assert X[0, :4].tolist() == [0, 0, 0, 0] and X[1, :4].tolist() == [0, 1, 0, 0]


@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_a_column_categorical_after_the_first_chunk(tmp_path, capsys, monkeypatch, chunk):
    """A column of numbers whose first text cell comes late is read again: the same categories
    and codes (the cells' text, '1.0' and '1' distinct) as a column seen as text at once."""
    monkeypatch.setattr(cli, "CHUNK_ROWS", chunk)
    values = ["%d" % (i % 4) for i in range(30)] + ["1.0", "A", "b", "A", "NA", "3"] * 5
    rows = [[v, i % 2] for i, v in enumerate(values)]
    data = write_rows(tmp_path / "d.csv", ["code", "y"], rows)
    model = tmp_path / "m.safetensors"
    code, out, err = run(["train", data, "--target", "y", "--epochs", "1", "--verbose", "0", "--save", model],
                         capsys)
    assert code == 0, err
    meta = stored(model)
    learnt = {values[i] for i in training_rows(60)} - {"NA"}
    assert meta["columns"][0]["categories"] == sorted(learnt)
    code, out, err = run(["predict", model, data], capsys)
    assert code == 0, err
    probs = np.array([[float(v) for v in line.split(",")[1:]] for line in out.splitlines()[1:]])
    np.testing.assert_allclose(probs, pynn.load(str(model)).predict(network_inputs(meta, {"code": values})),
                               rtol=1e-5, atol=1e-6)


def test_unseen_values_one_warning_a_few_shown(tmp_path, capsys):
    rows = [["abc"[i % 3], "xy"[i % 2], i % 2] for i in range(30)]
    data = write_rows(tmp_path / "d.csv", ["p", "q", "y"], rows)
    model = tmp_path / "m.safetensors"
    assert run(["train", data, "--target", "y", "--epochs", "1", "--verbose", "0", "--save", model], capsys)[0] == 0
    new_rows = [["new%d" % (i % 6), "z" if i < 2 else "x"] for i in range(20)] + [["a", "y"]]
    new = write_rows(tmp_path / "new.csv", ["p", "q"], new_rows)
    code, out, err = run(["predict", model, new], capsys)
    assert code == 0 and len(out.splitlines()) == 22
    assert err == ("pynn: warning: %s: values not seen in training, encoded as all zeros: column 'p': 'new0', "
                   "'new1', 'new2' and 3 more (20 rows); column 'q': 'z' (2 rows)\n" % new)


def test_too_many_categories(tmp_path, capsys):
    rows = [["name%03d" % i, i % 2] for i in range(40)]
    data = write_rows(tmp_path / "d.csv", ["who", "y"], rows)
    code, _, err = run(["train", data, "--target", "y", "--epochs", "1", "--max-categories", "39"], capsys)
    assert code == 1 and "column 'who' has more than 39 distinct values" in err and "--id" in err
    code, _, err = run(["train", data, "--target", "y", "--epochs", "1", "--max-categories", "40",
                        "--verbose", "0"], capsys)
    assert code == 0, err


def test_predict_refuses_text_in_a_numeric_column(tmp_path, capsys):
    data = write_rows(tmp_path / "d.csv", ["a", "y"], [[i, i % 2] for i in range(20)])
    model = tmp_path / "m.safetensors"
    assert run(["train", data, "--target", "y", "--epochs", "1", "--verbose", "0", "--save", model], capsys)[0] == 0
    new = write_rows(tmp_path / "new.csv", ["a"], [[1], ["NA"], ["seven"]])
    code, out, err = run(["predict", model, new], capsys)
    assert code == 1 and out == ""
    assert "line 4: column 'a' has 'seven', which is not a number (the model takes 'a' as a numeric input)" in err


# ---- id columns and the output ----------------------------------------------------------------

def test_id_columns_first_in_order(tmp_path, capsys):
    rng = np.random.default_rng(6)
    x = rng.normal(size=30)
    rows = [["r%d" % (29 - i), v, "k%d" % (i % 4), i % 2] for i, v in enumerate(x)]
    data = write_rows(tmp_path / "d.csv", ["a", "x", "b", "y"], rows)
    outputs = []
    for ids in (["--id", "b,a"], ["--id", "b", "--id", "a"], ["--id", " b , a ", "--id", "b"]):
        model = tmp_path / "m.safetensors"
        code, out, err = run(["train", data, "--target", "y", "--epochs", "1", "--verbose", "0", "--save", model]
                             + ids, capsys)
        assert code == 0 and "from 1 input column," in out, err
        assert stored(model)["id_columns"] == ["b", "a"]
        code, out, err = run(["predict", model, data], capsys)
        assert code == 0, err
        outputs.append(out)
    assert outputs[0] == outputs[1] == outputs[2]
    lines = [line.split(",") for line in outputs[0].splitlines()]
    assert lines[0] == ["b", "a", "prediction", "p_0", "p_1"]
    assert [r[:2] for r in lines[1:]] == [[r[2], r[0]] for r in rows]
    # a file without them
    new = write_rows(tmp_path / "new.csv", ["x", "a"], [[0.5, "q"]])
    code, _, err = run(["predict", model, new], capsys)
    assert code == 1 and "lacks the id column 'b'" in err


@pytest.mark.parametrize("flag", ["--out", "--output", "-o"])
def test_out_and_its_aliases(tmp_path, capsys, flag):
    data = write_rows(tmp_path / "d.csv", ["a", "y"], [[i, "no" if i < 10 else "yes"] for i in range(20)])
    model = tmp_path / "m.safetensors"
    assert run(["train", data, "--target", "y", "--epochs", "1", "--verbose", "0", "--save", model], capsys)[0] == 0
    code, out, err = run(["predict", model, data, flag, tmp_path / "p.csv"], capsys)
    assert code == 0 and "wrote 20 predictions to" in out, err
    header, rows = read_rows(tmp_path / "p.csv")
    assert header == ["prediction", "p_no", "p_yes"] and len(rows) == 20
    assert {r[0] for r in rows} <= {"no", "yes"}
    code, out, _ = run(["predict", "--help"], capsys)
    assert code == 0 and "--out OUT.csv, --output OUT.csv, -o OUT.csv" in out
