"""cffi build script for pynn's compiled core, ``pynn._core`` (out-of-line API mode).

setup.py names it in ``cffi_modules``.  The C declarations are read from the one
public header, csrc/pynn.h (the block between its CDEF markers), so the API is
written down once.
"""
import os
import sys

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCES = ["common.c", "threads.c", "simd_x86.c", "core_f32.c", "core_f64.c"]


def read_cdef(header_path):
    """The declarations between ``/* BEGIN CDEF */`` and ``/* END CDEF */``."""
    with open(header_path, encoding="utf-8") as f:
        text = f.read()
    start = text.index("/* BEGIN CDEF */") + len("/* BEGIN CDEF */")
    end = text.index("/* END CDEF */")
    return text[start:end]


def compile_args():
    """Portable flags only: no -march=native or fast-math in a shipped build.

    The SIMD micro-kernels carry their own target attributes (simd_x86.c)
    and are chosen at run time.  -fvisibility=hidden keeps every kernel private to the extension (only the
    module's init function is exported), so no symbol of ours can collide with
    one of libc's or another library's.
    """
    if sys.platform == "win32":
        return ["/O2"]
    return ["-O3", "-std=c99", "-pthread", "-fvisibility=hidden", "-fno-math-errno"]


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
    extra_link_args=[] if sys.platform == "win32" else ["-pthread"],
    libraries=[] if sys.platform == "win32" else ["m"],
)

