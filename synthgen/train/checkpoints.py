"""Run folder files: checkpoints that resume exactly, and the backbone exported as safetensors.

Checkpoints hold tensors, numbers and strings only, and are read with `weights_only=True`, so a
checkpoint from elsewhere cannot run code. `corpora.json` records what data a run started on
(each corpus's recipe and shards), so that a resumed run goes on with that data or not at all.
The exported backbone is a safetensors file whose
metadata says how to rebuild the model (architecture, input size) and how its inputs were
normalised; a ResNet's keys are torchvision's, so it loads there too.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, safe_open, save
from torch import nn

from synthgen.corpus.read import Corpus
from synthgen.errors import SynthgenError

CHECKPOINTS = "checkpoints"
LAST = "last.pt"
BACKBONE = "backbone.safetensors"
CORPORA = "corpora.json"


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


# -- the data a run started on ----------------------------------------------------------------------


def corpus_identity(corpus: Any, storage_options: dict[str, Any] | None = None) -> dict[str, Any]:
    """What identifies the data of one training corpus (synthgen.train.data.TrainCorpus or
    LiveCorpus): its recipe's sha256 and a sha256 over its shards (names and sha256 from the
    manifest or sidecars; for a pattern of shards, names and sizes)."""
    identity: dict[str, Any] = {"spec": corpus.spec}
    recipe = getattr(corpus, "recipe", None)
    if recipe is not None:  # a live recipe: the recipe is the data, its count too (the hash leaves it out)
        return identity | {"recipe_sha256": recipe.sha256, "count": recipe.count}
    spec = corpus.spec
    if "{" in spec or spec.endswith(".tar"):
        import fsspec

        lines = []
        for url in corpus.shard_urls:
            fs, path = fsspec.core.url_to_fs(url, **(storage_options or {}))
            lines.append(f"{url.rsplit('/', 1)[-1]} {fs.size(path)}")
        return identity | {"recipe_sha256": None, "nshards": len(lines), "shards_sha256": _digest(lines)}
    found = Corpus(spec, storage_options)
    recipes = {r.recipe_sha256 for r in found.records}
    recipe_sha256 = found.manifest.recipe_sha256 if found.manifest is not None else ",".join(sorted(recipes))
    lines = [f"{shard.url} {shard.sha256}" for shard in found.shards]
    return identity | {"recipe_sha256": recipe_sha256, "nshards": len(lines), "shards_sha256": _digest(lines)}


def _digest(lines: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def write_corpora(run_dir: str | Path, identities: list[dict[str, Any]]) -> None:
    """Record the data a run starts on (its run folder's corpora.json)."""
    path = Path(run_dir) / CORPORA
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(identities, indent=1) + "\n")
    os.replace(partial, path)


def check_same_corpora(run_dir: str | Path, identities: list[dict[str, Any]]) -> bool:
    """Refuse to resume a run on other data than it started on (CheckpointError, one line naming
    the corpus and what changed). False when the run recorded none (an older synthgen's run)."""
    path = Path(run_dir) / CORPORA
    if not path.is_file():
        return False
    try:
        saved = json.loads(path.read_text())
    except (ValueError, OSError):
        saved = None
    if not (isinstance(saved, list) and all(isinstance(entry, dict) for entry in saved)):
        raise CheckpointError(f"{path}: damaged; the data this run started on is unknown: start a new run")
    if len(saved) != len(identities):
        raise CheckpointError(f"{path}: the run started on {len(saved)} corpora, this one has {len(identities)}")
    for then, now in zip(saved, identities, strict=True):
        changed = _what_changed(then, now)
        if changed:
            raise CheckpointError(
                f"{now['spec']}: not the corpus this run started on ({changed}); --resume goes on only with "
                "the same data: start a new run (another --out)"
            )
    return True


def _what_changed(then: dict[str, Any], now: dict[str, Any]) -> str | None:
    if then.get("recipe_sha256") != now.get("recipe_sha256"):
        return f"recipe {str(then.get('recipe_sha256'))[:12]} then, {str(now.get('recipe_sha256'))[:12]} now"
    if then.get("count") != now.get("count"):
        return f"count {then.get('count')} then, {now.get('count')} now"
    if then.get("nshards") != now.get("nshards"):
        return f"{then.get('nshards')} shards then, {now.get('nshards')} now"
    if then.get("shards_sha256") != now.get("shards_sha256"):
        return "its shards differ from those the run started on (names or sha256)"
    return None
