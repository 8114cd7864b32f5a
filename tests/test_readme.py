"""The README's Python examples run as written (in a temporary directory)."""
import os
import re

import pytest

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")


def python_blocks():
    with open(README, encoding="utf-8") as f:
        text = f.read()
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_has_examples():
    assert len(python_blocks()) >= 3


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_readme_example_runs(backend, index, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = python_blocks()[index]
    first_line = code.split("\n", 1)[0]
    if first_line.startswith("# requires:"):  # optional packages: skip the block without them
        for module in first_line[len("# requires:"):].split():
            pytest.importorskip(module)
    exec(compile(code, "README.md example %d" % index, "exec"), {})
    out = capsys.readouterr().out
    if "0.75136507" in code:  # the hand-worked network prints the published numbers
        assert "[[0.75136507 0.77292847]]" in out
        assert "0.29837110" in out
        assert "0.35891648" in out and "0.56137012" in out
    if "pynn.Dropout(p)" in code:  # it prints exactly the lines the README shows under it
        shown = [line[2:] for line in code.splitlines() if line.startswith("# p=")]
        assert len(shown) == 2 and out.splitlines() == shown
    if "XOR" in code:
        assert "[0. 1. 1. 0.]" in out
