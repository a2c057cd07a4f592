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
from synthgen.corpus.format import MANIFEST_NAME, SHARD_SIDECAR, Manifest, ShardRecord
from synthgen.corpus.lock import DestinationLock, hold_destination
from synthgen.corpus.read import load_manifest
from synthgen.corpus.storage import Destination
from synthgen.corpus.tar import ShardWriter
from synthgen.errors import CorpusError
from synthgen.faults import failpoint
from synthgen.permissions import Permissions, check_code_allowed, granting, resolve_permissions
from synthgen.progress import ProgressCallback, ProgressReporter
from synthgen.recipe import Recipe
from synthgen.render.executors import Executor, LocalExecutor, Progress
from synthgen.render.plan import (
    Holdings,
    RemainingShards,
    ShardPlan,
    ShardTask,
    committed_shards,
    manifest_kind,
    plan_shards,
    recheck_committed,
    survey,
)
from synthgen.render.samples import render_samples, sample_fields
from synthgen.sources import build_source, source_class
from synthgen.sources.base import Source
from synthgen.text import counted

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
        resumed = self.nshards - self.rendered_shards
        text = (
            f"wrote {counted(self.nsamples, 'sample')} ({counted(self.nimages, 'image')}) in "
            f"{counted(self.nshards, 'shard')} to {self.dest}: "
        )
        if self.rendered_samples and self.seconds > 0:
            rate = self.rendered_samples / self.seconds
            text += (
                f"rendered {counted(self.rendered_samples, 'sample')} in {self.seconds:.1f} s ({rate:.0f} samples/s)"
            )
        else:
            text += "nothing left to render"
        if resumed:
            text += f", {counted(resumed, 'shard')} kept from an earlier run"
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
    force: bool = False,
    trust_sizes: bool = False,
    storage_options: dict[str, Any] | None = None,
    on_progress: ProgressCallback | None = None,
    on_failure_subject: Callable[[str, str], None] | None = None,
    permissions: Permissions | None = None,
) -> RenderSummary:
    """Render `recipe` into `dest_url`, resuming whatever an earlier run committed there.

    Shards run on `executor` (default: a local pool of `workers` processes). The destination is
    locked for the length of the render (synthgen.corpus.lock: a second writer is refused in one
    line); `force` breaks another run's lock (one that is dead, but whose lock object has not
    expired yet). synthgen writes only where every corpus-like file is its own, and `overwrite`
    deletes only its own. Kept shards are checked against their sidecars' sha256 unless
    `trust_sizes` (their sizes then suffice).
    `on_progress` gets the render's ProgressUpdates (unit "sample", named after the recipe; the
    samples of shards kept from an earlier run count as done at the start).
    `on_failure_subject(subject, message)` is called once per new culprit (e.g. a program that
    does not compile) as shards complete.
    `permissions` (synthgen.permissions.Permissions): the modules whose code the recipe may run (a
    gan `generator`) and the pickle checkpoints it may unpickle, as `--allow-code` and
    `--trust-pickle` give them; every worker gets them. None: the permissions in effect (a
    `granting` block), else what SYNTHGEN_ALLOW_CODE and SYNTHGEN_TRUST_PICKLE allow, so by
    default nothing. A recipe asking for more is a NotAllowedError before anything runs.
    """
    permissions = resolve_permissions(permissions)
    check_code_allowed(recipe, permissions)
    with granting(permissions):  # a source's check may import what the permissions allow
        source_class(recipe.source.kind).check(recipe)
    dest = Destination(dest_url, storage_options)
    dest.check_not_current_folder()
    tasks = plan_shards(recipe.count, recipe.shard.samples)  # an absurd plan fails before any I/O
    dest.check_usable()
    with hold_destination(dest, force=force) as lock:
        return _render_held(
            recipe,
            dest,
            tasks,
            lock,
            executor=executor or LocalExecutor(workers),
            overwrite=overwrite,
            trust_sizes=trust_sizes,
            permissions=permissions,
            on_progress=on_progress,
            on_failure_subject=on_failure_subject,
        )


def _render_held(
    recipe: Recipe,
    dest: Destination,
    tasks: ShardPlan,
    lock: DestinationLock,
    *,
    executor: Executor,
    overwrite: bool,
    trust_sizes: bool,
    permissions: Permissions,
    on_progress: ProgressCallback | None,
    on_failure_subject: Callable[[str, str], None] | None,
) -> RenderSummary:
    """render_corpus's work, once it holds the destination's lock."""
    summary = RenderSummary(
        dest=dest.url,
        recipe_sha256=recipe.sha256,
        nsamples=recipe.count,
        nimages=recipe.count * recipe.views,
        nshards=len(tasks),
    )
    holdings = survey(dest)
    holdings.refuse_foreign(dest)
    if overwrite:
        clear_corpus(dest, holdings)
        holdings = survey(dest)
    elif _manifest_matches(dest, recipe):
        summary.already_complete = True
        return summary

    records = committed_shards(dest, recipe.sha256, tasks, holdings=holdings, check_sha256=not trust_sizes)
    dest.remove_temporaries(all_runs=True)  # under the lock, what any run left half-written is stale
    todo = RemainingShards(tasks, set(records))
    logger.debug("%s: %d of %d shards committed already, %d to render", dest.url, len(records), len(tasks), len(todo))
    shard_fn = functools.partial(
        _render_shard_task, recipe, dest.url, dest.storage_options, permissions, run_id=dest.run_id
    )
    started = time.perf_counter()
    kept = sum(record.nsamples for record in records.values())
    reporter = ProgressReporter(on_progress, recipe.name, "sample", recipe.count, done=kept)
    try:
        with release_worker_sources():
            for record in executor.run(shard_fn, todo, reporter):
                lock.check()
                records[record.shard] = record
                summary.add(record, on_failure_subject)
    except BaseException:
        # The workers are stopped by now: what they left half-written goes (committed shards
        # stay). Only this run's: another's, if the lock was broken, is not ours to remove.
        dest.remove_temporaries(all_runs=False)
        raise
    summary.seconds = time.perf_counter() - started

    # The manifest says what is on disk now: each shard's sidecar read back and its tar listed
    # (another writer, had there been one, would show here), not what this run remembers.
    ordered = recheck_committed(dest, recipe.sha256, [records[task.index] for task in tasks])
    lock.check()
    manifest = Manifest.build(recipe.resolved(), recipe.sha256, ordered, __version__)
    failpoint("manifest")
    dest.write_bytes(MANIFEST_NAME, manifest.to_json())
    return summary


def clear_corpus(dest: Destination, holdings: Holdings | None = None) -> None:
    """Remove the corpus in `dest`, synthgen's files only (manifest first, so it is never
    complete-looking while half removed); files that are not synthgen's are left, and named.
    Only the holder of the destination's lock may call it (it removes every run's temporaries)."""
    holdings = holdings or survey(dest)
    if MANIFEST_NAME in holdings.ours:
        dest.remove(MANIFEST_NAME)
    # Sidecars before their tars: a tar left by an interruption here is uncommitted, not complete.
    for name in sorted(holdings.ours, key=lambda name: not SHARD_SIDECAR.match(name)):
        if name != MANIFEST_NAME:
            dest.remove(name)
    dest.remove_temporaries(all_runs=True)
    left = holdings.foreign + ([MANIFEST_NAME] if holdings.foreign_manifest else [])
    if left:
        shown = ", ".join(left[:3]) + (" ..." if len(left) > 3 else "")
        logger.warning("%s: left alone, not synthgen's: %s", dest.url, shown)


def recorded_recipe(dest: Destination) -> str | None:
    """The recipe sha256 of the complete corpus in `dest` (None if there is none yet)."""
    if not dest.exists(MANIFEST_NAME):
        return None
    try:
        return load_manifest(dest).recipe_sha256
    except CorpusError as err:
        foreign = manifest_kind(dest)[1]
        if foreign is not None:  # another tool's: --overwrite would not (and must not) delete it
            raise CorpusError(
                f"{dest.url.rstrip('/')}/{MANIFEST_NAME} is not synthgen's ({foreign}); choose another folder"
            ) from None
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
_sources: dict[tuple[str, str | None, Permissions | None], Source] = {}


def worker_source(recipe: Recipe, device: str | None, permissions: Permissions | None = None) -> Source:
    key = (recipe.sha256, device, permissions)
    if key not in _sources:
        _sources[key] = build_source(recipe, device=device, permissions=permissions)
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
    permissions: Permissions,
    task: ShardTask,
    device: str | None,
    progress: Progress,
    *,
    run_id: str | None = None,
) -> ShardRecord:
    source = worker_source(recipe, device, permissions)
    # The driver's run id: this worker's temporaries are the run's own.
    return render_shard(recipe, Destination(dest_url, storage_options, run_id), task, source, progress)


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
