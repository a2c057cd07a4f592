"""Torch CPU threads for a block of work, shared by the torch-based sources.

On a small CPU machine a worker does best with one torch thread: the shard writer and the other
workers need the other cores (two threads were several times slower whenever another core was
busy). Sources set the count around their generation, and leave the process setting as it was.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


@contextlib.contextmanager
def torch_threads(count: int | None) -> Iterator[None]:
    """Run the block with `count` torch threads (None: leave the setting alone)."""
    previous = torch.get_num_threads()
    if count is None or count == previous:
        yield
        return
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
