"""The plan of a render (shard k holds samples [k*n, (k+1)*n)) and what of it is already done:
the resume decision, made from the sidecars that synthgen.corpus reads."""

from __future__ import annotations

from dataclasses import dataclass

from synthgen.corpus.format import ShardRecord, shard_sidecar_name, shard_tar_name
from synthgen.corpus.read import read_sidecars
from synthgen.corpus.storage import Destination
from synthgen.errors import CorpusError


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


def plan_shards(count: int, samples_per_shard: int) -> list[ShardTask]:
    return [
        ShardTask(index=k, start=start, stop=min(start + samples_per_shard, count))
        for k, start in enumerate(range(0, count, samples_per_shard))
    ]


def committed_shards(dest: Destination, recipe_sha256: str, tasks: list[ShardTask]) -> dict[int, ShardRecord]:
    """The shards of the plan already committed in `dest`: sidecar present, parseable and matching.

    A tar without a matching sidecar is an interrupted shard and is rendered again. A sidecar of
    another recipe means `dest` holds a different corpus: CorpusError, nothing is touched.
    """
    by_index = {task.index: task for task in tasks}
    # One listing gives every name and size: no request per shard (a HEAD each on object stores).
    sizes = {name: int(info["size"]) for name, info in dest.infos().items()}
    committed: dict[int, ShardRecord] = {}
    for index, record in read_sidecars(dest, sorted(sizes)).items():
        if record.recipe_sha256 != recipe_sha256:
            raise CorpusError(
                f"{dest.url}: holds shards of another recipe (sha256 {record.recipe_sha256[:12]}, "
                f"this recipe {recipe_sha256[:12]}); choose another --out or pass --overwrite"
            )
        task = by_index.get(index)
        if task is None or (record.shard, record.first_index, record.nsamples) != (
            task.index,
            task.start,
            task.nsamples,
        ):
            continue
        if sizes.get(task.tar_name) == record.filesize:
            committed[task.index] = record
    return committed
