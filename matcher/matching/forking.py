"""A second core for independent halves of the work: one forked child, shared numpy arrays.

Results never depend on whether a child ran: a child that cannot start or fails leaves its
part to the parent, which computes it with the same code.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable

import numpy as np

PAGE = mmap.PAGESIZE


def can_fork(workers: int) -> bool:
    """Whether to fork a helper: asked for (only the command line does) and supported."""
    # Callers that may run threads (the web app) keep the default of one worker: a child
    # forked from a threaded process can inherit locks held by the other threads.
    return workers > 1 and hasattr(os, "fork")


def shared_empty(size: int, dtype: type | np.dtype) -> np.ndarray:
    """An uninitialised array in memory shared with children forked after this call."""
    dtype = np.dtype(dtype)
    buffer = mmap.mmap(-1, max(size * dtype.itemsize, 1))
    return np.frombuffer(buffer, dtype=dtype, count=size)


def release_tail(array: np.ndarray, size: int) -> np.ndarray:
    """The first `size` entries of a shared_empty array, giving the rest's memory back."""
    base = array.base
    buffer = base.obj if isinstance(base, memoryview) else base
    start = -(-size * array.itemsize // PAGE) * PAGE
    if isinstance(buffer, mmap.mmap) and hasattr(mmap, "MADV_REMOVE") and start < len(buffer):
        # Shared anonymous pages stay allocated after MADV_DONTNEED; MADV_REMOVE frees them.
        buffer.madvise(mmap.MADV_REMOVE, start, len(buffer) - start)
    return array[:size]


def start_child(work: Callable[[], None]) -> int | None:
    """Run work() in a forked child; its pid, or None when no child could be started."""
    try:
        pid = os.fork()
    except OSError:
        return None
    if pid == 0:  # the child: never return into the parent's code
        status = 1
        try:
            work()
            status = 0
        finally:
            os._exit(status)
    return pid


def child_succeeded(pid: int | None) -> bool:
    """Wait for a child from start_child; whether it finished its work."""
    if pid is None:
        return False
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0
