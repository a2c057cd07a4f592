"""Drive a render: plan the shards, skip those committed, run the rest, write the manifest last;
sample i is a pure function of (recipe, i), so the bytes do not depend on scheduling or resumes."""

from __future__ import annotations

import contextlib
import functools
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from synthgen import __version__
from synthgen.corpus.format import MANIFEST_NAME, SHARD_SIDECAR, SHARD_TAR, Manifest, ShardRecord
from synthgen.corpus.read import load_manifest
from synthgen.corpus.storage import Destination
from synthgen.corpus.tar import ShardWriter
from synthgen.errors import CorpusError
from synthgen.faults import failpoint
from synthgen.progress import ProgressCallback, ProgressReporter, warn_if_bar_asked
from synthgen.recipe import Recipe
from synthgen.render.executors import Executor, LocalExecutor, Progress
from synthgen.render.plan import ShardTask, committed_shards, plan_shards
from synthgen.render.samples import render_samples, sample_fields
from synthgen.sources import build_source, source_class
from synthgen.sources.base import Source

logger = logging.getLogger(__name__)


@dataclass
class RenderSummary:
    dest: str
    recipe_sha256: str
    nsamples: int
    nimages: int
    nshards: int
    rendered_shards: int = 0
    rendered_samples: int = 0
    seconds: float = 0.0
    already_complete: bool = False
    failures: Counter[str] = field(default_factory=Counter)
    failure_subjects: dict[str, str] = field(default_factory=dict)

    def add(self, record: ShardRecord, on_failure_subject: Callable[[str, str], None] | None = None) -> None:
        """Count a shard rendered now; report each culprit the first time it is seen."""
        self.rendered_shards += 1
        self.rendered_samples += record.nsamples
        self.failures.update(record.failures)
        for subject, message in record.failure_subjects.items():
            if subject not in self.failure_subjects:
                self.failure_subjects[subject] = message
                if on_failure_subject is not None:
                    on_failure_subject(subject, message)

    def line(self) -> str:
        if self.already_complete:
            return (
                f"{self.dest} already holds this corpus complete ({self.nsamples} samples, "
                f"recipe {self.recipe_sha256[:12]}); nothing to do (--overwrite renders it again)"
            )
        rate = self.rendered_samples / self.seconds if self.seconds > 0 else 0.0
        resumed = self.nshards - self.rendered_shards
        text = (
            f"wrote {self.nsamples} samples ({self.nimages} images) in {self.nshards} shards to {self.dest}: "
            f"rendered {self.rendered_samples} samples in {self.seconds:.1f} s ({rate:.0f} samples/s)"
        )
        if resumed:
            text += f", {resumed} shards kept from an earlier run"
        if self.failures:
            text += "; redrawn: " + ", ".join(f"{n} {reason}" for reason, n in sorted(self.failures.items()))
        return text + f"; recipe {self.recipe_sha256[:12]}"


def render_corpus(
    recipe: Recipe,
    dest_url: str,
    *,
    workers: int = 1,
    executor: Executor | None = None,
    overwrite: bool = False,
    storage_options: dict[str, Any] | None = None,
    on_progress: ProgressCallback | None = None,
    on_failure_subject: Callable[[str, str], None] | None = None,
    progress: bool = False,
) -> RenderSummary:
    """Render `recipe` into `dest_url`, resuming whatever an earlier run committed there.

    Shards run on `executor` (default: a local pool of `workers` processes).
    `on_progress` gets the render's ProgressUpdates (unit "sample", named after the recipe; the
    samples of shards kept from an earlier run count as done at the start).
    `on_failure_subject(subject, message)` is called once per new culprit (e.g. a program that
    does not compile) as shards complete. `progress` is ignored (it drew a bar once; see
    synthgen.progress).
    """
    warn_if_bar_asked(progress)
    source_class(recipe.source.kind).check(recipe)
    dest = Destination(dest_url, storage_options)
    dest.check_usable()
    tasks = plan_shards(recipe.count, recipe.shard.samples)
    summary = RenderSummary(
        dest=dest.url,
        recipe_sha256=recipe.sha256,
        nsamples=recipe.count,
        nimages=recipe.count * recipe.views,
        nshards=len(tasks),
    )
    if overwrite:
        clear_corpus(dest)
    elif _manifest_matches(dest, recipe):
        summary.already_complete = True
        return summary

    records = committed_shards(dest, recipe.sha256, tasks)
    dest.remove_temporaries()
    todo = [task for task in tasks if task.index not in records]
    logger.debug("%s: %d of %d shards committed already, %d to render", dest.url, len(records), len(tasks), len(todo))
    shard_fn = functools.partial(_render_shard_task, recipe, dest.url, storage_options)
    started = time.perf_counter()
    kept = sum(task.nsamples for task in tasks if task.index in records)
    reporter = ProgressReporter(on_progress, recipe.name, "sample", recipe.count, done=kept)
    try:
        with release_worker_sources():
            for record in (executor or LocalExecutor(workers)).run(shard_fn, todo, reporter):
                records[record.shard] = record
                summary.add(record, on_failure_subject)
    except BaseException:
        # The workers are stopped by now: what they left half-written goes (committed shards stay).
        dest.remove_temporaries()
        raise
    summary.seconds = time.perf_counter() - started

    ordered = [records[task.index] for task in tasks]
    manifest = Manifest.build(recipe.resolved(), recipe.sha256, ordered, __version__)
    failpoint("manifest")
    dest.write_bytes(MANIFEST_NAME, manifest.to_json())
    return summary


def clear_corpus(dest: Destination) -> None:
    """Remove a corpus (manifest first, so it is never complete-looking while half removed)."""
    dest.remove(MANIFEST_NAME)
    for name in dest.listdir():
        if SHARD_TAR.match(name) or SHARD_SIDECAR.match(name):
            dest.remove(name)
    dest.remove_temporaries()


def recorded_recipe(dest: Destination) -> str | None:
    """The recipe sha256 of the complete corpus in `dest` (None if there is none yet)."""
    if not dest.exists(MANIFEST_NAME):
        return None
    try:
        return load_manifest(dest).recipe_sha256
    except CorpusError as err:
        raise CorpusError(f"{err}; pass --overwrite to render again") from None


def _manifest_matches(dest: Destination, recipe: Recipe) -> bool:
    """True if `dest` holds this recipe's complete corpus; CorpusError if another's."""
    found = recorded_recipe(dest)
    if found is None:
        return False
    if found != recipe.sha256:
        raise CorpusError(
            f"{dest.url}: holds a complete corpus of another recipe (sha256 {str(found)[:12]}, "
            f"this recipe {recipe.sha256[:12]}); choose another --out or pass --overwrite"
        )
    return True


# --- worker side -------------------------------------------------------------------------

# One source per worker process, kept across its shards (it may hold a GL context or a model).
# Pool workers keep theirs until they exit; a render run in the driver's process releases its
# own at the end (release_worker_sources).
_sources: dict[tuple[str, str | None], Source] = {}


def worker_source(recipe: Recipe, device: str | None) -> Source:
    key = (recipe.sha256, device)
    if key not in _sources:
        _sources[key] = build_source(recipe, device=device)
    return _sources[key]


@contextlib.contextmanager
def release_worker_sources() -> Iterator[None]:
    """Close the sources built in this process during the block."""
    before = set(_sources)
    try:
        yield
    finally:
        for key in set(_sources) - before:
            _sources.pop(key).close()


def _render_shard_task(
    recipe: Recipe,
    dest_url: str,
    storage_options: dict[str, Any] | None,
    task: ShardTask,
    device: str | None,
    progress: Progress,
) -> ShardRecord:
    return render_shard(recipe, Destination(dest_url, storage_options), task, worker_source(recipe, device), progress)


def render_shard(recipe: Recipe, dest: Destination, task: ShardTask, source: Source, progress: Progress) -> ShardRecord:
    """Render one shard and commit it: the tar first, then its sidecar."""
    started = time.perf_counter()
    failures: Counter[str] = Counter()
    subjects: dict[str, str] = {}
    with dest.staging(task.tar_name) as out:
        writer = ShardWriter(out)
        # Encoding and tar writing run on a thread while the source renders the next batch; the
        # queue holds two batches so the source never waits for the writer to take one.
        depth = max(8, 2 * source.batch_size)
        with _Background(lambda item: writer.write(sample_fields(recipe, *item)), depth) as background:
            for begin in range(task.start, task.stop, source.batch_size):
                indices = range(begin, min(begin + source.batch_size, task.stop))
                for spec, sample in render_samples(recipe, source, indices, failures, subjects):
                    background.put((spec, sample))
                progress(len(indices))
        filesize, sha256 = writer.close()
    failpoint("commit.sidecar")
    record = ShardRecord(
        shard=task.index,
        url=task.tar_name,
        recipe_sha256=recipe.sha256,
        first_index=task.start,
        nsamples=task.nsamples,
        filesize=filesize,
        sha256=sha256,
        render_seconds=round(time.perf_counter() - started, 3),
        failures=dict(sorted(failures.items())),
        failure_subjects=subjects,
    )
    dest.write_bytes(task.sidecar_name, record.to_json())
    return record


class _Background:
    """Runs `consume(item)` on a thread, in order, for each `put` item (a bounded queue).

    An error in `consume` is raised by the next `put` or on leaving the block.
    """

    _DONE = object()

    def __init__(self, consume: Callable[[Any], None], depth: int = 8) -> None:
        self._consume = consume
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="synthgen-writer", daemon=True)

    def __enter__(self) -> _Background:
        self._thread.start()
        return self

    def _run(self) -> None:
        while (item := self._queue.get()) is not self._DONE:
            if self._error is None:  # after an error, keep draining so `put` never blocks
                try:
                    self._consume(item)
                except BaseException as err:
                    self._error = err

    def put(self, item: Any) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(item)

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        self._queue.put(self._DONE)
        self._thread.join()
        if exc_type is None and self._error is not None:
            raise self._error
