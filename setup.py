"""Build pynn: the pure-Python package plus the optional C core (pynn._core).

The core is compiled by cffi (``cffi_modules``).  If it cannot be built -- no
C compiler, or a platform where compiling fails -- the install still succeeds
and pynn runs on its numpy backend, saying so once at import (markupsafe's
approach).  Set PYNN_REQUIRE_C=1 to make a failed build an error instead.
"""
import os
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

try:  # setuptools >= 59 re-exports these; older ones only have distutils
    from setuptools.errors import CCompilerError, ExecError, PlatformError
except ImportError:  # pragma: no cover
    from distutils.errors import CCompilerError
    from distutils.errors import DistutilsExecError as ExecError
    from distutils.errors import DistutilsPlatformError as PlatformError

BUILD_ERRORS = (CCompilerError, ExecError, PlatformError, OSError, ValueError)


class OptionalBuildExt(build_ext):
    """build_ext that turns a failed compile into a warning (unless PYNN_REQUIRE_C=1)."""

    def run(self):
        try:
            super().run()
        except BUILD_ERRORS as exc:
            self._give_up(exc)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except BUILD_ERRORS as exc:
            self._give_up(exc)

    def _give_up(self, exc):
        if os.environ.get("PYNN_REQUIRE_C") == "1":
            raise exc
        sys.stderr.write(
            "\nWARNING: pynn's C core could not be built (%s).\n"
            "pynn is installed without it and will use its numpy backend.\n\n" % (exc,)
        )


setup(
    cmdclass={"build_ext": OptionalBuildExt},
    cffi_modules=["csrc/build_core.py:ffibuilder"],
)
