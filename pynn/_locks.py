"""A lock that many readers may share and one writer holds alone.

Each Network has one.  ``predict`` and ``evaluate`` only read the weights
(and use a workspace of their own), so any number of threads may run them at
once; ``train_step``, ``gradients``, each chunk of ``fit`` and every change
to the network write, so they run alone, and never while a reader runs.  A
reader thus sees the weights of one completed step, and two threads training
one network are serialised instead of corrupting it.

Both paths must cost little: a training step or a prediction of a tiny
network takes about a microsecond.  A reader announces itself by appending
to a list and then checks that no writer is in; a writer takes its lock,
marks itself in, then checks that no reader is.  With the GIL, list appends
and pops are atomic and these steps happen in one global order, so a reader
and a writer can never both miss each other (Dekker's handshake).  Without
the GIL (free-threaded CPython) readers announce themselves under the
writer's lock instead.  A writer waits for the readers already in by
polling (with a growing sleep, at most 1 ms): readers are short, and no new
one enters meanwhile.

The writer's lock is reentrant: code that holds it may read or write again
(fit's own checks inside a locked chunk).
"""
from __future__ import annotations

import sys
import threading
import time
from typing import List

_GIL = getattr(sys, "_is_gil_enabled", lambda: True)()


class SharedLock:
    __slots__ = ("_write", "_readers", "_writing")

    def __init__(self) -> None:
        self._write = threading.RLock()  # held by the writer
        self._readers: List[None] = []  # one entry per reader inside
        self._writing = 0  # depth of the writer's holds: changed only by the thread holding _write

    def acquire_shared(self) -> None:
        readers = self._readers
        if _GIL:
            readers.append(None)
            if not self._writing:
                return
            readers.pop()  # a writer is in or coming: wait for it below
        with self._write:
            readers.append(None)

    def release_shared(self) -> None:
        self._readers.pop()

    def acquire_exclusive(self) -> None:
        self._write.acquire()
        self._writing += 1
        if self._readers:
            delay = 1e-6
            while self._readers:
                time.sleep(delay)
                delay = min(2 * delay, 1e-3)

    def release_exclusive(self) -> None:
        self._writing -= 1
        self._write.release()
