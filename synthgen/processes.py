"""Process helpers shared by the executors and the sources' helper processes."""

from __future__ import annotations

import ctypes
import signal
import sys


def die_with_parent() -> None:
    """Linux: have the kernel end this process when its parent dies (kill -9 included).

    So a killed render leaves no orphan behind that keeps writing shards or spinning on a hung
    shader. A no-op elsewhere.
    """
    if sys.platform != "linux":
        return
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass
