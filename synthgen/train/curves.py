"""curves.png of a run folder: loss, learning rate and the monitor's accuracy against the step.

    from synthgen.train.curves import write_curves
    write_curves("runs/demo")   # runs/demo/curves.png, from runs/demo/metrics.jsonl

Training writes it when it ends (finished or stopped); this draws it again for any run folder.
Needs matplotlib (`pip install 'synthgen[plot]'`); without it, one info line and no figure.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from synthgen.train.checkpoints import CheckpointError

CURVES = "curves.png"
METRICS = "metrics.jsonl"
# Figures drawn below loss and lr when the metrics have them: key -> axis label.
MONITOR_KEYS = {"monitor_knn_top1": "monitor kNN top-1 (%)"}

logger = logging.getLogger(__name__)


def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    """The lines of RUN/metrics.jsonl, one per step in step order. A step logged twice (a run
    resumed from a checkpoint older than its last lines trains those steps again) keeps its later
    line; a line cut short by a crash is left out."""
    path = Path(run_dir) / METRICS
    if not path.is_file():
        raise CheckpointError(f"{run_dir}: no {METRICS} (not a training run folder?)")
    by_step: dict[int, dict[str, Any]] = {}
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
            by_step[int(record["step"])] = record
        except (ValueError, KeyError, TypeError):
            continue
    return [by_step[step] for step in sorted(by_step)]


def write_curves(run_dir: str | Path) -> Path | None:
    """Draw RUN/curves.png from RUN/metrics.jsonl; returns its path, or None when matplotlib is
    missing or nothing was logged yet."""
    run_dir = Path(run_dir)
    records = read_metrics(run_dir)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        logger.info("no %s: matplotlib is not installed (pip install 'synthgen[plot]')", CURVES)
        return None
    if not records:
        return None
    panels: list[tuple[str, str, float]] = [("loss", "loss", 1.0), ("lr", "learning rate", 1.0)]
    panels += [(key, label, 100.0) for key, label in MONITOR_KEYS.items() if any(key in r for r in records)]
    figure, axes = plt.subplots(len(panels), 1, sharex=True, figsize=(6.4, 2.0 * len(panels) + 0.6), squeeze=False)
    for axis, (key, label, scale) in zip(axes[:, 0], panels, strict=True):
        points = [(r["step"], scale * r[key]) for r in records if isinstance(r.get(key), (int, float))]
        steps, values = [p[0] for p in points], [p[1] for p in points]
        # Monitor figures are sparse (every N steps): markers show where they were measured.
        axis.plot(steps, values, color="tab:blue", marker="o" if key in MONITOR_KEYS else None, markersize=3)
        if key in MONITOR_KEYS:
            axis.set_ylim(0, 100)  # accuracies on their whole scale, comparable between runs
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("step")
    axes[0, 0].set_title(run_dir.resolve().name)
    figure.tight_layout()
    path = run_dir / CURVES
    partial = path.with_name(path.name + ".partial")  # a reader never sees half a file
    try:
        figure.savefig(partial, dpi=120, format="png")
    finally:
        plt.close(figure)
    os.replace(partial, path)
    return path


__all__ = ["CURVES", "read_metrics", "write_curves"]
