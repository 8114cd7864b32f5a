"""Which micro-kernel families the C core says this CPU runs (pynn_simd_available).

pynn.h documents the answer as 1 or 0: a raw CPU-feature mask (32768 from
__builtin_cpu_supports("avx512f")) is a bug.  The expected answers come from
the operating system's own list of CPU features (/proc/cpuinfo) and the
machine's architecture, not from the core."""
import platform

import pytest

import pynn
from pynn import settings

X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")
ARM64 = platform.machine().lower() in ("aarch64", "arm64")


def core_lib():
    if "c" not in pynn.available_backends():
        pytest.skip("the C core is not built")
    from pynn._core import lib
    return lib


def cpuinfo_flags():
    """The CPU feature flags Linux reports, or None elsewhere."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return None


def test_simd_available_is_one_or_zero(backend):
    lib = core_lib()
    for name, code in settings.SIMD_CODES.items():
        assert lib.pynn_simd_available(code) in (0, 1), name
    for code in (-1, max(settings.SIMD_CODES.values()) + 1, 1000):  # not a pynn_simd
        assert lib.pynn_simd_available(code) == 0, code


def test_auto_and_portable_are_always_available(backend):
    lib = core_lib()
    assert lib.pynn_simd_available(settings.SIMD_CODES["auto"]) == 1
    assert lib.pynn_simd_available(settings.SIMD_CODES["portable"]) == 1


@pytest.mark.skipif(not X86, reason="x86 CPU features")
def test_x86_families_match_the_cpu_flags(backend):
    lib = core_lib()
    flags = cpuinfo_flags()
    if flags is None:
        pytest.skip("no /proc/cpuinfo")
    assert lib.pynn_simd_available(settings.SIMD_CODES["avx2"]) == int({"avx2", "fma"} <= flags)
    assert lib.pynn_simd_available(settings.SIMD_CODES["avx512"]) == int("avx512f" in flags)
    assert lib.pynn_simd_available(settings.SIMD_CODES["neon"]) == 0


def test_neon_only_on_arm64(backend):
    lib = core_lib()
    assert lib.pynn_simd_available(settings.SIMD_CODES["neon"]) == int(ARM64)
    if not ARM64:
        with pytest.raises(ValueError, match="neon"):
            settings.set_simd("neon")
        assert settings.get_simd() != "neon"


def test_every_family_has_a_name_in_set_simd_docs(backend):
    """settings.set_simd's docstring and error message list every family."""
    doc = settings.set_simd.__doc__ or ""
    for name in settings.SIMD_CODES:
        assert '"%s"' % name in doc, name
    with pytest.raises(ValueError) as info:
        settings.set_simd("sse9")
    for name in settings.SIMD_CODES:
        assert repr(name) in str(info.value), name


# ---- the build flags that keep float32 results the same on every machine ----

def build_core_module():
    """csrc/build_core.py as a module (it needs cffi, the build dependency)."""
    import importlib.util
    import os
    pytest.importorskip("cffi")
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "csrc", "build_core.py")
    spec = importlib.util.spec_from_file_location("_pynn_build_core_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_compiler(tmp_path, name, macros):
    """An executable that answers `cc -dM -E -x c -` with these macro lines."""
    import os
    import stat
    path = tmp_path / name
    path.write_text("#!/bin/sh\ncat >/dev/null\nprintf '%s'\n" % "\\n".join("#define %s 1" % m for m in macros))
    path.chmod(path.stat().st_mode | stat.S_IEXEC | stat.S_IXGRP | stat.S_IXOTH)
    return os.fspath(path)


@pytest.mark.skipif(platform.system() == "Windows", reason="shell-script stand-ins for compilers")
def test_gcc_and_clang_are_told_apart(backend, tmp_path):
    bc = build_core_module()
    gcc = fake_compiler(tmp_path, "fake-gcc", ["__GNUC__", "__x86_64__"])
    clang = fake_compiler(tmp_path, "fake-clang", ["__GNUC__", "__clang__"])
    assert bc.compiler_is_gcc("unix", [gcc]) is True
    assert bc.compiler_is_gcc("unix", [clang]) is False
    assert bc.compiler_is_gcc("unix", [str(tmp_path / "no-such-cc")]) is False
    assert bc.compiler_is_gcc("msvc", [gcc]) is False


@pytest.mark.skipif(platform.system() == "Windows", reason="shell-script stand-ins for compilers")
def test_flags_keep_float32_float32(backend, tmp_path):
    """ISO C99 (not gnu99), no FMA contraction for GCC and clang, and for GCC
    alone -fexcess-precision=fast (clang 14 rejects it with a warning; it
    keeps float in float anyway); no -pthread for mingw-w64 (the Win32
    threads, no libwinpthread); MSVC gets only MSVC flags."""
    bc = build_core_module()
    gcc = fake_compiler(tmp_path, "fake-gcc", ["__GNUC__"])
    clang = fake_compiler(tmp_path, "fake-clang", ["__GNUC__", "__clang__"])
    for kind in ("unix", "mingw32", "cygwin"):
        g, c = bc.compile_args_for(kind, [gcc]), bc.compile_args_for(kind, [clang])
        for flags in (g, c):
            assert "-std=c99" in flags and "-ffp-contract=off" in flags, (kind, flags)
            assert not any(f.startswith("-std=gnu") for f in flags)
        assert "-fexcess-precision=fast" in g and "-fexcess-precision=fast" not in c, kind
        assert ("-pthread" in g) == (kind != "mingw32"), (kind, g)
    msvc = bc.compile_args_for("msvc")
    assert msvc and all(f.startswith("/") for f in msvc), msvc


def test_the_arm_kernels_are_built(backend):
    """simd_arm.c is one of the core's sources (it compiles to nothing off AArch64)."""
    bc = build_core_module()
    assert "simd_arm.c" in bc.SOURCES and "simd_x86.c" in bc.SOURCES


def test_no_bare_restrict_in_the_core(backend):
    """MSVC's C compiler has no C99 `restrict` (only __restrict): the core
    spells it PYNN_RESTRICT (common.h).  MSVC cannot run here, so this keeps
    the sources honest instead."""
    import os
    import re
    csrc = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "csrc")
    offenders = []
    for name in sorted(os.listdir(csrc)):
        if not name.endswith((".c", ".h", ".inc")):
            continue
        with open(os.path.join(csrc, name), encoding="utf-8") as f:
            text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)  # comments out
        for line in text.splitlines():
            if re.search(r"\brestrict\b", line) and "#define PYNN_RESTRICT restrict" not in line:
                offenders.append("%s: %s" % (name, line.strip()))
    assert not offenders, offenders
