"""The examples in pynn's docstrings run and print what they show (doctest), on each backend.

Every module of the package is searched (pynn._core, the compiled extension, has no
docstrings to run).  A module whose examples need an optional package is skipped when that
package is missing; everything else needs only pynn's own dependencies.
"""
import doctest
import importlib
import importlib.util
import pkgutil
import tempfile
import warnings

import pytest

import pynn

# modules whose examples import optional packages: (the packages, how many examples they have at least)
OPTIONAL = {
    "pynn.onnx_export": (("onnx", "onnxruntime"), 15),
    "pynn.plotting": (("matplotlib",), 8),
    "pynn.sklearn": (("sklearn",), 25),
}

# how many examples run at least without any optional package; the modules of OPTIONAL add
# theirs when their packages are installed.  Floors, so that the test cannot pass by finding
# nothing: raise them when adding examples.
MIN_EXAMPLES = 270

# the public objects whose docstrings must show an example
DOCUMENTED = [
    "pynn", "pynn.Network", "pynn.Network.fit", "pynn.Network.predict", "pynn.Network.evaluate",
    "pynn.Network.train_step", "pynn.Network.gradients", "pynn.Network.get_weights",
    "pynn.Network.set_weights", "pynn.Network.save", "pynn.Network.explain_step", "pynn.Dense",
    "pynn.SGD", "pynn.Adam", "pynn.AdamW", "pynn.RMSprop", "pynn.init", "pynn.init.zeros", "pynn.init.ones",
    "pynn.init.constant", "pynn.init.uniform", "pynn.init.normal", "pynn.init.xavier_uniform",
    "pynn.init.xavier_normal", "pynn.init.he_uniform", "pynn.init.he_normal", "pynn.init.lecun_normal",
    "pynn.gradcheck", "pynn.load", "pynn.explain.explain_step", "pynn.History", "pynn.Callback",
    "pynn.DivergenceError", "pynn.export_onnx", "pynn.callbacks.EarlyStopping",
    "pynn.callbacks.ModelCheckpoint", "pynn.callbacks.LearningRateScheduler",
    "pynn.callbacks.ReduceLROnPlateau", "pynn.callbacks.CSVLogger", "pynn.schedules.StepDecay",
    "pynn.schedules.ExponentialDecay", "pynn.schedules.CosineDecay", "pynn.datasets.spirals",
    "pynn.datasets.train_test_split", "pynn.set_backend", "pynn.available_backends", "pynn.set_num_threads",
    "pynn.lessons.lr_sweep", "pynn.lessons.init_demo",
]


def module_names():
    names = ["pynn"] + ["pynn." + info.name for info in pkgutil.iter_modules(pynn.__path__)]
    return sorted(name for name in names if name != "pynn._core")


def missing_packages(name):
    packages = OPTIONAL[name][0] if name in OPTIONAL else ()
    return [p for p in packages if importlib.util.find_spec(p) is None]


def run_module(name):
    """(examples attempted, failures, failure reports) for the docstrings of module ``name``."""
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner()
    reports = []
    for test in doctest.DocTestFinder().find(module, name):
        runner.run(test, out=reports.append)
    return runner.tries, runner.failures, "".join(reports)


def test_every_module_is_searched():
    names = module_names()
    assert {"pynn", "pynn.network", "pynn.layers", "pynn.optimizers", "pynn.init", "pynn.sklearn",
            "pynn.onnx_export"} <= set(names)
    assert set(OPTIONAL) <= set(names)


def test_docstring_examples(backend, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here...
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # ...or in a tempfile.mkdtemp() here
    attempted, failed, reports, skipped = 0, 0, [], []
    expected = MIN_EXAMPLES
    for name in module_names():
        if missing_packages(name):
            skipped.append("%s (needs %s)" % (name, ", ".join(missing_packages(name))))
            continue
        if name in OPTIONAL:
            expected += OPTIONAL[name][1]
        if name == "pynn.c_backend" and "c" not in pynn.available_backends():
            continue  # it imports the C core; it has no examples
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. scikit-learn's ConvergenceWarning: not what is tested
            tries, failures, report = run_module(name)
        assert pynn.backend() == backend, "the examples of %s left the backend changed" % name
        attempted += tries
        failed += failures
        if failures:
            reports.append(report)
    assert failed == 0, "%d of %d docstring examples failed on backend %s:\n%s" % (
        failed, attempted, backend, "\n".join(reports))
    assert attempted >= expected, "only %d docstring examples ran, fewer than %d (skipped: %s)" % (
        attempted, expected, ", ".join(skipped) or "none")


@pytest.mark.parametrize("qualname", DOCUMENTED)
def test_public_objects_show_an_example(qualname):
    parts = qualname.split(".")
    obj = importlib.import_module(parts[0])
    for i, part in enumerate(parts[1:], 1):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            obj = importlib.import_module(".".join(parts[:i + 1]))
    assert ">>> " in (obj.__doc__ or ""), "the docstring of %s has no example" % qualname


def test_failing_examples_are_reported():
    """The runner above really compares outputs (a guard against a vacuous pass)."""
    test = doctest.DocTestParser().get_doctest(">>> 1 + 1\n3\n", {}, "wrong", "wrong.py", 0)
    runner = doctest.DocTestRunner()
    reports = []
    runner.run(test, out=reports.append)
    assert (runner.tries, runner.failures) == (1, 1) and "Expected:\n    3\nGot:\n    2" in "".join(reports)
