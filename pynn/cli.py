"""The ``pynn`` command (also ``python -m pynn``).

Subcommands::

    pynn [demo]        train the three-spirals demo (the default)
    pynn train DATA.csv --target COLUMN [--id COLUMN ...] [--categorical COLUMN ...]
                       [--delimiter D] [--missing-indicator] [--hidden 64,32] [--dropout P]
                       [--epochs 50] [--lr LR] [--batch-size 32] [--save MODEL.safetensors] ...
    pynn predict MODEL.safetensors DATA.csv [--out OUT.csv] [--delimiter D]
    pynn bench ...     the benchmarks (pynn.benchmark)
    pynn lr-sweep      one network trained at several learning rates
    pynn init-demo     zero, constant and random initial weights compared
    pynn lr-sweep / init-demo DATA.csv --target COLUMN ...   the same on a CSV file (train's options)
    pynn explain [MODEL.safetensors DATA.csv --row N] [--out step.html]
                       one SGD step as an HTML page, every number (default: Mazur's 2-2-2 network)
    pynn playground [--port N] [--no-browser] [--data CSV ...]
                       train and watch in the browser, served on 127.0.0.1 (prints its URL)

CSV files have a header row and one sample per row; they are read with the
standard library's ``csv`` module (no pandas), a chunk of rows at a time,
each column going straight into a column array (``read_csv``): float64 for a
numeric column, an int32 code per cell for a categorical one.  No table of
Python strings is ever held, so a numeric file needs about 8 bytes per cell.
The delimiter is ``--delimiter`` or sniffed (``csv.Sniffer`` on the file's
first 8 KB, among ``,`` ``;`` tab ``|``; ``,`` if it cannot tell).  A
leading column whose header cell is empty (the index pandas' ``to_csv``
writes) is ignored.

A cell is *missing* when it is empty or, ignoring case and surrounding
spaces, one of ``NA``, ``N/A``, ``NaN``, ``null``, ``None``, ``?``.  An input
column is numeric when every other cell is a finite number (a number that is
not finite, such as ``inf``, is an error), categorical otherwise or when
named by ``--categorical``.  ``train`` uses every column but the target and
the ``--id`` columns as input (or those named by ``--features``), shuffles the
rows (``--seed``), holds out ``--validation-split`` of them and learns from the
training rows alone:

- numeric column: its mean and standard deviation (over the cells that are
  not missing); missing cells are filled with the mean; the input is
  standardised to mean 0, standard deviation 1;
- categorical column: its categories (sorted), one 0/1 input each (one-hot);
  missing cells are filled with the most frequent category; a category not
  seen in the training rows (or, at predict time, in the training file) is
  encoded as all zeros, and ``predict`` warns once naming the column and
  the values; more than ``--max-categories`` (1000) categories is an error;
- ``--missing-indicator``: one more 0/1 input after each column that had
  missing cells in the training rows, 1 where the cell was missing;
- a column with no value at all in the training rows is left out with a
  warning (an error if ``--features`` or ``--categorical`` names it);
- the target column must have no missing cell.

It then trains a relu MLP:

- classification when the target column is not numeric, or holds integers
  with at most 20 distinct values (``--task`` overrides): softmax output,
  cross-entropy loss; ``predict`` writes the class and one probability
  column per class;
- regression otherwise: linear output, mse loss on the standardised target;
  ``predict`` writes the prediction in the target's units.

``--save`` writes the model, and the preprocessing as JSON under the
safetensors metadata key ``pynn_cli`` (version 2: each input column's
description -- name, kind, mean and standard deviation or categories, fill
value, missing indicator -- the id columns, the delimiter, the target column,
the task, the class labels (classification) or the target's mean and
standard deviation (regression)), in one atomic write of one file.
``pynn.load`` ignores that key, so the file stays an ordinary pynn model;
``predict`` reads it back and checks it against the network before using it
(``load_model``; files of version 1, numeric inputs only, are read too),
writes the id columns first, then the predictions; a model saved from Python
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
from itertools import islice
from operator import itemgetter
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from pynn import activations

#: safetensors metadata key holding the preprocessing written by ``pynn train``
METADATA_KEY = "pynn_cli"
#: the version of that metadata written (1, numeric inputs only, is still read)
METADATA_VERSION = 2
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
#: the cells that mean "no value", compared ignoring case and surrounding whitespace
MISSING_VALUES = ("", "NA", "N/A", "NaN", "null", "None", "?")
_MISSING = frozenset(value.lower() for value in MISSING_VALUES)
#: the delimiters csv.Sniffer chooses among, and how much of the file it reads
DELIMITERS = ",;\t|"
SNIFF_CHARS = 8192
#: default of --max-categories: a categorical column with more distinct values is an error
MAX_CATEGORIES = 1000
#: the codes of a categorical cell that is missing, or (predict) not one of the model's categories
MISSING_CODE, UNSEEN_CODE = -2, -1
#: unseen categories remembered per column by predict (for its warning)
MAX_UNSEEN = 1000


class DataError(Exception):
    """A problem with the user's files or data: reported in one line, exit status 1."""


def _warn(message):
    print("pynn: warning: %s" % message, file=sys.stderr)


# ---- CSV -------------------------------------------------------------------------------------

def _to_float(cell):
    try:
        return float(cell)
    except ValueError:
        return math.nan


def _is_float(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_missing(text):
    """Whether a cell's text (stripped) marks a missing value."""
    return text.lower() in _MISSING


class Column:
    """A column ``read_csv`` keeps, by ``kind``:

    - "number": float64 cells (``Table.values``), NaN where missing or not a number; remembers
      the first cell that is not a number (``text``), that is a number but not finite
      (``infinite``) and that is missing (``missing``), each as (line, text stripped).  With
      ``flexible`` (train), a column with a cell that is not a number becomes "category" (its
      first chunk) or is read again in a second pass (``reread``; kind "pending" meanwhile);
    - "category": an int32 code per cell (``Table.categories``): the index in ``names``,
      MISSING_CODE for a missing cell; with ``categories`` given (predict) ``names`` is them and
      any other value is UNSEEN_CODE (``unseen``: the first few, with their first line); without,
      ``names`` grows as values are seen, up to ``cap`` (past it ``too_many``, no codes kept);
    - "target": float64 cells like "number" (``text``: the first cell that is neither a finite
      number nor missing), the row of each missing cell, and the cells as text (``Table.labels``);
    - "id": the cells' text, kept compactly (``Table.texts``)."""

    def __init__(self, name, position, kind, j=None, categories=None, flexible=False, cap=None):
        self.name, self.position, self.kind, self.j = name, position, kind, j
        self.flexible, self.cap = flexible, cap
        self.text = self.infinite = self.missing = None
        self.reread = self.too_many = False
        self.fixed = categories is not None
        self.names: List[str] = list(categories) if categories is not None else []
        self.lookup: Optional[Dict[str, int]] = ({t: i for i, t in enumerate(self.names)}
                                                 if kind == "category" else None)
        self.unseen: Dict[str, int] = {}
        self.missing_rows: List[np.ndarray] = []
        self.pieces: List[Tuple[str, np.ndarray]] = []
        # target: distinct cell text -> code, while few enough; the int32 code of each row's text
        self.index: Optional[Dict[str, int]] = {} if kind == "target" else None
        self.codes: List[Any] = []

    def take(self, cells, lines, start):
        """Read the cells of rows ``start``... (ending on ``lines``); returns their float64 values
        for a "number" or "target" column, else None."""
        kind = self.kind
        if kind == "number":
            return self._numbers(cells, lines, start)
        if kind == "target":
            return self._target(cells, lines, start)
        if kind == "category":
            self.categorise([c.strip() for c in cells], lines)
        elif kind == "id":
            texts = [c.strip() for c in cells]
            self.pieces.append(("".join(texts), np.cumsum([len(t) for t in texts], dtype=np.int64)))
        return None

    @staticmethod
    def _floats(cells):
        """The cells as float64 (NaN where not a number) and the indices of those not finite."""
        try:  # the fast path: every cell a number (float() ignores surrounding whitespace)
            values = np.fromiter(map(float, cells), np.float64, len(cells))
        except ValueError:
            values = np.fromiter(map(_to_float, cells), np.float64, len(cells))
        odd = np.flatnonzero(~np.isfinite(values))
        values[odd] = np.nan
        return values, odd.tolist()

    def _numbers(self, cells, lines, start):
        values, odd = self._floats(cells)
        text_seen = False
        for i in odd:
            t = cells[i].strip()
            if _is_missing(t):
                if self.missing is None:
                    self.missing = (lines[i], t)
            elif _is_float(t):
                if self.infinite is None:
                    self.infinite = (lines[i], t)
            else:
                text_seen = True
                if self.text is None:
                    self.text = (lines[i], t)
        if text_seen and self.flexible:  # not numeric: categorical
            if start == 0:
                self.kind, self.lookup = "category", {}
                self.categorise([c.strip() for c in cells], lines)
            else:  # its earlier cells are gone: read them again, after this pass
                self.kind, self.reread = "pending", True
        return values

    def _target(self, cells, lines, start):
        values, odd = self._floats(cells)
        missing = []
        for i in odd:
            t = cells[i].strip()
            if _is_missing(t):
                missing.append(start + i)
                if self.missing is None:
                    self.missing = (lines[i], t)
            elif self.text is None:
                self.text = (lines[i], t)
        if missing:
            self.missing_rows.append(np.array(missing, dtype=np.int64))
        if self.index is not None:
            self.codes.append(_codes(self.index, [c.strip() for c in cells]))
            if len(self.index) > MAX_TEXT_LABELS:  # many distinct values: numbers, surely; stop
                self.index, self.codes = None, []
        return values

    def categorise(self, texts, lines):
        """Append the codes of ``texts`` (stripped cells, ending on ``lines``)."""
        if self.lookup is None:  # too many categories: nothing kept
            return
        got = list(map(self.lookup.get, texts))
        for i, code in enumerate(got):
            if code is None:
                got[i] = self._new(texts[i], lines[i])
                if self.lookup is None:
                    return
        self.codes.append(np.array(got, dtype=np.int32))

    def _new(self, text, line):
        """The code of a value not in ``lookup`` yet (adding it)."""
        lookup = self.lookup
        assert lookup is not None
        code = lookup.get(text)
        if code is not None:
            return code
        if _is_missing(text):
            code = MISSING_CODE
        elif self.fixed:  # predict: not one of the model's categories
            code = UNSEEN_CODE
            if len(self.unseen) >= MAX_UNSEEN:
                return code  # not remembered
            self.unseen[text] = line
        else:
            code = len(self.names)
            self.names.append(text)
            if len(self.names) > self.cap:
                self.too_many, self.lookup, self.codes = True, None, []
                return code
        lookup[text] = code
        return code


def _codes(index, texts):
    return np.array([index.setdefault(t, len(index)) for t in texts], dtype=np.int32)


class Table:
    """A CSV file read column-wise by ``read_csv``: its ``header`` (the column names, without an
    unnamed leading index column), ``delimiter``, ``n_rows``, the names asked for (``chosen``, in
    order) and a Column for each of them (``columns``); the numbers of the numeric ones are in
    one float64 array, ``values(name)``."""

    def __init__(self, path, header, n_rows, chosen, columns, numbers, jumps, delimiter, width):
        self.path, self.header, self.n_rows, self.chosen, self.columns = path, header, n_rows, chosen, columns
        self.delimiter, self._width = delimiter, width
        self._numbers, self._jumps = numbers, jumps

    def line(self, i):
        """The line of the file on which data row ``i`` (from 0) ends."""
        rows, lines = self._jumps
        k = bisect.bisect_right(rows, i) - 1
        return lines[k] + (i - rows[k])

    def values(self, name):
        """Column ``name`` as float64 (a view), NaN where a cell is missing or not a finite number."""
        return self._numbers[:self.n_rows, self.columns[name].j]

    def matrix(self, names):
        """The numeric columns ``names`` as an (n_rows, len(names)) float64 array (a view when it
        can be), NaN where missing; DataError naming the first cell that is not a finite number
        (of the first column in ``names`` that has one)."""
        for name in names:
            column = self.columns[name]
            bad = column.text or column.infinite
            if bad is not None:
                raise DataError("%s, line %d: column %r has %r, which is not a finite number"
                                % (self.path, bad[0], name, bad[1]))
        index = [self.columns[name].j for name in names]
        if index == list(range(len(names))):
            return self._numbers[:self.n_rows, :len(names)]
        return self._numbers[:self.n_rows, index]

    def read_again(self, columns, take):
        """Read the file again, calling ``take(column, texts, lines)`` for each column of
        ``columns`` with a chunk of its cells (stripped) and the lines they end on."""
        chunk: List[List[str]] = []
        lines: List[int] = []
        n = [0]

        def feed():
            for column in columns:
                take(column, [row[column.position].strip() for row in chunk], lines)
            n[0] += len(chunk)
            del chunk[:], lines[:]

        with _reading(self.path):
            rows = _rows(self.path, [0], self.delimiter)
            next(rows, None)  # the header
            for line, row in rows:
                if len(row) != self._width:
                    raise DataError("%s changed while it was read" % self.path)
                chunk.append(row)
                lines.append(line)
                if len(chunk) == CHUNK_ROWS:
                    feed()
            feed()
        if n[0] != self.n_rows:
            raise DataError("%s changed while it was read" % self.path)

    def labels(self, name):
        """(distinct texts, int32 code of each row's text among them) of the target column."""
        column = self.columns[name]
        if column.index is None:  # more distinct cells than remembered: read the column again
            column.index, column.codes = {}, []
            self.read_again([column], lambda c, texts, lines: c.codes.append(_codes(c.index, texts)))
        codes = np.concatenate(column.codes) if column.codes else np.empty(0, dtype=np.int32)
        if len(codes) != self.n_rows:
            raise DataError("%s changed while it was read" % self.path)
        return list(column.index), codes

    def missing_target(self, name):
        """A boolean mask of the rows whose cell of the target column ``name`` is missing."""
        mask = np.zeros(self.n_rows, dtype=bool)
        for rows in self.columns[name].missing_rows:
            mask[rows] = True
        return mask

    def read_pending(self):
        """Give the columns that turned out categorical after their first chunk (kind "pending")
        their codes, in one more pass over the file."""
        pending = [c for c in self.columns.values() if c.kind == "pending"]
        for column in pending:
            column.kind, column.lookup, column.names, column.codes = "category", {}, [], []
        if pending:
            self.read_again(pending, lambda c, texts, lines: c.categorise(texts, lines))

    def categories(self, name):
        """(the values ``names``, int32 code of each row) of a categorical column."""
        column = self.columns[name]
        codes = np.concatenate(column.codes) if column.codes else np.empty(0, dtype=np.int32)
        if len(codes) != self.n_rows:
            raise DataError("%s changed while it was read" % self.path)
        return column.names, codes

    def texts(self, name):
        """The cells of an "id" column (stripped), one row after another."""
        for joined, ends in self.columns[name].pieces:
            a = 0
            for b in ends.tolist():
                yield joined[a:b]
                a = b


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


def _rows(path, count, delimiter=","):
    """(line number, cells) of each row of the file that is not blank (the header first);
    ``count[0]`` counts the characters read."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(_counted(f, count), delimiter=delimiter)
        for row in reader:
            first = row[0] if row else ""
            if (first and not first.isspace()) or any(cell.strip() for cell in row):
                yield reader.line_num, row


def sniff_delimiter(path):
    """The delimiter of the CSV file at ``path`` as csv.Sniffer sees it in its first
    SNIFF_CHARS characters, among DELIMITERS; None if it cannot tell."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        sample = f.read(SNIFF_CHARS)
    if len(sample) == SNIFF_CHARS and "\n" in sample:
        sample = sample[:sample.rindex("\n") + 1]  # whole lines only
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return None


def _header_error(path, header):
    seen = set()
    for name in header:
        if not name:
            return DataError("%s: the header has an empty column name" % path)
        if name in seen:
            return DataError("%s: column %r appears twice in the header" % (path, name))
        seen.add(name)
    return None


def read_csv(path, choose=None, delimiter=None, fallback=","):
    """Read a CSV file with a header row (blank lines skipped) into a Table, a chunk of rows at
    a time, each kept column going straight into a column array: no table of strings is ever
    held.  ``delimiter``: None to sniff it (``fallback`` if that fails).  A first column whose
    header cell is empty (pandas' index) is skipped.  ``choose(header)`` gives the columns to
    keep, [(name, kind) or (name, kind, Column options)], kind "number", "category", "target" or
    "id"; it may raise DataError, which is reported (like a bad header) after any error in the
    rows, as if the whole file had been read first."""
    header: Optional[List[str]] = None
    deferred: Optional[DataError] = None
    chosen: List[Any] = []
    columns: Dict[str, Column] = {}
    picks: List[Column] = []
    n_rows, size, count, width = 0, 0, [0], 0  # count[0]: the characters read so far
    rows: List[List[str]] = []
    lines: List[int] = []
    jumps: Tuple[List[int], List[int]] = ([], [])  # the rows where the line numbering jumps
    numbers: Optional[np.ndarray] = None  # the numeric columns' numbers, (capacity, n_numeric)
    n_numeric = 0

    def flush(final):
        nonlocal n_rows, numbers
        end = n_rows + len(rows)
        if numbers is None or end > len(numbers):  # (re)allocate, for the rows the file seems to hold
            estimate = end if final else int(end * size / max(count[0], 1) * 1.02) + CHUNK_ROWS
            capacity = max(end, estimate, 0 if numbers is None else len(numbers) * 3 // 2)
            grown = np.empty((capacity, n_numeric))
            if numbers is not None:
                grown[:n_rows] = numbers[:n_rows]
            numbers = grown
        for column in picks:
            values = column.take(list(map(itemgetter(column.position), rows)), lines, n_rows)
            if values is not None:
                numbers[n_rows:end, column.j] = values
        n_rows = end
        del rows[:], lines[:]

    with _reading(path):
        if delimiter is None:
            delimiter = sniff_delimiter(path) or fallback
        for line, row in _rows(path, count, delimiter):
            if header is None:
                width = len(row)
                header = [cell.strip() for cell in row]
                skip = 1 if len(header) > 1 and not header[0] else 0  # pandas' unnamed index column
                header = header[skip:]
                size = os.path.getsize(path)
                deferred = _header_error(path, header)
                if deferred is None and choose is not None:
                    try:
                        chosen = list(choose(header))
                    except DataError as exc:
                        deferred = exc
                for name, kind, *options in chosen:
                    if name not in columns:
                        j = None
                        if kind in ("number", "target"):
                            j, n_numeric = n_numeric, n_numeric + 1
                        columns[name] = Column(name, skip + header.index(name), kind, j,
                                               **(options[0] if options else {}))
                chosen = [name for name, *_ in chosen]
                picks = list(columns.values())
                expected = None
                continue
            if len(row) != width:
                raise DataError("%s, line %d: %d fields, but the header has %d"
                                % (path, line, len(row), width))
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
    return Table(path, header, n_rows, chosen, columns, numbers, jumps, delimiter, width)


def _column(header, name, path):
    if name not in header:
        raise DataError("%s has no column %r; its columns are: %s" % (path, name, ", ".join(header)))
    return name


def _check_range(path, line_of, name, values, mean, std, dtype):
    """Check that every value of the numeric column ``values`` (NaN: missing), standardised with
    ``mean`` and ``std`` (mean None: as it is), fits in ``dtype``, the network's: DataError naming
    the first cell that does not (``line_of(i)``: the file's line of values[i])."""
    limit = float(np.finfo(dtype).max)
    lo, hi = np.fmin.reduce(values), np.fmax.reduce(values)
    if math.isnan(lo):  # every cell missing
        return
    ends = np.array([lo, hi])
    with np.errstate(over="ignore", invalid="ignore"):
        z = ends if mean is None else (ends - mean) / std
        if (np.abs(z) <= limit).all():
            return
        i = None
        for a in range(0, len(values), PREDICT_ROWS):
            block = values[a:a + PREDICT_ROWS]
            z = block if mean is None else (block - mean) / std
            bad = np.flatnonzero(~(np.abs(z) <= limit) & ~np.isnan(block))
            if len(bad):
                i = a + int(bad[0])
                break
    if i is None:
        return
    how = ("is beyond the range of %s, the network's dtype" % dtype if mean is None else
           "overflows when standardised (mean %.6g, standard deviation %.6g, %s)" % (mean, std, dtype))
    raise DataError("%s, line %d: column %r has %r, which %s" % (path, line_of(i), name, float(values[i]), how))


def _n_inputs(spec):
    """The network inputs the column descriptions ``spec`` make."""
    return sum((1 if c["kind"] == "numeric" else len(c["categories"])) + bool(c["missing_indicator"])
               for c in spec)


def encode(spec, sources, rows, dtype):
    """The network's input matrix, of ``dtype``, for the rows ``rows`` (an index array or a
    slice) of the columns ``sources`` described by ``spec`` (the pynn_cli "columns"): a numeric
    column's float64 values (NaN: missing) filled with its "fill" and standardised with its
    "mean" and "std" (None: as it is); a categorical column's category indices (MISSING_CODE:
    missing, filled with its "fill"; any other negative code: all zeros) one-hot encoded; after
    each column with a "missing_indicator", 1 where the cell was missing, else 0."""
    n = len(range(*rows.indices(len(sources[0])))) if isinstance(rows, slice) else len(rows)
    out = np.zeros((n, _n_inputs(spec)), dtype=dtype)
    k = 0
    for c, source in zip(spec, sources):
        if c["kind"] == "numeric":
            v = np.array(source[rows], dtype=np.float64)
            missing = np.isnan(v)
            if c["fill"] is not None:
                v[missing] = c["fill"]
            if c["mean"] is not None:
                v -= c["mean"]
                v /= c["std"]
            out[:, k] = v
            k += 1
        else:
            index = source[rows]
            missing = index == MISSING_CODE
            index = np.where(missing, c["categories"].index(c["fill"]), index)
            hit = np.flatnonzero(index >= 0)
            out[hit, k + index[hit]] = 1
            k += len(c["categories"])
        if c["missing_indicator"]:
            out[:, k] = missing
            k += 1
    return out


# ---- train -----------------------------------------------------------------------------------

def _names(values):
    """Column names from repeated, comma-separated option values, in order, each once."""
    names: List[str] = []
    for value in values or []:
        for name in value.split(","):
            name = name.strip()
            if name and name not in names:
                names.append(name)
    return names


def _train_columns(args, header):
    """The columns ``train`` reads: the features (as numbers, or categories when named by
    --categorical; "number" columns may turn out categorical), the target."""
    target = _column(header, args.target, args.data)
    ids = [_column(header, name, args.data) for name in _names(args.id)]
    if target in ids:
        raise DataError("the target column %r cannot also be an --id column" % target)
    if args.features:
        features = [_column(header, name.strip(), args.data) for name in args.features.split(",")]
        if target in features:
            raise DataError("the target column %r cannot also be an input" % target)
        both = [name for name in features if name in ids]
        if both:
            raise DataError("column %r cannot be both an input (--features) and an --id column" % both[0])
    else:
        features = [name for name in header if name != target and name not in ids]
    categorical = [_column(header, name, args.data) for name in _names(args.categorical)]
    for name in categorical:
        if name == target:
            raise DataError("--categorical names the target column %r; its labels are classes already "
                            "(--task classification makes numbers class labels)" % name)
        if name not in features:
            raise DataError("--categorical names %r, which is not an input column" % name)
    if not features:
        raise DataError("%s has no input columns besides the target %r" % (args.data, target))
    cap = args.max_categories
    return ([(name, "category", {"cap": cap}) if name in categorical else
             (name, "number", {"flexible": True, "cap": cap}) for name in features] + [(target, "target")])


def _task_of(table, name, requested):
    """("classification", classes, class index of each row) or ("regression", None, values)
    for the target column (read in full, no cell missing)."""
    column, values = table.columns[name], table.values(name)
    if requested == "regression":
        if column.text is not None:
            raise DataError("--task regression needs a numeric target; it has %r" % column.text[1])
        return "regression", None, values
    if column.text is None:  # numbers
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


def _is_delimiter(value):
    """A delimiter the csv module can use and that cannot be part of a number or a name."""
    return (isinstance(value, str) and len(value) == 1 and value not in "\"'\r\n\0.+-_"
            and not value.isalnum() and (value == "\t" or value.isprintable()))


def _delimiter(text):
    value = {"\\t": "\t", "tab": "\t"}.get(text.lower(), text)
    if not _is_delimiter(value):
        raise argparse.ArgumentTypeError("expected one character such as , ; | or tab (also written \\t); "
                                         "got %r" % text)
    return value


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


def _is_name(value):
    """A column name as read from a header: text, not empty, no surrounding whitespace."""
    return isinstance(value, str) and bool(value) and value.strip() == value


def _numbers(meta, key, n, positive=False):
    values = meta.get(key)
    if (not isinstance(values, list) or len(values) != n or not all(_is_number(v) for v in values)
            or (positive and not all(v > 0 for v in values))):
        raise ValueError("%r must be a list of %d finite numbers%s, one per feature; got %s"
                         % (key, n, " > 0" if positive else "", _short(values)))
    return values


def _number(meta, key, positive=False, where=""):
    value = meta.get(key)
    if not _is_number(value) or (positive and not value > 0):
        raise ValueError("%s%r must be a finite number%s; got %s"
                         % (where, key, " > 0" if positive else "", _short(value)))
    return value


def _check_columns(meta, net):
    """The version 2 "columns" (each input column's description), checked: their names, the
    values of each kind, and the network inputs they make against ``net.n_inputs``; ValueError
    naming the column and the field."""
    columns = meta.get("columns")
    if not isinstance(columns, list) or not columns:
        raise ValueError("'columns' must be a non-empty list, one description per input column; got %s"
                         % _short(columns))
    limit = float(np.finfo(net.dtype).max)
    n, seen = 0, {}  # type: Tuple[int, Dict[str, Any]]
    for i, c in enumerate(columns):
        where = "'columns'[%d]" % i
        if not isinstance(c, dict):
            raise ValueError("%s must be a JSON object; got %s" % (where, _short(c)))
        name = c.get("name")
        if not _is_name(name):
            raise ValueError("%s: 'name' must be a column name (text, not empty, no surrounding spaces); got %s"
                             % (where, _short(name)))
        where = "'columns'[%d] (%r): " % (i, name)
        kind = c.get("kind")
        if kind == "numeric":
            mean = _number(c, "mean", where=where)
            std = _number(c, "std", positive=True, where=where)
            fill = _number(c, "fill", where=where)
            with np.errstate(over="ignore"):
                z = (np.float64(fill) - mean) / std
            if not abs(z) <= limit:
                raise ValueError("%s'fill' %r overflows when standardised (mean %r, std %r, %s)"
                                 % (where, fill, mean, std, net.dtype.name))
            n += 1
        elif kind == "categorical":
            categories = c.get("categories")
            if (not isinstance(categories, list) or not categories
                    or not all(_is_name(t) and not _is_missing(t) for t in categories)
                    or not all(a < b for a, b in zip(categories, categories[1:]))):
                raise ValueError("%s'categories' must be a non-empty list of distinct values in sorted order "
                                 "(text, not empty, no surrounding spaces, not a missing-value marker); got %s"
                                 % (where, _short(categories)))
            fill = c.get("fill")
            if not isinstance(fill, str) or fill not in categories:
                raise ValueError("%s'fill' must be one of its 'categories'; got %s" % (where, _short(fill)))
            n += len(categories)
        else:
            raise ValueError("%s'kind' must be 'numeric' or 'categorical'; got %s" % (where, _short(kind)))
        indicator = c.get("missing_indicator")
        if type(indicator) is not bool:
            raise ValueError("%s'missing_indicator' must be true or false; got %s" % (where, _short(indicator)))
        n += indicator
        same = (kind, c.get("categories"))
        if seen.setdefault(str(name), same) != same:
            raise ValueError("%s'name' %r is described twice, differently" % (where, name))
    if n != net.n_inputs:
        raise ValueError("'columns' make %d network inputs (a numeric column 1, a categorical column 1 per "
                         "category, a missing indicator 1) but the network takes %d" % (n, net.n_inputs))
    ids = meta.get("id_columns")
    if (not isinstance(ids, list) or not all(_is_name(x) for x in ids) or len(set(ids)) != len(ids)
            or any(x in seen for x in ids)):
        raise ValueError("'id_columns' must be a list of distinct column names that are not input columns; "
                         "got %s" % _short(ids))
    if not _is_delimiter(meta.get("delimiter")):
        raise ValueError("'delimiter' must be one character (not a quote, letter, digit, line break or "
                         "part of a number); got %s" % _short(meta.get("delimiter")))
    return list(seen) + ids


def check_metadata(meta, net):
    """``meta``, the decoded pynn_cli metadata, checked for types, values and sizes against
    ``net`` (as strictly as pynn.load checks its own "pynn" key); ValueError naming the field."""
    if not isinstance(meta, dict):
        raise ValueError("it must be a JSON object; got %s" % _short(meta))
    if meta.get("format") != METADATA_KEY:
        raise ValueError("'format' must be %r; got %s" % (METADATA_KEY, _short(meta.get("format"))))
    version = meta.get("version")
    if type(version) is not int or version not in (1, METADATA_VERSION):
        raise ValueError("'version' must be 1 or %d (the versions this pynn reads); got %s"
                         % (METADATA_VERSION, _short(version)))
    if version == 1:  # numeric inputs only: the names, means and standard deviations
        features = meta.get("features")
        if (not isinstance(features, list) or not all(_is_name(f) for f in features)
                or len(features) != net.n_inputs):
            raise ValueError("'features' must be a list of %d column names (the network takes %d inputs); got %s"
                             % (net.n_inputs, net.n_inputs, _short(features)))
        _numbers(meta, "mean", len(features))
        _numbers(meta, "std", len(features), positive=True)
        taken = features
    else:
        taken = _check_columns(meta, net)
    target = meta.get("target")
    if not _is_name(target) or target in taken:
        raise ValueError("'target' must be a column name that is neither an input nor an id column; got %s"
                         % _short(target))
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


def _describe(names, few=3):
    shown = ", ".join(repr(n) for n in names[:few])
    return shown if len(names) <= few else "%s and %d more" % (shown, len(names) - few)


def _check_inputs(table, names):
    """After reading: the cells of the input columns ``names`` that no encoding takes (a number
    that is not finite; more categories than allowed), in column order; the columns that turned
    out categorical late read again first."""
    table.read_pending()
    for name in dict.fromkeys(names):
        column = table.columns[name]
        if column.kind == "number" and column.infinite is not None:
            line, text = column.infinite
            raise DataError("%s, line %d: column %r has %r, which is not a finite number (the cells of a numeric "
                            "column are finite numbers or missing)" % (table.path, line, name, text))
        if column.too_many:
            why = (" (it is categorical because line %d has %r, which is not a number)" % column.text
                   if column.text is not None else "")
            raise DataError("%s: column %r has more than %d distinct values%s: too many categories to one-hot "
                            "encode (--max-categories); leave it out (--features) or mark it as an --id column"
                            % (table.path, name, column.cap, why))


def _numeric_column(table, name, rows, line_of, indicator):
    """(description, source) of numeric input column ``name`` learnt from the rows ``rows``, or
    None if every one of their cells is missing (``line_of(i)``: the file's line of rows[i])."""
    values = table.values(name)
    train = values[rows]
    present = ~np.isnan(train)
    if not present.any():
        return None
    kept = train[present]
    with np.errstate(over="ignore", invalid="ignore"):
        mean, std = float(kept.mean()), float(kept.std())
    if not (math.isfinite(mean) and math.isfinite(std)):
        i = int(np.argmax(np.where(present, np.abs(train), 0)))
        raise DataError("%s, line %d: column %r has %r: its values are too large to standardise (their "
                        "mean or standard deviation overflows float64); rescale the column"
                        % (table.path, line_of(i), name, float(train[i])))
    return ({"name": name, "kind": "numeric", "mean": mean, "std": std if std > 0 else 1.0, "fill": mean,
             "missing_indicator": bool(indicator and not present.all())}, values)


def _categorical_column(table, name, rows, indicator):
    """(description, source: each row's category index, or MISSING_CODE, or UNSEEN_CODE for a
    value not in the rows ``rows``) of categorical input column ``name`` learnt from the rows
    ``rows``, or None if every one of their cells is missing."""
    names, codes = table.categories(name)
    train = codes[rows]
    present = train >= 0
    if not present.any():
        return None
    counts = np.bincount(train[present], minlength=len(names))
    seen = np.flatnonzero(counts).tolist()
    categories = sorted(names[c] for c in seen)
    rank = {text: i for i, text in enumerate(categories)}
    remap = np.full(len(names), UNSEEN_CODE, dtype=np.int32)
    for c in seen:
        remap[c] = rank[names[c]]
    source = np.where(codes >= 0, remap[np.maximum(codes, 0)], codes).astype(np.int32)
    fill = names[min(seen, key=lambda c: (-counts[c], names[c]))]  # the most frequent (first in order)
    return ({"name": name, "kind": "categorical", "categories": categories, "fill": fill,
             "missing_indicator": bool(indicator and not present.all())}, source)


def _training_data(args):
    """The training CSV read, checked, shuffled (seeded, so that --validation-split holds out a
    random part: fit takes the last rows) and encoded with what the training rows give (means,
    standard deviations, categories, fill values): (X, y, meta, notes), X and a regression y in
    the network's dtype, notes a description of the preprocessing."""
    table = read_csv(args.data, lambda header: _train_columns(args, header), args.delimiter)
    features, target = table.chosen[:-1], table.chosen[-1]
    _check_inputs(table, features)
    column = table.columns[target]
    if column.missing is not None:
        line, text = column.missing
        raise DataError("%s, line %d: the target column %r %s" % (
            args.data, line, target,
            "is empty" if not text else "has %r, which marks a missing value; every row needs a target" % text))
    task, classes, y = _task_of(table, target, args.task)
    if task == "classification" and len(classes) < 2:
        raise DataError("the target column %r has only one value (%r); nothing to classify"
                        % (target, classes[0]))

    order = np.random.default_rng(args.seed).permutation(table.n_rows)
    n_train = max(1, int(math.floor(table.n_rows * (1.0 - args.validation_split))))
    rows = order[:n_train]

    def line_of(r):  # row r of the shuffled data
        return table.line(int(order[r]))

    named = set(_names(args.categorical)) | set(name.strip() for name in (args.features or "").split(","))
    spec: List[Dict[str, Any]] = []
    sources: List[np.ndarray] = []
    dropped: List[str] = []
    for name in features:
        if table.columns[name].kind == "number":
            got = _numeric_column(table, name, rows, line_of, args.missing_indicator)
        else:
            got = _categorical_column(table, name, rows, args.missing_indicator)
        if got is None:
            if name in named:
                raise DataError("%s: column %r has no value in the training rows (every cell is missing: %s)"
                                % (args.data, name, ", ".join(repr(v) for v in MISSING_VALUES)))
            if name not in dropped:
                dropped.append(name)
            continue
        spec.append(got[0])
        sources.append(got[1])
    if dropped:
        _warn("%s: column%s %s %s no value in the training rows (every cell missing): left out of the inputs"
              % (args.data, "s" if len(dropped) > 1 else "", _describe(dropped, 10),
                 "have" if len(dropped) > 1 else "has"))
    if not spec:
        raise DataError("%s: no input column is left" % args.data)
    described: Dict[str, List[str]] = {}
    for c, source in zip(spec, sources):
        note = []
        if c["kind"] == "numeric":
            _check_range(args.data, table.line, c["name"], source, c["mean"], c["std"], args.dtype)
            n_missing = int(np.isnan(source).sum())
        else:
            note.append("categorical, %d categories one-hot" % len(c["categories"]))
            n_missing = int(np.count_nonzero(source == MISSING_CODE))
        if n_missing:
            note.append("%d missing cell%s filled with %s" % (
                n_missing, "s" if n_missing > 1 else "",
                "the mean %.6g" % c["fill"] if c["kind"] == "numeric" else "the most frequent, %r" % c["fill"]))
        if c["missing_indicator"]:
            note.append("a missing indicator")
        if note:
            described.setdefault(c["name"], note)
    notes = ["%r %s" % (name, ", ".join(note)) for name, note in described.items()]

    X = np.empty((table.n_rows, _n_inputs(spec)), dtype=args.dtype)
    for a in range(0, table.n_rows, PREDICT_ROWS):
        X[a:a + PREDICT_ROWS] = encode(spec, sources, order[a:a + PREDICT_ROWS], args.dtype)
    meta = {"format": METADATA_KEY, "version": METADATA_VERSION, "delimiter": table.delimiter,
            "id_columns": _names(args.id), "columns": spec, "target": target, "task": task}
    if task == "classification":
        meta["classes"] = classes
        y = y[order]
    else:
        y = y.reshape(-1, 1)
        y_mean, y_std = _mean_std(args.data, line_of, y, rows, [target])
        y = _standardised(args.data, line_of, y, [target], y_mean, y_std, args.dtype, order)
        meta.update(target_mean=float(y_mean[0]), target_std=float(y_std[0]))
    return X, y, meta, notes


def _standardised(path, line_of, X, names, mean, std, dtype, order=None):
    """(X[order] - mean) / std as an array of ``dtype``, the network's, a block of rows at a
    time, checking that every value fits in ``dtype``: DataError naming the cell if not
    (``line_of(r)``: the file's line of row r of the result)."""
    n = X.shape[0]
    out = np.empty(X.shape, dtype=dtype)
    limit = float(np.finfo(dtype).max)
    for a in range(0, n, PREDICT_ROWS):
        b = min(a + PREDICT_ROWS, n)
        block = X[a:b] if order is None else X[order[a:b]]
        with np.errstate(over="ignore", invalid="ignore"):
            z = (block - mean) / std
            ok = np.abs(z) <= limit
        if not ok.all():
            r, j = np.argwhere(~ok)[0]
            raise DataError("%s, line %d: column %r has %r, which overflows when standardised (mean %.6g, "
                            "standard deviation %.6g, %s)"
                            % (path, line_of(a + r), names[j], float(block[r, j]), mean[j], std[j], dtype))
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


def cmd_train(args):
    import pynn
    from pynn.callbacks import EarlyStopping
    from pynn.layers import mlp_layers
    from pynn.optimizers import OPTIMIZERS

    X, y, meta, notes = _training_data(args)
    columns, target, task, classes = meta["columns"], meta["target"], meta["task"], meta.get("classes")
    if task == "classification":
        n_out, out_activation, loss = len(classes), "softmax", "cross_entropy"
    else:
        n_out, out_activation, loss = 1, "linear", "mse"
    sizes = [X.shape[1]] + args.hidden + [n_out]
    layers = mlp_layers(sizes, args.activation, out_activation, args.dropout)
    opt = OPTIMIZERS[args.optimizer]
    optimizer = opt() if args.lr is None else opt(lr=args.lr)
    net = pynn.Network(layers, loss=loss, optimizer=optimizer, dtype=args.dtype, seed=args.seed)

    what = ("classification of %r into %d classes" % (target, len(classes)) if task == "classification"
            else "regression of %r" % target)
    print("pynn train: %s from %d input column%s, %d rows of %s" % (
        what, len(columns), "" if len(columns) == 1 else "s", len(X), args.data))
    if notes:
        print("inputs: %s" % "; ".join(notes))
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

def _input_columns(meta, header):
    """The column descriptions (as in version 2 metadata; "mean" and "fill" None: none) of a
    model's inputs: from its metadata, or (None) the CSV's columns as they are."""
    if meta is None:
        return [{"name": name, "kind": "numeric", "mean": None, "std": None, "fill": None,
                 "missing_indicator": False} for name in header]
    if meta["version"] == 1:  # numeric inputs; a missing cell takes the mean
        return [{"name": name, "kind": "numeric", "mean": m, "std": s, "fill": m, "missing_indicator": False}
                for name, m, s in zip(meta["features"], meta["mean"], meta["std"])]
    return meta["columns"]


def _predict_columns(args, header, meta, net, spec):
    """The columns ``predict`` reads: the model's inputs, its id columns, and the target if
    present; ``spec`` gets the inputs' descriptions."""
    if meta is None and len(header) != net.n_inputs:
        raise DataError("%s has %d columns but the model takes %d inputs (and its file has no %s "
                        "preprocessing naming them)" % (args.data, len(header), net.n_inputs, METADATA_KEY))
    spec.extend(_input_columns(meta, header))
    missing = [name for name in dict.fromkeys(c["name"] for c in spec) if name not in header]
    if missing:
        raise DataError("%s lacks the input column%s %s that the model was trained on"
                        % (args.data, "s" if len(missing) > 1 else "", ", ".join(map(repr, missing))))
    ids = meta.get("id_columns", []) if meta is not None else []
    missing = [name for name in ids if name not in header]
    if missing:
        raise DataError("%s lacks the id column%s %s (the model was trained with --id %s; predict copies them "
                        "into its output)" % (args.data, "s" if len(missing) > 1 else "",
                                              ", ".join(map(repr, missing)), ",".join(ids)))
    chosen = [(c["name"], "number") if c["kind"] == "numeric" else
              (c["name"], "category", {"categories": c["categories"]}) for c in spec]
    chosen += [(name, "id") for name in ids]
    if meta is not None and meta["target"] in header:
        chosen.append((meta["target"], "target"))
    return chosen


def _unseen_warning(table, spec):
    """One warning naming, for each categorical column, the values not among its categories."""
    parts = []
    for name in dict.fromkeys(c["name"] for c in spec if c["kind"] == "categorical"):
        column = table.columns[name]
        if not column.unseen:
            continue
        n_rows = int(np.count_nonzero(table.categories(name)[1] == UNSEEN_CODE))
        values = list(column.unseen)
        more = "" if len(values) <= 3 else " and %s more" % (
            "%d" % (len(values) - 3) if len(values) < MAX_UNSEEN else "at least %d" % (MAX_UNSEEN - 3))
        parts.append("column %r: %s%s (%d row%s)" % (name, ", ".join(map(repr, values[:3])), more, n_rows,
                                                     "" if n_rows == 1 else "s"))
    if parts:
        _warn("%s: values not seen in training, encoded as all zeros: %s" % (table.path, "; ".join(parts)))


def _prediction_data(args, net, meta):
    """The CSV read and checked: (table, the inputs' descriptions, their sources for ``encode``,
    the id columns, the target column's values or class indices (-1: not a known class) and
    which rows have one, or (None, None))."""
    spec: List[Dict[str, Any]] = []
    fallback = meta["delimiter"] if meta is not None and meta["version"] > 1 else ","
    table = read_csv(args.data, lambda header: _predict_columns(args, header, meta, net, spec),
                     args.delimiter, fallback)
    sources = []
    for c in spec:
        name = c["name"]
        column = table.columns[name]
        if c["kind"] == "categorical":
            sources.append(table.categories(name)[1])
            continue
        bad = column.text or column.infinite
        if bad is not None:
            raise DataError("%s, line %d: column %r has %r, which is not a %snumber (the model takes %r as a "
                            "numeric input)" % (args.data, bad[0], name, bad[1],
                                                "finite " if bad is column.infinite else "", name))
        if c["fill"] is None and column.missing is not None:
            line, text = column.missing
            raise DataError("%s, line %d: column %r %s, and the model has no value to fill in (its file has no "
                            "%s preprocessing)" % (args.data, line, name, "is empty" if not text else
                                                   "has %r, a missing value" % text, METADATA_KEY))
        values = table.values(name)
        _check_range(args.data, table.line, name, values, c["mean"], c["std"], net.dtype.name)
        sources.append(values)
    _unseen_warning(table, spec)
    truth = known = None
    if meta is not None and meta["target"] in table.columns:
        target = meta["target"]
        known = ~table.missing_target(target)
        if meta["task"] == "classification":
            truth = _class_index(table, target, meta["classes"])
        else:
            truth = table.values(target)
            known &= np.isfinite(truth)
    ids = meta.get("id_columns", []) if meta is not None else []
    return table, spec, sources, ids, truth, known


def cmd_predict(args):
    if not os.path.exists(args.model):
        raise DataError("no such file: %s" % args.model)
    net, meta = load_model(args.model)
    table, spec, sources, ids, truth, known = _prediction_data(args, net, meta)

    task = meta["task"] if meta else ("classification" if net.is_classifier else "regression")
    binary = net.loss == "binary_cross_entropy" and net.n_outputs == 1
    if task == "classification":
        columns = meta["classes"] if meta else ([0, 1] if binary else list(range(net.n_outputs)))
        out_header = ["prediction"] + ["p_%s" % c for c in columns]
    else:
        out_header = ["prediction"] if net.n_outputs == 1 else ["prediction_%d" % j for j in range(net.n_outputs)]

    # encode, predict and write a block of rows at a time; keep the predicted class / value for the score
    n = table.n_rows
    predicted = np.empty(n, dtype=np.int64 if task == "classification" else np.float64)
    id_texts = [table.texts(name) for name in ids]
    output = open(args.output, "w", newline="", encoding="utf-8") if args.output else None
    try:
        writer = csv.writer(output) if output else csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(ids + out_header)
        for a in range(0, n, PREDICT_ROWS):
            X = encode(spec, sources, slice(a, a + PREDICT_ROWS), net.dtype)
            P = net.predict(X).astype(np.float64)
            prefix = list(zip(*[list(islice(texts, len(P))) for texts in id_texts])) if ids else [()] * len(P)
            if task == "classification":
                if binary:
                    index, probs = (P[:, 0] > 0.5).astype(int), np.column_stack([1 - P[:, 0], P[:, 0]])
                else:
                    index, probs = P.argmax(axis=1), P
                predicted[a:a + len(P)] = index
                writer.writerows(list(p) + [str(columns[i])] + ["%.6g" % v for v in row]
                                 for p, i, row in zip(prefix, index.tolist(), probs.tolist()))
            else:
                if meta is not None:
                    P = P * meta["target_std"] + meta["target_mean"]
                predicted[a:a + len(P)] = P[:, 0]
                writer.writerows(list(p) + ["%.8g" % v for v in row] for p, row in zip(prefix, P.tolist()))
    finally:
        if output is not None:
            output.close()

    report = sys.stdout if args.output else sys.stderr
    if args.output:
        print("wrote %d predictions to %s" % (n, args.output), file=report)
    if truth is not None and known.any():  # the answers are there: score them
        scored = int(np.count_nonzero(known))
        if task == "classification":
            print("accuracy on %s: %.4f (%d rows, target column %r)"
                  % (args.data, np.count_nonzero((truth == predicted) & known) / scored, scored, meta["target"]),
                  file=report)
        else:
            print("mae on %s: %.6g (%d rows, target column %r)"
                  % (args.data, float(np.mean(np.abs(predicted - truth), where=known)), scored, meta["target"]),
                  file=report)
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


def _lesson_data(args):
    """(X, y, loss, description) from the lesson's CSV (read as ``pynn train`` reads it: every row
    a training row, float64), or None without one."""
    if args.data is None:
        for option in ("target", "id", "features", "categorical"):
            if getattr(args, option):
                raise DataError("--%s needs a CSV file: pynn %s data.csv --target COL ..." % (option, args.command))
        return None
    if not args.target:
        raise DataError("a CSV file needs --target: the column to predict")
    options = argparse.Namespace(**vars(args))
    options.validation_split, options.dtype = 0.0, "float64"
    X, y, meta, notes = _training_data(options)
    if meta["task"] == "classification":
        loss = "cross_entropy"
        what = "classification of %r into %d classes" % (meta["target"], len(meta["classes"]))
    else:
        loss = "mse"
        what = "regression of %r (standardised)" % meta["target"]
    print("%s: %s from %d input%s, %d rows" % (args.data, what, X.shape[1], "" if X.shape[1] == 1 else "s", len(X)))
    if notes:
        print("inputs: %s" % "; ".join(notes))
    return X, y, loss


def cmd_lr_sweep(args):
    from pynn.lessons import lr_sweep

    data = _lesson_data(args)
    X, y, loss = data if data is not None else (None, None, "mse")
    result = lr_sweep(lrs=args.lrs, epochs=args.epochs, seed=args.seed, X=X, y=y, loss=loss)
    print(result.to_text())
    if args.plot:
        result.plot(args.plot)
        print("chart saved to %s" % args.plot)
    return 0


def cmd_init_demo(args):
    from pynn.lessons import init_demo

    data = _lesson_data(args)
    X, y, loss = (None, None, None) if data is None else data
    if data is not None and loss == "cross_entropy" and int(np.max(data[1])) == 1:
        loss = "binary_cross_entropy"  # two classes: one sigmoid output, as on XOR
    result = init_demo(epochs=args.epochs, hidden=args.hidden, seed=args.seed, X=X, y=y, loss=loss)
    print(result.to_text())
    if args.plot:
        result.plot(args.plot)
        print("chart saved to %s" % args.plot)
    return 0


def cmd_playground(args):
    """``pynn playground``: see :mod:`pynn.playground`."""
    from pynn.playground import run

    if not 0 <= args.port <= 65535:
        raise DataError("--port must be from 0 to 65535, got %d" % args.port)
    return run(port=args.port, open_browser=not args.no_browser, data_paths=args.data)


def cmd_explain(args):
    import pynn

    if args.model is None:
        net = pynn.Network([pynn.Dense(2, 2, "sigmoid"), pynn.Dense(2, 2, "sigmoid")], loss="mse",
                           optimizer=pynn.SGD(lr=args.lr if args.lr is not None else 0.5), dtype="float64")
        net.set_weights([[[0.15, 0.25], [0.20, 0.30]], [0.35, 0.35], [[0.40, 0.50], [0.45, 0.55]], [0.60, 0.60]])
        X, y = np.array([[0.05, 0.10]]), np.array([[0.01, 0.99]])
        what = "Matt Mazur's hand-worked 2-2-2 network"
        if args.data is not None:
            raise DataError("a CSV file needs a model: pynn explain model.safetensors data.csv --row N")
    else:
        if args.data is None:
            raise DataError("pynn explain %s needs a CSV file with a row to explain" % args.model)
        net, X, y, what = _explain_row(args)
    step = net.explain_step(X, y)
    print(step.to_text(updates_only=not args.table))
    out = step.to_html(args.out, title="pynn: one training step of %s" % what)
    print("page written to %s (open it in a browser)" % out)
    return 0


def _explain_row(args):
    """(network, X, y, description) for one data row of a CSV file and a model saved by pynn train:
    the row's inputs encoded as pynn predict encodes them, its target as pynn train does; the
    network a float64 copy of the model with plain SGD (--lr)."""
    from pynn.optimizers import SGD

    if not os.path.exists(args.model):
        raise DataError("no such file: %s" % args.model)
    net, meta = load_model(args.model)
    if meta is None:
        raise DataError("%s has no %s preprocessing (it was not saved by pynn train): pynn explain needs it to "
                        "read the inputs and the target of a CSV row" % (args.model, METADATA_KEY))
    options = argparse.Namespace(data=args.data, delimiter=args.delimiter)
    table, spec, sources, ids, truth, known = _prediction_data(options, net, meta)
    n, i = table.n_rows, args.row - 1
    if not 0 <= i < n:
        raise DataError("%s: --row must be in [1, %d] (the data rows, from 1); got %d" % (args.data, n, args.row))
    line = table.line(i)
    if truth is None:
        raise DataError("%s has no column %r, the model's target: explaining a step needs the row's target"
                        % (args.data, meta["target"]))
    if not known[i] or (meta["task"] == "classification" and truth[i] < 0):
        raise DataError("%s, line %d: the target column %r is missing or not one of the model's values"
                        % (args.data, line, meta["target"]))
    X = encode(spec, sources, np.array([i]), "float64")
    if meta["task"] == "classification":
        if net.loss == "binary_cross_entropy" and net.n_outputs == 1:
            y = np.array([[float(truth[i])]])
        else:
            y = np.array([int(truth[i])])
    else:
        y = np.array([[(float(truth[i]) - meta["target_mean"]) / meta["target_std"]]])
    net = net._copy(dtype="float64")
    net.optimizer = SGD(lr=args.lr if args.lr is not None else 0.1)
    return net, X, y, "%s on line %d of %s" % (os.path.basename(args.model), line, os.path.basename(args.data))


# ---- the parser ------------------------------------------------------------------------------

COMMANDS = ("demo", "train", "predict", "bench", "lr-sweep", "init-demo", "explain", "playground")


def _lesson_csv_options(p):
    """A lesson's optional CSV, read as pynn train reads it (its options mean the same)."""
    p.add_argument("data", nargs="?", help="a CSV file with a header row (default: the lesson's own data)")
    p.add_argument("--target", help="the column to predict (needed with a CSV)")
    p.add_argument("--id", action="append", metavar="COL", help="a column that is not an input; repeatable")
    p.add_argument("--features", help="input columns, comma-separated (default: all but the target and --id)")
    p.add_argument("--categorical", action="append", metavar="COL",
                   help="treat this input column as categorical; repeatable, or comma-separated")
    p.add_argument("--missing-indicator", action="store_true",
                   help="add a 0/1 input after each column that has missing cells")
    p.add_argument("--max-categories", type=_positive_int, default=MAX_CATEGORIES, metavar="N",
                   help="a categorical column with more distinct values is an error (default %d)" % MAX_CATEGORIES)
    p.add_argument("--delimiter", type=_delimiter, help="the CSV's delimiter (default: sniffed among , ; tab |)")
    p.add_argument("--task", choices=["auto", "classification", "regression"], default="auto",
                   help="as in pynn train (default auto)")


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
                       description="Train an MLP on a CSV file (header row; numeric and categorical input "
                                   "columns, missing cells filled in).")
    p.add_argument("data", help="CSV file with a header row")
    p.add_argument("--target", required=True, help="the column to predict")
    p.add_argument("--id", action="append", metavar="COL",
                   help="a column that is not an input (an identifier), copied into predict's output; "
                        "repeatable, or comma-separated")
    p.add_argument("--features", help="input columns, comma-separated (default: all but the target and --id)")
    p.add_argument("--categorical", action="append", metavar="COL",
                   help="treat this input column as categorical even if its cells are numbers (e.g. zip codes); "
                        "repeatable, or comma-separated")
    p.add_argument("--missing-indicator", action="store_true",
                   help="add a 0/1 input after each column that has missing cells in the training rows")
    p.add_argument("--max-categories", type=_positive_int, default=MAX_CATEGORIES, metavar="N",
                   help="a categorical column with more distinct values is an error (default %d)" % MAX_CATEGORIES)
    p.add_argument("--delimiter", type=_delimiter,
                   help="the CSV's delimiter (default: sniffed among , ; tab |)")
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
    p.add_argument("--out", "--output", "-o", dest="output", metavar="OUT.csv",
                   help="write the predictions here, after the model's --id columns (default: standard output)")
    p.add_argument("--delimiter", type=_delimiter,
                   help="the CSV's delimiter (default: sniffed among , ; tab |, else the training file's)")
    p.add_argument("--backend", choices=["c", "numpy"], help="backend (default: the best available)")
    p.set_defaults(func=cmd_predict, parser=p)

    sub.add_parser("bench", help="run the benchmarks (arguments go to pynn.benchmark)", add_help=False)

    p = sub.add_parser("lr-sweep", parents=[common], help="lesson: one network at several learning rates",
                       description="Train the same network (same seed) at several learning rates and show "
                                   "the loss curves: too small, good, and divergent. With a CSV file (read as "
                                   "pynn train reads it), on its rows.")
    _lesson_csv_options(p)
    p.add_argument("--lrs", type=_float_list, default=[0.001, 0.01, 0.1, 1.0],
                   help="learning rates, comma-separated (default 0.001,0.01,0.1,1)")
    p.add_argument("--epochs", type=_positive_int, default=40, help="default 40")
    p.add_argument("--plot", metavar="PNG", help="save a chart of the curves and the fits (needs matplotlib)")
    p.set_defaults(func=cmd_lr_sweep, parser=p)

    p = sub.add_parser("init-demo", parents=[common], help="lesson: why initial weights are random",
                       description="Train one network from zero, constant and random initial weights: "
                                   "equal starts keep the hidden units identical. On XOR, or on a CSV file "
                                   "(read as pynn train reads it).")
    _lesson_csv_options(p)
    p.add_argument("--epochs", type=_positive_int, default=100, help="default 100")
    p.add_argument("--hidden", type=_positive_int, default=8, help="hidden units (default 8)")
    p.add_argument("--plot", metavar="PNG", help="save a chart (needs matplotlib)")
    p.set_defaults(func=cmd_init_demo, parser=p)

    p = sub.add_parser("explain", help="one training step drawn as an HTML page, every number shown",
                       description="Perform one SGD step and write it as a self-contained HTML page (the network "
                                   "drawn, each weight's chain-rule product on click; no network access). "
                                   "Without arguments: Matt Mazur's hand-worked 2-2-2 network. With a model "
                                   "saved by pynn train and its CSV: the step on one row (--row, from 1), on a "
                                   "float64 copy of the model (the file is not changed).")
    p.add_argument("model", nargs="?", help="model file (.safetensors) saved by pynn train")
    p.add_argument("data", nargs="?", help="CSV file with the model's input columns and its target")
    p.add_argument("--row", type=_positive_int, default=1, help="the data row to explain, from 1 (default 1)")
    p.add_argument("--delimiter", type=_delimiter, help="the CSV's delimiter (default: sniffed)")
    p.add_argument("--lr", type=_positive_float, help="the SGD step's learning rate (default 0.5 for the "
                                                     "hand-worked network, else 0.1)")
    p.add_argument("--out", "--output", "-o", dest="out", default="step.html", metavar="OUT.html",
                   help="the page to write (default step.html)")
    p.add_argument("--table", action="store_true", help="print the whole table (default: the update table)")
    p.add_argument("--backend", choices=["c", "numpy"], help="backend (default: the best available)")
    p.set_defaults(func=cmd_explain, parser=p)

    p = sub.add_parser("playground", help="train a network in your browser and watch every number",
                       description="Serve the playground on 127.0.0.1: a page where a small network trains in "
                                   "pynn (this backend) while you watch the decision regions, each neuron, the "
                                   "weights and the loss, and click a weight for its chain rule. Prints the "
                                   "address (with its access token) on the first line; Ctrl-C stops it.")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default 0: any free port)")
    p.add_argument("--no-browser", action="store_true", help="do not open the page in a browser")
    p.add_argument("--data", nargs="+", default=[], metavar="CSV",
                   help="CSV files offered as data sets: a header row, two numeric feature columns first, "
                        "the class in the last column")
    p.add_argument("--backend", choices=["c", "numpy"], help="backend (default: the best available)")
    p.set_defaults(func=cmd_playground, parser=p)
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
