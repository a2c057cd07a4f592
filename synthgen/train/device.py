"""The device a process computes on: `auto` is the choice `synthgen train` makes, and `eval` makes it too."""

from __future__ import annotations

import torch

AUTO = "auto"


def choose_device(choice: str = AUTO, local_rank: int = 0) -> torch.device:
    """`auto`: this process's GPU (cuda:LOCAL_RANK under torchrun) when CUDA is available, else the
    CPU; otherwise the device named (`cpu`, `cuda`, `cuda:1`, `mps`). ValueError in one line for a
    name torch does not know, or CUDA asked for where there is none."""
    if choice == AUTO:
        return torch.device("cuda", local_rank) if torch.cuda.is_available() else torch.device("cpu")
    try:
        device = torch.device(choice)
    except RuntimeError:
        raise ValueError(f"device {choice!r}: not a torch device (auto, cpu, cuda, cuda:N, mps)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {choice!r}: CUDA is not available here (use auto or cpu)")
    return device
