"""Frozen features of a dataset: an encoder from a checkpoint (or a baseline), run once, cached.

    encoder = load_encoder("runs/demo")            # a run folder, or its backbone.safetensors
    encoder = load_encoder("random:resnet18@64")   # the untrained architecture ("CNN-Random")
    encoder = load_encoder("pixels@32")            # raw pixels, resized
    features = cached_features(encoder, "idx:DIR", cache_dir)  # train/val features and labels

Features are computed in eval mode without gradients, from images resized to the encoder's input
size and normalised as in its training. The cache file is keyed by the encoder's identity (the
backbone file's sha256, or the baseline's settings), the dataset's name and the layer, so a new
checkpoint or changed data never reuses stale features.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from synthgen.evaluate.datasets import LabelledData, dataset_name, load_dataset
from synthgen.progress import ProgressCallback, ProgressReporter
from synthgen.train.augment import IMAGENET_MEAN, IMAGENET_STD
from synthgen.train.checkpoints import BACKBONE, CheckpointError, read_backbone
from synthgen.train.models import RESNETS, build_backbone

# Bump when feature extraction changes, so that caches are not reused.
FEATURES_VERSION = 1


@dataclass
class Encoder:
    """A frozen image encoder: `model` maps normalised (N, 3, size, size) floats to (N, D)."""

    identity: str  # what the cache key records: a file's sha256 or a baseline's settings
    model: nn.Module
    image_size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    # A module of `model` (state-dict naming, e.g. `layer3`) whose output replaces the pooled one.
    layer: str | None = None
    arch: str = ""  # the architecture's name (of BACKBONES, or `pixels`), for the header `eval` shows

    def describe(self) -> str:
        """The network in words: `resnet18 (stem cifar, width 16) at 32 px`, `pixels at 28 px`."""
        options = [f"{key} {getattr(self.model, key)}" for key in ("stem", "width") if hasattr(self.model, key)]
        arch = self.arch or type(self.model).__name__
        shown = f"{arch} ({', '.join(options)})" if options else arch
        return f"{shown} at {self.image_size} px" + (f", features from {self.layer}" if self.layer else "")

    def features(self, x: torch.Tensor) -> torch.Tensor:
        if self.layer is None:
            return self.model(x)
        captured: list[torch.Tensor] = []
        module = dict(self.model.named_modules())[self.layer]
        handle = module.register_forward_hook(lambda _m, _i, output: captured.append(output))
        try:
            self.model(x)
        finally:
            handle.remove()
        output = captured[0]
        if output.ndim == 4:  # a feature map: average over space, as the final pooling does
            return output.mean(dim=(2, 3))
        if output.ndim == 3:  # ViT tokens: the class token
            return output[:, 0]
        return output.flatten(1)


class _Pixels(nn.Module):
    """Raw pixels as features: the images flattened."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)


def load_encoder(checkpoint: str, *, seed: int = 0, layer: str | None = None) -> Encoder:
    """An encoder from a run folder, a backbone .safetensors file, `random:ARCH@SIZE` or `pixels@SIZE`;
    with `layer`, features are that module's output (pooled) instead of the backbone's."""
    encoder = _load_encoder(checkpoint, seed)
    if layer is not None:
        names = [name for name, _ in encoder.model.named_modules() if name]
        if layer not in names:
            shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
            raise CheckpointError(f"{checkpoint}: no layer {layer!r} in the model; layers: {shown}")
        encoder.layer = layer
        encoder.identity += f"#{layer}"
    return encoder


def _load_encoder(checkpoint: str, seed: int) -> Encoder:
    kind, _, rest = checkpoint.partition(":")
    if checkpoint.startswith("pixels"):
        size = _size(checkpoint.partition("@")[2] or "32", checkpoint)
        return Encoder(f"pixels-{size}", _Pixels(), size, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0), arch="pixels")
    if kind == "random":
        rest, _, query = rest.partition("?")
        arch, _, size_text = (rest or "resnet18").partition("@")
        size = _size(size_text or "64", checkpoint)
        options = _random_options(query, checkpoint)
        torch.manual_seed(seed)
        try:
            model = build_backbone(arch, size, **options)
        except ValueError as err:
            raise CheckpointError(f"{checkpoint}: {err}") from None
        # The resolved stem and width name the network (`auto` at 32 px is the CIFAR stem).
        built = "".join(f"-{key}{getattr(model, key)}" for key in ("stem", "width") if hasattr(model, key))
        return Encoder(f"random-{arch}-{size}{built}-seed{seed}", model, size, IMAGENET_MEAN, IMAGENET_STD, arch=arch)
    path = Path(checkpoint)
    if path.is_dir():
        path = path / BACKBONE
    tensors, info = read_backbone(path)
    arch, size, mean, std = _backbone_info(path, info)
    # A backbone exported before stems and widths existed was torchvision's ResNet: the ImageNet stem.
    options = {key: info[key] for key in ("stem", "width") if key in info}
    if arch in RESNETS:
        options.setdefault("stem", "imagenet")
    try:
        model = build_backbone(arch, size, **options)
    except (ValueError, TypeError) as err:
        raise CheckpointError(f"{path}: the backbone's metadata does not describe a model: {err}") from None
    _check_fit(path, arch, model, tensors)
    model.load_state_dict(tensors)
    return Encoder(_file_sha256(path), model, size, mean, std, arch=arch)


def _backbone_info(path: Path, info: dict[str, Any]) -> tuple[str, int, tuple[float, ...], tuple[float, ...]]:
    """The architecture, input size, mean and std of an exported backbone's metadata, checked:
    the file may come from elsewhere, and a bad value is one line naming its key."""
    missing = [key for key in ("arch", "image_size", "mean", "std") if key not in info]
    if missing:
        raise CheckpointError(f"{path}: the backbone's metadata lacks {', '.join(missing)} (not written by synthgen?)")

    def bad(key: str, expected: str) -> CheckpointError:
        shown = repr(info[key])
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        return CheckpointError(f"{path}: the backbone's metadata {key} must be {expected}, got {shown}")

    arch, size = info["arch"], info["image_size"]
    if not isinstance(arch, str):
        raise bad("arch", "an architecture name")
    if not isinstance(size, int) or isinstance(size, bool) or not 8 <= size <= 8192:
        raise bad("image_size", "an integer from 8 to 8192")
    # A width is the channels of a ResNet's first stage: a huge one would build a huge model.
    width = info.get("width")
    if width is not None and (not isinstance(width, int) or isinstance(width, bool) or not 1 <= width <= 1024):
        raise bad("width", "an integer from 1 to 1024")
    if not isinstance(info.get("stem", ""), str):
        raise bad("stem", "a stem name")
    channels = {}
    for key in ("mean", "std"):
        values = info[key]
        numbers = isinstance(values, list) and all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values
        )
        if not numbers or len(values) != 3 or (key == "std" and min(values) <= 0):
            raise bad(key, "three finite numbers" + (" above 0" if key == "std" else ""))
        channels[key] = tuple(float(v) for v in values)
    return arch, size, channels["mean"], channels["std"]


def _check_fit(path: Path, arch: str, model: nn.Module, tensors: dict[str, torch.Tensor]) -> None:
    """The first weight that is missing, unexpected or of another shape, named (torch's own
    message names the model class only, and runs to many lines)."""
    expected = model.state_dict()
    for key, value in expected.items():
        if key not in tensors:
            raise CheckpointError(f"{path}: the weights do not fit {arch}: {key} is missing")
        if tuple(tensors[key].shape) != tuple(value.shape):
            raise CheckpointError(
                f"{path}: the weights do not fit {arch}: {key} has shape {list(tensors[key].shape)}, "
                f"the model's is {list(value.shape)}"
            )
    unexpected = sorted(set(tensors) - set(expected))
    if unexpected:
        raise CheckpointError(f"{path}: the weights do not fit {arch}: unexpected {unexpected[0]}")


def _random_options(query: str, checkpoint: str) -> dict[str, Any]:
    """`stem=cifar&width=16` (after `random:ARCH@SIZE?`) as build_backbone's keyword arguments.
    Without a stem, the untrained ResNet gets the one training would give it at that size (`auto`)."""
    options: dict[str, Any] = {"stem": "auto"}
    for item in filter(None, query.split("&")):
        key, _, value = item.partition("=")
        if key == "stem":
            options["stem"] = value
        elif key == "width" and value.isdigit() and int(value) >= 1:
            options["width"] = int(value)
        else:
            raise CheckpointError(f"{checkpoint}: unknown option {item!r} (known: stem=cifar|imagenet|auto, width=N)")
    return options


def _size(text: str, checkpoint: str) -> int:
    if not text.isdigit() or int(text) < 8:
        raise CheckpointError(f"{checkpoint}: the size after '@' must be an integer of at least 8")
    return int(text)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def encoder_input(encoder: Encoder, images: np.ndarray, device: str | torch.device = "cpu") -> torch.Tensor:
    """uint8 images (N, H, W, 3) as the encoder takes them: float (N, 3, size, size) on `device`,
    resized (bilinear, antialiased) to its input size and normalised with its mean and std."""
    x = torch.from_numpy(np.ascontiguousarray(images)).to(device)
    x = x.permute(0, 3, 1, 2).float() / 255.0
    if x.shape[-2:] != (encoder.image_size, encoder.image_size):
        size = (encoder.image_size, encoder.image_size)
        x = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
    mean = torch.tensor(encoder.mean, device=device).view(1, 3, 1, 1)
    std = torch.tensor(encoder.std, device=device).view(1, 3, 1, 1)
    return (x - mean) / std


@torch.no_grad()
def extract(
    encoder: Encoder,
    images: np.ndarray,
    *,
    batch_size: int = 256,
    device: str = "cpu",
    advance: Callable[[int], None] | None = None,
) -> torch.Tensor:
    """Features (N, D) float32 of uint8 images (N, H, W, 3); `advance` is called with the
    images of each batch done (a ProgressReporter)."""
    encoder.model.to(device).eval()
    parts = []
    for start in range(0, len(images), batch_size):
        x = encoder_input(encoder, images[start : start + batch_size], device)
        parts.append(encoder.features(x).float().cpu())
        if advance is not None:
            advance(len(x))
    return torch.cat(parts) if parts else torch.zeros(0, 0)


@dataclass
class FeatureSet:
    """Features and labels of a dataset's two splits, as the probes take them."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    num_classes: int
    dataset_name: str
    cached: bool


def cache_key(encoder: Encoder, dataset_name: str) -> str:
    text = json.dumps({"encoder": encoder.identity, "data": dataset_name, "version": FEATURES_VERSION}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def cached_features(
    encoder: Encoder,
    dataset: str,
    cache_dir: str | Path | None,
    *,
    dataset_options: dict[str, Any] | None = None,
    batch_size: int = 256,
    device: str = "cpu",
    data: LabelledData | None = None,
) -> FeatureSet:
    """Features of the dataset SPEC's splits, with their labels: from the cache when there (looked
    up by the dataset's identity, so no image is decoded then), else extracted and cached.
    `data`: that dataset already loaded with these options (by a caller that needs its images
    too), used instead of loading it again."""
    options = dict(dataset_options or {})
    found = read_cached_features(encoder, dataset, cache_dir, dataset_options=options)
    if found is not None:
        return found
    data = data if data is not None else load_dataset(dataset, **options)
    return compute_features(encoder, data, cache_dir, batch_size=batch_size, device=device)


def _cache_path(encoder: Encoder, name: str, cache_dir: str | Path | None) -> Path | None:
    return Path(cache_dir) / f"features-{cache_key(encoder, name)}.safetensors" if cache_dir else None


def read_cached_features(
    encoder: Encoder, dataset: str, cache_dir: str | Path | None, *, dataset_options: dict[str, Any] | None = None
) -> FeatureSet | None:
    """The cached features of the dataset SPEC with these options, or None (none cached, or a
    damaged file): cached_features' lookup, for a caller that wants to know before extracting."""
    name = dataset_name(dataset, **(dataset_options or {}))
    path = _cache_path(encoder, name, cache_dir)
    if path is None or not path.is_file():
        return None
    try:
        with safe_open(str(path), framework="pt") as reader:
            num_classes = int((reader.metadata() or {})["num_classes"])
        tensors = load_file(str(path))
        return FeatureSet(**tensors, num_classes=num_classes, dataset_name=name, cached=True)
    except Exception:  # a damaged cache file is recomputed, never trusted
        return None


def compute_features(
    encoder: Encoder,
    data: LabelledData,
    cache_dir: str | Path | None,
    *,
    batch_size: int = 256,
    device: str = "cpu",
    on_progress: ProgressCallback | None = None,
) -> FeatureSet:
    """Extract the features of a loaded dataset's splits and cache them (when `cache_dir` is
    given); `on_progress` gets a "features" job counting the images of both splits."""
    path = _cache_path(encoder, data.name, cache_dir)
    reporter = ProgressReporter(on_progress, "features", "image", len(data.train.labels) + len(data.val.labels))
    tensors = {
        "train_x": extract(encoder, data.train.images, batch_size=batch_size, device=device, advance=reporter),
        "train_y": torch.from_numpy(data.train.labels),
        "val_x": extract(encoder, data.val.images, batch_size=batch_size, device=device, advance=reporter),
        "val_y": torch.from_numpy(data.val.labels),
    }
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        metadata = {"encoder": encoder.identity, "data": data.name, "num_classes": str(data.num_classes)}
        save_file(tensors, str(partial), metadata=metadata)
        os.replace(partial, path)
    return FeatureSet(**tensors, num_classes=data.num_classes, dataset_name=data.name, cached=False)
