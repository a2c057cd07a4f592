"""Opening a corpus: its manifest when complete, else its committed sidecars, and its samples;
and where the shards behind a spec are (a corpus, a brace pattern, a saved stream: locate_corpus).
The readers of inspect, preview, verify, push and training all start here."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import fsspec

from synthgen.corpus.format import (
    MANIFEST_NAME,
    SHARD_SIDECAR,
    SHARD_TAR,
    Manifest,
    ShardEntry,
    ShardRecord,
    sidecar_beside,
)
from synthgen.corpus.storage import Destination
from synthgen.corpus.tar import HashingReader, iter_tar_samples, stream_size
from synthgen.errors import CorpusError, DataError


class ShardMismatch(CorpusError):
    """A shard whose size or sha256 is not what its manifest (or sidecar) records: damaged or replaced.
    `read` says whether samples of it were already yielded (a sha256 is known only at the end)."""

    def __init__(self, message: str, read: bool) -> None:
        super().__init__(message)
        self.read = read


def checked_samples(
    stream: IO[bytes], where: str, expected: ShardEntry | None = None, recorded_in: str = "the manifest"
) -> Iterator[dict[str, Any]]:
    """The samples of one shard (iter_tar_samples), checked against `expected` when given: a size
    that differs is refused before anything is read (ShardMismatch, read=False); the sha256 is
    computed over the raw bytes as they stream and compared once the shard is read to its end
    (ShardMismatch, read=True). Samples yielded before that cannot be taken back: a streaming
    reader counts such a shard as bad after the fact, a reader that collects first refuses it."""
    if expected is None:
        yield from iter_tar_samples(stream, where=where)
        return
    size = stream_size(stream)
    if size is not None and size != expected.filesize:
        raise ShardMismatch(f"{where}: size {size} bytes, {recorded_in} says {expected.filesize}", read=False)
    hashing = HashingReader(stream)
    yield from iter_tar_samples(hashing, where=where)
    hashing.read_to_end()
    if hashing.nbytes != expected.filesize or hashing.sha256.hexdigest() != expected.sha256:
        raise ShardMismatch(f"{where}: sha256 differs from {recorded_in}: the shard is damaged or replaced", read=True)


def check_recipe(dest: Destination, recipe_sha256: str, remedy: str, names: Iterable[str] | None = None) -> None:
    """Refuse a destination holding files of another recipe: a manifest or a sidecar recording
    another recipe sha256 (CorpusError naming it, then `remedy`); so does a manifest that does not
    parse. Unreadable sidecars commit nothing and are not counted."""
    names = dest.listdir() if names is None else list(names)
    found: tuple[str, str] | None = None  # (what, its recipe sha256)
    if MANIFEST_NAME in names:
        try:
            theirs = load_manifest(dest).recipe_sha256
        except CorpusError as err:
            raise CorpusError(f"{err}; {remedy}") from None
        if theirs != recipe_sha256:
            found = ("a complete corpus", theirs)
    if found is None:
        others = [r.recipe_sha256 for r in read_sidecars(dest, names).values() if r.recipe_sha256 != recipe_sha256]
        if others:
            found = ("shards", others[0])
    if found is not None:
        raise CorpusError(
            f"{dest.url}: holds {found[0]} of another recipe (sha256 {found[1][:12]}, "
            f"this recipe {recipe_sha256[:12]}); {remedy}"
        )


def load_manifest(dest: Destination) -> Manifest:
    """The manifest of the corpus in `dest` (the caller knows it is there), every field checked."""
    return Manifest.parse(dest.read_bytes(MANIFEST_NAME), where=f"{dest.url.rstrip('/')}/{MANIFEST_NAME}")


def read_sidecars(dest: Destination, names: Iterable[str] | None = None) -> dict[int, ShardRecord]:
    """Every readable sidecar in `dest` (among `names`, if the caller has listed it already), by the
    shard index in its name; damaged ones are skipped."""
    found: dict[int, ShardRecord] = {}
    for name in dest.listdir() if names is None else names:
        match = SHARD_SIDECAR.match(name)
        if match is None:
            continue
        try:
            found[int(match["index"])] = ShardRecord.parse(dest.read_bytes(name), where=dest.path(name))
        except CorpusError:
            continue  # a damaged sidecar commits nothing; the shard is rendered again
    return found


class Corpus:
    """A corpus folder. Complete when it has a manifest; otherwise its committed shards so far."""

    def __init__(self, url: str, storage_options: dict[str, Any] | None = None) -> None:
        self.dest = Destination(url, storage_options)
        self.url = self.dest.url
        names = self.dest.listdir()
        self.manifest: Manifest | None = None
        self.records: list[ShardRecord] = []  # sidecars, read while there is no manifest
        self.shards: list[ShardEntry]
        if MANIFEST_NAME in names:
            self.manifest = load_manifest(self.dest)
            self.shards = list(self.manifest.shardlist)
        else:
            self.records = [record for _, record in sorted(read_sidecars(self.dest, names).items())]
            self.shards = [ShardEntry(r.url, r.nsamples, r.filesize, r.sha256) for r in self.records if r.url in names]
        if not self.shards:
            raise CorpusError(f"{self.url}: no corpus here (no {MANIFEST_NAME} and no committed shards)")
        for shard in self.shards:
            # The names come from a file in the folder: one such as `../secret.tar` must never be read.
            if not SHARD_TAR.match(shard.url):
                raise CorpusError(f"{self.url}: unexpected shard name {shard.url!r} (expected shard-NNNNNN.tar)")

    @property
    def complete(self) -> bool:
        return self.manifest is not None

    @property
    def nsamples(self) -> int:
        return sum(shard.nsamples for shard in self.shards)

    def failures(self) -> dict[str, int]:
        if self.manifest is not None:
            return dict(self.manifest.failures)
        total: dict[str, int] = {}
        for record in self.records:
            for reason, n in record.failures.items():
                total[reason] = total.get(reason, 0) + n
        return dict(sorted(total.items()))

    def samples(self, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Samples as `{"__key__": ..., field: bytes}`, in shard order."""
        for _, sample in self.located_samples(limit):
            yield sample

    def located_samples(self, limit: int | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        """(shard name, sample) pairs, in shard order: for readers that name where a bad sample is."""
        seen = 0
        for shard in self.shards:
            with self.dest.open(shard.url) as stream:
                for sample in iter_tar_samples(stream, where=f"{self.url}/{shard.url}"):
                    if limit is not None and seen >= limit:
                        return
                    seen += 1
                    yield shard.url, sample


# -- where a reader finds shards: a corpus folder, a brace pattern, a saved stream ---------------------

# A saved stream of a live training run (synthgen.train.recording writes it): DIR/NAME/stream.json,
# and per rank rank-NNN/part-STEP.tar, each committed by its sidecar part-STEP.json.
STREAM_FILE = "stream.json"
_PART_SIDECAR = re.compile(r"^part-(?P<step>\d{12})\.json$")

# What a location is (CorpusLocation.kind).
CORPUS, PATTERN, STREAM = "corpus", "brace pattern", "saved stream"


def committed_parts(dest: Destination) -> list[tuple[int, str, dict[str, Any]]]:
    """(first step, tar name, sidecar) of each part of a saved stream's rank folder `dest` whose
    sidecar matches its tar, in step order."""
    sizes = {name: int(info["size"]) for name, info in dest.infos().items()}
    parts = []
    for name in sorted(sizes):
        match = _PART_SIDECAR.match(name)
        if match is None:
            continue
        tar = name.rsplit(".", 1)[0] + ".tar"
        try:
            record = json.loads(dest.read_bytes(name))
            whole = sizes.get(tar) == int(record["filesize"])
        except (ValueError, KeyError, TypeError):
            continue  # a damaged sidecar commits nothing
        if whole:
            parts.append((int(match["step"]), tar, record))
    return parts


@dataclass(frozen=True)
class LocatedShard:
    url: str  # what fsspec opens
    name: str  # what messages call it: shard-000000.tar, rank-000/part-....tar, or the url
    nsamples: int
    # What its size and sha256 are checked against: its manifest entry or sidecar (None: a shard
    # named by a pattern, read as it is).
    entry: ShardEntry | None = None


@dataclass(frozen=True)
class CorpusLocation:
    """The shards behind a corpus spec, in reading order, as every reader takes it (`synthgen
    train --data`, inspect, preview): a corpus folder or URL (its manifest, or its committed shards
    while it is rendered), a brace pattern of shards (`out/demo/shard-{000000..000003}.tar`), or a
    live run's saved stream (`train --save-stream DIR` wrote DIR/NAME)."""

    spec: str
    kind: str  # CORPUS, PATTERN or STREAM
    url: str
    shards: tuple[LocatedShard, ...]
    records_from: str = "the manifest"  # or "its sidecar", for the messages
    corpus: Corpus | None = None  # a corpus folder's manifest and sidecars
    stream: dict[str, Any] | None = None  # a saved stream's stream.json
    storage_options: dict[str, Any] = field(default_factory=dict)

    @property
    def nsamples(self) -> int:
        return sum(shard.nsamples for shard in self.shards)

    def open(self, url: str) -> IO[bytes]:
        return fsspec.open(url, "rb", **self.storage_options).open()

    def filesize(self) -> int:
        """Bytes of all shards: as recorded, or (a pattern's shards) as the store says."""
        total = 0
        for shard in self.shards:
            if shard.entry is not None:
                total += shard.entry.filesize
            else:
                fs, path = fsspec.core.url_to_fs(shard.url, **self.storage_options)
                total += int(fs.size(path))
        return total

    def located_samples(
        self, limit: int | None = None, positions: Collection[int] | None = None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """(shard name, sample) pairs in reading order: the first `limit`, or those at `positions`
        (numbers in that order, 0 first; shards holding none of them are not opened)."""
        wanted = None if positions is None else set(positions)
        start = seen = 0
        for shard in self.shards:
            start, first = start + shard.nsamples, start
            if wanted is not None and not any(first <= n < start for n in wanted):
                continue
            with self.open(shard.url) as stream:
                for number, sample in enumerate(iter_tar_samples(stream, where=shard.url), first):
                    if limit is not None and seen >= limit:
                        return
                    if wanted is None or number in wanted:
                        seen += 1
                        yield shard.name, sample


def locate_corpus(spec: str, storage_options: dict[str, Any] | None = None) -> CorpusLocation:
    """Find the shards that `spec` names (CorpusLocation) and how many samples each holds."""
    options = dict(storage_options or {})
    if "{" in spec or spec.endswith(".tar"):
        from webdataset.shardlists import expand_urls  # here: webdataset is slow to import

        urls = expand_urls(spec)
        shards = tuple(LocatedShard(url, url, count_pattern_shard(url, options)) for url in urls)
        return CorpusLocation(spec, PATTERN, spec, shards, storage_options=options)
    dest = Destination(spec, options)
    if dest.exists(STREAM_FILE):
        return _locate_stream(spec, dest, options)
    corpus = Corpus(spec, options)
    base = corpus.url.rstrip("/")
    shards = tuple(LocatedShard(f"{base}/{s.url}", s.url, s.nsamples, s) for s in corpus.shards)
    records_from = "the manifest" if corpus.complete else "its sidecar"
    return CorpusLocation(spec, CORPUS, corpus.url, shards, records_from, corpus, storage_options=options)


def _locate_stream(spec: str, dest: Destination, options: dict[str, Any]) -> CorpusLocation:
    where = dest.path(STREAM_FILE)
    try:
        header = json.loads(dest.read_bytes(STREAM_FILE))
        ranks = int(header["ranks"])
    except (ValueError, KeyError, TypeError) as err:
        raise CorpusError(f"{where}: not a saved stream ({err})") from None
    base = dest.url.rstrip("/")
    shards = []
    for rank in range(ranks):
        folder = f"rank-{rank:03d}"
        for _, tar, record in committed_parts(Destination(f"{base}/{folder}", options)):
            entry = ShardEntry(tar, int(record["nsamples"]), int(record["filesize"]), str(record["sha256"]))
            shards.append(LocatedShard(f"{base}/{folder}/{tar}", f"{folder}/{tar}", entry.nsamples, entry))
    if not shards:
        raise CorpusError(f"{dest.url}: a saved stream with no committed part yet")
    return CorpusLocation(spec, STREAM, dest.url, tuple(shards), "its sidecar", stream=header, storage_options=options)


def count_pattern_shard(url: str, options: dict[str, Any]) -> int:
    """Samples in a shard named by a pattern: from synthgen's sidecar beside it, else by reading it."""
    sidecar = sidecar_beside(url) if url.endswith(".tar") else None
    if sidecar is not None:
        try:
            with fsspec.open(sidecar, "rb", **options).open() as stream:
                return ShardRecord.parse(stream.read(), where=sidecar).nsamples
        except (FileNotFoundError, CorpusError):
            pass
    try:
        with fsspec.open(url, "rb", **options).open() as stream:
            return sum(1 for _ in iter_tar_samples(stream, where=url))
    except FileNotFoundError:
        raise DataError(f"{url}: no such shard") from None
