"""The progress bars of the `synthgen` command (tqdm, on stderr): the library reports progress
through callbacks (synthgen/progress.py) and draws nothing; --quiet turns every bar off."""

from __future__ import annotations

import sys
from typing import Any

from synthgen.cli_options import QUIET, verbosity
from synthgen.progress import ProgressUpdate


def progress_bar(**options: Any) -> Any:
    """A tqdm bar on stderr for a loop of the command's own (tqdm's options; off under --quiet)."""
    from tqdm import tqdm

    return tqdm(dynamic_ncols=True, file=sys.stderr, disable=verbosity() == QUIET, **options)


class ProgressBars:
    """A progress callback that draws each job's updates as a bar: opened by the job's first
    update, closed when it reaches its total or another job starts, or on leaving the block.

        with ProgressBars() as bars:
            render_corpus(recipe, dest, on_progress=bars)
    """

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = verbosity() != QUIET if enabled is None else enabled
        self._bar: Any = None
        self._status: dict[str, str] = {}

    def __call__(self, update: ProgressUpdate) -> None:
        if not self.enabled:
            return
        if update.first:
            self.close()
            self._bar = progress_bar(
                total=update.total, initial=update.done, unit=update.unit, desc=update.name, smoothing=0.1
            )
            self._status = {}
        if self._bar is None:  # an update of a job whose start we did not see
            return
        if update.status and update.status != self._status:
            self._status = update.status
            self._bar.set_postfix(update.status, refresh=False)
        if update.advance:
            self._bar.update(update.advance)
        if update.done >= update.total:
            self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> ProgressBars:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()
