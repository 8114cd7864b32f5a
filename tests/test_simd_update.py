"""The C core's optimizer updates are compiled for the baseline instruction
set and, on x86, for AVX2 and AVX-512 (csrc/optimizers.inc): every rule is
elementwise IEEE arithmetic without fused multiply-adds, so each build gives
the same bits as the portable one, and all of them the numpy backend's
numbers.  Checked through apply_gradients with fixed gradients (no product
involved, so the kernels cannot differ anywhere else)."""
import numpy as np
import pytest

import pynn
from pynn import settings

SIMD = ["portable", "avx2", "avx512"]
OPTIMIZERS = [
    lambda: pynn.SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
    lambda: pynn.Adam(lr=1e-2),
    lambda: pynn.Adam(lr=1e-2, betas=(0.3, 0.9), weight_decay=1e-2),  # lerp's other branch
    lambda: pynn.AdamW(lr=1e-2),
    lambda: pynn.RMSprop(lr=1e-2, momentum=0.5, weight_decay=1e-3),
]


def run_updates(backend_name, simd, make_opt, dtype):
    pynn.set_backend(backend_name)
    old = settings.get_simd()
    settings.set_simd(simd)
    try:
        # 37 x 29 + 29 parameters in the first layer: vector bodies and ragged tails
        net = pynn.Network([pynn.Dense(37, 29, "tanh"), pynn.Dense(29, 3)], loss="mse", optimizer=make_opt(),
                           dtype=dtype, seed=3)
        rng = np.random.default_rng(9)
        for _ in range(4):
            net.apply_gradients([rng.normal(size=w.shape) for w in net.get_weights()])
        return net.get_weights()
    finally:
        settings.set_simd(old)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("which", range(len(OPTIMIZERS)))
def test_every_build_of_the_update_gives_the_same_bits(backend, which, dtype):
    if "c" not in pynn.available_backends():
        pytest.skip("the C core is not built")
    from pynn._core import lib
    ref = run_updates("c", "portable", OPTIMIZERS[which], dtype)
    for simd in SIMD[1:]:
        if not lib.pynn_simd_available(settings.SIMD_CODES[simd]):
            continue
        got = run_updates("c", simd, OPTIMIZERS[which], dtype)
        for a, b in zip(got, ref):
            assert np.array_equal(a, b), simd
    numpy_result = run_updates("numpy", "auto", OPTIMIZERS[which], dtype)
    for a, b in zip(numpy_result, ref):
        np.testing.assert_allclose(a, b, rtol=0, atol=(1e-6 if dtype == "float32" else 1e-14) * np.abs(b).max())
