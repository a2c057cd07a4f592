"""Failpoints: named moments at which the fault tests kill a render, to prove what a crash there
leaves behind (tests/test_faults.py).

`SYNTHGEN_FAILPOINT=NAME:N` makes this process kill itself with SIGKILL (no cleanup, no
`finally`, as a power cut or the OOM killer would) the N-th time it reaches failpoint NAME.
Without the variable, which is always the case outside those tests, a failpoint costs one
comparison.
"""

from __future__ import annotations

import os
import signal

ENV = "SYNTHGEN_FAILPOINT"

# Where a render can be killed while it starts (tests/test_lifecycle.py).
START_FAILPOINTS = (
    "pool.start",  # the render's worker processes are started, still importing
    "gl.start",  # a shader render's GL process is started, not yet ready
)
# Where a render can be killed while it writes, in the order a shard meets them.
WRITE_FAILPOINTS = (
    "render.batch",  # the source returned a batch of samples, nothing of it written yet
    "encode",  # one image encoded
    "tar.member",  # one tar member (header and data) written to the staged shard
    "tar.close",  # every sample written, end-of-archive blocks not yet
    "commit.rename",  # a staged file (tar, sidecar, manifest) is whole and synced, not yet renamed
    "commit.sidecar",  # a shard's tar is committed, its sidecar not yet written
    "manifest",  # every shard committed, the manifest not yet written
)
FAILPOINTS = START_FAILPOINTS + WRITE_FAILPOINTS


def _target() -> tuple[str, int] | None:
    value = os.environ.get(ENV)
    if not value:
        return None
    name, _, count = value.rpartition(":")
    if name not in FAILPOINTS or not count.isdigit() or int(count) < 1:
        raise ValueError(f"{ENV}={value!r}: expected NAME:N with NAME one of {', '.join(FAILPOINTS)}")
    return name, int(count)


_TARGET = _target()
_hits = 0


def failpoint(name: str) -> None:
    """Kill this process here if the fault tests asked for this moment."""
    global _hits
    if _TARGET is None or name != _TARGET[0]:
        return
    _hits += 1
    if _hits == _TARGET[1]:
        os.kill(os.getpid(), signal.SIGKILL)
