"""What data-parallel training needs of a group of processes: a rank, a size
and five collectives.  :class:`World` is the interface; :class:`LocalWorld`
is a world of one (every collective is a no-op), what
:func:`pynn.distributed.init` gives when the script was not launched under
MPI.  The engines are in :mod:`pynn.distributed.mpi` (mpi4py) and
:mod:`pynn.distributed.threads` (ranks as threads of one process, for
tests and for trying things out)."""
from __future__ import annotations

from typing import Any, List

import numpy as np

__all__ = ["LocalWorld", "World"]


class World:
    """A group of ``size`` processes (ranks 0 .. size-1) training one network
    together.  Every rank calls every collective, in the same order.

    Subclasses implement :meth:`allreduce`, :meth:`broadcast`,
    :meth:`allgather`, :meth:`barrier` and :meth:`abort`.  Results must be
    bit-identical on every rank (MPI's Allreduce returns one result to all);
    the data-parallel training relies on it to keep the replicas identical.
    """

    rank: int = 0
    size: int = 1
    local_size: int = 1  # processes of this world on this machine (for the default thread count)

    def allreduce(self, buf: np.ndarray) -> None:
        """Replace ``buf`` (a contiguous float64 array) by its sum over the ranks."""
        raise NotImplementedError

    def broadcast(self, buf: np.ndarray, root: int = 0) -> None:
        """Replace ``buf`` (a contiguous array) by rank ``root``'s."""
        raise NotImplementedError

    def allgather(self, value: Any) -> List[Any]:
        """Every rank's ``value`` (a small picklable object), in rank order."""
        raise NotImplementedError

    def barrier(self) -> None:
        """Wait until every rank has called it."""
        raise NotImplementedError

    def abort(self, code: int = 1) -> None:
        """End every rank of the job now (a failed rank must not leave the
        others waiting forever in a collective)."""
        raise NotImplementedError

    @property
    def is_root(self) -> bool:
        """Whether this is rank 0, the rank that prints, logs and saves."""
        return self.rank == 0

    def __repr__(self) -> str:
        return "%s(rank=%d, size=%d)" % (type(self).__name__, self.rank, self.size)


class LocalWorld(World):
    """A world of one process: training with it is plain training."""

    rank, size, local_size = 0, 1, 1

    def allreduce(self, buf: np.ndarray) -> None:
        pass

    def broadcast(self, buf: np.ndarray, root: int = 0) -> None:
        if root != 0:
            raise ValueError("root must be 0 in a world of one; got %r" % (root,))

    def allgather(self, value: Any) -> List[Any]:
        return [value]

    def barrier(self) -> None:
        pass

    def abort(self, code: int = 1) -> None:
        raise SystemExit(code)
