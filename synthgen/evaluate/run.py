"""`synthgen eval`: one encoder, one labelled dataset, the probes; a JSON report and one line.

Two protocols share one report: the frozen-feature probes (`linear`, `knn`, on cached features)
and `finetune` (the whole network trained on the labelled images: evaluate/finetune.py). With
`labels_per_class` every probe sees only that many train images per class (the same images for
all of them); val stays whole.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthgen.evaluate.datasets import load_dataset
from synthgen.evaluate.features import compute_features, load_encoder, read_cached_features
from synthgen.evaluate.finetune import FinetuneSettings, check_finetunable, finetune_probe
from synthgen.evaluate.probes import knn_probe, linear_probe
from synthgen.progress import ProgressCallback
from synthgen.train.device import AUTO, choose_device

PROBES = ("linear", "knn", "finetune")
# What `synthgen eval` runs unless told: the cheap frozen-feature probes.
DEFAULT_PROBES = ("linear", "knn")


@dataclass(frozen=True)
class EvalReport:
    """What evaluate() measured: `to_dict` is the JSON report that `synthgen eval --out` writes.

    A probe that did not run is None (and absent from the JSON); so is `features_cached` when no
    frozen-feature probe ran (fine-tuning alone extracts no features).
    """

    checkpoint: str
    encoder: str  # the encoder's identity (a file's sha256 or a baseline's settings)
    dataset: str  # the dataset SPEC
    dataset_name: str  # its identity with the options that shaped it (the feature cache's key)
    num_classes: int
    n_train: int
    n_val: int
    layer: str | None
    protocol: dict[str, Any]  # {"labels_per_class", "probes", "seed"}
    feature_dim: int
    features_cached: bool | None
    linear: dict[str, Any] | None
    knn: dict[str, Any] | None
    finetune: dict[str, Any] | None
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """The JSON report, keys in the order reports have always had: the frozen probes' facts
        (feature_dim, features_cached) before the probes, or, fine-tuning alone, feature_dim after it."""
        report: dict[str, Any] = {
            "checkpoint": self.checkpoint,
            "encoder": self.encoder,
            "dataset": self.dataset,
            "dataset_name": self.dataset_name,
            "num_classes": self.num_classes,
            "n_train": self.n_train,
            "n_val": self.n_val,
            "layer": self.layer,
            "protocol": self.protocol,
        }
        frozen = self.features_cached is not None
        if frozen:
            report |= {"feature_dim": self.feature_dim, "features_cached": self.features_cached}
        for name in ("linear", "knn", "finetune"):
            if getattr(self, name) is not None:
                report[name] = getattr(self, name)
        if not frozen:
            report["feature_dim"] = self.feature_dim
        report["seconds"] = self.seconds
        return report

    def line(self) -> str:
        """`CHECKPOINT on DATASET: linear top-1 84.4% (top-5 ...), kNN-20 top-1 ..., finetune top-1 ...`."""
        parts = []
        if self.linear is not None:
            parts.append(f"linear top-1 {100 * self.linear['top1']:.1f}% top-5 {100 * self.linear['top5']:.1f}%")
        if self.knn is not None:
            for k, result in self.knn["by_k"].items():
                parts.append(f"kNN-{k} top-1 {100 * result['top1']:.1f}%")
        if self.finetune is not None:
            tuned = self.finetune
            parts.append(f"finetune top-1 {100 * tuned['top1']:.1f}% top-5 {100 * tuned['top5']:.1f}%")
        per_class = self.protocol.get("labels_per_class")
        notes = [f"{per_class} labels per class"] if per_class is not None else []
        if self.features_cached:
            notes.append("cached features")
        extra = f" ({', '.join(notes)})" if notes else ""
        return f"{self.checkpoint} on {self.dataset}: {', '.join(parts)}{extra}"

    def write(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")


@dataclass(frozen=True)
class EvalPlan:
    """What evaluate() is about to measure, once the encoder and the data sizes are known (before
    any feature is extracted): `lines` is the header `synthgen eval` shows."""

    checkpoint: str
    encoder: str  # the encoder's identity (a file's sha256 or a baseline's settings)
    model: str  # the network in words (Encoder.describe)
    dataset: str
    num_classes: int
    n_train: int
    n_val: int
    probes: tuple[str, ...]
    labels_per_class: int | None
    features_cached: bool | None  # None: no frozen-feature probe
    device: str

    def lines(self) -> list[str]:
        """`checkpoint: ...`, `model: ...`, `dataset: ...`, `protocols: ...`, `device: ...`."""
        identity = self.encoder.partition("#")[0]  # without the layer (the model line names it)
        identity = f"sha256 {identity[:12]}" if len(identity) == 64 else identity  # a backbone file's
        protocol = ", ".join(self.probes)
        if self.labels_per_class is not None:
            protocol += f"; {self.labels_per_class} labels per class"
        if self.features_cached is not None:
            protocol += "; features " + ("cached" if self.features_cached else "to extract")
        return [
            f"checkpoint: {self.checkpoint} ({identity})",
            f"model: {self.model}",
            f"dataset: {self.dataset}: {self.num_classes} classes, {self.n_train} train and {self.n_val} val images",
            f"protocols: {protocol}",
            f"device: {self.device}",
        ]


def default_cache_dir() -> Path:
    """Where features are cached unless told otherwise: $XDG_CACHE_HOME/synthgen/features."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "synthgen" / "features"


def evaluate(
    checkpoint: str,
    dataset: str,
    *,
    probes: Sequence[str] = DEFAULT_PROBES,
    cache_dir: str | Path | None = None,
    dataset_options: dict[str, Any] | None = None,
    device: str = AUTO,
    seed: int = 0,
    init_seed: int | None = None,
    layer: str | None = None,
    labels_per_class: int | None = None,
    finetune: FinetuneSettings | None = None,
    on_start: Callable[[EvalPlan], None] | None = None,
    on_progress: ProgressCallback | None = None,
) -> EvalReport:
    """Evaluate a checkpoint (run folder, backbone file, `random:ARCH@SIZE` or `pixels@SIZE`) on a
    dataset SPEC with the chosen probes (of PROBES); returns the report.

    `seed` draws the dataset's split and subsets, the probes' held-out part and the fine-tuning's
    head, batches and augmentations; `init_seed` (default: `seed`) draws a `random:` encoder's
    weights, so random inits can vary over one dataset. `labels_per_class`: keep exactly that many
    train images per class for every probe (a class with fewer raises datasets.TooFewPerClass).
    `finetune`: the fine-tuning recipe (default FinetuneSettings()), read by the `finetune` probe
    only (so a caller may pass one recipe for every call, whatever the probes). `device`: `auto`
    (a GPU when there is one, as `synthgen train` chooses), or a torch device.
    `on_start` gets the EvalPlan before the work starts; `on_progress` the ProgressUpdates of
    each job in turn ("features", "linear", "knn", "finetune").
    """
    unknown = sorted(set(probes) - set(PROBES))
    if unknown:
        raise ValueError(f"unknown probe {unknown[0]!r}; known probes: {', '.join(PROBES)}")
    if not probes:
        raise ValueError(f"no probe chosen; known probes: {', '.join(PROBES)}")
    started = time.perf_counter()
    device = str(choose_device(device))
    settings = finetune if finetune is not None else FinetuneSettings()
    encoder = load_encoder(checkpoint, seed=seed if init_seed is None else init_seed, layer=layer)
    if "finetune" in probes:
        check_finetunable(encoder, settings)  # before any data is loaded
    options: dict[str, Any] = {"seed": seed, **(dataset_options or {})}
    if labels_per_class is not None:
        options["train_per_class"] = labels_per_class
    frozen = [probe for probe in probes if probe != "finetune"]
    # The frozen probes need only features, which may come from the cache; fine-tuning needs the images.
    features = read_cached_features(encoder, dataset, cache_dir, dataset_options=options) if frozen else None
    data = load_dataset(dataset, **options) if "finetune" in probes or (frozen and features is None) else None
    if features is not None:
        name, classes = features.dataset_name, features.num_classes
        n_train, n_val = len(features.train_y), len(features.val_y)
    else:
        assert data is not None
        name, classes, n_train, n_val = data.name, data.num_classes, len(data.train.labels), len(data.val.labels)
    if on_start is not None:
        cached = (features is not None) if frozen else None
        on_start(EvalPlan(checkpoint, encoder.identity, encoder.describe(), dataset, classes, n_train, n_val,
                          tuple(probes), labels_per_class, cached, device))  # fmt: skip
    if frozen and features is None:
        assert data is not None
        features = compute_features(encoder, data, cache_dir, device=device, on_progress=on_progress)
    linear = knn = None
    if features is not None:
        splits = (features.train_x, features.train_y, features.val_x, features.val_y)
        if "linear" in probes:
            linear = linear_probe(*splits, num_classes=classes, seed=seed, device=device, on_progress=on_progress)
        if "knn" in probes:
            knn = knn_probe(*splits, num_classes=classes, device=device, on_progress=on_progress)
    tuned = None
    if "finetune" in probes:
        assert data is not None
        tuned = finetune_probe(encoder, data, settings=settings, seed=seed, device=device, on_progress=on_progress)
    feature_dim = int(features.train_x.shape[1]) if features is not None else tuned["feature_dim"]  # type: ignore[index]
    return EvalReport(
        checkpoint=checkpoint,
        encoder=encoder.identity,
        dataset=dataset,
        dataset_name=name,
        num_classes=classes,
        n_train=n_train,
        n_val=n_val,
        layer=layer,
        protocol={"labels_per_class": labels_per_class, "probes": list(probes), "seed": seed},
        feature_dim=feature_dim,
        features_cached=None if features is None else features.cached,
        linear=linear,
        knn=knn,
        finetune=tuned,
        seconds=round(time.perf_counter() - started, 3),
    )
