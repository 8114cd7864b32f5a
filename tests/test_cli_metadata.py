"""`pynn predict` checks the ``pynn_cli`` metadata that `pynn train` writes into a model file
before using it: each field of a real trained model's metadata is tampered with (the file
rewritten with safetensors' own API, tensors kept) and predict must refuse it with one line
naming the file and the field, exit status 1.

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
    """The CSV files the three base models are trained on (and predict reads)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    animal = np.where(X[:, 0] > 0, "dog", "cat")
    grade = np.where(X[:, 1] > 0, 2, 1)
    price = 100 + 20 * X[:, 0] - 10 * X[:, 1]
    return _write_csv(os.path.join(directory, "data.csv"), ["x1", "x2", "x3", "animal", "grade", "price"],
                      [list(x) + [a, g, p] for x, a, g, p in zip(X, animal, grade, price)])


#: the base models: name -> the `pynn train` arguments after the data file
MODELS = {
    "text_classes": ["--target", "animal", "--features", "x1,x2,x3"],
    "integer_classes": ["--target", "grade", "--features", "x1,x2"],
    "regression": ["--target", "price", "--features", "x1,x2"],
}


def _drop(key):
    return lambda meta: {k: v for k, v in meta.items() if k != key}


def _set(key, value):
    return lambda meta: dict(meta, **{key: value})


#: (base model, case name, change: meta dict -> new meta (or a str: the raw JSON text),
#:  the field the error message must name)
TAMPERS = [
    ("text_classes", "not_json", lambda meta: "{\"format\": ", "JSON"),
    ("text_classes", "not_an_object", lambda meta: "[1, 2]", "JSON object"),
    ("text_classes", "format_other", _set("format", "pynn"), "format"),
    ("text_classes", "version_2", _set("version", 2), "version"),
    ("text_classes", "version_true", _set("version", True), "version"),
    ("text_classes", "features_missing", _drop("features"), "features"),
    ("text_classes", "features_int", _set("features", 5), "features"),
    ("text_classes", "features_short", _set("features", ["x1", "x2"]), "features"),
    ("text_classes", "features_long", _set("features", ["x1", "x2", "x3", "grade"]), "features"),
    ("text_classes", "features_not_names", _set("features", [1, "x2", "x3"]), "features"),
    ("text_classes", "features_string", _set("features", "x1x2x3"), "features"),
    ("text_classes", "mean_missing", _drop("mean"), "mean"),
    ("text_classes", "mean_short", _set("mean", [0.0]), "mean"),
    ("text_classes", "mean_strings", _set("mean", ["0", "0", "0"]), "mean"),
    ("text_classes", "mean_nan", _set("mean", [0.0, math.nan, 0.0]), "mean"),
    ("text_classes", "mean_bool", _set("mean", [True, 0.0, 0.0]), "mean"),
    ("text_classes", "mean_number", _set("mean", 0.0), "mean"),
    ("text_classes", "mean_int_beyond_float64", _set("mean", [10 ** 400, 0, 0]), "mean"),
    ("text_classes", "std_missing", _drop("std"), "std"),
    ("text_classes", "std_zero", _set("std", [1.0, 0.0, 1.0]), "std"),
    ("text_classes", "std_negative", _set("std", [1.0, -1.0, 1.0]), "std"),
    ("text_classes", "std_infinite", _set("std", [1.0, math.inf, 1.0]), "std"),
    ("text_classes", "std_long", _set("std", [1.0, 1.0, 1.0, 1.0]), "std"),
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
    returns {case name: (file, base model)}; the base models and data.csv are there too."""
    os.makedirs(directory, exist_ok=True)
    data = _data(directory)
    for name, argv in MODELS.items():
        model = os.path.join(directory, name + ".safetensors")
        r = subprocess.run([sys.executable, "-m", "pynn", "train", data] + argv +
                           ["--hidden", "4", "--epochs", "1", "--verbose", "0", "--save", model],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
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


def predict(model, data, backend):
    env = dict(os.environ, PYNN_BACKEND=backend)
    return subprocess.run([sys.executable, "-m", "pynn", "predict", model, data], capture_output=True,
                          text=True, timeout=120, env=env, cwd=os.path.dirname(model))


@pytest.mark.parametrize("base", sorted(MODELS))
def test_the_untampered_models_predict(corpus, backend, base):
    """The base of every tampered file is valid, and so is it rewritten by rewrite_metadata with
    its own metadata unchanged: the refusals below come from the tampering alone."""
    directory, _ = corpus
    source = os.path.join(directory, base + ".safetensors")
    copy = os.path.join(directory, "same_%s_%s.safetensors" % (base, backend))
    with safe_open(source, framework="numpy") as f:
        rewrite_metadata(source, copy, f.metadata()[KEY])
    for model in (source, copy):
        r = predict(model, os.path.join(directory, "data.csv"), backend)
        assert r.returncode == 0, r.stderr
        assert len(r.stdout.splitlines()) == 61


@pytest.mark.parametrize("base,case,field", [(t[0], t[1], t[3]) for t in TAMPERS], ids=[t[1] for t in TAMPERS])
def test_predict_refuses_tampered_metadata(corpus, backend, base, case, field):
    directory, files = corpus
    path, _ = files[case]
    r = predict(path, os.path.join(directory, "data.csv"), backend)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == ""  # no predictions
    assert "Traceback" not in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr
    assert r.stderr.startswith("pynn: error: %s: malformed %s metadata: " % (path, KEY)), r.stderr
    named = "JSON" if field.startswith("JSON") else "'%s'" % field
    assert named in r.stderr, r.stderr


def test_the_corpus_covers_every_field(corpus):
    """Every field that `pynn train` writes is tampered with at least once."""
    directory, _ = corpus
    written = set()
    for base in MODELS:
        with safe_open(os.path.join(directory, base + ".safetensors"), framework="numpy") as f:
            written |= set(json.loads(f.metadata()[KEY]))
    assert written == {"format", "version", "features", "mean", "std", "target", "task", "classes",
                       "target_mean", "target_std"}
    assert written <= {field for *_, field in TAMPERS}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/test_cli_metadata.py DIRECTORY")
    for case, (path, base) in sorted(write_corpus(sys.argv[1]).items()):
        print("%s  (from %s)" % (path, base))
