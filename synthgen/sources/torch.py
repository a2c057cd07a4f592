"""The base of the sources that run torch (gan, diffusion, noise): device, CPU threads, dtype.

Device: the one the driver passes (`cuda:0`, ...), else the CPU. Threads: on the CPU a worker
renders with `cpu_threads` torch threads (one); on a GPU the process setting is left alone.
A source runs its torch work inside `run()`, which sets the threads for the block (and restores
them after) and enters `torch.inference_mode()`: sources never need gradients.

Why one thread: on a small CPU machine a worker does best with one torch thread, since the shard
writer and the other workers need the other cores. Measured on a 2-core VM: two threads made the
untrained GANs 1.7x (random) to 9x (sparse) slower than one, the tiny diffusion pipeline 5-15x
slower whenever the other core was busy, and the noise models were only 1.1-1.3x faster on an
idle machine but 3-10x slower on a shared one (threads waiting on each other). `--workers`
processes use more cores. A fixed count also keeps the order of the kernels' sums fixed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar

import torch

from synthgen.sources.base import Source

if TYPE_CHECKING:
    from synthgen.recipe import Recipe

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


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


def resolve_dtype(name: str, device: torch.device) -> torch.dtype:
    """A recipe's `dtype` on `device`. `auto`: bfloat16 on a GPU (as fast as float16 there, and it
    does not overflow where float16 does, e.g. SDXL's VAE), float32 on the CPU (where half
    precision is slow or unsupported)."""
    if name == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    return _DTYPES[name]


class TorchSource(Source):
    """A source whose images are made with torch on `torch_device`; see the module docstring."""

    # torch threads per worker while rendering on the CPU (None: leave the process setting).
    cpu_threads: ClassVar[int | None] = 1

    def __init__(self, recipe: Recipe, device: str | None = None) -> None:
        super().__init__(recipe, device)
        self.torch_device = torch.device(device or "cpu")

    @property
    def threads(self) -> int | None:
        """The torch thread count of a render block: `cpu_threads` on the CPU, unchanged on a GPU."""
        return self.cpu_threads if self.torch_device.type == "cpu" else None

    @contextlib.contextmanager
    def run(self) -> Iterator[None]:
        """The context of a block of torch work: this source's threads, no autograd."""
        with torch_threads(self.threads), torch.inference_mode():
            yield

    def close(self) -> None:
        """Give cached GPU memory back (the models go with the source)."""
        if self.torch_device.type == "cuda":
            torch.cuda.empty_cache()
