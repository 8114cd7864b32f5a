"""The C core's small-operand products (csrc/gemm.inc's small path and the
small kernels of csrc/simd_x86.c): products whose B fits in L2 are read in
place with register tiles sized from N, no packing.  Checked for every
kernel this CPU runs, on every edge shape with M, N, K in 1..70 (partial
tiles in both directions, the masked last vector), in the three stride
patterns of a dense layer, against numpy; the portable kernel bit for bit
against the same sums done by numpy in order; and the tiling and threads
never changing a result."""
import numpy as np
import pytest

import pynn
from pynn import settings

from test_gemm import SIMD, core, matmul

# every (M, N, K) edge: 1, a few around the tile sizes (6, 8 rows; 4, 8, 16
# lanes x 1..4 vectors), primes, and up to 70
EDGES = [1, 2, 3, 5, 6, 7, 8, 9, 13, 15, 16, 17, 31, 33, 47, 48, 49, 63, 64, 65, 70]


def small_shapes(rng, count):
    """`count` shapes with every dimension from EDGES; always includes the
    corners (1, 1, 1) and (70, 70, 70)."""
    shapes = [(1, 1, 1), (70, 70, 70), (1, 70, 1), (70, 1, 70), (6, 64, 1), (8, 16, 3)]
    while len(shapes) < count:
        shapes.append(tuple(int(v) for v in rng.choice(EDGES, 3)))
    return shapes


def runnable(simd):
    ffi, lib = core()
    if not lib.pynn_simd_available(settings.SIMD_CODES[simd]):
        pytest.skip("this CPU cannot run the %s kernels" % simd)


def operands(rng, M, N, K, transpose, dtype):
    ta, tb = transpose[0] == "T", transpose[1] == "T"
    A = rng.normal(size=(K, M) if ta else (M, K)).astype(dtype)
    B = rng.normal(size=(N, K) if tb else (K, N)).astype(dtype)
    return A, B, ta, tb


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("transpose", ["NN", "NT", "TN"])
@pytest.mark.parametrize("simd", SIMD)
def test_small_products_match_numpy(backend, simd, transpose, dtype):
    runnable(simd)
    rng = np.random.default_rng(7)
    for M, N, K in small_shapes(rng, 60):
        A, B, ta, tb = operands(rng, M, N, K, transpose, dtype)
        expected = (A.T if ta else A).astype(np.float64) @ (B.T if tb else B).astype(np.float64)
        got = matmul(A, B, ta, tb, simd, 1)
        tol = (4e-7 if dtype == np.float32 else 1e-15) * K
        scale = (np.abs(A).max() * np.abs(B).max())
        np.testing.assert_allclose(got, expected, rtol=0, atol=tol * scale, err_msg="shape %s" % ((M, N, K),))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("transpose", ["NN", "NT", "TN"])
def test_portable_small_path_is_the_plain_sum_in_order(backend, transpose, dtype):
    """The reference kernel sums a[i,p] * b[p,j] over p in order, a rounded
    product then a rounded sum each step (no fused multiply-add): numpy's
    elementwise arithmetic in the same dtype gives the same bits."""
    core()
    rng = np.random.default_rng(3)
    for M, N, K in small_shapes(rng, 25):
        A, B, ta, tb = operands(rng, M, N, K, transpose, dtype)
        a, b = (A.T if ta else A), (B.T if tb else B)
        expected = np.zeros((M, N), dtype)
        for p in range(K):
            expected = expected + a[:, p:p + 1] * b[p:p + 1, :]
        got = matmul(A, B, ta, tb, "portable", 1)
        assert np.array_equal(got, expected), "shape %s" % ((M, N, K),)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("simd", SIMD)
def test_tiling_never_changes_a_result(backend, simd, dtype):
    """Each element is one chain of multiply-adds over K whatever tile holds
    it: a row computed alone (one-row tile), a column block computed alone
    (a narrower tile, another mask) and the whole product agree bit for bit."""
    runnable(simd)
    rng = np.random.default_rng(5)
    M, N, K = 37, 70, 45
    for transpose in ("NN", "NT", "TN"):
        A, B, ta, tb = operands(rng, M, N, K, transpose, dtype)
        whole = matmul(A, B, ta, tb, simd, 1)
        for i in (0, 6, 36):
            row = np.ascontiguousarray(A[:, i:i + 1] if ta else A[i:i + 1])
            assert np.array_equal(matmul(row, B, ta, tb, simd, 1)[0], whole[i])
        for lo, hi in ((0, 3), (5, 21), (17, 70)):
            cols = np.ascontiguousarray(B[lo:hi] if tb else B[:, lo:hi])
            assert np.array_equal(matmul(A, cols, ta, tb, simd, 1), whole[:, lo:hi])


@pytest.mark.parametrize("simd", SIMD)
def test_small_path_results_do_not_depend_on_threads(backend, simd):
    """A small-path product big enough to be split over threads (M*N*K over
    a million, B under 1 MiB) gives the same bits on 1, 2 and 3 threads."""
    runnable(simd)
    rng = np.random.default_rng(11)
    for M, N, K, transpose in ((130, 257, 70, "NN"), (257, 130, 70, "TN"), (200, 100, 90, "NT")):
        A, B, ta, tb = operands(rng, M, N, K, transpose, np.float32)
        one = matmul(A, B, ta, tb, simd, 1)
        for threads in (2, 3):
            assert np.array_equal(matmul(A, B, ta, tb, simd, threads), one)


@pytest.mark.parametrize("simd", SIMD)
def test_small_layers_train_like_numpy(backend, simd):
    """A network of small layers (every product on the small path, with the
    bias/activation and derivative epilogues and the transposed W of dX)
    trains as the numpy backend does, for every kernel."""
    runnable(simd)
    old_simd = settings.get_simd()
    results = {}
    try:
        for name, kernel in (("numpy", "auto"), ("c", simd)):
            pynn.set_backend(name)
            settings.set_simd(kernel)
            rng = np.random.default_rng(2)
            X = rng.normal(size=(48, 13))
            y = rng.integers(0, 5, size=48)
            net = pynn.Network([pynn.Dense(13, 33, "relu"), pynn.Dense(33, 17, "tanh"), pynn.Dense(17, 5, "softmax")],
                               loss="cross_entropy", optimizer=pynn.Adam(lr=1e-2), dtype="float64", seed=4)
            losses = [net.train_step(X[i % 3 * 16:][:16], y[i % 3 * 16:][:16]) for i in range(6)]
            results[name] = (net.get_weights(), losses)
    finally:
        settings.set_simd(old_simd)
    for a, b in zip(results["c"][0], results["numpy"][0]):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12 * np.abs(b).max())
    np.testing.assert_allclose(results["c"][1], results["numpy"][1], rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_split_small_layers_do_not_depend_on_threads(backend, dtype):
    """A network whose small-path products are split over threads (the
    tabular rung's 64 x 256 x 256, over a million multiply-adds) trains to
    the same bits on 1, 2 and 3 threads."""
    core()
    old = pynn.get_num_threads()
    pynn.set_backend("c")
    results = []
    try:
        for threads in (1, 2, 3):
            pynn.set_num_threads(threads)
            rng = np.random.default_rng(8)
            X, y = rng.normal(size=(64, 100)), rng.normal(size=(64, 1))
            net = pynn.Network([pynn.Dense(100, 256, "relu"), pynn.Dense(256, 256, "gelu"), pynn.Dense(256, 1)],
                               loss="mse", optimizer=pynn.Adam(lr=1e-3), dtype=dtype, seed=6)
            losses = [net.train_step(X, y) for _ in range(3)]
            results.append((net.get_weights(), losses))
    finally:
        pynn.set_num_threads(old)
    for weights, losses in results[1:]:
        assert losses == results[0][1]
        for a, b in zip(weights, results[0][0]):
            assert np.array_equal(a, b)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's overflow warnings, the point of the test
@pytest.mark.parametrize("n_in, n_out, batch", [(8, 1, 8), (4, 600, 512)])  # dW on the small, then blocked path
def test_a_gradient_that_overflows_stops_the_step(backend, n_in, n_out, batch):
    """The C step checks the gradients as the products write them (no pass
    of its own): a gradient that overflows to infinity while the loss stays
    finite raises DivergenceError and leaves weights and step count as they
    were, as the numpy backend does."""
    if backend == "c":
        core()
    X = np.full((batch, n_in), 3e38, np.float32)
    y = np.full((batch, n_out), -1e30 if n_out > 1 else 0.0, np.float32)
    net = pynn.Network([pynn.Dense(n_in, n_out)], loss="mse", optimizer=pynn.SGD(lr=0.1), dtype="float32", seed=0)
    W = np.full((n_in, n_out), 1e-39 if n_out > 1 else 1e-38 / n_in, np.float32)
    net.set_weights([W, np.zeros(n_out, np.float32)])
    # the loss is finite (float64 sums), the weight gradient Σ x * dz is not
    assert np.isfinite(net.evaluate(X, y)["loss"])
    before = net.get_weights()
    with pytest.raises(pynn.DivergenceError):
        net.train_step(X, y)
    assert net.optimizer.step == 0
    for a, b in zip(net.get_weights(), before):
        assert np.array_equal(a, b)
