"""The MPI engine, through mpi4py (``pip install "pynn[mpi]"``; on a laptop or
in CI the ``mpich`` wheel gives an MPI without a compiler, on a cluster
mpi4py uses the system's MPI)."""
from __future__ import annotations

import os
import sys
import traceback
from types import TracebackType
from typing import Any, List, Optional, Type

import numpy as np

from .. import settings
from .world import World

__all__ = ["MPIWorld"]


class MPIWorld(World):
    """A world over an mpi4py communicator (``MPI.COMM_WORLD`` by default).

    Making one (through :func:`pynn.distributed.init`):

    - installs an exception hook: an uncaught exception on any rank prints
      its traceback and calls ``MPI_Abort``, ending every rank within
      seconds instead of leaving them waiting in a collective;
    - when neither PYNN_NUM_THREADS nor OMP_NUM_THREADS is set, gives pynn's
      C core the CPUs of this machine divided by the ranks running on it.
    """

    def __init__(self, comm: Any = None, abort_on_error: bool = True) -> None:
        from mpi4py import MPI
        self.MPI = MPI
        self.comm = MPI.COMM_WORLD if comm is None else comm
        self.rank, self.size = int(self.comm.Get_rank()), int(self.comm.Get_size())
        node = self.comm.Split_type(MPI.COMM_TYPE_SHARED, key=self.rank)
        self.local_size = int(node.Get_size())
        node.Free()
        if self.size > 1 and abort_on_error:
            _install_abort_hook(self)
        if not any(os.environ.get(v, "").strip() for v in ("PYNN_NUM_THREADS", "OMP_NUM_THREADS")):
            cpus = settings._default_threads()
            settings.set_num_threads(max(1, cpus // self.local_size))

    def allreduce(self, buf: np.ndarray) -> None:
        self.comm.Allreduce(self.MPI.IN_PLACE, buf, op=self.MPI.SUM)

    def broadcast(self, buf: np.ndarray, root: int = 0) -> None:
        self.comm.Bcast(buf, root=root)

    def allgather(self, value: Any) -> List[Any]:
        return list(self.comm.allgather(value))

    def barrier(self) -> None:
        self.comm.Barrier()

    def abort(self, code: int = 1) -> None:
        self.comm.Abort(code)


def _install_abort_hook(world: MPIWorld) -> None:
    """sys.excepthook that ends the whole job when this rank dies of an
    uncaught exception (mpi4py's ``python -m mpi4py`` does the same)."""
    previous = sys.excepthook

    def hook(kind: Type[BaseException], value: BaseException, tb: Optional[TracebackType]) -> None:
        try:
            sys.stderr.write("pynn.distributed: rank %d of %d failed; aborting the job\n" % (world.rank, world.size))
            traceback.print_exception(kind, value, tb)
            sys.stderr.flush()
        finally:
            world.abort(1)
        previous(kind, value, tb)  # not reached: Abort ends the process

    sys.excepthook = hook
