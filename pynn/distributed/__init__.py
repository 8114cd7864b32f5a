"""Scaling out: synchronous data-parallel training over MPI.

The same script runs on every process (``mpiexec -n 4 python train.py``,
``srun``, a Kubeflow MPIJob); each process loads its own share of the rows::

    import pynn
    world = pynn.distributed.init()      # MPI via mpi4py under mpiexec/srun, else a world of one
    net.fit(X_local, y_local, batch_size=64, world=world)   # batch_size rows per process
    net.save("model.safetensors", world=world)               # rank 0 writes, the others wait

Each step every rank computes the gradient of its batch, one allreduce sums
them (weighted by rows, so an uneven last batch is exact) and every rank
makes the same update: N processes with batch B train exactly as one
process with batch N·B whose batches are the ranks' batches concatenated in
rank order (up to rounding), and the replicas stay bit-identical.  See
:mod:`pynn.distributed.fit` for what fit does with a world, and the
README's "Scaling out" section for launching, costs and when it pays.

A rank that dies of an exception ends the job (MPI_Abort); a rank that
hangs is ended by ``MPIEXEC_TIMEOUT=<seconds>`` (MPICH's mpiexec) or the
batch system's time limit.
"""
from __future__ import annotations

import importlib.util
import os
from typing import Any, Optional

from .data_parallel import permutation, sync
from .threads import ThreadWorld, WorldAborted
from .world import LocalWorld, World

__all__ = ["LocalWorld", "ThreadWorld", "World", "WorldAborted", "init", "launched_under_mpi", "permutation",
           "sync"]

# set by the launchers of MPICH (Hydra), Open MPI, PMIx-based ones and Intel MPI
_MPI_ENVIRONMENT = ("PMI_RANK", "PMI_SIZE", "PMIX_RANK", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS",
                    "HYDRA_CONTROL_FD", "MV2_COMM_WORLD_SIZE")


def launched_under_mpi() -> bool:
    """Whether this process was started by an MPI launcher (mpiexec, mpirun,
    srun with PMI/PMIx), as its environment tells."""
    return any(v in os.environ for v in _MPI_ENVIRONMENT)


def init(comm: Optional[Any] = None) -> World:
    """The world this process trains in: an MPI world through mpi4py when the
    script was launched under MPI (or ``comm``, an mpi4py communicator, is
    given), else a :class:`LocalWorld` of one process.

    Raises ImportError, saying what to install, when launched under MPI
    without mpi4py."""
    if comm is None and not launched_under_mpi():
        return LocalWorld()
    if importlib.util.find_spec("mpi4py") is None:
        raise ImportError("this process was launched under MPI but mpi4py is not installed: "
                          "pip install \"pynn[mpi]\" (or: pip install mpi4py mpich)")
    from .mpi import MPIWorld
    return MPIWorld(comm)
