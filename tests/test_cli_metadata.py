"""`pynn predict` checks the ``pynn_cli`` metadata that `pynn train` writes into a model file
before using it: each field of a real trained model's metadata is tampered with (the file
rewritten with safetensors' own API, tensors kept) and predict must refuse it with one line
naming the file and the field, exit status 1.  The base models cover metadata version 2
(numeric and categorical input columns, missing indicators, an id column, a ';' delimiter) and
version 1 (numeric inputs only, as earlier pynn wrote it, still read).

The tampered files are a corpus generated here (nothing binary is checked in):
``python tests/test_cli_metadata.py DIR`` writes it to DIR, e.g. to seed a fuzzer.
"""
import csv
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from safetensors import safe_open
from safetensors.numpy import save_file

KEY = "pynn_cli"


def _write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def _data(directory):
    """The CSV files the base models are trained on (and predict reads): data.csv, numeric
    inputs; mixed.csv, ';'-separated with an id column, a categorical column and missing cells."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    animal = np.where(X[:, 0] > 0, "dog", "cat")
    grade = np.where(X[:, 1] > 0, 2, 1)
    price = 100 + 20 * X[:, 0] - 10 * X[:, 1]
    _write_csv(os.path.join(directory, "data.csv"), ["x1", "x2", "x3", "animal", "grade", "price"],
               [list(x) + [a, g, p] for x, a, g, p in zip(X, animal, grade, price)])
    colour = np.array(["red", "green", "blue"])[rng.integers(0, 3, size=60)].astype(object)
    colour[::7] = "NA"
    x1 = X[:, 0].astype(object)
    x1[::5] = ""
    with open(os.path.join(directory, "mixed.csv"), "w", newline="") as f:
        writer = csv.writer(f, delimiter=";")
        writer.writerow(["key", "x1", "colour", "grade", "animal"])
        writer.writerows(["k%02d" % i, v, c, g, a] for i, (v, c, g, a) in enumerate(zip(x1, colour, grade, animal)))


#: the base models: name -> (the CSV file, the `pynn train` arguments after it)
MODELS = {
    "text_classes": ("data.csv", ["--target", "animal", "--features", "x1,x2,x3"]),
    "integer_classes": ("data.csv", ["--target", "grade", "--features", "x1,x2"]),
    "regression": ("data.csv", ["--target", "price", "--features", "x1,x2"]),
    # columns: x1 numeric with missing cells, colour categorical with missing cells, grade categorical
    "mixed": ("mixed.csv", ["--target", "animal", "--id", "key", "--categorical", "grade", "--missing-indicator"]),
}


def _to_version_1(meta):
    """The metadata version 1 wrote (numeric inputs only) for a model of numeric inputs."""
    columns = meta["columns"]
    assert all(c["kind"] == "numeric" and not c["missing_indicator"] for c in columns)
    old = {k: v for k, v in meta.items() if k not in ("columns", "id_columns", "delimiter")}
    return dict(old, version=1, features=[c["name"] for c in columns], mean=[c["mean"] for c in columns],
                std=[c["std"] for c in columns])


#: base models made by rewriting another's metadata: name -> (its source, the change)
DERIVED = {"version_1": ("text_classes", _to_version_1)}


def _drop(key):
    return lambda meta: {k: v for k, v in meta.items() if k != key}


def _set(key, value):
    return lambda meta: dict(meta, **{key: value})


def _column(i, key, value=None, drop=False):
    """Set (or drop) ``key`` of the i-th input column's description."""
    def change(meta):
        columns = [dict(c) for c in meta["columns"]]
        if drop:
            del columns[i][key]
        else:
            columns[i][key] = value
        return dict(meta, columns=columns)
    return change


def _columns(change_list):
    return lambda meta: dict(meta, columns=change_list([dict(c) for c in meta["columns"]]))


#: (base model, case name, change: meta dict -> new meta (or a str: the raw JSON text),
#:  the field the error message must name)
TAMPERS = [
    ("text_classes", "not_json", lambda meta: "{\"format\": ", "JSON"),
    ("text_classes", "not_an_object", lambda meta: "[1, 2]", "JSON object"),
    ("text_classes", "format_other", _set("format", "pynn"), "format"),
    ("text_classes", "version_3", _set("version", 3), "version"),
    ("text_classes", "version_true", _set("version", True), "version"),
    ("version_1", "features_missing", _drop("features"), "features"),
    ("version_1", "features_int", _set("features", 5), "features"),
    ("version_1", "features_short", _set("features", ["x1", "x2"]), "features"),
    ("version_1", "features_long", _set("features", ["x1", "x2", "x3", "grade"]), "features"),
    ("version_1", "features_not_names", _set("features", [1, "x2", "x3"]), "features"),
    ("version_1", "features_string", _set("features", "x1x2x3"), "features"),
    ("version_1", "mean_missing", _drop("mean"), "mean"),
    ("version_1", "mean_short", _set("mean", [0.0]), "mean"),
    ("version_1", "mean_strings", _set("mean", ["0", "0", "0"]), "mean"),
    ("version_1", "mean_nan", _set("mean", [0.0, math.nan, 0.0]), "mean"),
    ("version_1", "mean_bool", _set("mean", [True, 0.0, 0.0]), "mean"),
    ("version_1", "mean_number", _set("mean", 0.0), "mean"),
    ("version_1", "mean_int_beyond_float64", _set("mean", [10 ** 400, 0, 0]), "mean"),
    ("version_1", "std_missing", _drop("std"), "std"),
    ("version_1", "std_zero", _set("std", [1.0, 0.0, 1.0]), "std"),
    ("version_1", "std_negative", _set("std", [1.0, -1.0, 1.0]), "std"),
    ("version_1", "std_infinite", _set("std", [1.0, math.inf, 1.0]), "std"),
    ("version_1", "std_long", _set("std", [1.0, 1.0, 1.0, 1.0]), "std"),
    ("version_1", "version_1_target_is_a_feature", _set("target", "x2"), "target"),
    # version 2: the input columns
    ("text_classes", "columns_missing", _drop("columns"), "columns"),
    ("text_classes", "columns_empty", _set("columns", []), "columns"),
    ("text_classes", "columns_object", _set("columns", {"x1": {}}), "columns"),
    ("text_classes", "columns_short", _columns(lambda cs: cs[:2]), "columns"),
    ("text_classes", "columns_long", _columns(lambda cs: cs + [dict(cs[0], name="grade")]), "columns"),
    ("text_classes", "column_not_object", _columns(lambda cs: ["x1"] + cs[1:]), "columns"),
    ("mixed", "column_described_twice_differently",
     _columns(lambda cs: cs[:2] + [dict(cs[2], name="colour")]), "name"),
    ("text_classes", "name_missing", _column(0, "name", drop=True), "name"),
    ("text_classes", "name_int", _column(0, "name", 1), "name"),
    ("text_classes", "name_empty", _column(0, "name", ""), "name"),
    ("text_classes", "name_spaces", _column(0, "name", " x1"), "name"),
    ("text_classes", "kind_missing", _column(0, "kind", drop=True), "kind"),
    ("text_classes", "kind_unknown", _column(0, "kind", "ordinal"), "kind"),
    ("mixed", "kind_categorical_of_a_numeric", _column(0, "kind", "categorical"), "categories"),
    ("mixed", "kind_numeric_of_a_categorical", _column(1, "kind", "numeric"), "mean"),
    ("text_classes", "column_mean_missing", _column(1, "mean", drop=True), "mean"),
    ("text_classes", "column_mean_string", _column(1, "mean", "0"), "mean"),
    ("text_classes", "column_mean_nan", _column(1, "mean", math.nan), "mean"),
    ("text_classes", "column_mean_bool", _column(1, "mean", False), "mean"),
    ("text_classes", "column_mean_int_beyond_float64", _column(1, "mean", 10 ** 400), "mean"),
    ("text_classes", "column_std_missing", _column(1, "std", drop=True), "std"),
    ("text_classes", "column_std_zero", _column(1, "std", 0.0), "std"),
    ("text_classes", "column_std_negative", _column(1, "std", -1.0), "std"),
    ("text_classes", "column_std_infinite", _column(1, "std", math.inf), "std"),
    ("text_classes", "numeric_fill_missing", _column(2, "fill", drop=True), "fill"),
    ("text_classes", "numeric_fill_string", _column(2, "fill", "0.5"), "fill"),
    ("text_classes", "numeric_fill_nan", _column(2, "fill", math.nan), "fill"),
    ("text_classes", "numeric_fill_infinite", _column(2, "fill", -math.inf), "fill"),
    ("text_classes", "numeric_fill_overflows_float32",
     lambda meta: _column(2, "std", 1e-300)(_column(2, "fill", meta["columns"][2]["mean"] + 1.0)(meta)), "fill"),
    ("mixed", "categories_missing", _column(1, "categories", drop=True), "categories"),
    ("mixed", "categories_string", _column(1, "categories", "bluegreenred"), "categories"),
    ("mixed", "categories_empty", _column(1, "categories", []), "categories"),
    ("mixed", "categories_numbers", _column(1, "categories", [1, 2, 3]), "categories"),
    ("mixed", "categories_repeated", _column(1, "categories", ["blue", "blue", "red"]), "categories"),
    ("mixed", "categories_unsorted", _column(1, "categories", ["red", "green", "blue"]), "categories"),
    ("mixed", "categories_empty_text", _column(1, "categories", ["", "blue", "green"]), "categories"),
    ("mixed", "categories_spaces", _column(1, "categories", [" blue", "green", "red"]), "categories"),
    ("mixed", "categories_missing_marker", _column(1, "categories", ["N/A", "blue", "green"]), "categories"),
    ("mixed", "categories_nested", _column(1, "categories", [["blue"], ["green"], ["red"]]), "categories"),
    ("mixed", "categories_one_more", _column(1, "categories", ["blue", "green", "red", "white"]), "columns"),
    ("mixed", "categories_one_fewer",
     lambda meta: _column(1, "fill", "blue")(_column(1, "categories", ["blue", "green"])(meta)), "columns"),
    ("mixed", "categorical_fill_missing", _column(1, "fill", drop=True), "fill"),
    ("mixed", "categorical_fill_not_a_category", _column(1, "fill", "purple"), "fill"),
    ("mixed", "categorical_fill_number", _column(2, "fill", 1), "fill"),
    ("mixed", "missing_indicator_missing", _column(0, "missing_indicator", drop=True), "missing_indicator"),
    ("mixed", "missing_indicator_int", _column(0, "missing_indicator", 1), "missing_indicator"),
    ("mixed", "missing_indicator_string", _column(1, "missing_indicator", "true"), "missing_indicator"),
    ("mixed", "missing_indicator_added", _column(2, "missing_indicator", True), "columns"),
    ("mixed", "missing_indicator_removed", _column(0, "missing_indicator", False), "columns"),
    # version 2: the id columns and the delimiter
    ("mixed", "id_columns_missing", _drop("id_columns"), "id_columns"),
    ("mixed", "id_columns_string", _set("id_columns", "key"), "id_columns"),
    ("mixed", "id_columns_numbers", _set("id_columns", [1]), "id_columns"),
    ("mixed", "id_columns_repeated", _set("id_columns", ["key", "key"]), "id_columns"),
    ("mixed", "id_columns_an_input", _set("id_columns", ["key", "x1"]), "id_columns"),
    ("mixed", "id_columns_empty_name", _set("id_columns", [""]), "id_columns"),
    ("mixed", "target_is_an_id", _set("target", "key"), "target"),
    ("mixed", "delimiter_missing", _drop("delimiter"), "delimiter"),
    ("mixed", "delimiter_two_characters", _set("delimiter", ";;"), "delimiter"),
    ("mixed", "delimiter_empty", _set("delimiter", ""), "delimiter"),
    ("mixed", "delimiter_number", _set("delimiter", 59), "delimiter"),
    ("mixed", "delimiter_letter", _set("delimiter", "a"), "delimiter"),
    ("mixed", "delimiter_quote", _set("delimiter", '"'), "delimiter"),
    ("mixed", "delimiter_line_break", _set("delimiter", "\n"), "delimiter"),
    ("mixed", "delimiter_decimal_point", _set("delimiter", "."), "delimiter"),
    # the target and the task
    ("text_classes", "target_missing", _drop("target"), "target"),
    ("text_classes", "target_int", _set("target", 5), "target"),
    ("text_classes", "target_is_a_feature", _set("target", "x2"), "target"),
    ("text_classes", "task_missing", _drop("task"), "task"),
    ("text_classes", "task_unknown", _set("task", "clustering"), "task"),
    ("text_classes", "task_regression_of_a_classifier", _set("task", "regression"), "task"),
    ("text_classes", "classes_missing", _drop("classes"), "classes"),
    ("text_classes", "classes_short", _set("classes", ["cat"]), "classes"),
    ("text_classes", "classes_long", _set("classes", ["cat", "dog", "emu"]), "classes"),
    ("text_classes", "classes_string", _set("classes", "catdog"), "classes"),
    ("text_classes", "classes_repeated", _set("classes", ["cat", "cat"]), "classes"),
    ("text_classes", "classes_mixed", _set("classes", ["cat", 1]), "classes"),
    ("text_classes", "classes_nested", _set("classes", [["cat"], ["dog"]]), "classes"),
    ("integer_classes", "classes_infinite", _set("classes", [1, math.inf]), "classes"),
    ("integer_classes", "classes_bool", _set("classes", [False, True]), "classes"),
    ("integer_classes", "classes_same_value", _set("classes", [1, 1.0]), "classes"),
    ("integer_classes", "classes_too_large", _set("classes", [1, 2 ** 60]), "classes"),
    ("regression", "task_classification_of_a_regressor", _set("task", "classification"), "task"),
    ("regression", "target_mean_missing", _drop("target_mean"), "target_mean"),
    ("regression", "target_mean_string", _set("target_mean", "100"), "target_mean"),
    ("regression", "target_mean_infinite", _set("target_mean", -math.inf), "target_mean"),
    ("regression", "target_mean_int_beyond_float64", _set("target_mean", -10 ** 400), "target_mean"),
    ("regression", "target_std_missing", _drop("target_std"), "target_std"),
    ("regression", "target_std_zero", _set("target_std", 0), "target_std"),
    ("regression", "target_std_list", _set("target_std", [1.0]), "target_std"),
]


def rewrite_metadata(source, destination, text):
    """Copy the model file ``source`` to ``destination`` with ``text`` as its pynn_cli metadata
    (read and written with safetensors' own API; the tensors and other metadata kept)."""
    with safe_open(source, framework="numpy") as f:
        metadata = dict(f.metadata())
        tensors = {key: f.get_tensor(key) for key in f.keys()}
    metadata[KEY] = text
    save_file(tensors, destination, metadata=metadata)


def write_corpus(directory):
    """Train the base models with `pynn train` and write every tampered file into ``directory``:
    returns {case name: (file, base model)}; the base models and their CSV files are there too."""
    os.makedirs(directory, exist_ok=True)
    _data(directory)
    for name, (data, argv) in MODELS.items():
        model = os.path.join(directory, name + ".safetensors")
        r = subprocess.run([sys.executable, "-m", "pynn", "train", os.path.join(directory, data)] + argv +
                           ["--hidden", "4", "--epochs", "1", "--verbose", "0", "--save", model],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
    for name, (source, change) in DERIVED.items():
        source = os.path.join(directory, source + ".safetensors")
        with safe_open(source, framework="numpy") as f:
            meta = json.loads(f.metadata()[KEY])
        rewrite_metadata(source, os.path.join(directory, name + ".safetensors"), json.dumps(change(meta)))
    corpus = {}
    for base, case, change, _ in TAMPERS:
        source = os.path.join(directory, base + ".safetensors")
        with safe_open(source, framework="numpy") as f:
            meta = json.loads(f.metadata()[KEY])
        new = change(meta)
        path = os.path.join(directory, "tampered_%s.safetensors" % case)
        rewrite_metadata(source, path, new if isinstance(new, str) else json.dumps(new))
        corpus[case] = (path, base)
    return corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("cli_corpus"))
    return directory, write_corpus(directory)


def data_of(directory, base):
    """The CSV file the base model ``base`` is trained on."""
    return os.path.join(directory, MODELS[DERIVED[base][0] if base in DERIVED else base][0])


def predict(model, data, backend):
    env = dict(os.environ, PYNN_BACKEND=backend)
    return subprocess.run([sys.executable, "-m", "pynn", "predict", model, data], capture_output=True,
                          text=True, timeout=120, env=env, cwd=os.path.dirname(model))


@pytest.mark.parametrize("base", sorted(MODELS) + sorted(DERIVED))
def test_the_untampered_models_predict(corpus, backend, base):
    """The base of every tampered file is valid, and so is it rewritten by rewrite_metadata with
    its own metadata unchanged: the refusals below come from the tampering alone."""
    directory, _ = corpus
    source = os.path.join(directory, base + ".safetensors")
    copy = os.path.join(directory, "same_%s_%s.safetensors" % (base, backend))
    with safe_open(source, framework="numpy") as f:
        rewrite_metadata(source, copy, f.metadata()[KEY])
    for model in (source, copy):
        r = predict(model, data_of(directory, base), backend)
        assert r.returncode == 0, r.stderr
        assert len(r.stdout.splitlines()) == 61
        assert r.stdout.splitlines()[0].startswith("key,prediction," if base == "mixed" else "prediction")


@pytest.mark.parametrize("base,case,field", [(t[0], t[1], t[3]) for t in TAMPERS], ids=[t[1] for t in TAMPERS])
def test_predict_refuses_tampered_metadata(corpus, backend, base, case, field):
    directory, files = corpus
    path, _ = files[case]
    r = predict(path, data_of(directory, base), backend)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == ""  # no predictions
    assert "Traceback" not in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr
    assert r.stderr.startswith("pynn: error: %s: malformed %s metadata: " % (path, KEY)), r.stderr
    named = "JSON" if field.startswith("JSON") else "'%s'" % field
    assert named in r.stderr, r.stderr


def test_the_corpus_covers_every_field(corpus):
    """Every field that `pynn train` writes (and that version 1 wrote), and every field of an
    input column's description, is tampered with at least once."""
    directory, _ = corpus
    written, described = set(), set()
    for base in list(MODELS) + list(DERIVED):
        with safe_open(os.path.join(directory, base + ".safetensors"), framework="numpy") as f:
            meta = json.loads(f.metadata()[KEY])
        written |= set(meta)
        for column in meta.get("columns", []):
            described |= set(column)
    assert written == {"format", "version", "delimiter", "id_columns", "columns", "target", "task", "classes",
                       "target_mean", "target_std", "features", "mean", "std"}
    assert described == {"name", "kind", "mean", "std", "fill", "categories", "missing_indicator"}
    assert written | described <= {field for *_, field in TAMPERS}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/test_cli_metadata.py DIRECTORY")
    for case, (path, base) in sorted(write_corpus(sys.argv[1]).items()):
        print("%s  (from %s)" % (path, base))
