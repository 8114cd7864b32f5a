"""The compiled core runs on any x86-64 CPU: only the run-time-selected
micro-kernels (csrc/simd_x86.c) contain AVX/AVX-512 instructions; everything
else is baseline code (no -march=native, no fast-math). Checked on the built
extension's machine code."""
import platform
import re
import shutil
import subprocess

import pytest

import pynn

# the run-time-selected code of csrc/simd_x86.c: every function there compiled for AVX2 or
# AVX-512 carries its instruction set in its name (pynn_kernel_avx512_f32, pynn_small_avx2_f64, ...,
# and the static helpers they are made of)
SIMD_NAME = re.compile(r"(^|_)(avx2|avx512)(_|$)")
MICRO_KERNELS = {"pynn_kernel_avx2_f32", "pynn_kernel_avx2_f64", "pynn_kernel_avx512_f32", "pynn_kernel_avx512_f64"}


def functions_using_vex(path):
    """Names of the functions whose code has VEX/EVEX-encoded instructions
    (AVX and later: mnemonics starting with v, or ymm/zmm registers)."""
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", path], capture_output=True, text=True,
                         check=True).stdout
    found, current = set(), None
    for line in out.splitlines():
        if line.endswith(">:") and "<" in line:
            current = line.split("<", 1)[1][:-2]
        elif "\t" in line and current:
            mnemonic = line.split("\t")[-1].split(" ")[0]
            if mnemonic.startswith("v") or "%ymm" in line or "%zmm" in line:
                found.add(current)
    return found


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86-64 machine code only")
@pytest.mark.skipif(shutil.which("objdump") is None, reason="needs objdump (binutils)")
def test_only_the_simd_kernels_use_avx(backend):
    if "c" not in pynn.available_backends():
        pytest.skip("the C core is not built")
    from pynn import _core
    used = functions_using_vex(_core.__file__)
    assert MICRO_KERNELS <= used, "the AVX kernels should be in the library"
    baseline = sorted(name for name in used if not SIMD_NAME.search(name.split(".")[0]))
    assert not baseline, "baseline code uses AVX: %s" % baseline


def test_build_flags_are_portable(backend):
    """The build script asks for no CPU-specific or value-changing flags."""
    import importlib.util
    import os
    spec = importlib.util.spec_from_file_location(
        "build_core", os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "csrc", "build_core.py"))
    pytest.importorskip("cffi")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    flags = module.compile_args()
    for bad in ("-march=native", "-mtune=native", "-ffast-math", "-Ofast", "-mavx", "-mavx2", "-mfma",
                "-funsafe-math-optimizations"):
        assert not any(f.startswith(bad) for f in flags), flags
