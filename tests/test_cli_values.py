"""Odd values on the command line and in CSV cells: numbers too large to standardise, integer
class labels too large to be exact, a negative --patience."""
import numpy as np
import pytest

import pynn
from pynn import cli


def write_lines(path, lines):
    with open(path, "w", newline="") as f:
        f.write("\n".join(lines) + "\n")
    return str(path)


def run(argv, capsys):
    code = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def table(n=40, seed=0):
    """n rows "x1,x2,y" of small numbers and a 0/1 label (text lines, header first)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return ["x1,x2,y"] + ["%r,%r,%d" % (a, b, a > 0) for a, b in X.tolist()]


def assert_one_line_error(code, err, *parts):
    assert code == 1, err
    assert err.startswith("pynn: error: ") and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert "NaN or infinity" not in err
    for part in parts:
        assert part in err, (part, err)


# ---- values that overflow when standardised --------------------------------------------------

def test_huge_cell_in_a_training_row(tmp_path, capsys):
    lines = table()
    lines[12] = "0.5,1.5e308,1"  # line 13 of the file; with no validation split every row trains
    data = write_lines(tmp_path / "d.csv", lines)
    code, _, err = run(["train", data, "--target", "y", "--epochs", "1", "--verbose", "0",
                        "--validation-split", "0"], capsys)
    assert_one_line_error(code, err, "line 13", "column 'x2'", "1.5e+308", "too large to standardise")


@pytest.mark.parametrize("cell", ["1.5e308", "1e39"])
def test_huge_cell_in_a_validation_row(tmp_path, capsys, cell):
    """Its column's mean and std (over the training rows) are ordinary; standardised, the cell
    is beyond float32's range, the network's."""
    n, lines = 40, table()
    held_out = np.random.default_rng(0).permutation(n)[32:]  # --seed 0; the last 20% validate
    row = int(held_out[0])
    a, _, y = lines[1 + row].split(",")
    lines[1 + row] = "%s,%s,%s" % (a, cell, y)
    data = write_lines(tmp_path / "d.csv", lines)
    code, _, err = run(["train", data, "--target", "y", "--epochs", "1", "--verbose", "0"], capsys)
    assert_one_line_error(code, err, "line %d" % (row + 2), "column 'x2'", repr(float(cell)), "standardised",
                          "float32")
    if cell == "1e39":  # a float64 network takes it
        code, _, err = run(["train", data, "--target", "y", "--epochs", "1", "--verbose", "0",
                            "--dtype", "float64"], capsys)
        assert code == 0, err


def test_huge_regression_target(tmp_path, capsys):
    rng = np.random.default_rng(0)
    lines = ["x,price"] + ["%r,%r" % (x, 100 + 50 * x) for x in rng.normal(size=40).tolist()]
    lines[5] = "0.1,1.7e308"
    lines[9] = "0.2,1.7e308"  # their sum overflows float64
    data = write_lines(tmp_path / "d.csv", lines)
    code, _, err = run(["train", data, "--target", "price", "--epochs", "1", "--verbose", "0",
                        "--validation-split", "0"], capsys)
    assert_one_line_error(code, err, "column 'price'", "1.7e+308", "too large to standardise")
    assert "line 6" in err or "line 10" in err


def test_huge_cell_given_to_predict(tmp_path, capsys):
    model = tmp_path / "m.safetensors"
    assert run(["train", write_lines(tmp_path / "d.csv", table()), "--target", "y", "--epochs", "1",
                "--verbose", "0", "--save", model], capsys)[0] == 0
    lines = table(10, seed=1)
    lines[4] = "-1.5e308,0.5,1"
    code, out, err = run(["predict", model, write_lines(tmp_path / "new.csv", lines)], capsys)
    assert_one_line_error(code, err, "line 5", "column 'x1'", "-1.5e+308")
    assert out == ""


def test_cell_beyond_float32_given_to_a_plain_model(tmp_path, capsys):
    """No preprocessing stored: the cells go to the float32 network as they are."""
    net = pynn.Network([pynn.Dense(2, 1)], seed=0)
    net.save(str(tmp_path / "plain.safetensors"))
    data = write_lines(tmp_path / "x.csv", ["u,v", "1,2", "3,1e39", "5,6"])
    code, _, err = run(["predict", tmp_path / "plain.safetensors", data], capsys)
    assert_one_line_error(code, err, "line 3", "column 'v'", "1e+39", "float32")
    float64 = pynn.Network([pynn.Dense(2, 1)], dtype="float64", seed=0)
    float64.save(str(tmp_path / "plain64.safetensors"))
    code, out, err = run(["predict", tmp_path / "plain64.safetensors", data], capsys)
    assert code == 0, err
    assert float(out.splitlines()[2]) == pytest.approx(float(float64.predict([[3.0, 1e39]])[0, 0]))


# ---- integer class labels --------------------------------------------------------------------

@pytest.mark.parametrize("task", [[], ["--task", "classification"]])
def test_class_label_too_large(tmp_path, capsys, task):
    lines = table()
    lines[7] = lines[7].rsplit(",", 1)[0] + ",1e20"  # line 8
    data = write_lines(tmp_path / "d.csv", lines)
    code, out, err = run(["train", data, "--target", "y", "--epochs", "1", "--verbose", "0"] + task, capsys)
    assert_one_line_error(code, err, "line 8", "the target column 'y'", "1e+20", "not a valid integer class label")
    assert "9223372036854775808" not in err and out == ""
    # as a regression target it is a number like any other
    code, out, err = run(["train", data, "--target", "y", "--epochs", "1", "--verbose", "0",
                          "--task", "regression"], capsys)
    assert code == 0 and "regression of 'y'" in out, err


def test_largest_exact_integer_label(tmp_path, capsys):
    big = 2 ** 53
    lines = ["x,y"] + ["%d,%d" % (i, big if i % 2 else -big) for i in range(20)]
    data, model = write_lines(tmp_path / "d.csv", lines), tmp_path / "m.safetensors"
    code, out, err = run(["train", data, "--target", "y", "--epochs", "1", "--verbose", "0", "--save", model], capsys)
    assert code == 0 and "into 2 classes" in out, err
    assert cli.read_metadata(str(model))["classes"] == [-big, big]


# ---- --patience ------------------------------------------------------------------------------

def test_negative_patience_is_a_usage_error(tmp_path, capsys):
    data = write_lines(tmp_path / "d.csv", table())
    code, out, err = run(["train", data, "--target", "y", "--epochs", "1", "--patience", "-1"], capsys)
    assert code == 2 and "argument --patience: must be >= 0; got -1" in err and out == ""
    code, out, err = run(["train", data, "--target", "y", "--epochs", "1", "--patience", "x"], capsys)
    assert code == 2 and "argument --patience: expected an integer; got 'x'" in err
    code, out, err = run(["train", data, "--target", "y", "--epochs", "3", "--patience", "0", "--verbose", "0"],
                         capsys)
    assert code == 0, err
