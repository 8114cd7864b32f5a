"""Fuzz target for pynn.load (issue 5), with atheris (libFuzzer for Python).

Every input is written to a file and loaded: pynn.load must return a Network or raise
ValueError; anything else (another exception, a crash, a sanitizer report) is a finding.
Seeded with the checked-in model file, so mutations start from a valid file.

    pip install atheris
    python fuzz/fuzz_load.py -atheris_runs=20000 fuzz/corpus   # .ci/robustness runs this

(the corpus directory is created and seeded if missing).
"""
import os
import shutil
import sys
import tempfile

import atheris

with atheris.instrument_imports():
    import numpy as np  # noqa: F401  (imported first so instrument_imports skips re-instrumenting it)
    import pynn
    import pynn.serialization  # noqa: F401

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = os.path.join(HERE, "..", "tests", "data", "model_v1.safetensors")
PATH = os.path.join(tempfile.mkdtemp(prefix="pynn-fuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None),
                    "input.safetensors")


def TestOneInput(data):
    with open(PATH, "wb") as f:
        f.write(data)
    try:
        net = pynn.load(PATH)
    except ValueError:
        return
    # a file that loads must give a usable network
    out = net.predict([[0.5] * net.n_inputs])
    assert out.shape == (1, net.n_outputs)


def main():
    corpus = [a for a in sys.argv[1:] if not a.startswith("-")]
    for directory in corpus:
        os.makedirs(directory, exist_ok=True)
        if not os.listdir(directory):
            shutil.copy(SEED, os.path.join(directory, "model_v1.safetensors"))
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
