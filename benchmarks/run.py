"""Run pynn's speed suite: ``python benchmarks/run.py [--help]``.

The suite itself is pynn/benchmark.py (so ``pynn bench`` runs it too);
results are written to benchmarks/results/ (JSON, markdown, PNG chart).
"""
import sys

from pynn.benchmark import main

if __name__ == "__main__":
    sys.exit(main())
