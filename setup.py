"""Build pynn: the pure-Python package plus the optional C core (pynn._core).

The core is compiled by cffi (``cffi_modules``).  If it cannot be built -- no
C compiler, or a platform where compiling fails -- the install still succeeds
and pynn runs on its numpy backend, saying so once at import (markupsafe's
approach).  Set PYNN_REQUIRE_C=1 to make a failed build an error instead.

What makes that work for ``pip install .`` and ``pip install -e .`` alike:
csrc/build_core.py declares the extension ``optional`` (unless
PYNN_REQUIRE_C=1), so setuptools neither stops at the failed compile nor,
for an editable install, tries to copy the library that was not built into
the checkout (OptionalBuildExt.copy_extensions_to_source makes sure of that
with old setuptools too); and OptionalBuildExt says so in one clear warning.
tests/test_install_without_compiler.py and .ci/platforms/no_compiler check it.

A wheel whose core is built for Python's stable ABI is tagged ``cp39-abi3``
(StableAbiWheel): one wheel for CPython 3.9 and later.

The compiler flags are chosen by the compiler that build_ext really has
(``compiler.compiler_type``: "msvc", or gcc/clang as "unix", "mingw32",
"cygwin"), not by ``sys.platform``: an MSYS2/mingw-w64 Python is win32 but
compiles with gcc.
"""
import importlib.util
import os
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

try:  # setuptools >= 70.1 has bdist_wheel built in; before that it is the wheel package's
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # pragma: no cover
    try:
        from wheel.bdist_wheel import bdist_wheel
    except ImportError:
        bdist_wheel = None

try:  # setuptools >= 59 re-exports these; older ones only have distutils
    from setuptools.errors import CCompilerError, ExecError, PlatformError
except ImportError:  # pragma: no cover
    from distutils.errors import CCompilerError
    from distutils.errors import DistutilsExecError as ExecError
    from distutils.errors import DistutilsPlatformError as PlatformError

BUILD_ERRORS = (CCompilerError, ExecError, PlatformError, OSError, ValueError)


def _build_core():
    """csrc/build_core.py as a module, for its flag functions."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "csrc", "build_core.py")
    spec = importlib.util.spec_from_file_location("_pynn_build_core", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class OptionalBuildExt(build_ext):
    """build_ext that picks the core's flags for the compiler in use and turns
    a failed compile into a warning (unless PYNN_REQUIRE_C=1)."""

    def run(self):
        try:
            super().run()
        except BUILD_ERRORS as exc:
            self._give_up(exc)

    def build_extension(self, ext):
        if ext.name == "pynn._core":
            core = _build_core()
            kind = self.compiler.compiler_type
            # the compiler command too (MSVC's has none): GCC and clang differ in a flag
            ext.extra_compile_args = core.compile_args_for(kind, getattr(self.compiler, "compiler_so", None))
            ext.extra_link_args = core.link_args_for(kind)
            ext.libraries = core.libraries_for(kind)
        try:
            super().build_extension(ext)
        except BUILD_ERRORS as exc:
            self._give_up(exc)

    def copy_extensions_to_source(self):
        """For an editable install: copy the built core into the checkout,
        skipping an optional one that did not build: setuptools 64.0.0, the
        oldest that pyproject.toml allows, still tries to copy the missing
        file and fails the install (pypa/setuptools#3510, fixed soon after)."""
        extensions = self.extensions
        self.extensions = [ext for ext in extensions if not ext.optional or os.path.exists(
            os.path.join(self.build_lib, self.get_ext_filename(self.get_ext_fullname(ext.name))))]
        try:
            super().copy_extensions_to_source()
        finally:
            self.extensions = extensions

    def _give_up(self, exc):
        if os.environ.get("PYNN_REQUIRE_C") == "1":
            raise exc
        sys.stderr.write(
            "\nWARNING: pynn's C core could not be built (%s).\n"
            "pynn is installed without it and will use its numpy backend.\n\n" % (exc,)
        )


commands = {"build_ext": OptionalBuildExt}

if bdist_wheel is not None:
    class StableAbiWheel(bdist_wheel):
        """Tag the wheel ``cp39-abi3`` when the core is built for Python's
        stable ABI (cffi does that on CPython, except for debug and
        free-threaded builds: then it keeps its ``cp3X-cp3X`` tag), so one
        wheel installs on every Python from 3.9 on."""

        def finalize_options(self):
            extensions = self.distribution.ext_modules or []
            if not self.py_limited_api and extensions and all(
                    getattr(ext, "py_limited_api", False) for ext in extensions):
                self.py_limited_api = "cp39"
            super().finalize_options()

    commands["bdist_wheel"] = StableAbiWheel

setup(
    cmdclass=commands,
    cffi_modules=["csrc/build_core.py:ffibuilder"],
)
