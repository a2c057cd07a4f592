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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from synthgen.evaluate.datasets import load_dataset
from synthgen.evaluate.features import cached_features, load_encoder
from synthgen.evaluate.finetune import FinetuneSettings, check_finetunable, finetune_probe
from synthgen.evaluate.probes import knn_probe, linear_probe

PROBES = ("linear", "knn", "finetune")
# What `synthgen eval` runs unless told: the cheap frozen-feature probes.
DEFAULT_PROBES = ("linear", "knn")


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
    device: str = "cpu",
    seed: int = 0,
    init_seed: int | None = None,
    layer: str | None = None,
    labels_per_class: int | None = None,
    finetune: FinetuneSettings | None = None,
) -> dict[str, Any]:
    """Evaluate a checkpoint (run folder, backbone file, `random:ARCH@SIZE` or `pixels@SIZE`) on a
    dataset SPEC with the chosen probes (of PROBES); returns the JSON-able report.

    `seed` draws the dataset's split and subsets, the probes' held-out part and the fine-tuning's
    head, batches and augmentations; `init_seed` (default: `seed`) draws a `random:` encoder's
    weights, so random inits can vary over one dataset. `labels_per_class`: keep exactly that many
    train images per class for every probe (a class with fewer raises datasets.TooFewPerClass).
    `finetune`: the fine-tuning recipe (default FinetuneSettings()), read by the `finetune` probe
    only (so a caller may pass one recipe for every call, whatever the probes).
    """
    unknown = sorted(set(probes) - set(PROBES))
    if unknown:
        raise ValueError(f"unknown probe {unknown[0]!r}; known probes: {', '.join(PROBES)}")
    if not probes:
        raise ValueError(f"no probe chosen; known probes: {', '.join(PROBES)}")
    started = time.perf_counter()
    settings = finetune if finetune is not None else FinetuneSettings()
    encoder = load_encoder(checkpoint, seed=seed if init_seed is None else init_seed, layer=layer)
    if "finetune" in probes:
        check_finetunable(encoder, settings)  # before any data is loaded
    options: dict[str, Any] = {"seed": seed, **(dataset_options or {})}
    if labels_per_class is not None:
        options["train_per_class"] = labels_per_class
    # Fine-tuning needs the images; the frozen probes only features, which may come from the cache.
    data = load_dataset(dataset, **options) if "finetune" in probes else None
    frozen = [probe for probe in probes if probe != "finetune"]
    features = (
        cached_features(encoder, dataset, cache_dir, dataset_options=options, device=device, data=data)
        if frozen
        else None
    )
    report: dict[str, Any] = {"checkpoint": checkpoint, "encoder": encoder.identity, "dataset": dataset}
    if features is not None:
        report |= {
            "dataset_name": features.dataset_name,
            "num_classes": features.num_classes,
            "n_train": len(features.train_y),
            "n_val": len(features.val_y),
        }
    else:
        assert data is not None
        report |= {"dataset_name": data.name, "num_classes": data.num_classes,
                   "n_train": len(data.train), "n_val": len(data.val)}  # fmt: skip
    report["layer"] = layer
    report["protocol"] = {"labels_per_class": labels_per_class, "probes": list(probes), "seed": seed}
    if features is not None:
        report["feature_dim"] = int(features.train_x.shape[1])
        report["features_cached"] = features.cached
        splits = (features.train_x, features.train_y, features.val_x, features.val_y)
        if "linear" in probes:
            report["linear"] = linear_probe(*splits, num_classes=features.num_classes, seed=seed, device=device)
        if "knn" in probes:
            report["knn"] = knn_probe(*splits, num_classes=features.num_classes, device=device)
    if data is not None:
        report["finetune"] = finetune_probe(encoder, data, settings=settings, seed=seed, device=device)
        report.setdefault("feature_dim", report["finetune"]["feature_dim"])
    report["seconds"] = round(time.perf_counter() - started, 3)
    return report


def summary_line(report: dict[str, Any]) -> str:
    """`CHECKPOINT on DATASET: linear top-1 84.4% (top-5 ...), kNN-20 top-1 ..., finetune top-1 ...`."""
    parts = []
    if "linear" in report:
        linear = report["linear"]
        parts.append(f"linear top-1 {100 * linear['top1']:.1f}% top-5 {100 * linear['top5']:.1f}%")
    if "knn" in report:
        for k, result in report["knn"]["by_k"].items():
            parts.append(f"kNN-{k} top-1 {100 * result['top1']:.1f}%")
    if "finetune" in report:
        tuned = report["finetune"]
        parts.append(f"finetune top-1 {100 * tuned['top1']:.1f}% top-5 {100 * tuned['top5']:.1f}%")
    per_class = (report.get("protocol") or {}).get("labels_per_class")
    notes = [f"{per_class} labels per class"] if per_class is not None else []
    if report.get("features_cached"):
        notes.append("cached features")
    extra = f" ({', '.join(notes)})" if notes else ""
    return f"{report['checkpoint']} on {report['dataset']}: {', '.join(parts)}{extra}"


def write_report(report: dict[str, Any], path: str | Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(report, indent=2) + "\n")
