"""One network shared by several Python threads; the C thread pool's bounds; atomic construction.

- predict and evaluate called on one network from 4 threads at once, over different batch sizes
  (1, 7, 64, 300 rows), give bit for bit what the same calls gave serially beforehand; for a small
  8-64-64-3 network and for a 32-256-256-4 one wide enough that the C core's products take its
  multi-threaded blocked path (the C core runs with 2 threads in these tests);
- train_step from two threads on one network with one batch: the steps are atomic, so the final
  weights equal 2K serial steps of a same-seed copy, and the losses the threads got are the serial
  losses in some order; fit from two threads: no error, finite weights, every batch counted;
- predict while another thread trains: every output is the serial prediction of one of the weight
  states the training passed through (replayed afterwards on a same-seed copy): no torn weights;
- 60 networks trained in turn with 1, 2 and 3 threads, all kept alive, leave at most 3 more OS
  threads than before (one pool worker for 2 threads, two for 3), counted in /proc/self/task;
- a Network() that fails (an init that raises or returns a bad array, a loss that does not pair,
  a bad layer list) marks neither its layers nor its optimizer as used: they build a new network,
  whose weights equal those of a network built from scratch with the same seed;
- a deep copy of a network that has run on both backends predicts, from threads, what the
  original predicts.

Every thread is joined with a timeout, so a hang fails the test instead of blocking the run.
"""
import copy
import gc
import os
import threading
import time

import numpy as np
import pytest

import pynn

TIMEOUT = 60
SIZES = (1, 7, 64, 300)
SHAPES = {"small": (8, 64, 64, 3), "wide": (32, 256, 256, 4)}


@pytest.fixture
def two_threads():
    previous = pynn.get_num_threads()
    pynn.set_num_threads(2)
    try:
        yield
    finally:
        pynn.set_num_threads(previous)


def _net(shape="small", dtype="float32", seed=0, optimizer=None):
    n_in, h1, h2, n_out = SHAPES[shape]
    return pynn.Network([pynn.Dense(n_in, h1, "relu"), pynn.Dense(h1, h2, "tanh"), pynn.Dense(h2, n_out, "softmax")],
                        loss="cross_entropy", optimizer=optimizer or pynn.Adam(lr=1e-3), dtype=dtype, seed=seed)


def _data(shape="small", n=400, seed=0):
    n_in, n_out = SHAPES[shape][0], SHAPES[shape][-1]
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, n_in)), rng.integers(0, n_out, size=n)


def _run_threads(targets, timeout=TIMEOUT):
    """Start one thread per callable together (a barrier), join each with a timeout, re-raise
    the first error a thread raised."""
    errors = []
    barrier = threading.Barrier(len(targets), timeout=timeout)

    def wrap(fn):
        def run():
            try:
                barrier.wait()
                fn()
            except BaseException as exc:  # reported below, in the test's thread
                errors.append(exc)
        return run

    threads = [threading.Thread(target=wrap(fn), daemon=True) for fn in targets]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()))
        assert not t.is_alive(), "a thread did not finish in %d s (a hang)" % timeout
    if errors:
        raise errors[0]


def _plan(n_threads, rounds, n_rows):
    """Row ranges per thread and round: batch sizes from SIZES, varied per thread and round."""
    plan = []
    for t in range(n_threads):
        ranges = []
        for r in range(rounds):
            size = SIZES[(t + r + r // 4) % len(SIZES)]
            lo = (37 * t + 11 * r) % (n_rows - size + 1)
            ranges.append((lo, lo + size))
        plan.append(ranges)
    return plan


def _assert_same_weights(a, b):
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


# ---- predict and evaluate from several threads -------------------------------------------------


@pytest.mark.parametrize("shape", ["small", "wide"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_concurrent_predict_equals_serial(two_threads, shape, dtype):
    X, y = _data(shape)
    net = _net(shape, dtype, seed=1)
    net.fit(X, y, epochs=1, batch_size=64, verbose=0)
    plan = _plan(4, 50, len(X))
    expected = {rows: net.predict(X[rows[0]:rows[1]]) for ranges in plan for rows in ranges}
    results = [[] for _ in plan]

    def worker(t):
        def run():
            for lo, hi in plan[t]:
                results[t].append(net.predict(X[lo:hi]))
        return run

    _run_threads([worker(t) for t in range(len(plan))])
    for t, ranges in enumerate(plan):
        assert len(results[t]) == len(ranges)
        for rows, out in zip(ranges, results[t]):
            assert out.dtype == net.dtype
            np.testing.assert_array_equal(out, expected[rows], err_msg="thread %d, rows %s" % (t, rows))


@pytest.mark.parametrize("shape", ["small", "wide"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_concurrent_evaluate_equals_serial(two_threads, shape, dtype):
    X, y = _data(shape)
    net = _net(shape, dtype, seed=2)
    net.fit(X, y, epochs=1, batch_size=64, verbose=0)
    plan = _plan(4, 50, len(X))
    expected = {rows: net.evaluate(X[rows[0]:rows[1]], y[rows[0]:rows[1]]) for ranges in plan for rows in ranges}
    results = [[] for _ in plan]

    def worker(t):
        def run():
            for lo, hi in plan[t]:
                results[t].append(net.evaluate(X[lo:hi], y[lo:hi]))
        return run

    _run_threads([worker(t) for t in range(len(plan))])
    for t, ranges in enumerate(plan):
        assert len(results[t]) == len(ranges)
        for rows, scores in zip(ranges, results[t]):
            assert scores == expected[rows], "thread %d, rows %s" % (t, rows)


# ---- training from several threads -------------------------------------------------------------


@pytest.mark.parametrize("shape", ["small", "wide"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_train_step_from_two_threads_is_atomic(two_threads, shape, dtype):
    K = 30
    X, y = _data(shape, n=64, seed=3)
    serial = _net(shape, dtype, seed=4)
    serial_losses = [serial.train_step(X, y) for _ in range(2 * K)]
    for attempt in range(3 if shape == "small" else 2):  # a few times: different interleavings
        net = _net(shape, dtype, seed=4)  # the same seed: the same start
        losses = [[], []]

        def worker(t):
            def run():
                for _ in range(K):
                    losses[t].append(net.train_step(X, y))
            return run

        _run_threads([worker(0), worker(1)])
        assert net.optimizer.step == serial.optimizer.step == 2 * K
        _assert_same_weights(net, serial)
        # each step saw a whole state: the losses are the serial ones, in some order
        assert sorted(losses[0] + losses[1]) == sorted(serial_losses)


@pytest.mark.parametrize("shape", ["small", "wide"])
def test_fit_from_two_threads(two_threads, shape):
    X, y = _data(shape, n=1000, seed=5)
    batches = 2 * -(-len(X) // 32)  # per fit: 32 batches in each of 2 epochs
    for attempt in range(3 if shape == "small" else 2):  # a few times: different interleavings
        net = _net(shape, "float32", seed=6)
        histories = [None, None]

        def worker(t):
            def run():
                histories[t] = net.fit(X, y, epochs=2, batch_size=32, shuffle=False, verbose=0)
            return run

        _run_threads([worker(0), worker(1)])
        assert net.optimizer.step == 2 * batches
        for w in net.get_weights():
            assert np.isfinite(w).all()
        for history in histories:
            assert history is not None and len(history.history["loss"]) == 2
            assert np.isfinite(history.history["loss"]).all()
        assert np.isfinite(net.predict(X)).all()


@pytest.mark.parametrize("shape", ["small", "wide"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_predict_while_training_sees_whole_weight_states(two_threads, shape, dtype):
    K = 20
    Xt, yt = _data(shape, n=64, seed=7)
    Xp = _data(shape, n=64, seed=8)[0]
    net = _net(shape, dtype, seed=9, optimizer=pynn.SGD(lr=0.05, momentum=0.9))
    replay = _net(shape, dtype, seed=9, optimizer=pynn.SGD(lr=0.05, momentum=0.9))
    done = threading.Event()
    outputs = []

    def trainer():
        try:
            for _ in range(K):
                net.train_step(Xt, yt)
        finally:
            done.set()

    def predictor():
        while not done.is_set():
            outputs.append(net.predict(Xp))
        outputs.append(net.predict(Xp))  # after the last step

    _run_threads([trainer, predictor])
    states = [replay.predict(Xp)]
    for _ in range(K):
        replay.train_step(Xt, yt)
        states.append(replay.predict(Xp))
    _assert_same_weights(net, replay)  # the training itself was not disturbed
    known = {s.tobytes(): k for k, s in enumerate(states)}
    assert len(known) == K + 1  # every state predicts differently: a match names one state
    seen = []
    for i, out in enumerate(outputs):
        assert out.dtype == net.dtype and out.shape == states[0].shape
        k = known.get(out.tobytes())
        assert k is not None, "prediction %d of %d matches none of the %d weight states" % (i, len(outputs), K + 1)
        seen.append(k)
    assert seen == sorted(seen)  # and the states follow the training's order
    assert seen[-1] == K


# ---- the thread pool ---------------------------------------------------------------------------


@pytest.fixture
def restore_threads():
    previous = pynn.get_num_threads()
    try:
        yield
    finally:
        pynn.set_num_threads(previous)


def test_os_threads_stay_bounded(restore_threads):
    if not os.path.isdir("/proc/self/task"):
        pytest.skip("no /proc/self/task to count threads")
    gc.collect()
    start = len(os.listdir("/proc/self/task"))
    rng = np.random.default_rng(10)
    X, y = rng.normal(size=(256, 64)), rng.integers(0, 4, size=256)
    nets = []
    for i in range(60):
        pynn.set_num_threads(1 + i % 3)
        net = pynn.Network([pynn.Dense(64, 256, "relu"), pynn.Dense(256, 4, "softmax")], loss="cross_entropy",
                           optimizer=pynn.SGD(lr=0.01), seed=i)
        net.train_step(X, y)  # products of 256 x 64 x 256: the multi-threaded path
        nets.append(net)
    count = len(os.listdir("/proc/self/task"))
    assert count <= start + 3, "%d OS threads after training 60 networks, %d before" % (count, start)
    for net in nets:  # and they all still work
        assert np.isfinite(net.predict(X[:3])).all()


# ---- atomic construction -----------------------------------------------------------------------


def _raises(shape, rng):
    raise RuntimeError("init failed")


def _wrong_shape(shape, rng):
    return np.zeros((shape[0] + 1,) + tuple(shape[1:]))


def _nan(shape, rng):
    return np.full(shape, np.nan)


@pytest.mark.parametrize("bad, error", [(_raises, RuntimeError), (_wrong_shape, ValueError), (_nan, ValueError)])
@pytest.mark.parametrize("position", [0, 1])
@pytest.mark.parametrize("argument", ["init", "bias_init"])
def test_failed_init_leaves_layers_and_optimizer_reusable(bad, error, position, argument):
    opt = pynn.Adam(lr=0.01)
    sizes = [(2, 3, "tanh"), (3, 1, "linear")]
    good_position = 1 - position
    good = pynn.Dense(*sizes[good_position])
    broken = pynn.Dense(*sizes[position], **{argument: bad})
    layers = [broken, good] if position == 0 else [good, broken]
    with pytest.raises(error):
        pynn.Network(layers, optimizer=opt, dtype="float64", seed=0)
    assert opt.step == 0

    fresh = pynn.Dense(*sizes[position])
    layers = [fresh, good] if position == 0 else [good, fresh]
    net = pynn.Network(layers, optimizer=opt, dtype="float64", seed=0)
    assert net.optimizer is opt and net.layers[good_position] is good
    assert good.W.shape == (sizes[good_position][0], sizes[good_position][1])
    scratch = pynn.Network([pynn.Dense(*sizes[0]), pynn.Dense(*sizes[1])], optimizer=pynn.Adam(lr=0.01),
                           dtype="float64", seed=0)
    _assert_same_weights(net, scratch)
    X, y = np.array([[0.5, -1.0], [1.5, 2.0]]), np.array([1.0, -1.0])
    net.train_step(X, y)
    scratch.train_step(X, y)
    _assert_same_weights(net, scratch)
    assert opt.step == 1


def test_failed_loss_pairing_leaves_layers_and_optimizer_reusable():
    opt = pynn.SGD(lr=0.1)
    first, last = pynn.Dense(2, 3, "tanh"), pynn.Dense(3, 2, "linear")
    with pytest.raises(ValueError):
        pynn.Network([first, last], loss="cross_entropy", optimizer=opt, seed=0)
    with pytest.raises(ValueError):
        pynn.Network([first, last], loss="bogus", optimizer=opt, seed=0)
    net = pynn.Network([first, last], loss="mse", optimizer=opt, seed=0)
    assert net.optimizer is opt and net.layers[0] is first and net.layers[1] is last
    net.train_step([[1.0, 2.0]], [[0.5, -0.5]])
    assert opt.step == 1


def test_failed_layer_checks_leave_layers_and_optimizer_reusable():
    opt = pynn.SGD(lr=0.1)
    first = pynn.Dense(2, 3, "tanh")
    owned = pynn.Dense(3, 1)
    pynn.Network([pynn.Dense(2, 3), owned])
    with pytest.raises(ValueError):  # a layer of another network
        pynn.Network([first, owned], optimizer=opt)
    with pytest.raises(ValueError):  # sizes that do not fit
        pynn.Network([first, pynn.Dense(4, 1)], optimizer=opt)
    with pytest.raises(ValueError):  # softmax on a hidden layer
        pynn.Network([first, pynn.Dense(3, 3, "softmax"), pynn.Dense(3, 1)], optimizer=opt)
    taken = pynn.SGD(lr=0.1)
    pynn.Network([pynn.Dense(2, 1)], optimizer=taken)
    last = pynn.Dense(3, 1)
    with pytest.raises(ValueError):  # an optimizer of another network
        pynn.Network([first, last], optimizer=taken)
    net = pynn.Network([first, last], optimizer=opt, seed=0)
    assert net.optimizer is opt and list(net.layers) == [first, last]
    net.train_step([[1.0, 2.0]], [0.5])
    assert opt.step == 1


# ---- copies --------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_deepcopy_used_from_threads_predicts_as_the_original(two_threads, backend, dtype):
    X, y = _data("wide", n=400, seed=11)
    net = _net("wide", dtype, seed=12)
    for name in pynn.available_backends():  # run on every backend, so each has made its state
        pynn.set_backend(name)
        net.predict(X[:64])
        net.train_step(X[:64], y[:64])
    pynn.set_backend(backend)
    net.predict(X[:7])
    twin = copy.deepcopy(net)
    _assert_same_weights(twin, net)
    plan = _plan(4, 20, len(X))
    expected = {rows: net.predict(X[rows[0]:rows[1]]) for ranges in plan for rows in ranges}
    results = [[] for _ in plan]

    def worker(t, model):
        def run():
            for lo, hi in plan[t]:
                results[t].append(model.predict(X[lo:hi]))
        return run

    _run_threads([worker(0, twin), worker(1, twin), worker(2, net), worker(3, twin)])
    for t, ranges in enumerate(plan):
        for rows, out in zip(ranges, results[t]):
            np.testing.assert_array_equal(out, expected[rows], err_msg="thread %d, rows %s" % (t, rows))
    # the copy is a network of its own
    before = net.get_weights()
    twin.train_step(X[:64], y[:64])
    for a, b in zip(net.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    assert twin.layers[0].W is not net.layers[0].W
    np.testing.assert_array_equal(twin.layers[0].W, twin.get_weights()[0])
