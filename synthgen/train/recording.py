"""A live run's stream, saved as shards (`synthgen train --save-stream DIR`) and read back to
replay the run exactly (`synthgen train --recipe DIR/NAME`).

    DIR/NAME/stream.json                       the recipe, samples per pass, the run's slot layout
    DIR/NAME/rank-000/part-000000000120.tar    the live samples rank 0 trained on from step 120, in order
    DIR/NAME/rank-000/part-000000000120.json   its sidecar: steps, samples, size, sha256

NAME is the live recipe's name. The tars are ordinary WebDataset shards of the samples `synthgen
render` would write. A part is committed with each checkpoint of the run, so the recording and the
checkpoint a run resumes from agree: a resumed run removes the parts it is about to train again,
and a replay serves each slot exactly the samples it rendered, in the order it trained on them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from synthgen import __version__
from synthgen.corpus.format import parse_sample_key
from synthgen.corpus.read import STREAM_FILE, committed_parts  # the stream's layout, read by every corpus reader
from synthgen.corpus.storage import Destination
from synthgen.corpus.tar import ShardWriter, iter_tar_samples
from synthgen.errors import CorpusError, DataError, RecipeError
from synthgen.recipe import Recipe, parse_recipe

if TYPE_CHECKING:
    from synthgen.train.live import LiveCorpus

STREAM_FORMAT = "synthgen-stream"


def _rank_dest(stream_url: str, rank: int, storage_options: dict[str, Any] | None = None) -> Destination:
    """The folder of rank `rank`'s parts in the stream at `stream_url`."""
    return Destination(f"{stream_url}/rank-{rank:03d}", storage_options)


def _part_name(step: int) -> str:
    return f"part-{step:012d}"


def is_recording(path: str) -> bool:
    """True if `path` is a saved stream (a folder with a stream.json), not a recipe file."""
    return Destination(path).exists(STREAM_FILE)


@dataclass(frozen=True)
class StreamRecording:
    """A saved stream, as read from its stream.json."""

    url: str
    recipe: Recipe
    samples_per_pass: int
    has_labels: bool
    ranks: int
    workers: int  # loader workers per rank (0 counts as 1: the training process itself)

    def slot_reader(self, rank: int, keep: Callable[[int], bool]) -> RecordedSamples:
        """The samples rank `rank` recorded whose index `keep` accepts (one slot's), in order."""
        return RecordedSamples(_rank_dest(self.url, rank), keep)


def open_recording(url: str) -> StreamRecording:
    stream = Destination(url)
    where = stream.path(STREAM_FILE)
    try:
        header = json.loads(stream.read_bytes(STREAM_FILE))
        if header.get("format") != STREAM_FORMAT:
            raise ValueError(f"format is {header.get('format')!r}, not {STREAM_FORMAT!r}")
        recipe = parse_recipe(header["recipe"], origin=where)
        return StreamRecording(
            url=stream.url,
            recipe=recipe,
            samples_per_pass=int(header["samples_per_pass"]),
            has_labels=bool(header["has_labels"]),
            ranks=int(header["ranks"]),
            workers=int(header["workers"]),
        )
    except (ValueError, KeyError, TypeError, AttributeError, RecipeError) as err:
        raise DataError(f"{where}: not a saved stream ({err})") from None


class RecordedSamples:
    """One slot's recorded samples, handed out by index."""

    def __init__(self, dest: Destination, keep: Callable[[int], bool]) -> None:
        self._dest = dest
        self._samples = self._read(keep)

    def _read(self, keep: Callable[[int], bool]) -> Iterator[tuple[int, dict[str, Any]]]:
        for _, tar, _ in committed_parts(self._dest):
            where = self._dest.path(tar)
            try:
                with self._dest.open(tar) as stream:
                    for sample in iter_tar_samples(stream, where=where):
                        index = parse_sample_key(sample["__key__"], where)
                        if keep(index):
                            yield index, sample
            except CorpusError as err:  # a damaged part: a replay cannot be exact past it
                raise DataError(str(err)) from None

    def take(self, index: int) -> dict[str, Any] | None:
        """Sample `index`'s fields, or None past the end of the recording.

        Recorded samples before `index` are passed over (a resumed replay skips them); a recorded
        sample after it means this run does not take the samples the recorded run took.
        """
        for found, sample in self._samples:
            if found == index:
                return sample
            if found > index:
                raise DataError(
                    f"{self._dest.url}: the recording holds sample {found} where this run takes sample {index}: "
                    "replay it with the data settings it was recorded with"
                )
        return None


class _OpenPart:
    def __init__(self, dest: Destination, step: int) -> None:
        self.step = step
        self.staging: AbstractContextManager[IO[bytes]] = dest.staging(f"{_part_name(step)}.tar")
        self.writer = ShardWriter(self.staging.__enter__())


class StreamRecorder:
    """Writes the live samples a rank trains on, per live corpus, a part per checkpoint interval.

    Used by the training process of each rank: `add` the live samples of each batch before
    training on it, and `commit` right before each checkpoint is saved.
    """

    def __init__(
        self,
        folder: str,
        live: dict[int, LiveCorpus],
        *,
        rank: int,
        ranks: int,
        workers: int,
        run_id: str,
        start_step: int = 0,
        resume: bool = False,
        storage_options: dict[str, Any] | None = None,
    ) -> None:
        names = [corpus.recipe.name for corpus in live.values()]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise DataError(
                f"--save-stream: two live recipes are named {repeated[0]!r}; their streams would share a folder"
            )
        self._dests: dict[int, Destination] = {}
        self._open: dict[int, _OpenPart] = {}
        for number, corpus in live.items():
            stream = Destination(f"{folder.rstrip('/')}/{corpus.recipe.name}", storage_options)
            header = {
                "format": STREAM_FORMAT,
                "recipe": corpus.recipe.resolved(),
                "recipe_sha256": corpus.recipe.sha256,
                "samples_per_pass": corpus.samples_per_pass,
                "has_labels": corpus.has_labels,
                "ranks": ranks,
                "workers": max(1, workers),
                "run": run_id,
            }
            if resume:
                _check_header(stream, header)
            else:
                recorded = [r for r in range(ranks) if committed_parts(_rank_dest(stream.url, r, storage_options))]
                if recorded:
                    raise DataError(
                        f"{stream.url}: already holds a saved stream; choose another --save-stream folder "
                        "(a run resumed with --resume goes on with its own)"
                    )
                if rank == 0:
                    stream.write_bytes(STREAM_FILE, json.dumps(header, indent=1, sort_keys=True).encode() + b"\n")
            dest = _rank_dest(stream.url, rank, storage_options)
            _forget_from(dest, start_step)
            self._dests[number] = dest

    def add(self, step: int, samples: list[tuple[int, dict[str, Any]]]) -> None:
        """Record the live samples (corpus number, fields) of the batch trained at `step`."""
        for number, fields in samples:
            part = self._open.get(number)
            if part is None:
                part = self._open[number] = _OpenPart(self._dests[number], step)
            part.writer.write(fields)

    def commit(self, step: int) -> None:
        """Commit every open part: the samples of all steps before `step` are saved."""
        for number, part in self._open.items():
            filesize, sha256 = part.writer.close()
            part.staging.__exit__(None, None, None)
            record = {
                "first_step": part.step,
                "stop_step": step,
                "nsamples": part.writer.nsamples,
                "filesize": filesize,
                "sha256": sha256,
                "synthgen_version": __version__,
            }
            dest = self._dests[number]
            dest.write_bytes(f"{_part_name(part.step)}.json", json.dumps(record, indent=1).encode() + b"\n")
        self._open.clear()

    def discard(self) -> None:
        """Drop the open parts (the run stopped without a checkpoint; a resume records them again)."""
        for part in self._open.values():
            stop = DataError("the run stopped before its next checkpoint")
            part.staging.__exit__(DataError, stop, None)
        self._open.clear()


def _check_header(stream: Destination, header: dict[str, Any]) -> None:
    """A resumed run goes on with the stream it started, and only with that one."""
    if not stream.exists(STREAM_FILE):
        raise DataError(f"{stream.url}: no saved stream to go on with (no {STREAM_FILE})")
    try:
        found = json.loads(stream.read_bytes(STREAM_FILE))
    except ValueError:
        raise CorpusError(f"{stream.path(STREAM_FILE)}: damaged; choose another --save-stream folder") from None
    changed = [key for key in header if found.get(key) != header[key]]
    if changed:
        raise DataError(
            f"{stream.url}: holds the stream of another run ({changed[0]} differs); choose another --save-stream folder"
        )


def _forget_from(dest: Destination, step: int) -> None:
    """Remove what this rank recorded from `step` on (a resumed run trains those steps again),
    and anything half-written."""
    dest.remove_temporaries()
    kept = {tar for first, tar, _ in committed_parts(dest) if first < step}
    # A part is its tar and its sidecar: both go unless the tar is kept.
    dropped = [name for name in dest.listdir() if name.startswith("part-") and _tar_of(name) not in kept]
    # Sidecars first: a tar left without one by an interruption here counts as never committed.
    for name in sorted(dropped, key=lambda name: not name.endswith(".json")):
        dest.remove(name)


def _tar_of(name: str) -> str:
    """The tar of a part file (`part-N.tar` or its sidecar `part-N.json`)."""
    return name.rsplit(".", 1)[0] + ".tar"
