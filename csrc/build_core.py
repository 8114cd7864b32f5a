"""cffi build script for pynn's compiled core, ``pynn._core`` (out-of-line API mode).

setup.py names it in ``cffi_modules``.  The C declarations are read from the one
public header, csrc/pynn.h (the block between its CDEF markers), so the API is
written down once.
"""
import os
import sys

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCES = ["common.c", "threads.c", "simd_x86.c", "simd_arm.c", "core_f32.c", "core_f64.c"]


def read_cdef(header_path):
    """The declarations between ``/* BEGIN CDEF */`` and ``/* END CDEF */``."""
    with open(header_path, encoding="utf-8") as f:
        text = f.read()
    start = text.index("/* BEGIN CDEF */") + len("/* BEGIN CDEF */")
    end = text.index("/* END CDEF */")
    return text[start:end]


def default_compiler_type():
    """The distutils compiler type a build here uses unless told otherwise:
    "msvc" for a python.org Windows Python, "mingw32" for an MSYS2/mingw-w64
    one (Windows, but built with GCC), "unix" elsewhere (gcc or clang).
    setup.py's build_ext re-chooses the flags from the compiler it really has
    (``compiler.compiler_type``), so ``--compiler=...`` is honoured too."""
    if sys.platform == "win32":
        return "mingw32" if "GCC" in sys.version else "msvc"
    return "unix"


def compiler_is_gcc(compiler_type, command=None):
    """True if the C compiler of ``compiler_type`` is GCC (not clang, not
    MSVC), from the macros it predefines (``cc -dM -E``: GCC defines
    __GNUC__, clang defines __clang__ as well).  ``command`` is the compiler
    command as a list (setup.py may pass ``self.compiler.compiler_so``);
    by default the one distutils would run: $CC, else Python's CC (gcc for
    mingw32).  False if it cannot be asked."""
    import shlex
    import subprocess
    import sysconfig

    if compiler_type == "msvc":
        return False
    if not command:
        cc = os.environ.get("CC") or ("gcc" if compiler_type == "mingw32" else sysconfig.get_config_var("CC"))
        command = shlex.split(cc or "cc")
    try:
        macros = subprocess.run(list(command) + ["-dM", "-E", "-x", "c", "-"], input="", capture_output=True,
                                text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "__GNUC__" in macros and "__clang__" not in macros


def compile_args_for(compiler_type, command=None):
    """Portable flags only: no -march=native or fast-math in a shipped build.

    ``compiler_type`` is distutils' name of the compiler ("msvc" takes MSVC's
    flags; "unix", "mingw32", "cygwin" are gcc or clang; ``command``, if
    given, the compiler command, to tell GCC from clang).  The SIMD
    micro-kernels carry their own target attributes (simd_x86.c; NEON is
    baseline on AArch64, simd_arm.c) and are chosen at run time.

    - -fvisibility=hidden keeps every kernel private to the extension (only
      the module's init function is exported), so no symbol of ours can
      collide with one of libc's or another library's (ELF and Mach-O; a
      Windows DLL exports only what is marked, so not there).
    - Same float results on every machine: -std=c99, not gnu99, and
      -ffp-contract=off: no fusing of a*b + c into one FMA, which the
      baseline of AArch64, s390x and POWER has (x86-64's has not) and which
      GNU modes (and clang, in any mode) would otherwise do, changing the
      rounding.  With GCC also -fexcess-precision=fast: ISO modes otherwise
      evaluate float expressions in double where FLT_EVAL_METHOD says so
      (s390x), so float32 would not be float32.  (On 32-bit x86 without
      SSE2 -- x87 -- no flag makes float arithmetic exact float32.)  clang
      needs neither it (it keeps float in float) nor accepts it before
      version 16.  MSVC: /fp:precise, its default, does not contract since
      Visual Studio 2022 and x64's baseline has no FMA.
    - -pthread for POSIX threads; mingw-w64 builds use the Win32 threads
      (threads.c), and -pthread there would pull in libwinpthread.
    """
    if compiler_type == "msvc":
        return ["/O2", "/fp:precise"]
    flags = ["-O3", "-std=c99", "-fno-math-errno", "-ffp-contract=off"]
    if compiler_type not in ("mingw32", "cygwin"):
        flags += ["-fvisibility=hidden"]
    if compiler_type != "mingw32":
        flags += ["-pthread"]
    if compiler_is_gcc(compiler_type, command):
        flags += ["-fexcess-precision=fast"]
    return flags


def compile_args():
    """compile_args_for() the compiler this machine builds with by default."""
    return compile_args_for(default_compiler_type())


def link_args_for(compiler_type):
    """Link flags: -pthread for POSIX threads where the core uses them (not
    with MSVC, nor with mingw-w64, whose build uses the Win32 threads and
    must not import libwinpthread)."""
    return [] if compiler_type in ("msvc", "mingw32") else ["-pthread"]


def libraries_for(compiler_type):
    """Libraries to link: libm with gcc/clang on POSIX systems; Windows C
    runtimes have the math functions built in."""
    return [] if compiler_type in ("msvc", "mingw32") else ["m"]


def require_c():
    """PYNN_REQUIRE_C=1: a C core that fails to build is an error, not a
    fall-back to the numpy backend."""
    return os.environ.get("PYNN_REQUIRE_C") == "1"


ffibuilder = FFI()
ffibuilder.cdef(read_cdef(os.path.join(HERE, "pynn.h")))
ffibuilder.set_source(
    "pynn._core",
    '#include "pynn.h"',
    sources=[os.path.relpath(os.path.join(HERE, s)) for s in SOURCES],
    include_dirs=[os.path.relpath(HERE)],
    depends=[os.path.relpath(os.path.join(HERE, f)) for f in os.listdir(HERE)
             if f.endswith((".h", ".inc"))],
    extra_compile_args=compile_args(),
    extra_link_args=link_args_for(default_compiler_type()),
    libraries=libraries_for(default_compiler_type()),
    # optional: a failed compile leaves pynn installed without its core (the
    # numpy backend), for `pip install .` and `pip install -e .` alike (an
    # editable build skips copying the missing library into the checkout);
    # PYNN_REQUIRE_C=1 makes it an error.  setup.py's build_ext says why.
    optional=not require_c(),
)

