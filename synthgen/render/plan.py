"""The plan of a render (shard k holds samples [k*n, (k+1)*n)), whose files the destination
holds, and what of the plan is already done: the resume decision, made from the sidecars that
synthgen.corpus reads and from the shards' own bytes."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from synthgen.corpus.format import (
    FORMAT_NAME,
    MANIFEST_NAME,
    SHARD_SIDECAR,
    SHARD_TAR,
    ShardRecord,
    shard_sidecar_name,
    shard_tar_name,
)
from synthgen.corpus.read import read_sidecars
from synthgen.corpus.storage import TEMP_PREFIX, Destination
from synthgen.corpus.tar import iter_tar_samples
from synthgen.errors import CorpusError, RecipeError

logger = logging.getLogger(__name__)

# More shards than this is no corpus but a typo (`--count 100000000000 --set shard.samples=1`):
# the manifest alone would not fit in memory. 10,000 samples a shard make 10 billion samples.
MAX_SHARDS = 1_000_000
# Files that look like part of a corpus, synthgen's or another tool's (WebDataset shards and
# their indexes); synthgen writes only where every such file is its own.
_SHARD_LIKE = re.compile(r"^(shard-.*\.json|.*\.(tar|tgz|tar\.gz))$")
# Lone tars (no sidecar) read to learn whose they are, at most, in a folder with no other sign.
_PROBED_TARS = 3


@dataclass(frozen=True)
class ShardTask:
    index: int
    start: int
    stop: int

    @property
    def nsamples(self) -> int:
        return self.stop - self.start

    @property
    def tar_name(self) -> str:
        return shard_tar_name(self.index)

    @property
    def sidecar_name(self) -> str:
        return shard_sidecar_name(self.index)


class ShardPlan(Sequence[ShardTask]):
    """The shards of `count` samples, `per_shard` each: computed by index, never held in a list,
    so a plan takes the same memory whatever the count."""

    def __init__(self, count: int, per_shard: int) -> None:
        self.count, self.per_shard = count, per_shard

    def __len__(self) -> int:
        return -(-self.count // self.per_shard)

    def task(self, index: int) -> ShardTask | None:
        """Shard `index` of the plan, or None when the plan has no such shard."""
        if not 0 <= index < len(self):
            return None
        start = index * self.per_shard
        return ShardTask(index=index, start=start, stop=min(start + self.per_shard, self.count))

    def __getitem__(self, index: int) -> ShardTask:  # type: ignore[override]
        if index < 0:
            index += len(self)
        task = self.task(index)
        if task is None:
            raise IndexError(index)
        return task

    def __iter__(self) -> Iterator[ShardTask]:
        return (self[k] for k in range(len(self)))


class RemainingShards(Sequence[ShardTask]):
    """The tasks of a plan not in `done`, in order, computed as they are read (the executors
    take a sequence: its length, then its tasks)."""

    def __init__(self, plan: ShardPlan, done: set[int]) -> None:
        self.plan, self.done = plan, done

    def __len__(self) -> int:
        return len(self.plan) - sum(1 for index in self.done if self.plan.task(index) is not None)

    def __iter__(self) -> Iterator[ShardTask]:
        return (self.plan[k] for k in range(len(self.plan)) if k not in self.done)

    def __getitem__(self, index: int) -> ShardTask:  # type: ignore[override]
        # Random access walks the plan; the executors only iterate.
        for position, task in enumerate(self):
            if position == index:
                return task
        raise IndexError(index)


def plan_shards(count: int, samples_per_shard: int) -> ShardPlan:
    """The plan of `count` samples in shards of `samples_per_shard`; RecipeError, naming both,
    for a plan of more than MAX_SHARDS shards."""
    plan = ShardPlan(count, samples_per_shard)
    if len(plan) > MAX_SHARDS:
        raise RecipeError(
            f"count {count} with shard.samples {samples_per_shard} makes {len(plan)} shards, more than "
            f"{MAX_SHARDS:,}: raise shard.samples (--set shard.samples=N) or lower the count (--count)"
        )
    return plan


@dataclass
class Holdings:
    """What a destination holds, by whose it is (from one listing)."""

    sizes: dict[str, int]  # every file, by name
    sidecars: dict[int, ShardRecord]  # the readable sidecars, by shard index
    ours: list[str] = field(default_factory=list)  # the corpus files that are synthgen's
    foreign: list[str] = field(default_factory=list)  # the corpus-like files that are not
    foreign_manifest: str | None = None  # why manifest.json is not synthgen's, when it is not

    def refuse_foreign(self, dest: Destination) -> None:
        """CorpusError, one line naming the first few files that are not synthgen's, if any."""
        if self.foreign_manifest is not None:
            raise CorpusError(
                f"{dest.url.rstrip('/')}/{MANIFEST_NAME} is not synthgen's ({self.foreign_manifest}): the folder holds "
                "another tool's data, which synthgen leaves alone; choose another --out"
            )
        if self.foreign:
            shown = ", ".join(self.foreign[:3]) + (
                f" and {len(self.foreign) - 3} more" if len(self.foreign) > 3 else ""
            )
            raise CorpusError(
                f"{dest.url}: holds files that are not synthgen's: {shown} (no synthgen sidecar says whose they "
                "are); synthgen writes only among its own files and leaves these alone: choose another --out, "
                "or move them away"
            )


def survey(dest: Destination) -> Holdings:
    """Whose the corpus-like files of `dest` are (`*.tar`, `shard-*.json`, manifest.json).

    synthgen's are: sidecars that parse (ShardRecord: they name their recipe); a manifest of the
    synthgen-corpus format; and in a folder with one of those, every file of synthgen's own
    names (a tar whose sidecar is missing, or was removed by `verify --repair`, a damaged
    sidecar). In a folder with none, a lone `shard-NNNNNN.tar` is synthgen's when its first
    sample says which recipe it is of (a render killed before its first sidecar). Everything
    else corpus-like is foreign: another tool's WebDataset shards, another tool's manifest.
    """
    infos = dest.infos()
    sizes = {name: int(info.get("size", 0)) for name, info in infos.items()}
    holdings = Holdings(sizes=sizes, sidecars=read_sidecars(dest, sorted(sizes)))
    evidence = bool(holdings.sidecars)
    manifest_is_json = None
    if MANIFEST_NAME in sizes:
        manifest_is_json, why = manifest_kind(dest)
        if manifest_is_json and why is not None:
            holdings.foreign_manifest = why
        elif manifest_is_json:
            evidence = True
    ours_by_name = [name for name in sorted(sizes) if SHARD_TAR.match(name) or SHARD_SIDECAR.match(name)]
    if not evidence:
        lone = [name for name in ours_by_name if SHARD_TAR.match(name)][:_PROBED_TARS]
        evidence = any(_says_its_recipe(dest, name) for name in lone)
    for name in sorted(sizes):
        if name == MANIFEST_NAME:
            if holdings.foreign_manifest is None and (manifest_is_json or evidence):
                holdings.ours.append(name)
            elif holdings.foreign_manifest is None:
                holdings.foreign_manifest = "not JSON, in a folder of no synthgen corpus"
        elif _SHARD_LIKE.match(name) and not name.startswith(TEMP_PREFIX):
            (holdings.ours if evidence and name in ours_by_name else holdings.foreign).append(name)
    return holdings


def manifest_kind(dest: Destination) -> tuple[bool, str | None]:
    """Whether `dest`'s manifest.json is JSON, and why it is not synthgen's (None: it is of the
    synthgen-corpus format, or is no JSON at all: damaged)."""
    try:
        found = json.loads(dest.read_bytes(MANIFEST_NAME))
    except (ValueError, RecursionError, CorpusError):  # no JSON (or nested past the parser's stack)
        return False, None
    if not isinstance(found, dict):
        return True, "not an object of the synthgen-corpus format"
    if found.get("format") != FORMAT_NAME:
        return True, f"its format is {json.dumps(found.get('format'))[:40]}, not {FORMAT_NAME!r}"
    return True, None


def _says_its_recipe(dest: Destination, name: str) -> bool:
    """Whether the first sample of tar `name` records a recipe sha256 (synthgen's metadata)."""
    try:
        with dest.open(name) as stream:
            for sample in iter_tar_samples(stream, where=dest.path(name)):
                meta = json.loads(sample.get("json", b"null"))
                return isinstance(meta, dict) and isinstance(meta.get("recipe_sha256"), str)
    except (CorpusError, ValueError, RecursionError, OSError):
        return False
    return False


def committed_shards(
    dest: Destination,
    recipe_sha256: str,
    tasks: Sequence[ShardTask],
    *,
    holdings: Holdings | None = None,
    check_sha256: bool = True,
) -> dict[int, ShardRecord]:
    """The shards of the plan already committed in `dest`: sidecar present, parseable and matching,
    its tar of the recorded size and (unless not `check_sha256`: `--trust-sizes`) sha256.

    A tar without a matching sidecar, or whose bytes differ from it, is an interrupted or damaged
    shard and is rendered again. A sidecar of another recipe means `dest` holds a different
    corpus: CorpusError, nothing is touched. The records' `url` is the shard's name in the plan,
    never what a sidecar says.
    """
    holdings = holdings or survey(dest)
    sizes = holdings.sizes
    task_of = tasks.task if isinstance(tasks, ShardPlan) else {task.index: task for task in tasks}.get
    candidates: dict[int, ShardRecord] = {}
    for index, record in holdings.sidecars.items():
        if record.recipe_sha256 != recipe_sha256:
            raise CorpusError(
                f"{dest.url}: holds shards of another recipe (sha256 {record.recipe_sha256[:12]}, "
                f"this recipe {recipe_sha256[:12]}); choose another --out or pass --overwrite"
            )
        task = task_of(index)
        if task is None or (record.shard, record.first_index, record.nsamples) != (
            task.index,
            task.start,
            task.nsamples,
        ):
            continue
        if sizes.get(task.tar_name) == record.filesize:
            candidates[task.index] = dataclasses.replace(record, url=task.tar_name)
    if not check_sha256 or not candidates:
        return candidates
    kept = same_sha256(dest, list(candidates.values()))
    return {index: record for (index, record), same in zip(candidates.items(), kept, strict=True) if same}


def same_sha256(dest: Destination, records: Sequence[ShardRecord]) -> list[bool]:
    """Whether each record's tar has the sha256 its sidecar records (hashed in parallel: the reads
    of an object store overlap, and hashlib releases the GIL)."""
    threads = max(1, min(len(records), 8 if not dest.is_local else (os.cpu_count() or 1)))

    def check(record: ShardRecord) -> bool:
        try:
            same = dest.sha256(record.url) == record.sha256
        except CorpusError:  # gone since the listing
            same = False
        if not same:
            logger.warning("%s: %s: sha256 differs from its sidecar: rendered again", dest.url, record.url)
        return same

    if threads == 1:
        return [check(record) for record in records]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(check, records))


def recheck_committed(dest: Destination, recipe_sha256: str, records: Sequence[ShardRecord]) -> list[ShardRecord]:
    """`records` (the whole plan's), checked against the destination as it is now, just before its
    manifest is written: every sidecar read back says what the run committed (recipe, size,
    sha256) and every tar is listed at its size. CorpusError, naming the first shard that differs
    (another writer was here, or a file was damaged), and no manifest."""
    sizes = {name: int(info.get("size", -1)) for name, info in dest.infos().items()}

    def on_disk(record: ShardRecord) -> ShardRecord | None:
        try:
            return ShardRecord.parse(dest.read_bytes(record_sidecar(record)), where=dest.path(record_sidecar(record)))
        except CorpusError:
            return None

    threads = 1 if dest.is_local else 16  # an object store: a request per sidecar, overlapped
    if threads == 1:
        found = [on_disk(record) for record in records]
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            found = list(pool.map(on_disk, records))
    for record, there in zip(records, found, strict=True):
        expected = (recipe_sha256, record.shard, record.first_index, record.nsamples, record.filesize, record.sha256)
        if (
            there is None
            or (there.recipe_sha256, there.shard, there.first_index, there.nsamples, there.filesize, there.sha256)
            != expected
            or sizes.get(record.url) != record.filesize
        ):
            raise CorpusError(
                f"{dest.url}: {record.url} is not what this run committed (another writer, or damage, since); "
                "no manifest written: run the same command again to render it again"
            )
    return [dataclasses.replace(record, url=shard_tar_name(record.shard)) for record in records]


def record_sidecar(record: ShardRecord) -> str:
    return shard_sidecar_name(record.shard)
