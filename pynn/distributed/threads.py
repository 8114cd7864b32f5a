"""Ranks as threads of one process: a simulated world for tests and for
trying data-parallel training on one machine without MPI.

>>> import numpy as np
>>> from pynn.distributed import ThreadWorld
>>> def job(world):
...     buf = np.array([float(world.rank + 1)])
...     world.allreduce(buf)              # 1 + 2 + 3
...     return buf[0]
>>> ThreadWorld.run(3, job)
[6.0, 6.0, 6.0]

Each collective waits for every rank at a barrier (with a timeout, so a
rank that never arrives fails the others instead of hanging them) and sums
in rank order, so every rank gets the same bits.  The C core releases the
GIL, so the ranks' training steps really run in parallel.
"""
from __future__ import annotations

import threading
from typing import Any, Callable, List, Optional

import numpy as np

from .world import World

__all__ = ["ThreadWorld", "WorldAborted"]


class WorldAborted(RuntimeError):
    """Raised in every rank of a ThreadWorld when one rank aborts or fails."""


class _Shared:
    """What the ranks of one ThreadWorld share: a barrier and a slot each."""

    def __init__(self, size: int, timeout: float) -> None:
        self.size = size
        self.timeout = timeout
        self.barrier = threading.Barrier(size)
        self.slots: List[Any] = [None] * size
        self.aborted: Optional[int] = None


class ThreadWorld(World):
    """Rank ``rank`` of a world of ``size`` threads.  Make them all with
    :meth:`ThreadWorld.run` (or :meth:`ThreadWorld.group`)."""

    def __init__(self, rank: int, shared: _Shared) -> None:
        self.rank, self.size, self.local_size = rank, shared.size, shared.size
        self._shared = shared

    @classmethod
    def group(cls, size: int, timeout: float = 60.0) -> List[ThreadWorld]:
        """The ``size`` ranks of a new world; each collective waits at most
        ``timeout`` seconds for the others."""
        if not isinstance(size, int) or size < 1:
            raise ValueError("size must be an int >= 1; got %r" % (size,))
        shared = _Shared(size, timeout)
        return [cls(rank, shared) for rank in range(size)]

    @classmethod
    def run(cls, size: int, fn: Callable[[ThreadWorld], Any], timeout: float = 60.0) -> List[Any]:
        """Call ``fn(world)`` on ``size`` threads, one per rank, and return
        their results in rank order.  If a rank raises, the others are
        released from their collectives (WorldAborted) and the first rank's
        exception is raised here."""
        worlds = cls.group(size, timeout)
        results: List[Any] = [None] * size
        errors: List[Optional[BaseException]] = [None] * size

        def target(world: ThreadWorld) -> None:
            try:
                results[world.rank] = fn(world)
            except BaseException as exc:  # handed to the caller below
                errors[world.rank] = exc
                world._shared.aborted = world.rank
                world._shared.barrier.abort()

        threads = [threading.Thread(target=target, args=(w,), name="pynn-rank-%d" % w.rank, daemon=True)
                   for w in worlds]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        first = [e for e in errors if e is not None and not isinstance(e, WorldAborted)]
        if first or any(errors):
            raise (first or [e for e in errors if e is not None])[0]
        return results

    def _exchange(self, value: Any) -> List[Any]:
        """Every rank's value, once all have arrived."""
        s = self._shared
        try:
            s.barrier.wait(s.timeout)
            s.slots[self.rank] = value
            s.barrier.wait(s.timeout)
            values = list(s.slots)
            s.barrier.wait(s.timeout)  # nobody writes the slots until all have read them
        except threading.BrokenBarrierError:
            raise WorldAborted("rank %s of this ThreadWorld failed or timed out" % (
                "?" if s.aborted is None else s.aborted)) from None
        return values

    def allreduce(self, buf: np.ndarray) -> None:
        parts = self._exchange(buf.copy())
        total = parts[0].copy()
        for p in parts[1:]:  # in rank order: the same bits on every rank
            total += p
        buf[...] = total

    def broadcast(self, buf: np.ndarray, root: int = 0) -> None:
        if not 0 <= root < self.size:
            raise ValueError("root must be a rank in [0, %d); got %r" % (self.size, root))
        parts = self._exchange(buf.copy() if self.rank == root else None)
        buf[...] = parts[root]

    def allgather(self, value: Any) -> List[Any]:
        return self._exchange(value)

    def barrier(self) -> None:
        self._exchange(None)

    def abort(self, code: int = 1) -> None:
        self._shared.aborted = self.rank
        self._shared.barrier.abort()
        raise WorldAborted("rank %d aborted the world (code %d)" % (self.rank, code))
