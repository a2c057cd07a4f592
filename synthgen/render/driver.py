"""Drive a render: plan the shards, skip those committed, run the rest, write the manifest last;
sample i is a pure function of (recipe, i), so the bytes do not depend on scheduling or resumes.

Growing: a corpus of this recipe at a smaller count is grown in place. The recipe hash leaves
`count` out (Recipe.identity), so every full shard of the smaller corpus is a shard of the larger
one, byte for byte, and is kept (its sidecar checked, as on resume); the old last shard, when
partial, is rendered again, then the new ones. The manifest's `history` records each render."""

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
from synthgen.corpus.card import remove_card, write_card
from synthgen.corpus.format import MANIFEST_NAME, SHARD_SIDECAR, Manifest, ShardRecord, history_entry
from synthgen.corpus.lock import DestinationLock, hold_destination
from synthgen.corpus.read import load_manifest
from synthgen.corpus.storage import Destination
from synthgen.corpus.tar import ShardWriter
from synthgen.errors import CorpusError
from synthgen.faults import failpoint
from synthgen.permissions import Permissions, check_code_allowed, granting, resolve_permissions
from synthgen.progress import ProgressCallback, ProgressReporter
from synthgen.recipe import Recipe, recipe_differences
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
    excluded: dict[str, str] = field(default_factory=dict)  # culprit -> reason, in the shards rendered now
    grown_from: int | None = None  # the count of the corpus this render grew

    def add(self, record: ShardRecord, on_failure_subject: Callable[[str, str], None] | None = None) -> None:
        """Count a shard rendered now; report each culprit the first time it is seen."""
        self.rendered_shards += 1
        self.rendered_samples += record.nsamples
        self.failures.update(record.failures)
        for subject, reason in record.excluded.items():
            self.excluded.setdefault(subject, reason)
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
        if self.grown_from is not None:
            text += f", {counted(resumed, 'shard')} kept (grown from {counted(self.grown_from, 'sample')})"
        elif resumed:
            text += f", {counted(resumed, 'shard')} kept from an earlier run"
        if self.failures:
            # Failures count draws (a sample may fail more than once), excluded ones programs.
            draws = sum(self.failures.values())
            reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(self.failures.items()))
            text += f"; redrawn {counted(draws, 'failed draw')}: {reasons}"
            if self.excluded:
                text += f" ({counted(len(self.excluded), 'program')} excluded)"
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
    previous: Manifest | None = None  # the complete corpus this render grows
    if overwrite:
        clear_corpus(dest, holdings)
        holdings = survey(dest)
    else:
        previous = recorded_manifest(dest)
        if previous is not None and _same_corpus(dest, previous, recipe):
            summary.already_complete = True
            return summary
        if previous is not None:
            # The count the user rendered last (a manifest cut back to its whole shards by an
            # interrupted growth holds fewer; its history says).
            summary.grown_from = previous.history[-1]["count"] if previous.history else previous.nsamples
            _keep_whole_shards(dest, previous, holdings, recipe)

    records = committed_shards(dest, recipe.sha256, tasks, holdings=holdings, check_sha256=not trust_sizes)
    # What the history says this render kept: the shards of the corpus it grows that it keeps,
    # never those of an interrupted run of itself, so that a resumed render's manifest is the
    # uninterrupted one's, byte for byte.
    kept_shards = set(records) & set(range(len(previous.shardlist))) if previous is not None else set()
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
    history = [*(previous.history if previous is not None else ())]
    history.append(history_entry(recipe.count, __version__, kept_shards, len(tasks)))
    manifest = Manifest.build(recipe.resolved(), recipe.sha256, ordered, __version__, history)
    write_card(dest, manifest)  # README.md, the dataset card: before the manifest, which comes last
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
    remove_card(dest)  # synthgen's README.md only: a user's own stays
    # Sidecars before their tars: a tar left by an interruption here is uncommitted, not complete.
    for name in sorted(holdings.ours, key=lambda name: not SHARD_SIDECAR.match(name)):
        if name != MANIFEST_NAME:
            dest.remove(name)
    dest.remove_temporaries(all_runs=True)
    left = holdings.foreign + ([MANIFEST_NAME] if holdings.foreign_manifest else [])
    if left:
        shown = ", ".join(left[:3]) + (" ..." if len(left) > 3 else "")
        logger.warning("%s: left alone, not synthgen's: %s", dest.url, shown)


def recorded_manifest(dest: Destination) -> Manifest | None:
    """The manifest of the complete corpus in `dest` (None if there is none yet)."""
    if not dest.exists(MANIFEST_NAME):
        return None
    try:
        return load_manifest(dest)
    except CorpusError as err:
        foreign = manifest_kind(dest)[1]
        if foreign is not None:  # another tool's: --overwrite would not (and must not) delete it
            raise CorpusError(
                f"{dest.url.rstrip('/')}/{MANIFEST_NAME} is not synthgen's ({foreign}); choose another folder"
            ) from None
        raise CorpusError(f"{err}; pass --overwrite to render again") from None


def other_recipe_problem(found: Manifest, recipe: Recipe, where: str = "DEST") -> str | None:
    """What makes the corpus of manifest `found` (as `where` holds it) another recipe's than
    `recipe`: the settings that differ, or None when it is this recipe's, at any count."""
    if found.recipe_sha256 == recipe.sha256:
        return None
    theirs, ours = found.recipe, recipe.resolved()
    if recipe.count_dependence is not None and {**theirs, "count": ours["count"]} == ours:
        return (
            f"count: {theirs.get('count')} in {where}, {ours['count']} in this recipe, and {recipe.count_dependence}, "
            "so a corpus of it cannot grow"
        )
    changed = recipe_differences(theirs, ours, where)
    if changed is None:  # the same settings, hashed by another rule (an older synthgen hashed `count` too)
        return (
            f"the same settings, but recipe sha256 {found.recipe_sha256[:12]} there (synthgen "
            f"{found.synthgen_version} hashed them otherwise), {recipe.sha256[:12]} now"
        )
    return changed


def _same_corpus(dest: Destination, found: Manifest, recipe: Recipe) -> bool:
    """True if manifest `found` is this recipe's complete corpus at this count, False if at a
    smaller one (it grows); CorpusError, naming what differs, if it is another recipe's or larger."""
    problem = other_recipe_problem(found, recipe)
    if problem is not None:
        raise CorpusError(
            f"{dest.url}: holds a complete corpus of another recipe ({problem}); "
            "choose another --out or pass --overwrite"
        )
    if found.nsamples > recipe.count:
        raise CorpusError(
            f"{dest.url}: holds {found.nsamples} samples of this recipe, more than count {recipe.count}: a corpus "
            "grows but never shrinks; choose another --out, or pass --overwrite to render it again at this count"
        )
    return found.nsamples == recipe.count


def _keep_whole_shards(dest: Destination, found: Manifest, holdings: Holdings, recipe: Recipe) -> None:
    """Before growing the corpus of manifest `found`: when its last shard is partial (it is
    rendered again, fuller), the manifest is rewritten to name only the whole shards before it, a
    corpus of this recipe complete at that smaller count, so that the folder stays a readable
    corpus, and its history survives an interruption. With no whole shard, or a sidecar missing,
    the manifest goes (a resumable corpus until the render ends)."""
    if found.shardlist[-1].nsamples == recipe.shard.samples:
        return  # every shard is one of the grown corpus's: the manifest stays true until replaced
    whole = found.shardlist[:-1]
    records = [holdings.sidecars.get(index) for index in range(len(whole))]
    if not whole or any(
        record is None or (record.url, record.filesize, record.sha256) != (entry.url, entry.filesize, entry.sha256)
        for record, entry in zip(records, whole, strict=True)
    ):
        dest.remove(MANIFEST_NAME)
        return
    count = sum(entry.nsamples for entry in whole)
    checked = [record for record in records if record is not None]
    smaller = Manifest.build(
        {**found.recipe, "count": count}, found.recipe_sha256, checked, found.synthgen_version, found.history
    )
    dest.write_bytes(MANIFEST_NAME, smaller.to_json())


# --- worker side -------------------------------------------------------------------------

# One source per worker process, kept across its shards (it may hold a GL context or a model).
# Pool workers keep theirs until they exit; a render run in the driver's process releases its
# own at the end (release_worker_sources).
_sources: dict[tuple[str, int, str | None, Permissions | None], Source] = {}


def worker_source(recipe: Recipe, device: str | None, permissions: Permissions | None = None) -> Source:
    # The count too: the hash leaves it out, and a source may check it (a dataset's count is its size).
    key = (recipe.sha256, recipe.count, device, permissions)
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
    excluded: dict[str, str] = {}
    with dest.staging(task.tar_name) as out:
        writer = ShardWriter(out)
        # Encoding and tar writing run on a thread while the source renders the next batch; the
        # queue holds two batches so the source never waits for the writer to take one.
        depth = max(8, 2 * source.batch_size)
        with _Background(lambda item: writer.write(sample_fields(recipe, *item)), depth) as background:
            for begin in range(task.start, task.stop, source.batch_size):
                indices = range(begin, min(begin + source.batch_size, task.stop))
                for spec, sample in render_samples(recipe, source, indices, failures, subjects, excluded):
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
        excluded=dict(sorted(excluded.items())),
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
