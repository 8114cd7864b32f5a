"""Fuzz target for the C core's entry points, through everything Python can
hand them (issue 5).

Each input decides a small network (widths, activations, dropout, loss,
optimizer and its hyperparameters, dtype) and a batch (shape, dtype, memory order, strides,
misaligned data, NaN/inf placements, labels possibly out of range), then runs predict,
evaluate, gradients, train_step and a short fit on the C backend.  The only
acceptable failures are ValueError, TypeError and pynn.DivergenceError;
anything else -- another exception, a crash, a sanitizer report -- is a
finding.  When both backends run, a successful single call (predict,
evaluate, gradients, train_step) must also agree with the numpy backend.

Two ways to run it:

    python fuzz/fuzz_core.py -atheris_runs=20000     # coverage-guided, with atheris
    python fuzz/fuzz_core.py --random 3000           # seeded random inputs, no atheris:
                                                     # how .ci/robustness runs it against the
                                                     # AddressSanitizer build of the core
"""
import sys

import numpy as np

import pynn

ACTIVATIONS = ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "gelu"]
LOSSES = ["mse", "mae", "huber", "binary_cross_entropy", "cross_entropy"]
ALLOWED = (ValueError, TypeError, pynn.DivergenceError)
COUNTS = {"refused": 0, "compared": 0}  # calls that raised an allowed error / matched the numpy backend


class Choices:
    """Draws from atheris's FuzzedDataProvider or from a numpy Generator."""

    def __init__(self, source):
        self.source = source

    def int(self, lo, hi):
        if isinstance(self.source, np.random.Generator):
            return int(self.source.integers(lo, hi + 1))
        return self.source.ConsumeIntInRange(lo, hi)

    def pick(self, options):
        return options[self.int(0, len(options) - 1)]

    def float(self, lo, hi):
        return lo + (hi - lo) * self.int(0, 1000) / 1000.0


def make_array(c, shape, dtype):
    values = np.random.default_rng(c.int(0, 2**31)).normal(scale=c.pick([0.1, 1.0, 10.0, 1e4]), size=shape)
    for _ in range(c.int(0, 2)):  # NaN / inf placements
        if values.size:
            values.flat[c.int(0, values.size - 1)] = c.pick([np.nan, np.inf, -np.inf, 1e30])
    arr = values.astype(dtype)
    layout = c.int(0, 4)
    if layout == 4:  # misaligned: the data starts one byte into a buffer (np.frombuffer(..., offset=1))
        buf = bytearray(arr.nbytes + 1)
        buf[1:] = arr.tobytes()
        arr = np.frombuffer(buf, dtype=arr.dtype, offset=1).reshape(arr.shape)
    elif layout == 1 and arr.ndim == 2:
        arr = np.asfortranarray(arr)
    elif layout == 2 and arr.ndim == 2:
        wide = np.zeros((arr.shape[0] * 2, arr.shape[1]), dtype=arr.dtype)
        wide[::2] = arr
        arr = wide[::2]  # strided rows
    elif layout == 3:
        arr.setflags(write=False)
    return arr


def one_case(c):
    sizes = [c.int(1, 7) for _ in range(c.int(2, 4))]
    loss = c.pick(LOSSES)
    out = {"cross_entropy": "softmax", "binary_cross_entropy": "sigmoid"}.get(loss, c.pick(ACTIVATIONS))
    if loss == "cross_entropy" and sizes[-1] < 2:
        sizes[-1] = 2
    dense = [pynn.Dense(a, b, c.pick(ACTIVATIONS)) for a, b in zip(sizes[:-2], sizes[1:-1])]
    dense.append(pynn.Dense(sizes[-2], sizes[-1], out))
    layers = []
    for layer in dense:  # dropout on some layers' inputs
        if c.int(0, 2) == 0:
            layers.append(pynn.Dropout(c.pick([0.0, 0.3, 0.9, 0.999])))
        layers.append(layer)
    lr = c.pick([0.0, 1e-3, 0.1, 10.0, 1e6])
    optimizer = c.pick([
        lambda: pynn.SGD(lr=lr, momentum=c.pick([0.0, 0.9]), weight_decay=c.pick([0.0, 0.1])),
        lambda: pynn.Adam(lr=lr, betas=(c.float(0, 0.99), c.float(0, 0.999)), eps=c.pick([1e-8, 0.0])),
        lambda: pynn.AdamW(lr=lr),
        lambda: pynn.RMSprop(lr=lr, momentum=c.pick([0.0, 0.5])),
    ])()
    dtype = c.pick(["float32", "float64"])
    net = pynn.Network(layers, loss=loss, optimizer=optimizer, dtype=dtype, seed=c.int(0, 1000))
    n = c.int(1, 40)
    X = make_array(c, (n, sizes[0] + c.pick([0, 0, 0, 1])), c.pick([np.float16, np.float32, np.float64, np.int32]))
    if loss == "cross_entropy" and c.int(0, 1):
        y = np.random.default_rng(c.int(0, 99)).integers(-1 if c.int(0, 9) == 0 else 0, sizes[-1], size=n)
        if c.int(0, 3) == 0:  # int64 labels at a misaligned address
            buf = bytearray(y.nbytes + 3)
            buf[3:] = y.tobytes()
            y = np.frombuffer(buf, dtype=y.dtype, offset=3)
    elif loss == "binary_cross_entropy":
        y = (make_array(c, (n, sizes[-1]), np.float64) > 0).astype(float)
    else:
        y = make_array(c, (n, sizes[-1]), np.float64)
    twin = net._copy()
    # single calls are compared with the numpy backend; fit (last) only has to
    # fail cleanly: with hostile learning rates its trajectory is chaotic
    calls = [lambda m: m.predict(X), lambda m: m.evaluate(X, y), lambda m: m.gradients(X, y),
             lambda m: m.train_step(X, y)]
    batch_size = c.int(1, 16)
    pynn.set_backend("c")
    try:
        net._copy().fit(X, y, epochs=2, batch_size=batch_size, verbose=0)
    except ALLOWED:
        pass
    for call in calls:
        pynn.set_backend("c")
        try:
            got = call(net)
        except ALLOWED:
            got = None
            COUNTS["refused"] += 1
        if got is not None and "numpy" in pynn.available_backends():
            pynn.set_backend("numpy")
            try:
                want = call(twin)
            except ALLOWED:
                continue
            compare(got, want, dtype)
            COUNTS["compared"] += 1
            twin._plan.params[...] = net._plan.params  # may hold an overflowed update: set_weights would refuse it
            twin.optimizer.step = net.optimizer.step
            twin._plan.state[...] = net._plan.state
    pynn.set_backend("c")


def compare(got, want, dtype):
    tol = 1e-3 if dtype == "float32" else 1e-8
    if isinstance(got, dict):
        got, want = [got[k] for k in sorted(got)], [want[k] for k in sorted(want)]
    if not isinstance(got, list):
        got, want = [got], [want]
    pairs = [(np.asarray(a, dtype=float), np.asarray(b, dtype=float)) for a, b in zip(got, want)]
    # one scale for all the tensors of a call (a gradient is one vector): backpropagation
    # multiplies the last-bit differences of libm's and numpy's tanh/exp near saturation by
    # the largest upstream gradient, which may sit in another layer's tensor
    scale = 1.0
    for a, b in pairs:
        finite = np.isfinite(a) & np.isfinite(b)
        if finite.any():
            scale = max(scale, float(np.abs(b[finite]).max()))
    for a, b in pairs:
        finite = np.isfinite(a) & np.isfinite(b)
        assert np.allclose(a[finite], b[finite], rtol=tol, atol=tol * scale), (a, b)


def TestOneInput(data):
    import atheris
    one_case(Choices(atheris.FuzzedDataProvider(data)))


def main(argv):
    if len(argv) > 2 and argv[1] == "--random":
        runs = int(argv[2])
        rng = np.random.default_rng(0)
        for _ in range(runs):
            one_case(Choices(rng))
        print("fuzz_core: %d random cases, no finding: %d C calls refused their input cleanly, %d matched "
              "the numpy backend" % (runs, COUNTS["refused"], COUNTS["compared"]))
        return
    import atheris
    atheris.Setup(argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    import warnings
    warnings.simplefilter("ignore")  # overflow warnings of the numpy backend on hostile values
    main(sys.argv)
