"""`synthgen eval`: one encoder, one labelled dataset, the probes; a JSON report and one line."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from synthgen.evaluate.features import cached_features, load_encoder
from synthgen.evaluate.probes import knn_probe, linear_probe

PROBES = ("linear", "knn")


def default_cache_dir() -> Path:
    """Where features are cached unless told otherwise: $XDG_CACHE_HOME/synthgen/features."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "synthgen" / "features"


def evaluate(
    checkpoint: str,
    dataset: str,
    *,
    probes: Sequence[str] = PROBES,
    cache_dir: str | Path | None = None,
    dataset_options: dict[str, Any] | None = None,
    device: str = "cpu",
    seed: int = 0,
    init_seed: int | None = None,
    layer: str | None = None,
) -> dict[str, Any]:
    """Evaluate a checkpoint (run folder, backbone file, `random:ARCH@SIZE` or `pixels@SIZE`) on a
    dataset SPEC with the chosen probes; returns the JSON-able report.

    `seed` draws the dataset's split and subsets and the probes' held-out part; `init_seed`
    (default: `seed`) draws a `random:` encoder's weights, so random inits can vary over one dataset.
    """
    unknown = sorted(set(probes) - set(PROBES))
    if unknown:
        raise ValueError(f"unknown probe {unknown[0]!r}; known probes: {', '.join(PROBES)}")
    started = time.perf_counter()
    encoder = load_encoder(checkpoint, seed=seed if init_seed is None else init_seed, layer=layer)
    features = cached_features(
        encoder, dataset, cache_dir, dataset_options={"seed": seed, **(dataset_options or {})}, device=device
    )
    report: dict[str, Any] = {
        "checkpoint": checkpoint,
        "encoder": encoder.identity,
        "dataset": dataset,
        "dataset_name": features.dataset_name,
        "num_classes": features.num_classes,
        "n_train": len(features.train_y),
        "n_val": len(features.val_y),
        "layer": layer,
        "feature_dim": int(features.train_x.shape[1]),
        "features_cached": features.cached,
    }
    splits = (features.train_x, features.train_y, features.val_x, features.val_y)
    if "linear" in probes:
        report["linear"] = linear_probe(*splits, num_classes=features.num_classes, seed=seed, device=device)
    if "knn" in probes:
        report["knn"] = knn_probe(*splits, num_classes=features.num_classes, device=device)
    report["seconds"] = round(time.perf_counter() - started, 3)
    return report


def summary_line(report: dict[str, Any]) -> str:
    """`CHECKPOINT on DATASET: linear top-1 84.4% (top-5 ...), kNN-20 top-1 ...`."""
    parts = []
    if "linear" in report:
        linear = report["linear"]
        parts.append(f"linear top-1 {100 * linear['top1']:.1f}% top-5 {100 * linear['top5']:.1f}%")
    if "knn" in report:
        for k, result in report["knn"]["by_k"].items():
            parts.append(f"kNN-{k} top-1 {100 * result['top1']:.1f}%")
    cached = " (cached features)" if report["features_cached"] else ""
    return f"{report['checkpoint']} on {report['dataset']}: {', '.join(parts)}{cached}"


def write_report(report: dict[str, Any], path: str | Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(report, indent=2) + "\n")
