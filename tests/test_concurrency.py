"""Threads, processes and Ctrl-C (issue 5).

- Two Python threads training two networks at once get exactly the results of training them one
  after the other (the C calls release the GIL and share one thread pool, see csrc/threads.c).
- A child made by fork after the parent trained with 2 threads trains and gets the parent's
  numbers; a hang fails the test (timeout) instead of blocking the run.
- KeyboardInterrupt during fit, from a callback or from a signal at a random moment, leaves the
  weights, optimizer state and step count of a completed step, checked against a train_step
  replay of the same batches.
"""
import copy
import multiprocessing
import signal
import threading
import time
import _thread

import numpy as np
import pytest

import pynn


def _data(n=512, n_in=32, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_in))
    return X, rng.integers(0, 4, size=n)


def _net(seed, dtype="float64", width=96):
    # wide enough that its products take the blocked, multi-threaded path of the C core
    return pynn.Network([pynn.Dense(32, width, "relu"), pynn.Dense(width, width, "tanh"),
                         pynn.Dense(width, 4, "softmax")], loss="cross_entropy",
                        optimizer=pynn.Adam(lr=1e-3), dtype=dtype, seed=seed)


def _same_loss(a, b):
    """Epoch losses: fit sums the batch losses per chunk of batches, and chunks follow the
    measured speed (Network._chunk_rows), so the sum's rounding may differ in the last bit
    between runs; the weights, compared exactly, do not."""
    np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.fixture
def two_threads():
    previous = pynn.get_num_threads()
    pynn.set_num_threads(2)
    yield
    pynn.set_num_threads(previous)


def _train(net, X, y, epochs=3):
    history = net.fit(X, y, epochs=epochs, batch_size=64, verbose=0)
    return history.history["loss"], net.get_weights()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_two_threads_train_two_networks_as_sequentially(two_threads, dtype):
    X, y = _data()
    sequential = [_train(_net(seed, dtype), X, y) for seed in (1, 2)]
    for _ in range(2):  # twice: different interleavings
        results, errors = [None, None], []

        def work(i, seed):
            try:
                results[i] = _train(_net(seed, dtype), X, y)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i, seed)) for i, seed in enumerate((1, 2))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads), "a training thread hangs"
        assert not errors, errors
        for (loss_a, w_a), (loss_b, w_b) in zip(results, sequential):
            _same_loss(loss_a, loss_b)
            for a, b in zip(w_a, w_b):
                np.testing.assert_array_equal(a, b)


def _child(conn, dtype):
    try:
        X, y = _data()
        loss, weights = _train(_net(7, dtype), X, y, epochs=2)
        conn.send((loss, weights, pynn.backend(), pynn.get_num_threads()))
    except BaseException as exc:
        conn.send(exc)
    finally:
        conn.close()


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="no fork on this platform")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_training_in_a_forked_child(two_threads, backend, dtype):
    X, y = _data()
    parent = _train(_net(7, dtype), X, y, epochs=2)  # the parent's pool has its workers now
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(send, dtype))
    process.start()
    send.close()
    try:
        if not receive.poll(120):
            pytest.fail("the forked child did not finish training in 120 s (a hang after fork)")
        result = receive.recv()
    finally:
        process.join(10)
        if process.is_alive():
            process.kill()
            process.join()
    assert not isinstance(result, BaseException), result
    loss, weights, child_backend, child_threads = result
    assert (child_backend, child_threads) == (backend, 2)
    _same_loss(loss, parent[0])
    for a, b in zip(weights, parent[1]):
        np.testing.assert_array_equal(a, b)
    assert process.exitcode == 0
    # and the parent still trains after the fork
    again = _train(_net(7, dtype), X, y, epochs=2)
    _same_loss(again[0], parent[0])


def _replay(net, X, y, steps, batch_size, shuffle=True):
    """The state after ``steps`` batches of fit's order, made with train_step on a copy."""
    ref = copy.deepcopy(net)
    rng = copy.deepcopy(net._plan.rng)
    n_batches = -(-len(X) // batch_size)
    done = 0
    while done < steps:
        order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
        for b in range(n_batches):
            if done == steps:
                break
            rows = order[b * batch_size:(b + 1) * batch_size]
            ref.train_step(X[rows], y[rows])
            done += 1
    return ref


def _assert_same_state(net, ref):
    assert net.optimizer.step == ref.optimizer.step
    for a, b in zip(net.get_weights(), ref.get_weights()):
        assert np.isfinite(a).all()
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(net._plan.state, ref._plan.state)


def test_keyboard_interrupt_from_a_callback():
    X, y = _data(256)
    net = _net(3)
    start = copy.deepcopy(net)

    class CtrlC(pynn.Callback):
        def on_batch_end(self, batch, logs=None):
            if batch == 5:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        net.fit(X, y, epochs=3, batch_size=32, verbose=0, callbacks=[CtrlC()])
    _assert_same_state(net, _replay(start, X, y, steps=6, batch_size=32))  # batches 0..5 completed


@pytest.mark.parametrize("delay", [0.01, 0.05, 0.13, 0.31])
def test_keyboard_interrupt_by_signal_at_a_random_moment(delay):
    """interrupt_main (SIGINT's KeyboardInterrupt) while fit runs: whatever it hit, the network
    holds a completed step's state."""
    X, y = _data(1024)
    net = _net(4, width=64)
    start = copy.deepcopy(net)
    # a process started in the background by a non-interactive shell (as CI may be) inherits
    # SIGINT ignored, and then Python raises no KeyboardInterrupt: install Python's handler
    previous_handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(delay, _thread.interrupt_main)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            net.fit(X, y, epochs=1000, batch_size=16, verbose=0)
            time.sleep(10)  # pragma: no cover - fit cannot finish 1000 epochs first
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous_handler)
    steps = net.optimizer.step
    assert steps >= 0
    _assert_same_state(net, _replay(start, X, y, steps=steps, batch_size=16))
