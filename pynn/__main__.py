"""``python -m pynn``: the ``pynn`` command (see :mod:`pynn.cli`), whose
default is the demo job: a small network trained on generated data (three
interleaved spirals, which no straight line separates), with progress, the
backend, the test accuracy and the time taken.  Needs nothing beyond pynn
itself.
"""
from __future__ import annotations

import sys
from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> int:
    """The ``pynn`` command: see :mod:`pynn.cli` (with no subcommand it runs the demo)."""
    from pynn.cli import main as cli_main
    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
