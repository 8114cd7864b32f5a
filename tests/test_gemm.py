"""The C core's matrix products (csrc/gemm.inc, blocked and small paths) against numpy, for
every micro-kernel this CPU can run, on shapes that exercise every edge
(partial tiles, several K/M/N blocks) and all three stride patterns a dense
layer uses (X·W, dZ·Wᵀ, Xᵀ·dZ); and whole networks large enough to take the
blocked path against the numpy backend, for any number of threads."""
import numpy as np
import pytest

import pynn
from pynn import settings

SIMD = ["portable", "avx2", "avx512", "neon"]  # every family; those this CPU lacks are skipped
SHAPES = [(1, 1, 1), (5, 7, 3), (6, 16, 8), (13, 33, 29), (97, 70, 300), (130, 2100, 40), (200, 50, 600),
          # B over 1 MiB: the packed, blocked path (the ones above read operands in place, see
          # test_small_gemm.py): two K blocks, edge tiles both ways, N over one NC block
          (50, 700, 400), (20, 2100, 130), (100, 40, 7000)]


def core():
    if "c" not in pynn.available_backends():
        pytest.skip("the C core is not built")
    from pynn._core import ffi, lib
    return ffi, lib


def matmul(A, B, transpose_a, transpose_b, simd, threads):
    """C = op(A) @ op(B) through pynn_matmul, with transposes as strides."""
    ffi, lib = core()
    ctype, suffix = ("float", "_f32") if A.dtype == np.float32 else ("double", "_f64")
    M, K = (A.shape[1], A.shape[0]) if transpose_a else A.shape
    N = B.shape[0] if transpose_b else B.shape[1]
    rsa, csa = (1, A.shape[1]) if transpose_a else (A.shape[1], 1)
    rsb, csb = (1, B.shape[1]) if transpose_b else (B.shape[1], 1)
    pool = ffi.gc(lib.pynn_pool_create(threads), lib.pynn_pool_destroy)
    pack = np.empty(getattr(lib, "pynn_matmul_pack_size" + suffix)(pool, M, N, K), A.dtype)
    C = np.full((M, N), np.nan, A.dtype)
    buf = lambda a: ffi.from_buffer(ctype + "[]", a)  # noqa: E731
    status = getattr(lib, "pynn_matmul" + suffix)(
        settings.SIMD_CODES[simd], pool, M, N, K, buf(A), rsa, csa, buf(B), rsb, csb, buf(C), N, buf(pack), pack.size)
    assert status == 0
    return C


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("transpose", ["NN", "NT", "TN"])
@pytest.mark.parametrize("simd", SIMD)
def test_matmul_matches_numpy(backend, simd, transpose, dtype, threads):
    ffi, lib = core()
    if not lib.pynn_simd_available(settings.SIMD_CODES[simd]):
        pytest.skip("this CPU cannot run the %s kernels" % simd)
    rng = np.random.default_rng(0)
    ta, tb = transpose[0] == "T", transpose[1] == "T"
    for M, N, K in SHAPES:
        A = rng.normal(size=(K, M) if ta else (M, K)).astype(dtype)
        B = rng.normal(size=(N, K) if tb else (K, N)).astype(dtype)
        expected = (A.T if ta else A).astype(np.float64) @ (B.T if tb else B).astype(np.float64)
        got = matmul(A, B, ta, tb, simd, threads)
        tol = (1e-5 if dtype == np.float32 else 1e-13) * np.sqrt(K)
        np.testing.assert_allclose(got, expected, rtol=0, atol=tol * np.abs(expected).max(),
                                   err_msg="shape %s" % ((M, N, K),))


def big_network(loss, out, dtype, seed=0):
    layers = [pynn.Dense(70, 130, "gelu"), pynn.Dense(130, 97, "tanh"), pynn.Dense(97, 40, "leaky_relu"),
              pynn.Dense(40, 12, out)]
    return pynn.Network(layers, loss=loss, optimizer=pynn.Adam(lr=1e-3), dtype=dtype, seed=seed)


def train_big(backend_name, loss, out, dtype, threads=None, simd="auto", steps=8):
    pynn.set_backend(backend_name)
    old_threads, old_simd = pynn.get_num_threads(), settings.get_simd()
    if threads:
        pynn.set_num_threads(threads)
    settings.set_simd(simd)
    try:
        rng = np.random.default_rng(1)
        X = rng.normal(size=(150, 70))
        y = rng.integers(0, 12, size=150) if loss == "cross_entropy" else rng.normal(size=(150, 12))
        net = big_network(loss, out, dtype)
        losses = [net.train_step(X[i * 50 % 150:][:50], y[i * 50 % 150:][:50]) for i in range(steps)]
        return net.get_weights(), losses, net.predict(X)
    finally:
        pynn.set_num_threads(old_threads)
        settings.set_simd(old_simd)


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-10), ("float32", 1e-4)])
@pytest.mark.parametrize("loss, out", [("cross_entropy", "softmax"), ("mse", "sigmoid")])
def test_blocked_network_matches_numpy_backend(backend, loss, out, dtype, rtol):
    core()
    ref = train_big("numpy", loss, out, dtype)
    got = train_big("c", loss, out, dtype)
    for a, b in zip(got[0], ref[0]):
        np.testing.assert_allclose(a, b, rtol=0, atol=rtol * np.abs(b).max())
    np.testing.assert_allclose(got[1], ref[1], rtol=rtol * 10)
    np.testing.assert_allclose(got[2], ref[2], rtol=0, atol=rtol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_results_do_not_depend_on_thread_count(backend, dtype):
    core()
    one = train_big("c", "cross_entropy", "softmax", dtype, threads=1)
    for threads in (2, 3):
        many = train_big("c", "cross_entropy", "softmax", dtype, threads=threads)
        for a, b in zip(one[0], many[0]):
            assert np.array_equal(a, b)
        assert one[1] == many[1]


@pytest.mark.parametrize("simd", SIMD)
def test_every_kernel_trains_like_numpy(backend, simd):
    ffi, lib = core()
    if not lib.pynn_simd_available(settings.SIMD_CODES[simd]):
        pytest.skip("this CPU cannot run the %s kernels" % simd)
    ref = train_big("numpy", "cross_entropy", "softmax", "float64")
    got = train_big("c", "cross_entropy", "softmax", "float64", simd=simd)
    for a, b in zip(got[0], ref[0]):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10 * np.abs(b).max())


def test_set_simd_and_threads_validate(backend):
    with pytest.raises(ValueError, match="simd"):
        settings.set_simd("sse9")
    with pytest.raises(ValueError, match="n must be"):
        pynn.set_num_threads(0)
