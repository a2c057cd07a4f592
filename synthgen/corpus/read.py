"""Opening a corpus: its manifest when complete, else its committed sidecars, and its samples.
The readers of inspect, preview, verify, push and training all start here."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Any

from synthgen.corpus.format import MANIFEST_NAME, SHARD_SIDECAR, SHARD_TAR, Manifest, ShardEntry, ShardRecord
from synthgen.corpus.storage import Destination
from synthgen.corpus.tar import HashingReader, iter_tar_samples, stream_size
from synthgen.errors import CorpusError


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
