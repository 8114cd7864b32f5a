"""setup.py chooses the C core's flags by the compiler that build_ext really
has (``compiler.compiler_type``), not by ``sys.platform``: MSVC gets MSVC's
flags, while gcc on Windows (an MSYS2/mingw-w64 Python: sys.platform is
"win32") gets gcc's.  And a failed compile is a warning only without
PYNN_REQUIRE_C=1.  Checked on setup.py's own build_ext class, with the
compiler and the parent's build step replaced by stand-ins (no compiler runs)."""
import os
import runpy
import sys
import types

import pytest

setuptools = pytest.importorskip("setuptools")
pytest.importorskip("cffi")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_build_ext(monkeypatch):
    """setup.py's build_ext class: setup.py run with setup() captured."""
    captured = {}
    monkeypatch.setattr(setuptools, "setup", lambda **kw: captured.update(kw))
    monkeypatch.chdir(ROOT)
    runpy.run_path(os.path.join(ROOT, "setup.py"), run_name="__main__")
    return captured["cmdclass"]["build_ext"]


def built_with(monkeypatch, compiler_type, fail=None):
    """The extension as the parent build_ext would receive it from setup.py's
    build_ext with a compiler of ``compiler_type``."""
    from setuptools import Distribution, Extension
    from setuptools.command.build_ext import build_ext as parent

    seen = {}

    def fake_build(self, ext):
        if fail is not None:
            raise fail
        seen.update(compile=list(ext.extra_compile_args), link=list(ext.extra_link_args),
                    libraries=list(ext.libraries))

    monkeypatch.setattr(parent, "build_extension", fake_build)
    cls = load_build_ext(monkeypatch)
    cmd = cls(Distribution({"name": "pynn"}))
    cmd.compiler = types.SimpleNamespace(compiler_type=compiler_type)
    cmd.build_extension(Extension("pynn._core", sources=["x.c"], extra_compile_args=["-WRONG"],
                                  extra_link_args=["-WRONG"], libraries=["WRONG"]))
    return seen


@pytest.mark.parametrize("platform", ["linux", "win32"])
def test_msvc_gets_msvc_flags_on_any_platform(backend, monkeypatch, platform):
    if backend != "numpy":
        pytest.skip("does not depend on the backend")
    monkeypatch.setattr(sys, "platform", platform)
    seen = built_with(monkeypatch, "msvc")
    assert seen["compile"] and all(f.startswith("/") for f in seen["compile"]), seen
    assert not any(f.startswith("-") for f in seen["link"]), seen
    assert "m" not in seen["libraries"] and "WRONG" not in seen["libraries"], seen


@pytest.mark.parametrize("compiler_type", ["unix", "mingw32", "cygwin"])
def test_gcc_gets_gcc_flags_even_on_win32(backend, monkeypatch, compiler_type):
    """An MSYS2 Python reports sys.platform "win32" but compiles with gcc."""
    if backend != "numpy":
        pytest.skip("does not depend on the backend")
    monkeypatch.setattr(sys, "platform", "win32")
    seen = built_with(monkeypatch, compiler_type)
    assert "-O3" in seen["compile"] and not any(f.startswith("/") for f in seen["compile"]), seen
    assert "-WRONG" not in seen["compile"] + seen["link"], seen
    if compiler_type == "mingw32":  # the Win32 threads path: no -pthread, so no libwinpthread import
        assert "-pthread" not in seen["link"], seen
    else:
        assert seen["link"] == ["-pthread"] and seen["libraries"] == ["m"], seen


@pytest.mark.parametrize("platform, version, expected", [
    ("linux", "3.12.1 (main) [GCC 12.2.0]", "unix"),
    ("darwin", "3.12.1 (main) [Clang 15.0.0]", "unix"),
    ("win32", "3.12.1 (tags/v3.12.1) [MSC v.1937 64 bit (AMD64)]", "msvc"),
    ("win32", "3.12.1 (main) [GCC 13.2.0 64 bit (AMD64)]", "mingw32"),  # MSYS2's mingw-w64 Python
])
def test_default_compiler_type(backend, monkeypatch, platform, version, expected):
    """What build_core.py assumes before build_ext knows the compiler (the
    same rule as setuptools' get_default_compiler)."""
    if backend != "numpy":
        pytest.skip("does not depend on the backend")
    import importlib.util
    spec = importlib.util.spec_from_file_location("build_core_under_test", os.path.join(ROOT, "csrc", "build_core.py"))
    module = importlib.util.module_from_spec(spec)
    monkeypatch.chdir(ROOT)
    spec.loader.exec_module(module)
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(sys, "version", version)
    assert module.default_compiler_type() == expected


@pytest.mark.parametrize("require_c", ["0", "1"])
def test_a_failed_compile_is_an_error_only_with_require_c(backend, monkeypatch, capsys, require_c):
    if backend != "numpy":
        pytest.skip("does not depend on the backend")
    from setuptools.errors import CompileError
    monkeypatch.setenv("PYNN_REQUIRE_C", require_c)
    if require_c == "1":
        with pytest.raises(CompileError):
            built_with(monkeypatch, "unix", fail=CompileError("no compiler"))
    else:
        assert built_with(monkeypatch, "unix", fail=CompileError("no compiler")) == {}
        assert "C core could not be built (no compiler)" in capsys.readouterr().err


@pytest.mark.parametrize("limited", [True, False])
def test_the_wheel_is_tagged_abi3_only_for_a_stable_abi_core(backend, monkeypatch, limited):
    """One cp39-abi3 wheel serves Python 3.9 and later -- but only if the core
    is built for the stable ABI (cffi does not on debug or free-threaded
    builds: then the wheel keeps its interpreter's own tag)."""
    if backend != "numpy":
        pytest.skip("does not depend on the backend")
    from setuptools import Distribution, Extension
    captured = {}
    monkeypatch.setattr(setuptools, "setup", lambda **kw: captured.update(kw))
    monkeypatch.chdir(ROOT)
    runpy.run_path(os.path.join(ROOT, "setup.py"), run_name="__main__")
    if "bdist_wheel" not in captured["cmdclass"]:
        pytest.skip("neither setuptools >= 70.1 nor the wheel package is installed")
    dist = Distribution({"name": "pynn", "ext_modules": [Extension("pynn._core", ["x.c"], py_limited_api=limited)]})
    cmd = captured["cmdclass"]["bdist_wheel"](dist)
    cmd.finalize_options()
    assert cmd.py_limited_api == ("cp39" if limited else False)
