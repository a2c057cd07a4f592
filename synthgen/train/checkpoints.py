"""Run folder files: checkpoints that resume exactly, and the backbone exported as safetensors.

Checkpoints hold tensors, numbers and strings only, and are read with `weights_only=True`, so a
checkpoint from elsewhere cannot run code. The exported backbone is a safetensors file whose
metadata says how to rebuild the model (architecture, input size) and how its inputs were
normalised; a ResNet's keys are torchvision's, so it loads there too.
"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, safe_open, save
from torch import nn

from synthgen.errors import SynthgenError

CHECKPOINTS = "checkpoints"
LAST = "last.pt"
BACKBONE = "backbone.safetensors"


class CheckpointError(SynthgenError):
    """A checkpoint or exported backbone is missing, damaged or does not fit the run."""


def checkpoint_path(run_dir: str | Path, name: str = LAST) -> Path:
    return Path(run_dir) / CHECKPOINTS / name


def epoch_checkpoint_name(epoch: int) -> str:
    return f"epoch-{epoch:04d}.pt"


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write atomically: an interrupted save leaves the previous checkpoint as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    torch.save(state, partial)
    os.replace(partial, path)


# What save_checkpoint writes (Trainer.state_dict), and resuming reads.
CHECKPOINT_KEYS = ("step", "config", "model", "optimizer")


def load_checkpoint(path: Path, device: torch.device) -> dict[str, Any]:
    """A checkpoint written by save_checkpoint: tensors and plain values only, so it cannot run code."""
    if not path.is_file():
        raise CheckpointError(f"{path}: no checkpoint here")
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as err:  # pickle refusals, truncation: all mean "not a checkpoint we can use"
        raise CheckpointError(f"{path}: not a readable synthgen checkpoint ({_load_failure(err)})") from None
    missing = [key for key in CHECKPOINT_KEYS if key not in state] if isinstance(state, dict) else list(CHECKPOINT_KEYS)
    if missing:
        raise CheckpointError(f"{path}: not a synthgen checkpoint (it has no {', '.join(missing)})")
    return state


def _load_failure(err: BaseException) -> str:
    """Why torch.load(weights_only=True) failed, in one clause. torch's refusal of a pickled
    object advises loading with weights_only=False, which would run the file's code: not advice
    to pass on about a file that may come from anyone."""
    if isinstance(err, pickle.UnpicklingError) and "weights_only" in str(err):
        return "it holds Python objects that only full unpickling reads, and unpickling can run code"
    return first_line(err)


def first_line(err: BaseException) -> str:
    """The first line of an error's message (torch's are long), or its type when it has none."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def export_backbone(path: Path, backbone: nn.Module, info: dict[str, Any]) -> None:
    """The backbone's weights as safetensors, with `info` (JSON values) as its metadata.

    The same weights and info always give the same bytes, so that eval's cache (keyed by the
    file's sha256) recognises a backbone trained again.
    """
    tensors = {name: value.detach().contiguous().cpu() for name, value in backbone.state_dict().items()}
    data = save(tensors, metadata={key: json.dumps(value) for key, value in info.items()})
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(canonical_safetensors(data))
    os.replace(partial, path)


def canonical_safetensors(data: bytes) -> bytes:
    """A safetensors file with its JSON header written in sorted key order.

    safetensors writes the metadata from a hash map, whose order changes from process to
    process; the tensor entries carry their own offsets, so the header's order is free. The
    header stays padded with spaces to a multiple of 8 bytes, as safetensors pads it."""
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + length])
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + data[8 + length :]


def read_backbone(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """An exported backbone's tensors and its metadata (architecture, image size, normalisation)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no exported backbone here")
    try:
        with safe_open(str(path), framework="pt") as reader:
            metadata = {key: json.loads(value) for key, value in (reader.metadata() or {}).items()}
        return load_file(str(path)), metadata
    except Exception as err:
        raise CheckpointError(f"{path}: not a readable safetensors backbone ({err})") from None
