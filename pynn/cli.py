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
standard library's ``csv`` module.  ``train`` uses every column but the
target as a numeric input (or those named by ``--features``), shuffles the
rows (``--seed``), holds out ``--validation-split`` of them, standardises
each input to mean 0 and standard deviation 1 (measured on the training
rows), and trains a relu MLP:

- classification when the target column is not numeric, or holds integers
  with at most 20 distinct values (``--task`` overrides): softmax output,
  cross-entropy loss; ``predict`` writes the class and one probability
  column per class;
- regression otherwise: linear output, mse loss on the standardised target;
  ``predict`` writes the prediction in the target's units.

``--save`` writes the model with ``Network.save`` and then adds the
preprocessing to the same file, as JSON under the safetensors metadata key
``pynn_cli``: the feature columns, their means and standard deviations, the
target column, the task, the class labels (classification) or the target's
mean and standard deviation (regression).  ``pynn.load`` ignores that key, so
the file stays an ordinary pynn model; ``predict`` reads it back (a model
saved from Python without it is used on the CSV's columns as they are).

Exit status: 0 on success, 1 for an error in the data, the files or the
run (a message says what), 2 for a usage error (bad or missing arguments).
"""
import argparse
import csv
import json
import math
import os
import sys

import numpy as np

from pynn import activations

#: safetensors metadata key holding the preprocessing written by ``pynn train``
METADATA_KEY = "pynn_cli"
#: a numeric target with integer values is a class label when it has at most this many values
MAX_CLASSES = 20


class DataError(Exception):
    """A problem with the user's files or data: reported in one line, exit status 1."""


# ---- CSV -------------------------------------------------------------------------------------

def read_csv(path):
    """(header, rows) of a CSV file with a header row; blank lines are skipped."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            header, rows = None, []
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue
                if header is None:
                    header = [cell.strip() for cell in row]
                    continue
                if len(row) != len(header):
                    raise DataError("%s, line %d: %d fields, but the header has %d"
                                    % (path, reader.line_num, len(row), len(header)))
                rows.append((reader.line_num, [cell.strip() for cell in row]))
    except FileNotFoundError:
        raise DataError("no such file: %s" % path) from None
    except IsADirectoryError:
        raise DataError("%s is a directory, not a CSV file" % path) from None
    except UnicodeDecodeError as exc:
        raise DataError("%s is not a UTF-8 text file (%s)" % (path, exc)) from None
    except csv.Error as exc:
        raise DataError("%s is not a readable CSV file: %s" % (path, exc)) from None
    if header is None:
        raise DataError("%s is empty; expected a header row and data rows" % path)
    if not rows:
        raise DataError("%s has a header but no data rows" % path)
    seen = set()
    for name in header:
        if not name:
            raise DataError("%s: the header has an empty column name" % path)
        if name in seen:
            raise DataError("%s: column %r appears twice in the header" % (path, name))
        seen.add(name)
    return header, rows


def _parse_number(text):
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def numeric_column(path, header, rows, name):
    """Column ``name`` as a float64 array; DataError naming the first bad cell."""
    k = header.index(name)
    values = np.empty(len(rows))
    for i, (line, row) in enumerate(rows):
        value = _parse_number(row[k])
        if value is None:
            what = "is empty" if not row[k] else "has %r, which is not a finite number" % row[k]
            raise DataError("%s, line %d: column %r %s; input columns must be numeric"
                            % (path, line, name, what))
        values[i] = value
    return values


def _column(header, name, path):
    if name not in header:
        raise DataError("%s has no column %r; its columns are: %s" % (path, name, ", ".join(header)))
    return name


# ---- train -----------------------------------------------------------------------------------

def _task_of(values, requested):
    """("classification", classes) or ("regression", None) for the target's cells."""
    numbers = [_parse_number(v) for v in values]
    numeric = all(v is not None for v in numbers)
    if requested == "regression":
        if not numeric:
            bad = next(v for v, n in zip(values, numbers) if n is None)
            raise DataError("--task regression needs a numeric target; it has %r" % bad)
        return "regression", None
    if numeric:
        integers = all(n == int(n) for n in numbers)
        distinct = sorted(set(int(n) for n in numbers)) if integers else None
        if requested == "classification" or (distinct is not None and len(distinct) <= MAX_CLASSES):
            classes = distinct if integers else sorted(set(numbers))
            return "classification", classes
        return "regression", None
    if any(not v for v in values):
        raise DataError("the target column has empty cells")
    return "classification", sorted(set(values))


def _label_keys(values, classes):
    """Class indices of the target cells (numeric classes match by value)."""
    if classes and not isinstance(classes[0], str):
        index = {float(c): i for i, c in enumerate(classes)}
        return np.array([index.get(_parse_number(v), -1) for v in values])
    index = {c: i for i, c in enumerate(classes)}
    return np.array([index.get(v, -1) for v in values])


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


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected an integer; got %r" % text) from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1; got %d" % value)
    return value


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


def add_metadata(path, key, value):
    """Add ``value`` as JSON under safetensors metadata ``key`` of the file at ``path``
    (rewritten atomically, like Network.save)."""
    from safetensors import safe_open

    from .serialization import write_atomically

    with safe_open(path, framework="numpy") as f:
        metadata = dict(f.metadata() or {})
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    metadata[key] = json.dumps(value)
    write_atomically(tensors, path, metadata)


def read_metadata(path):
    """The ``pynn_cli`` preprocessing stored in a model file, or None."""
    from safetensors import safe_open

    with safe_open(path, framework="numpy") as f:
        text = (f.metadata() or {}).get(METADATA_KEY)
    if text is None:
        return None
    try:
        meta = json.loads(text)
        if meta.get("format") != METADATA_KEY or meta.get("version") != 1:
            raise ValueError("unknown format")
        return meta
    except (ValueError, AttributeError) as exc:
        raise DataError("%s: malformed %s metadata (%s)" % (path, METADATA_KEY, exc)) from None


def cmd_train(args):
    import pynn
    from pynn.callbacks import EarlyStopping
    from pynn.layers import mlp_layers
    from pynn.optimizers import OPTIMIZERS

    header, rows = read_csv(args.data)
    target = _column(header, args.target, args.data)
    if args.features:
        features = [_column(header, name.strip(), args.data) for name in args.features.split(",")]
        if target in features:
            raise DataError("the target column %r cannot also be an input" % target)
    else:
        features = [name for name in header if name != target]
    if not features:
        raise DataError("%s has no input columns besides the target %r" % (args.data, target))
    X = np.column_stack([numeric_column(args.data, header, rows, name) for name in features])
    k = header.index(target)
    cells = [row[k] for _, row in rows]
    if any(not c for c in cells):
        line = next(line for line, row in rows if not row[k])
        raise DataError("%s, line %d: the target column %r is empty" % (args.data, line, target))
    task, classes = _task_of(cells, args.task)

    # shuffle once (seeded) so that --validation-split holds out a random part (fit takes the last
    # rows); the standardisation is measured on the training rows only
    order = np.random.default_rng(args.seed).permutation(len(rows))
    X, cells = X[order], [cells[i] for i in order]
    n_train = max(1, int(math.floor(len(rows) * (1.0 - args.validation_split))))
    mean, std = X[:n_train].mean(axis=0), X[:n_train].std(axis=0)
    std[std == 0] = 1.0  # a constant column: centred, not scaled
    Xs = (X - mean) / std
    meta = {"format": METADATA_KEY, "version": 1, "features": features, "mean": mean.tolist(),
            "std": std.tolist(), "target": target, "task": task}
    if task == "classification":
        if len(classes) < 2:
            raise DataError("the target column %r has only one value (%r); nothing to classify"
                            % (target, classes[0]))
        y = _label_keys(cells, classes)
        meta["classes"] = classes
        n_out, out_activation, loss = len(classes), "softmax", "cross_entropy"
    else:
        values = np.array([float(c) for c in cells])
        y_mean, y_std = float(values[:n_train].mean()), float(values[:n_train].std()) or 1.0
        y = ((values - y_mean) / y_std).reshape(-1, 1)
        meta.update(target_mean=y_mean, target_std=y_std)
        n_out, out_activation, loss = 1, "linear", "mse"
    sizes = [len(features)] + args.hidden + [n_out]
    layers = mlp_layers(sizes, args.activation, out_activation, args.dropout)
    opt = OPTIMIZERS[args.optimizer]
    optimizer = opt() if args.lr is None else opt(lr=args.lr)
    net = pynn.Network(layers, loss=loss, optimizer=optimizer, dtype=args.dtype, seed=args.seed)

    what = ("classification of %r into %d classes" % (target, len(classes)) if task == "classification"
            else "regression of %r" % target)
    print("pynn train: %s from %d input column%s, %d rows of %s" % (
        what, len(features), "" if len(features) == 1 else "s", len(rows), args.data))
    print("network: %s (%s)%s, %d parameters, %r, backend %s"
          % ("-".join(map(str, sizes)), ", ".join([args.activation] * len(args.hidden) + [out_activation]),
             ", dropout %g after each hidden layer" % args.dropout if args.dropout and args.hidden else "",
             net.n_params, net.optimizer, pynn.backend()))
    callbacks = []
    if args.patience is not None:
        monitor = "val_loss" if args.validation_split > 0 else "loss"
        callbacks.append(EarlyStopping(monitor=monitor, patience=args.patience, restore_best_weights=True))
    verbose = args.verbose if args.verbose is not None else (1 if sys.stdout.isatty() else 2)
    history = net.fit(Xs, y, epochs=args.epochs, batch_size=args.batch_size, verbose=verbose,
                      validation_split=args.validation_split, callbacks=callbacks)
    last = {k: v[-1] for k, v in history.history.items()}
    summary = ", ".join("%s %.4f" % kv for kv in last.items() if kv[0] != "lr")
    print("after %d epochs: %s" % (len(history.epoch), summary))
    if task == "regression" and "mae" in last:
        print("(mae in the target's units: %.6g%s)" % (
            last["mae"] * meta["target_std"],
            ", validation %.6g" % (last["val_mae"] * meta["target_std"]) if "val_mae" in last else ""))
    if args.save:
        net.save(args.save)
        add_metadata(args.save, METADATA_KEY, meta)
        print("saved the model and its preprocessing to %s" % args.save)
    return 0


# ---- predict ---------------------------------------------------------------------------------

def cmd_predict(args):
    import pynn

    if not os.path.exists(args.model):
        raise DataError("no such file: %s" % args.model)
    net = pynn.load(args.model)
    meta = read_metadata(args.model)
    header, rows = read_csv(args.data)
    if meta is not None:
        missing = [name for name in meta["features"] if name not in header]
        if missing:
            raise DataError("%s lacks the input column%s %s that the model was trained on"
                            % (args.data, "s" if len(missing) > 1 else "", ", ".join(map(repr, missing))))
        features = meta["features"]
    else:
        features = header
        if len(features) != net.n_inputs:
            raise DataError("%s has %d columns but the model takes %d inputs (and its file has no %s "
                            "preprocessing naming them)" % (args.data, len(features), net.n_inputs, METADATA_KEY))
    X = np.column_stack([numeric_column(args.data, header, rows, name) for name in features])
    if meta is not None:
        X = (X - np.asarray(meta["mean"])) / np.asarray(meta["std"])
    P = net.predict(X).astype(np.float64)

    task = meta["task"] if meta else ("classification" if net.is_classifier else "regression")
    if task == "classification":
        classes = meta["classes"] if meta else list(range(net.n_outputs))
        if net.loss == "binary_cross_entropy" and net.n_outputs == 1:
            index, probs, columns = (P[:, 0] > 0.5).astype(int), np.column_stack([1 - P[:, 0], P[:, 0]]), [0, 1]
        else:
            index, probs, columns = P.argmax(axis=1), P, classes
        out_header = ["prediction"] + ["p_%s" % c for c in columns]
        out_rows = [[str(columns[i])] + ["%.6g" % p for p in row] for i, row in zip(index, probs)]
    else:
        if meta is not None:
            P = P * meta["target_std"] + meta["target_mean"]
        out_header = ["prediction"] if P.shape[1] == 1 else ["prediction_%d" % j for j in range(P.shape[1])]
        out_rows = [["%.8g" % v for v in row] for row in P]

    if args.output:
        with open(args.output, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(out_header)
            writer.writerows(out_rows)
        report = sys.stdout
    else:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(out_header)
        writer.writerows(out_rows)
        report = sys.stderr
    if args.output:
        print("wrote %d predictions to %s" % (len(out_rows), args.output), file=report)
    if meta is not None and meta["target"] in header:  # the answers are there: score them
        k = header.index(meta["target"])
        cells = [row[k] for _, row in rows]
        if task == "classification":
            truth = _label_keys(cells, meta["classes"])
            print("accuracy on %s: %.4f (%d rows, target column %r)"
                  % (args.data, float(np.mean(truth == index)), len(rows), meta["target"]), file=report)
        else:
            truth = np.array([_parse_number(c) if _parse_number(c) is not None else np.nan for c in cells])
            if np.isfinite(truth).all():
                print("mae on %s: %.6g (%d rows, target column %r)"
                      % (args.data, float(np.mean(np.abs(P[:, 0] - truth))), len(rows), meta["target"]),
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
    p.add_argument("--patience", type=int, help="stop early after this many epochs without improvement")
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
