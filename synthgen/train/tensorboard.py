"""TensorBoard events beside metrics.jsonl (`synthgen train --log tensorboard`, config `log: [jsonl, tensorboard]`).

    tensorboard --logdir runs/demo/tensorboard

Each line of metrics.jsonl becomes scalars at its step (the global step): `train/loss`,
`train/lr`, `train/images_per_s`, `train/data_wait`, the method's figures (`train/acc`, ...),
`train/bad_samples` and `train/bad_shards`, and the monitor's `monitor/knn_top1`. Only the main
process writes. metrics.jsonl stays the record (summary.json and curves.png read it); this is a
view of it. A resumed run appends a new events file, whose first event purges, for the reader,
the steps after the checkpoint it resumed from: the steps the run trains again, as
read_metrics keeps their later line. Needs the `tensorboard` package (`pip install tensorboard`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from synthgen.errors import SynthgenError

TENSORBOARD_DIR = "tensorboard"
# What SummaryWriter names its files (synthgen removes only these, when a fresh run starts over a
# folder whose earlier run never reached a checkpoint).
_EVENTS_PREFIX = "events.out.tfevents."

logger = logging.getLogger(__name__)


def summary_writer_class() -> Any:
    """torch's SummaryWriter; SynthgenError in one line when the tensorboard package is missing.
    Imported only here: TensorBoard costs seconds to import, and most runs do not ask for it."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise SynthgenError("--log tensorboard needs the tensorboard package: pip install tensorboard") from None
    return SummaryWriter


def tag(key: str) -> str:
    """The TensorBoard tag of a metrics.jsonl key: `monitor_knn_top1` -> `monitor/knn_top1`, `loss` -> `train/loss`."""
    if key.startswith("monitor_"):
        return f"monitor/{key.removeprefix('monitor_')}"
    return f"train/{key}"


class TensorBoardLog:
    """Writes metrics.jsonl's lines as scalars into RUN/tensorboard/, flushed line by line (a run
    killed between two lines loses none it logged)."""

    def __init__(self, run_dir: str | Path, *, resume: bool, start_step: int) -> None:
        writer_class = summary_writer_class()
        folder = Path(run_dir) / TENSORBOARD_DIR
        if not resume and folder.is_dir():
            # A fresh run starts metrics.jsonl afresh; so it does its events.
            for old in folder.glob(f"{_EVENTS_PREFIX}*"):
                old.unlink()
        # purge_step: a reader drops the events at and after it from earlier files, i.e. those
        # logged after the checkpoint this run resumes from (the steps it trains again).
        self._writer = writer_class(log_dir=str(folder), purge_step=start_step + 1 if resume else None)
        self.folder = folder

    def write(self, record: dict[str, Any]) -> None:
        """Add one metrics.jsonl line (its numbers; `step` is the step) and flush."""
        step = int(record["step"])
        for key, value in record.items():
            if key != "step" and isinstance(value, int | float) and not isinstance(value, bool):
                self._writer.add_scalar(tag(key), value, step)
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()
