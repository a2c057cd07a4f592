"""Progress of long jobs (a render, a training run, a verify), as updates sent to a callback.

The library draws no progress bar: a job calls `on_progress(ProgressUpdate(...))` and the caller
shows it as it likes (the `synthgen` command draws tqdm bars: synthgen/cli_progress.py). Every job
reports the same way, so one callback serves them all, and a study that runs many jobs in turn
passes one callback down to each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProgressUpdate:
    """One report of a job's progress.

    A job's first update has `advance` 0 and announces `total` (and `done`, the units an earlier,
    resumed run did); each later one says how many units (at least 1) were done since the one
    before. The sum of a job's advances is the work it did; `done` reaches `total` when it
    finishes (a job that stops early, e.g. training with `stop_after`, ends below it). A job with
    nothing to do (a corpus already complete) may send no update at all.
    """

    name: str  # what the job is: the recipe's name for a render, "train", "verify"
    unit: str  # what it counts: "sample", "step", "shard"
    advance: int  # units done since this job's previous update (0 in its first)
    done: int  # units done so far, those of an earlier, resumed run included
    total: int  # units done when the job ends
    status: dict[str, str] = field(default_factory=dict)  # figures worth showing now (training: loss, images/s)

    @property
    def first(self) -> bool:
        """Whether this update starts its job (a caller opens its bar here)."""
        return self.advance == 0


ProgressCallback = Callable[[ProgressUpdate], None]


class ProgressReporter:
    """Sends one job's updates to `on_progress` (nothing when it is None): the first one when
    made, then one per call with the units done since the last."""

    def __init__(self, on_progress: ProgressCallback | None, name: str, unit: str, total: int, done: int = 0) -> None:
        self._send = on_progress
        self.name, self.unit, self.total, self.done = name, unit, total, done
        if on_progress is not None:
            on_progress(ProgressUpdate(name, unit, 0, done, total))

    def __call__(self, advance: int, status: dict[str, str] | None = None) -> None:
        if advance < 1:
            return  # an advance of 0 would read as the start of another job
        self.done += advance
        if self._send is not None:
            self._send(ProgressUpdate(self.name, self.unit, advance, self.done, self.total, dict(status or {})))
