"""Process helpers shared by the executors and the sources' helper processes."""

from __future__ import annotations

import ctypes
import os
import signal
import sys


def die_with_parent(parent_pid: int | None = None) -> None:
    """Linux: have the kernel end this process when its parent dies (kill -9 included).

    So a killed render leaves no orphan behind that keeps writing shards or spinning on a hung
    shader. A child calls it first thing; the parent may have died before that (a child spends
    its first second importing), and the kernel does not signal a death that came before the
    request: given the pid the parent had, the child then ends itself. A no-op elsewhere.
    """
    if sys.platform != "linux":
        return
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        return
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)  # orphaned already: adopted by init or a subreaper
