"""The ``pynn`` command (also ``python -m pynn``).

Subcommands::

    pynn [demo]        train the three-spirals demo (the default)
    pynn train DATA.csv --target COLUMN [--hidden 64,32] [--dropout P] [--epochs 50]
                       [--lr LR] [--batch-size 32] [--save MODEL.safetensors] ...
    pynn predict MODEL.safetensors DATA.csv [--output OUT.csv]
    pynn bench ...     the benchmarks (pynn.benchmark)
    pynn lr-sweep      one network trained at several learning rates
    pynn init-demo     zero, constant and random initial weights compared

CSV files have a header row and one sample per row; they are read with the
standard library's ``csv`` module, a chunk of rows at a time, each column
going straight into a float64 array (``read_csv``): no table of Python
strings is ever held, so a numeric file needs about 8 bytes per cell.
``train`` uses every column but the target as a numeric input (or those
named by ``--features``), shuffles the rows (``--seed``), holds out
``--validation-split`` of them, standardises each input to mean 0 and
standard deviation 1 (measured on the training rows), and trains a relu MLP:

- classification when the target column is not numeric, or holds integers
  with at most 20 distinct values (``--task`` overrides): softmax output,
  cross-entropy loss; ``predict`` writes the class and one probability
  column per class;
- regression otherwise: linear output, mse loss on the standardised target;
  ``predict`` writes the prediction in the target's units.

``--save`` writes the model, and the preprocessing as JSON under the
safetensors metadata key ``pynn_cli`` (the feature columns, their means and
standard deviations, the target column, the task, the class labels
(classification) or the target's mean and standard deviation (regression)),
in one atomic write of one file.  ``pynn.load`` ignores that key, so the file
stays an ordinary pynn model; ``predict`` reads it back and checks it against
the network before using it (``load_model``); a model saved from Python
without it is used on the CSV's columns as they are.

Exit status: 0 on success, 1 for an error in the data, the files or the
run (a message says what), 2 for a usage error (bad or missing arguments).
"""
import argparse
import bisect
import csv
import json
import math
import os
import sys
from contextlib import contextmanager
from operator import itemgetter
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from pynn import activations

#: safetensors metadata key holding the preprocessing written by ``pynn train``
METADATA_KEY = "pynn_cli"
#: a numeric target with integer values is a class label when it has at most this many values
MAX_CLASSES = 20
#: integer class labels beyond this magnitude are not exact in float64 (neighbours would merge)
MAX_INTEGER_LABEL = 2 ** 53
#: rows parsed at a time: the cells of one chunk are the only Python strings held
CHUNK_ROWS = 4096
#: the target column's distinct cells are remembered (for text class labels) up to this many;
#: past it they are read again, in a second pass, if the labels turn out to be text
MAX_TEXT_LABELS = 10000
#: rows standardised, predicted and written at a time
PREDICT_ROWS = 16384


class DataError(Exception):
    """A problem with the user's files or data: reported in one line, exit status 1."""


# ---- CSV -------------------------------------------------------------------------------------

def _parse_number(text):
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _number_or_nan(cell):
    value = _parse_number(cell.strip())
    return math.nan if value is None else value


class Column:
    """What ``read_csv`` learns about a column it keeps, besides its numbers (``Table.values``):
    ``bad``, its first cell that is not a finite number, as (line, text stripped), or None; for
    the target column also ``empty``, the line of its first empty cell, and its cells as text
    (``Table.labels``)."""

    def __init__(self, name, j, target):
        self.name, self.j, self.target = name, j, target
        self.bad = self.empty = None
        # distinct cell text -> code, while few enough; the int32 code of each row's text
        self.index: Optional[Dict[str, int]] = {} if target else None
        self.codes: List[Any] = []

    def parse(self, cells, lines):
        """The cells as float64, NaN where not a finite number; remembers what is odd."""
        try:  # the fast path: every cell a number (float() ignores surrounding whitespace)
            values = np.fromiter(map(float, cells), np.float64, len(cells))
        except ValueError:
            values = np.array([_number_or_nan(c) for c in cells], dtype=np.float64)
        finite = np.isfinite(values)
        if not finite.all():
            values[~finite] = np.nan
            if self.bad is None:
                i = int(np.argmin(finite))
                self.bad = (lines[i], cells[i].strip())
        if self.target:
            texts = [c.strip() for c in cells]
            if self.empty is None and not all(texts):
                self.empty = lines[texts.index("")]
            if self.index is not None:
                self.codes.append(_codes(self.index, texts))
                if len(self.index) > MAX_TEXT_LABELS:  # many distinct values: numbers, surely; stop
                    self.index, self.codes = None, []
        return values


def _codes(index, texts):
    return np.array([index.setdefault(t, len(index)) for t in texts], dtype=np.int32)


class Table:
    """A CSV file read column-wise by ``read_csv``: its ``header``, ``n_rows``, the names asked
    for (``chosen``, in order) and a Column for each of them (``columns``); their numbers are
    in one float64 array, ``values(name)``."""

    def __init__(self, path, header, n_rows, chosen, columns, numbers, jumps):
        self.path, self.header, self.n_rows, self.chosen, self.columns = path, header, n_rows, chosen, columns
        self._numbers, self._jumps = numbers, jumps

    def line(self, i):
        """The line of the file on which data row ``i`` (from 0) ends."""
        rows, lines = self._jumps
        k = bisect.bisect_right(rows, i) - 1
        return lines[k] + (i - rows[k])

    def values(self, name):
        """Column ``name`` as float64 (a view), NaN where a cell is not a finite number."""
        return self._numbers[:self.n_rows, self.columns[name].j]

    def matrix(self, names):
        """The numeric columns ``names`` as an (n_rows, len(names)) float64 array (a view when it
        can be); DataError naming the first bad cell (of the first column in ``names`` that has one)."""
        for name in names:
            bad = self.columns[name].bad
            if bad is not None:
                line, text = bad
                what = "is empty" if not text else "has %r, which is not a finite number" % text
                raise DataError("%s, line %d: column %r %s; input columns must be numeric"
                                % (self.path, line, name, what))
        index = [self.columns[name].j for name in names]
        if index == list(range(len(names))):
            return self._numbers[:self.n_rows, :len(names)]
        return self._numbers[:self.n_rows, index]

    def labels(self, name):
        """(distinct texts, int32 code of each row's text among them) of the target column."""
        column = self.columns[name]
        if column.index is None:  # more distinct cells than remembered: read the column again
            column.index, column.codes = {}, []
            position = self.header.index(name)
            with _reading(self.path):
                rows = _rows(self.path, [0])
                next(rows)  # the header
                texts = []
                for _, row in rows:
                    if position >= len(row):
                        raise DataError("%s changed while it was read" % self.path)
                    texts.append(row[position].strip())
                    if len(texts) == CHUNK_ROWS:
                        column.codes.append(_codes(column.index, texts))
                        texts = []
                column.codes.append(_codes(column.index, texts))
        codes = np.concatenate(column.codes) if column.codes else np.empty(0, dtype=np.int32)
        if len(codes) != self.n_rows:
            raise DataError("%s changed while it was read" % self.path)
        return list(column.index), codes


@contextmanager
def _reading(path):
    """Turn the errors of opening and reading ``path`` as CSV into DataErrors."""
    try:
        yield
    except FileNotFoundError:
        raise DataError("no such file: %s" % path) from None
    except IsADirectoryError:
        raise DataError("%s is a directory, not a CSV file" % path) from None
    except UnicodeDecodeError as exc:
        raise DataError("%s is not a UTF-8 text file (%s)" % (path, exc)) from None
    except csv.Error as exc:
        raise DataError("%s is not a readable CSV file: %s" % (path, exc)) from None


def _counted(lines, count):
    for line in lines:
        count[0] += len(line)
        yield line


def _rows(path, count):
    """(line number, cells) of each row of the file that is not blank (the header first);
    ``count[0]`` counts the characters read."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(_counted(f, count))
        for row in reader:
            first = row[0] if row else ""
            if (first and not first.isspace()) or any(cell.strip() for cell in row):
                yield reader.line_num, row


def _header_error(path, header):
    seen = set()
    for name in header:
        if not name:
            return DataError("%s: the header has an empty column name" % path)
        if name in seen:
            return DataError("%s: column %r appears twice in the header" % (path, name))
        seen.add(name)
    return None


def read_csv(path, choose=None):
    """Read a CSV file with a header row (blank lines skipped) into a Table, a chunk of rows at
    a time, each kept column going straight into one float64 array: no table of strings is ever
    held.  ``choose(header)`` gives the columns to keep, [(name, "number" or "target")]; it may
    raise DataError, which is reported (like a bad header) after any error in the rows, as if
    the whole file had been read first."""
    header: Optional[List[str]] = None
    deferred: Optional[DataError] = None
    chosen: List[Any] = []
    columns: Dict[str, Column] = {}
    picks: List[Tuple[int, Column]] = []
    n_rows, size, count = 0, 0, [0]  # count[0]: the characters read so far
    rows: List[List[str]] = []
    lines: List[int] = []
    jumps: Tuple[List[int], List[int]] = ([], [])  # the rows where the line numbering jumps
    numbers: Optional[np.ndarray] = None  # the kept columns' numbers, (capacity, len(columns))

    def flush(final):
        nonlocal n_rows, numbers
        end = n_rows + len(rows)
        if numbers is None or end > len(numbers):  # (re)allocate, for the rows the file seems to hold
            estimate = end if final else int(end * size / max(count[0], 1) * 1.02) + CHUNK_ROWS
            capacity = max(end, estimate, 0 if numbers is None else len(numbers) * 3 // 2)
            grown = np.empty((capacity, len(columns)))
            if numbers is not None:
                grown[:n_rows] = numbers[:n_rows]
            numbers = grown
        for k, column in picks:
            numbers[n_rows:end, column.j] = column.parse(list(map(itemgetter(k), rows)), lines)
        n_rows = end
        del rows[:], lines[:]

    with _reading(path):
        for line, row in _rows(path, count):
            if header is None:
                header = [cell.strip() for cell in row]
                size = os.path.getsize(path)
                deferred = _header_error(path, header)
                if deferred is None and choose is not None:
                    try:
                        chosen = list(choose(header))
                    except DataError as exc:
                        deferred = exc
                for name, kind in chosen:
                    if name not in columns:
                        columns[name] = Column(name, len(columns), kind == "target")
                chosen = [name for name, _ in chosen]
                picks = [(header.index(name), column) for name, column in columns.items()]
                expected = None
                continue
            if len(row) != len(header):
                raise DataError("%s, line %d: %d fields, but the header has %d"
                                % (path, line, len(row), len(header)))
            if line != expected:
                jumps[0].append(n_rows + len(rows))
                jumps[1].append(line)
            expected = line + 1
            rows.append(row)
            lines.append(line)
            if len(rows) == CHUNK_ROWS:
                flush(False)
        if rows:
            flush(True)
    if header is None:
        raise DataError("%s is empty; expected a header row and data rows" % path)
    if not n_rows:
        raise DataError("%s has a header but no data rows" % path)
    if deferred is not None:
        raise deferred
    return Table(path, header, n_rows, chosen, columns, numbers, jumps)


def _column(header, name, path):
    if name not in header:
        raise DataError("%s has no column %r; its columns are: %s" % (path, name, ", ".join(header)))
    return name


def _standardised(path, line_of, X, names, mean, std, dtype, order=None, out=None):
    """(X[order] - mean) / std (mean None: X[order] as it is) as an array of ``dtype``, the
    network's (``out``, if given: X itself for in place), a block of rows at a time, checking
    that every value fits in ``dtype``: DataError naming the cell if not (``line_of(r)``: the
    file's line of row r of the result)."""
    n = X.shape[0]
    if out is None:
        out = np.empty(X.shape, dtype=dtype)
    limit = float(np.finfo(dtype).max)
    for a in range(0, n, PREDICT_ROWS):
        b = min(a + PREDICT_ROWS, n)
        block = X[a:b] if order is None else X[order[a:b]]
        with np.errstate(over="ignore", invalid="ignore"):
            z = block if mean is None else (block - mean) / std
            ok = np.abs(z) <= limit
        if not ok.all():
            r, j = np.argwhere(~ok)[0]
            how = ("is beyond the range of %s, the network's dtype" % dtype if mean is None else
                   "overflows when standardised (mean %.6g, standard deviation %.6g, %s)"
                   % (mean[j], std[j], dtype))
            raise DataError("%s, line %d: column %r has %r, which %s"
                            % (path, line_of(a + r), names[j], float(block[r, j]), how))
        out[a:b] = z
    return out


def _mean_std(path, line_of, X, rows, names):
    """The mean and standard deviation of each column over the rows ``rows`` (a constant
    column's std is 1: centred, not scaled); DataError naming the column if they overflow
    (``line_of(i)``: the file's line of rows[i])."""
    mean, std = np.empty(len(names)), np.empty(len(names))
    for j, name in enumerate(names):
        column = X[rows, j]
        with np.errstate(over="ignore", invalid="ignore"):
            mean[j], std[j] = column.mean(), column.std()
        if not (np.isfinite(mean[j]) and np.isfinite(std[j])):
            i = int(np.argmax(np.abs(column)))
            raise DataError("%s, line %d: column %r has %r: its values are too large to standardise (their "
                            "mean or standard deviation overflows float64); rescale the column"
                            % (path, line_of(i), name, float(column[i])))
    std[std == 0] = 1.0
    return mean, std


# ---- train -----------------------------------------------------------------------------------

def _train_columns(args, header):
    """The columns ``train`` reads: the features as numbers, the target."""
    target = _column(header, args.target, args.data)
    if args.features:
        features = [_column(header, name.strip(), args.data) for name in args.features.split(",")]
        if target in features:
            raise DataError("the target column %r cannot also be an input" % target)
    else:
        features = [name for name in header if name != target]
    if not features:
        raise DataError("%s has no input columns besides the target %r" % (args.data, target))
    return [(name, "number") for name in features] + [(target, "target")]


def _task_of(table, name, requested):
    """("classification", classes, class index of each row) or ("regression", None, values)
    for the target column (read in full, no cell empty)."""
    column, values = table.columns[name], table.values(name)
    if requested == "regression":
        if column.bad is not None:
            raise DataError("--task regression needs a numeric target; it has %r" % column.bad[1])
        return "regression", None, values
    if column.bad is None:  # numbers
        integers = bool(np.all(np.floor(values) == values))
        distinct = np.unique(values)
        if requested == "classification" or (integers and len(distinct) <= MAX_CLASSES):
            if integers:
                too_large = np.abs(values) > MAX_INTEGER_LABEL
                if too_large.any():
                    i = int(np.argmax(too_large))
                    raise DataError("%s, line %d: the target column %r has %.17g, which is not a valid "
                                    "integer class label: labels must be at most 2**53 = %d in magnitude "
                                    "(beyond it float64 cannot tell neighbouring integers apart); for a "
                                    "numeric target use --task regression"
                                    % (table.path, table.line(i), name, values[i], MAX_INTEGER_LABEL))
                classes: List[Any] = [int(v) for v in distinct]
            else:
                classes = [float(v) for v in distinct]
            return "classification", classes, np.searchsorted(distinct, values)
        return "regression", None, values
    texts, codes = table.labels(name)
    classes = sorted(texts)
    rank = {text: i for i, text in enumerate(classes)}
    return "classification", classes, np.array([rank[t] for t in texts], dtype=np.int64)[codes]


def _class_index(table, name, classes):
    """Each row's index in ``classes`` (numbers match by value, text exactly), -1 if none."""
    if classes and not isinstance(classes[0], str):
        known = np.array([float(c) for c in classes])
        order = np.argsort(known)
        values = table.values(name)
        at = np.minimum(np.searchsorted(known[order], values), len(known) - 1)
        return np.where(known[order][at] == values, order[at], -1)
    texts, codes = table.labels(name)
    index = {c: i for i, c in enumerate(classes)}
    return np.array([index.get(t, -1) for t in texts], dtype=np.int64)[codes]


def _parse_hidden(text):
    if text.strip().lower() in ("", "none", "0"):
        return []
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("--hidden must be layer sizes separated by commas, e.g. 64,32; "
                                         "got %r" % text) from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError("--hidden sizes must be >= 1; got %r" % text)
    return sizes


def _int_at_least(minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError("expected an integer; got %r" % text) from None
        if value < minimum:
            raise argparse.ArgumentTypeError("must be >= %d; got %d" % (minimum, value))
        return value
    return parse


_positive_int = _int_at_least(1)
_non_negative_int = _int_at_least(0)


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a number; got %r" % text) from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError("must be a finite number > 0; got %r" % text)
    return value


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a number; got %r" % text) from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError("must be in [0, 1); got %r" % text)
    return value


def _float_list(text):
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("expected numbers separated by commas; got %r" % text) from None
    if not values or any(not (math.isfinite(v) and v > 0) for v in values):
        raise argparse.ArgumentTypeError("expected numbers > 0 separated by commas; got %r" % text)
    return values


# ---- the model file's pynn_cli metadata --------------------------------------------------------

def save_model(net, path, meta):
    """Write ``net`` and its preprocessing ``meta`` (under METADATA_KEY) to ``path``: one file,
    written once, atomically (no moment when the file holds the model without it)."""
    from pynn import serialization
    from pynn.serialization import model_tensors_and_metadata

    tensors, metadata = model_tensors_and_metadata(net)
    metadata[METADATA_KEY] = json.dumps(meta)
    serialization.write_atomically(tensors, path, metadata)


def _short(value):
    try:
        text = repr(value)
    except RecursionError:
        return "a value nested too deeply to show"
    return text if len(text) <= 80 else text[:77] + "..."


def _is_number(value):
    """A JSON number that is a finite float64 (an int too large for one is not)."""
    try:
        return type(value) in (int, float) and math.isfinite(value)
    except OverflowError:
        return False


def _numbers(meta, key, n, positive=False):
    values = meta.get(key)
    if (not isinstance(values, list) or len(values) != n or not all(_is_number(v) for v in values)
            or (positive and not all(v > 0 for v in values))):
        raise ValueError("%r must be a list of %d finite numbers%s, one per feature; got %s"
                         % (key, n, " > 0" if positive else "", _short(values)))
    return values


def _number(meta, key, positive=False):
    value = meta.get(key)
    if not _is_number(value) or (positive and not value > 0):
        raise ValueError("%r must be a finite number%s; got %s" % (key, " > 0" if positive else "", _short(value)))
    return value


def check_metadata(meta, net):
    """``meta``, the decoded pynn_cli metadata, checked for types, values and sizes against
    ``net`` (as strictly as pynn.load checks its own "pynn" key); ValueError naming the field."""
    if not isinstance(meta, dict):
        raise ValueError("it must be a JSON object; got %s" % _short(meta))
    if meta.get("format") != METADATA_KEY:
        raise ValueError("'format' must be %r; got %s" % (METADATA_KEY, _short(meta.get("format"))))
    if type(meta.get("version")) is not int or meta["version"] != 1:
        raise ValueError("'version' must be 1 (the version this pynn reads); got %s" % _short(meta.get("version")))
    features = meta.get("features")
    if (not isinstance(features, list) or not all(isinstance(f, str) and f.strip() == f and f for f in features)
            or len(features) != net.n_inputs):
        raise ValueError("'features' must be a list of %d column names (the network takes %d inputs); got %s"
                         % (net.n_inputs, net.n_inputs, _short(features)))
    _numbers(meta, "mean", len(features))
    _numbers(meta, "std", len(features), positive=True)
    target = meta.get("target")
    if not isinstance(target, str) or not target or target.strip() != target or target in features:
        raise ValueError("'target' must be a column name that is not one of the features; got %s" % _short(target))
    task = meta.get("task")
    if task not in ("classification", "regression"):
        raise ValueError("'task' must be 'classification' or 'regression'; got %s" % _short(task))
    if (task == "classification") != net.is_classifier:
        raise ValueError("'task' is %r but the network (loss %r) is %s" % (
            task, net.loss, "a classifier" if net.is_classifier else "not a classifier"))
    if task == "classification":
        binary = net.loss == "binary_cross_entropy" and net.n_outputs == 1
        n = 2 if binary else net.n_outputs
        classes = meta.get("classes")
        ok = False
        if isinstance(classes, list) and len(classes) == n:
            if all(isinstance(c, str) for c in classes):
                ok = len(set(classes)) == n
            else:
                ok = (all(_is_number(c) and not (type(c) is int and abs(c) > MAX_INTEGER_LABEL) for c in classes)
                      and len(set(float(c) for c in classes)) == n)
        if not ok:
            raise ValueError("'classes' must be a list of %d distinct labels (the network's %s), all text or "
                             "all finite numbers (integers at most 2**53 in magnitude); got %s"
                             % (n, "sigmoid output: 2 classes" if binary else "%d outputs" % n, _short(classes)))
    else:
        if net.n_outputs != 1:
            raise ValueError("'task' is 'regression' of one target column but the network has %d outputs"
                             % net.n_outputs)
        _number(meta, "target_mean")
        _number(meta, "target_std", positive=True)
    return meta


def load_model(path):
    """(network, its pynn_cli preprocessing or None) from the model file at ``path``, both from
    one read of one file; the preprocessing checked against the network."""
    from pynn.serialization import load_with_metadata

    net, metadata = load_with_metadata(path)
    text = metadata.get(METADATA_KEY)
    if text is None:
        return net, None
    try:
        try:
            meta = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise ValueError("it is not valid JSON (%s)" % exc) from None
        return net, check_metadata(meta, net)
    except ValueError as exc:
        raise DataError("%s: malformed %s metadata: %s" % (path, METADATA_KEY, exc)) from None


def read_metadata(path):
    """The pynn_cli preprocessing stored in the model file at ``path`` (checked), or None."""
    return load_model(path)[1]


def _training_data(args):
    """The training CSV read, checked, shuffled (seeded, so that --validation-split holds out a
    random part: fit takes the last rows) and standardised with the training rows' means and
    standard deviations: (X, y, meta), X and a regression y in the network's dtype."""
    table = read_csv(args.data, lambda header: _train_columns(args, header))
    features, target = table.chosen[:-1], table.chosen[-1]
    X = table.matrix(features)
    column = table.columns[target]
    if column.empty is not None:
        raise DataError("%s, line %d: the target column %r is empty" % (args.data, column.empty, target))
    task, classes, y = _task_of(table, target, args.task)
    if task == "classification" and len(classes) < 2:
        raise DataError("the target column %r has only one value (%r); nothing to classify"
                        % (target, classes[0]))

    order = np.random.default_rng(args.seed).permutation(table.n_rows)
    n_train = max(1, int(math.floor(table.n_rows * (1.0 - args.validation_split))))

    def line_of(r):  # row r of the shuffled data
        return table.line(int(order[r]))

    mean, std = _mean_std(args.data, line_of, X, order[:n_train], features)
    X = _standardised(args.data, line_of, X, features, mean, std, args.dtype, order)
    meta = {"format": METADATA_KEY, "version": 1, "features": features, "mean": mean.tolist(),
            "std": std.tolist(), "target": target, "task": task}
    if task == "classification":
        meta["classes"] = classes
        y = y[order]
    else:
        y = y.reshape(-1, 1)
        y_mean, y_std = _mean_std(args.data, line_of, y, order[:n_train], [target])
        y = _standardised(args.data, line_of, y, [target], y_mean, y_std, args.dtype, order)
        meta.update(target_mean=float(y_mean[0]), target_std=float(y_std[0]))
    return X, y, meta


def cmd_train(args):
    import pynn
    from pynn.callbacks import EarlyStopping
    from pynn.layers import mlp_layers
    from pynn.optimizers import OPTIMIZERS

    X, y, meta = _training_data(args)
    features, target, task, classes = meta["features"], meta["target"], meta["task"], meta.get("classes")
    if task == "classification":
        n_out, out_activation, loss = len(classes), "softmax", "cross_entropy"
    else:
        n_out, out_activation, loss = 1, "linear", "mse"
    sizes = [len(features)] + args.hidden + [n_out]
    layers = mlp_layers(sizes, args.activation, out_activation, args.dropout)
    opt = OPTIMIZERS[args.optimizer]
    optimizer = opt() if args.lr is None else opt(lr=args.lr)
    net = pynn.Network(layers, loss=loss, optimizer=optimizer, dtype=args.dtype, seed=args.seed)

    what = ("classification of %r into %d classes" % (target, len(classes)) if task == "classification"
            else "regression of %r" % target)
    print("pynn train: %s from %d input column%s, %d rows of %s" % (
        what, len(features), "" if len(features) == 1 else "s", len(X), args.data))
    print("network: %s (%s)%s, %d parameters, %r, backend %s"
          % ("-".join(map(str, sizes)), ", ".join([args.activation] * len(args.hidden) + [out_activation]),
             ", dropout %g after each hidden layer" % args.dropout if args.dropout and args.hidden else "",
             net.n_params, net.optimizer, pynn.backend()))
    callbacks = []
    if args.patience is not None:
        monitor = "val_loss" if args.validation_split > 0 else "loss"
        callbacks.append(EarlyStopping(monitor=monitor, patience=args.patience, restore_best_weights=True))
    verbose = args.verbose if args.verbose is not None else (1 if sys.stdout.isatty() else 2)
    history = net.fit(X, y, epochs=args.epochs, batch_size=args.batch_size, verbose=verbose,
                      validation_split=args.validation_split, callbacks=callbacks)
    last = {k: v[-1] for k, v in history.history.items()}
    summary = ", ".join("%s %.4f" % kv for kv in last.items() if kv[0] != "lr")
    print("after %d epochs: %s" % (len(history.epoch), summary))
    if task == "regression" and "mae" in last:
        print("(mae in the target's units: %.6g%s)" % (
            last["mae"] * meta["target_std"],
            ", validation %.6g" % (last["val_mae"] * meta["target_std"]) if "val_mae" in last else ""))
    if args.save:
        save_model(net, args.save, meta)
        print("saved the model and its preprocessing to %s" % args.save)
    return 0


# ---- predict ---------------------------------------------------------------------------------

def _predict_columns(args, header, meta, net):
    """The columns ``predict`` reads: the model's inputs as numbers, and the target if present."""
    if meta is None:
        if len(header) != net.n_inputs:
            raise DataError("%s has %d columns but the model takes %d inputs (and its file has no %s "
                            "preprocessing naming them)" % (args.data, len(header), net.n_inputs, METADATA_KEY))
        return [(name, "number") for name in header]
    missing = [name for name in meta["features"] if name not in header]
    if missing:
        raise DataError("%s lacks the input column%s %s that the model was trained on"
                        % (args.data, "s" if len(missing) > 1 else "", ", ".join(map(repr, missing))))
    target = [(meta["target"], "target")] if meta["target"] in header else []
    return [(name, "number") for name in meta["features"]] + target


def _prediction_data(args, net, meta):
    """The CSV's inputs, standardised as in training (in place; checked to fit the network's
    dtype), and the target column's values or class indices (-1: not a known class), or None."""
    table = read_csv(args.data, lambda header: _predict_columns(args, header, meta, net))
    features = meta["features"] if meta is not None else table.header
    X = table.matrix(features)
    mean, std = (np.array(meta["mean"]), np.array(meta["std"])) if meta is not None else (None, None)
    _standardised(args.data, table.line, X, features, mean, std, net.dtype.name, out=X)
    truth = None
    if meta is not None and meta["target"] in table.columns:
        target = meta["target"]
        truth = (_class_index(table, target, meta["classes"]) if meta["task"] == "classification"
                 else table.values(target))
    return X, truth


def cmd_predict(args):
    if not os.path.exists(args.model):
        raise DataError("no such file: %s" % args.model)
    net, meta = load_model(args.model)
    X, truth = _prediction_data(args, net, meta)

    task = meta["task"] if meta else ("classification" if net.is_classifier else "regression")
    binary = net.loss == "binary_cross_entropy" and net.n_outputs == 1
    if task == "classification":
        columns = meta["classes"] if meta else ([0, 1] if binary else list(range(net.n_outputs)))
        out_header = ["prediction"] + ["p_%s" % c for c in columns]
    else:
        out_header = ["prediction"] if net.n_outputs == 1 else ["prediction_%d" % j for j in range(net.n_outputs)]

    # predict and write a block of rows at a time; keep the predicted class / value for the score
    n = X.shape[0]
    predicted = np.empty(n, dtype=np.int64 if task == "classification" else np.float64)
    output = open(args.output, "w", newline="", encoding="utf-8") if args.output else None
    try:
        writer = csv.writer(output) if output else csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(out_header)
        for a in range(0, n, PREDICT_ROWS):
            P = net.predict(X[a:a + PREDICT_ROWS]).astype(np.float64)
            if task == "classification":
                if binary:
                    index, probs = (P[:, 0] > 0.5).astype(int), np.column_stack([1 - P[:, 0], P[:, 0]])
                else:
                    index, probs = P.argmax(axis=1), P
                predicted[a:a + len(P)] = index
                writer.writerows([str(columns[i])] + ["%.6g" % p for p in row]
                                 for i, row in zip(index.tolist(), probs.tolist()))
            else:
                if meta is not None:
                    P = P * meta["target_std"] + meta["target_mean"]
                predicted[a:a + len(P)] = P[:, 0]
                writer.writerows(["%.8g" % v for v in row] for row in P.tolist())
    finally:
        if output is not None:
            output.close()

    report = sys.stdout if args.output else sys.stderr
    if args.output:
        print("wrote %d predictions to %s" % (n, args.output), file=report)
    if truth is not None:  # the answers are there: score them
        if task == "classification":
            print("accuracy on %s: %.4f (%d rows, target column %r)"
                  % (args.data, float(np.mean(truth == predicted)), n, meta["target"]), file=report)
        elif np.isfinite(truth).all():
            print("mae on %s: %.6g (%d rows, target column %r)"
                  % (args.data, float(np.mean(np.abs(predicted - truth))), n, meta["target"]), file=report)
    return 0


# ---- the others ------------------------------------------------------------------------------

def _progress_callback(epochs, every):
    """A callback printing one line every ``every`` epochs (and the last)."""
    from pynn.training import Callback

    class Progress(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if (epoch + 1) % every == 0 or epoch + 1 == epochs:
                print("  epoch %4d/%d  loss %.4f  accuracy %.4f  val_loss %.4f  val_accuracy %.4f"
                      % (epoch + 1, epochs, logs["loss"], logs["accuracy"], logs["val_loss"],
                         logs["val_accuracy"]), flush=True)

    return Progress()


def demo(epochs=150, backend=None, seed=0, hidden=64, dtype="float32"):
    """The demo job: train on three spirals and return (test accuracy,
    seconds of training)."""
    import time

    import pynn

    if backend:
        pynn.set_backend(backend)
    X, y = pynn.datasets.spirals(n_per_class=300, n_classes=3, noise=0.2, seed=seed)
    X_train, X_test, y_train, y_test = pynn.datasets.train_test_split(X, y, test_fraction=0.25, seed=seed)
    net = pynn.Network(
        [pynn.Dense(2, hidden, "relu"), pynn.Dense(hidden, hidden, "relu"), pynn.Dense(hidden, 3, "softmax")],
        loss="cross_entropy", optimizer=pynn.Adam(lr=0.01), dtype=dtype, seed=seed)
    print("pynn %s - backend: %s (%s)" % (pynn.__version__, pynn.backend(), dtype))
    print("data: 3 spirals, %d training and %d test samples of 2 features"
          % (len(X_train), len(X_test)))
    print("network: 2-%d-%d-3 (relu, relu, softmax), %d parameters, %r"
          % (hidden, hidden, net.n_params, net.optimizer))
    start = time.perf_counter()
    net.fit(X_train, y_train, epochs=epochs, batch_size=32, validation_data=(X_test, y_test),
            verbose=0, callbacks=[_progress_callback(epochs, max(1, epochs // 10))])
    seconds = time.perf_counter() - start
    scores = net.evaluate(X_test, y_test)
    steps = net.optimizer.step
    print("test accuracy: %.4f  (test loss %.4f)" % (scores["accuracy"], scores["loss"]))
    print("time: %.2f s for %d epochs, %d training steps (%.1f us per step) on backend %s"
          % (seconds, epochs, steps, 1e6 * seconds / max(1, steps), pynn.backend()))
    return scores["accuracy"], seconds


def cmd_demo(args):
    demo(epochs=args.epochs, backend=args.backend, seed=args.seed, dtype=args.dtype)
    return 0


def cmd_bench(argv):
    try:
        from pynn import benchmark
    except ModuleNotFoundError as exc:
        if exc.name not in ("pynn.benchmark",):
            raise
        print("pynn: error: the benchmarks are not available in this installation "
              "(no module pynn.benchmark)", file=sys.stderr)
        return 1
    try:
        status = benchmark.main(argv)
    except SystemExit as exc:  # its own argparse: 2 for a usage error, 0 for --help
        status = exc.code if isinstance(exc.code, int) else 1
    return 0 if status is None else int(status)


def cmd_lr_sweep(args):
    from pynn.lessons import lr_sweep

    result = lr_sweep(lrs=args.lrs, epochs=args.epochs, seed=args.seed)
    print(result.to_text())
    if args.plot:
        result.plot(args.plot)
        print("chart saved to %s" % args.plot)
    return 0


def cmd_init_demo(args):
    from pynn.lessons import init_demo

    result = init_demo(epochs=args.epochs, hidden=args.hidden, seed=args.seed)
    print(result.to_text())
    if args.plot:
        result.plot(args.plot)
        print("chart saved to %s" % args.plot)
    return 0


# ---- the parser ------------------------------------------------------------------------------

COMMANDS = ("demo", "train", "predict", "bench", "lr-sweep", "init-demo")


def build_parser():
    import pynn

    parser = argparse.ArgumentParser(
        prog="pynn", description="pynn %s: train and use small neural networks. With no command, "
                                 "runs the demo." % pynn.__version__)
    parser.add_argument("--version", action="version", version="pynn %s" % pynn.__version__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--backend", choices=["c", "numpy"], help="backend (default: the best available)")
    common.add_argument("--seed", type=int, default=0, help="seed for weights, shuffling and splits (default 0)")

    p = sub.add_parser("demo", parents=[common], help="train three spirals and report (the default)",
                       description="Train a 2-64-64-3 network on three generated spirals; print the "
                                   "progress, the test accuracy and the time taken.")
    p.add_argument("--epochs", type=int, default=150, help="training epochs (default 150)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.set_defaults(func=cmd_demo, parser=p)

    p = sub.add_parser("train", parents=[common], help="train a network on a CSV file",
                       description="Train an MLP on a CSV file (header row; numeric input columns).")
    p.add_argument("data", help="CSV file with a header row")
    p.add_argument("--target", required=True, help="the column to predict")
    p.add_argument("--features", help="input columns, comma-separated (default: all but the target)")
    p.add_argument("--task", choices=["auto", "classification", "regression"], default="auto",
                   help="default auto: classification for a non-numeric target or one of at most %d "
                        "distinct integers" % MAX_CLASSES)
    p.add_argument("--hidden", type=_parse_hidden, default=[64, 32],
                   help="hidden layer sizes, comma-separated (default 64,32; 'none' for no hidden layer)")
    # every hidden activation but linear (a stack of linear layers is one linear layer)
    p.add_argument("--activation", choices=[a for a in activations.HIDDEN if a != "linear"], default="relu",
                   help="hidden activation (default relu)")
    p.add_argument("--dropout", type=_fraction, default=0.0, metavar="P",
                   help="Dropout(P) after each hidden layer, in [0, 1) (default 0: none)")
    p.add_argument("--epochs", type=_positive_int, default=50, help="training epochs (default 50)")
    p.add_argument("--batch-size", type=_positive_int, default=32, help="default 32")
    p.add_argument("--optimizer", choices=["adam", "adamw", "sgd", "rmsprop"], default="adam",
                   help="default adam")
    p.add_argument("--lr", type=_positive_float, help="learning rate (default: the optimizer's, 0.001 for adam)")
    p.add_argument("--validation-split", type=_fraction, default=0.2,
                   help="fraction of the (shuffled) rows held out for validation (default 0.2; 0 for none)")
    p.add_argument("--patience", type=_non_negative_int,
                   help="stop early after this many epochs without improvement (>= 0)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--verbose", type=int, choices=[0, 1, 2],
                   help="0 quiet, 1 progress bar, 2 a line per epoch (default 1 on a terminal, else 2)")
    p.add_argument("--save", metavar="MODEL", help="save the model (and its preprocessing) to this file")
    p.set_defaults(func=cmd_train, parser=p)

    p = sub.add_parser("predict", help="predict with a saved model on a CSV file",
                       description="Predict each row of a CSV file with a model saved by 'pynn train' "
                                   "(or Network.save). Writes a CSV; if the file holds the target column, "
                                   "also reports the accuracy (or mae).")
    p.add_argument("model", help="model file (.safetensors)")
    p.add_argument("data", help="CSV file with the model's input columns")
    p.add_argument("--output", "-o", help="write the predictions here (default: standard output)")
    p.add_argument("--backend", choices=["c", "numpy"], help="backend (default: the best available)")
    p.set_defaults(func=cmd_predict, parser=p)

    sub.add_parser("bench", help="run the benchmarks (arguments go to pynn.benchmark)", add_help=False)

    p = sub.add_parser("lr-sweep", parents=[common], help="lesson: one network at several learning rates",
                       description="Train the same network (same seed) at several learning rates and show "
                                   "the loss curves: too small, good, and divergent.")
    p.add_argument("--lrs", type=_float_list, default=[0.001, 0.01, 0.1, 1.0],
                   help="learning rates, comma-separated (default 0.001,0.01,0.1,1)")
    p.add_argument("--epochs", type=_positive_int, default=40, help="default 40")
    p.add_argument("--plot", metavar="PNG", help="save a chart of the curves (needs matplotlib)")
    p.set_defaults(func=cmd_lr_sweep, parser=p)

    p = sub.add_parser("init-demo", parents=[common], help="lesson: why initial weights are random",
                       description="Train one XOR network from zero, constant and random initial weights: "
                                   "equal starts keep the hidden units identical.")
    p.add_argument("--epochs", type=_positive_int, default=100, help="default 100")
    p.add_argument("--hidden", type=_positive_int, default=8, help="hidden units (default 8)")
    p.add_argument("--plot", metavar="PNG", help="save a chart (needs matplotlib)")
    p.set_defaults(func=cmd_init_demo, parser=p)
    return parser


def main(argv=None):
    """Run the ``pynn`` command with ``argv`` (default: sys.argv[1:]); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv.insert(0, "demo")  # `pynn`, `pynn --epochs 40`: the demo
    if argv[0] == "bench":  # its arguments belong to pynn.benchmark
        return cmd_bench(argv[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # usage errors (2), --help (0)
        return exc.code if isinstance(exc.code, int) else 2
    if args.command is None:
        parser.print_help()
        return 2
    epochs = getattr(args, "epochs", None)
    if epochs is not None and epochs < 1:
        try:
            args.parser.error("--epochs must be >= 1")
        except SystemExit as exc:
            return exc.code
    try:
        if args.backend:
            import pynn
            pynn.set_backend(args.backend)
        return args.func(args)
    except BrokenPipeError:  # e.g. `pynn predict ... | head`: the reader left; stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (DataError, ValueError, RuntimeError, ImportError, OSError) as exc:
        print("pynn: error: %s" % exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("pynn: interrupted", file=sys.stderr)
        return 130
