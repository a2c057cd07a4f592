"""Opening a corpus: its manifest when complete, else its committed sidecars, and its samples.
The readers of inspect, preview, verify, push and training all start here."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from synthgen.corpus.format import MANIFEST_NAME, SHARD_SIDECAR, SHARD_TAR, Manifest, ShardEntry, ShardRecord
from synthgen.corpus.storage import Destination
from synthgen.corpus.tar import iter_tar_samples
from synthgen.errors import CorpusError


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
        seen = 0
        for shard in self.shards:
            with self.dest.open(shard.url) as stream:
                for sample in iter_tar_samples(stream, where=f"{self.url}/{shard.url}"):
                    if limit is not None and seen >= limit:
                        return
                    seen += 1
                    yield sample
