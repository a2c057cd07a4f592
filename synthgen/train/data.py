"""Training data: corpora of WebDataset shards as an endless stream of batches (B, V, C, H, W).

The pipeline is webdataset's, in small stages run inside each data-loader worker:

    shards of each corpus, reshuffled every pass and split over (rank, worker) slots
      -> samples (synthgen's checked tar reader; a damaged shard is counted and skipped; a shard
         whose size differs from its manifest entry is skipped unread, and one whose sha256
         differs is counted bad when its end is reached, its samples being used by then)
      -> weighted mix of the corpora -> shuffle buffer
      -> weighted draw between those and the live recipes' samples (train/live.py), if any
      -> choose V of the stored views, decode, label from `cls` (a bad sample is counted and skipped)
      -> batches of uint8 tensors

The stream never ends: a slot that runs out of shards starts its next pass. The training loop takes
the same number of steps on every rank, so uneven shards, or fewer shards than slots, never make
one rank wait for another at the end of an epoch. Everything random is seeded from
(seed, slot), so a run's batches are reproducible and a resumed run skips exactly the samples it
has already seen.
"""

from __future__ import annotations

import logging
import random
import signal
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import fsspec
import numpy as np
import torch
import webdataset as wds
from PIL import Image
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from synthgen.corpus.encode import open_image
from synthgen.corpus.format import (
    IMAGE_FORMATS,
    ShardEntry,
    image_format,
    parse_cls,
    view_fields,
)
from synthgen.corpus.read import ShardMismatch, checked_samples, locate_corpus
from synthgen.corpus.tar import iter_tar_samples
from synthgen.errors import CorpusError, DataError
from synthgen.seeds import sample_seed
from synthgen.train.live import LIVE_PREFIX, LiveCorpus, LiveStream, open_live

# Loader workers log here too. A forked worker inherits the training process's handlers (the
# command's `warning: ...` lines, off under --quiet); a spawned one (live recipes on CUDA) starts
# with none, so Python's last-resort handler prints its warnings bare on stderr, even under --quiet.
logger = logging.getLogger(__name__)

# Samples failing in a row after which the loader stops with a DataError rather than loop on: no
# damaged corpus fails that many in a row by chance after the shuffle, a bug in decoding does.
MAX_CONSECUTIVE_FAILURES = 100


@dataclass(frozen=True)
class TrainCorpus:
    """One corpus of a training mix, as found on disk or in the bucket."""

    spec: str
    weight: float
    shard_urls: tuple[str, ...]
    nsamples: int
    stored_views: int
    has_labels: bool
    image_size: tuple[int, int]  # width, height of view 0 of the first sample
    # What the manifest (or, while the corpus is rendered, the sidecars) records of each shard, in
    # the order of shard_urls: the loader checks each shard's size and sha256 against it as it
    # reads. Empty for brace patterns: nothing is checked.
    records: tuple[ShardEntry, ...] = ()
    records_from: str = "the manifest"  # or "its sidecar", for the messages


def parse_data_spec(text: str) -> tuple[str, float]:
    """`URL` or `URL@WEIGHT` (a corpus folder or URL, or a brace pattern of shards)."""
    url, sep, weight = text.rpartition("@")
    if sep:
        try:
            value = float(weight)
        except ValueError:
            return text, 1.0  # an `@` that is part of the URL
        if not value > 0:
            raise DataError(f"--data {text!r}: the weight after '@' must be > 0")
        return url, value
    return text, 1.0


def open_corpus(
    spec: str, weight: float = 1.0, storage_options: dict[str, Any] | None = None, live_samples: int | None = None
) -> TrainCorpus | LiveCorpus:
    """Find a corpus's shards and sample count, and look at its first sample.

    `spec` is a corpus folder or URL (its manifest, or its committed shards while it is being
    rendered) or a brace pattern such as `out/demo/shard-{000000..000003}.tar`; or `recipe:PATH`,
    a recipe rendered live (`live_samples` per pass). A saved stream's folder (DIR/NAME) is read
    as a corpus of the samples it recorded; `recipe:DIR/NAME` replays it.
    """
    if spec.startswith(LIVE_PREFIX):
        return open_live(spec.removeprefix(LIVE_PREFIX), weight, live_samples)
    options = dict(storage_options or {})
    location = locate_corpus(spec, options)  # as inspect and preview find it
    shard_urls = [shard.url for shard in location.shards]
    nsamples = location.nsamples
    # A pattern's shards are read as they are: nothing to check them against.
    records = tuple(shard.entry for shard in location.shards if shard.entry is not None)
    records_from = location.records_from
    if nsamples == 0:
        raise DataError(f"{spec}: the corpus has no samples")
    first = _first_sample(shard_urls, options)
    fmt = image_format(first)
    if fmt is None:
        raise DataError(f"{spec}: sample {first['__key__']} has no image ({', '.join(IMAGE_FORMATS)})")
    try:
        with open_image(first[fmt]) as image:
            size = image.size
    except ValueError as err:
        raise DataError(f"{spec}: sample {first['__key__']}: {err}") from None
    return TrainCorpus(
        spec=spec,
        weight=weight,
        shard_urls=tuple(shard_urls),
        nsamples=nsamples,
        stored_views=len(view_fields(first, fmt)),
        has_labels="cls" in first,
        image_size=size,
        records=records,
        records_from=records_from,
    )


def _open(url: str, options: dict[str, Any]) -> Any:
    return fsspec.open(url, "rb", **options).open()


def _first_sample(urls: Sequence[str], options: dict[str, Any]) -> dict[str, Any]:
    """The first sample of the first shard that has a readable one: a damaged shard is skipped here
    as the loader skips it (and counts it when it gets there)."""
    problem: Exception | None = None  # the first shard's
    for url in urls:
        try:
            with _open(url, options) as stream:
                for sample in iter_tar_samples(stream, where=url):
                    return sample
        except FileNotFoundError:
            raise DataError(f"{url}: no such shard") from None
        except CorpusError as err:
            problem = problem or err
            continue
        problem = problem or DataError(f"{url}: the shard is empty")
    assert problem is not None  # there is at least one shard
    raise problem


# -- stages, run inside each data-loader worker ------------------------------------------------------


class SkipCounts:
    """What a worker skipped since its last batch."""

    def __init__(self) -> None:
        self.bad_samples = 0
        self.bad_shards = 0
        self.warned: set[str] = set()
        self.samples_warned = 0

    def sample_failed(self, key: str, err: Exception) -> None:
        self.bad_samples += 1
        self.samples_warned += 1
        if self.samples_warned <= 5:  # the count is what matters; a few names help find the cause
            logger.warning("skipping sample %s: %s", key, err)

    def take(self) -> dict[str, int]:
        taken = {"bad_samples": self.bad_samples, "bad_shards": self.bad_shards}
        self.bad_samples = self.bad_shards = 0
        return taken

    def shard_failed(self, url: str, err: Exception) -> None:
        self.bad_shards += 1
        if url not in self.warned:
            self.warned.add(url)
            text = str(err).removeprefix(f"{url}: ")  # the reader's messages start with the url too
            if isinstance(err, ShardMismatch) and err.read:
                # Known only at the shard's end: its samples have been used by then (a stream cannot
                # take them back); the count says how many shards this happened to.
                logger.warning("counting %s as bad, its samples already used: %s", url, text)
            elif isinstance(err, ShardMismatch):
                logger.warning("skipping %s unread: %s", url, text)
            else:
                logger.warning("skipping the rest of %s: %s", url, text)


def corpus_samples(
    corpus: TrainCorpus,
    slot: int,
    nslots: int,
    seed: int,
    counts: SkipCounts,
    options: dict[str, Any],
    passes: int | None = None,
) -> Iterator[dict[str, Any]]:
    """This slot's share of one corpus's samples, pass after pass (endless unless `passes` is
    given), in a new shard order each pass.

    With at least as many shards as slots, each slot reads whole shards; with fewer, every slot
    reads every shard and keeps every nslots-th sample, so no slot is ever left without data.
    """
    by_shard = len(corpus.shard_urls) >= nslots
    recorded = dict(zip(corpus.shard_urls, corpus.records, strict=False))  # empty: nothing to check
    for epoch in range(sys.maxsize if passes is None else passes):
        order = list(corpus.shard_urls)
        random.Random(sample_seed(seed, epoch)).shuffle(order)
        mine = order[slot::nslots] if by_shard else order
        position = 0
        found = False
        for url in mine:
            try:
                with _open(url, options) as stream:
                    for sample in checked_samples(stream, url, recorded.get(url), corpus.records_from):
                        position += 1
                        if by_shard or (position - 1) % nslots == slot:
                            found = True
                            yield sample
            except (CorpusError, OSError) as err:
                counts.shard_failed(url, err)
        if not found:
            raise DataError(f"{corpus.spec}: no readable sample in a whole pass over its shards")


def mix(streams: Sequence[Iterator[dict[str, Any]]], weights: Sequence[float], seed: int) -> Iterator[dict[str, Any]]:
    """Draw each sample from one of the streams, chosen with probability proportional to its weight."""
    if len(streams) == 1:
        yield from streams[0]
        return
    rng = random.Random(seed)
    choices = range(len(streams))
    while True:
        yield next(streams[rng.choices(choices, weights)[0]])


@dataclass(frozen=True)
class LabelSpace:
    """How each corpus's `cls` becomes a class index of the method's head (method `supervised`).

    Corpus n (in data.corpora order) has `counts[n]` classes, numbered 0 .. counts[n] - 1 in its
    `cls`; its labels are shifted by `offsets[n]` (all 0 when the corpora share one label space).
    """

    specs: tuple[str, ...]  # the corpora, for the messages
    counts: tuple[int, ...]
    offsets: tuple[int, ...]

    def index(self, label: int, corpus: int, key: str) -> int:
        """The head's class of `label` from corpus `corpus`; DataError when it is out of range: a
        setting to fix (method.classes), not a damaged sample, so the run stops."""
        count = self.counts[corpus]
        if not 0 <= label < count:
            raise DataError(
                f"{self.specs[corpus]}: sample {key} has cls {label}, outside 0..{count - 1} "
                f"(method.classes gives it {count} classes): set method.classes to its number of classes"
            )
        return label + self.offsets[corpus]


@dataclass(frozen=True)
class ViewPolicy:
    """How a sample becomes a training example."""

    views: int  # views per example that the method consumes
    distinct: bool  # draw different stored views when there are enough (GenRep/StableRep positives)
    size: tuple[int, int]  # width, height every view is decoded to
    needs_labels: bool
    # Checks and offsets each label (method `supervised`); None: `cls` as stored.
    labels: LabelSpace | None = None


def to_example(sample: dict[str, Any], policy: ViewPolicy, rng: random.Random) -> tuple[torch.Tensor, int]:
    """Choose and decode a sample's views: uint8 (V, C, H, W) and its `cls` label (-1 if none).

    Raises ValueError, CorpusError (a bad `cls`) or an image library error for a sample that cannot serve.
    """
    fmt = image_format(sample)
    if fmt is None:
        raise ValueError("no image field")
    fields = view_fields(sample, fmt)
    if not policy.distinct:
        chosen = [fields[0]] * policy.views
    elif policy.views <= len(fields):
        chosen = rng.sample(fields, policy.views)
    else:  # more views wanted than stored: all of them, then repeats (augmentation tells them apart)
        chosen = fields + [rng.choice(fields) for _ in range(policy.views - len(fields))]
    decoded: dict[str, np.ndarray] = {}
    for name in chosen:
        if name not in decoded:
            decoded[name] = _decode(sample[name], policy.size)
    label = -1
    if "cls" in sample:
        label = parse_cls(sample["cls"])
    elif policy.needs_labels:
        raise ValueError("no cls label")
    return torch.from_numpy(np.stack([decoded[name] for name in chosen])).permute(0, 3, 1, 2), label


def _decode(data: bytes, size: tuple[int, int]) -> np.ndarray:
    with open_image(data) as image:
        image = image.convert("RGB")
        if image.size != size:
            image = image.resize(size, Image.BILINEAR)
        return np.asarray(image)


class _StoredSamples:
    """The shard corpora of a mix, mixed by weight and shuffled: one stream of the draw."""

    def __init__(self, samples: Iterator[dict[str, Any]], weight: float) -> None:
        self.samples = samples
        self.weight = weight

    def take(self) -> dict[str, Any]:
        return next(self.samples)

    def skip(self, count: int) -> None:
        for _ in range(count):
            next(self.samples)


class ShardStream(IterableDataset):
    """Endless batches `{"images": uint8 (B, V, C, H, W), "labels": int64 (B,), "skipped": ...}`.

    Every data-loader worker of every rank is a slot with its own share of the shards and of the
    live recipes' samples. Each position of a slot's stream is drawn, by weight, from the shard
    corpora (mixed, then shuffled) or from one live recipe (rendered in index order). A worker
    builds whole batches, and torch's loader hands them out round-robin over its workers, so the
    order of batches is fixed by (seed, rank, workers). `skip_batches` is how many batches this
    rank has already trained on: each worker passes over its share of them without decoding or
    rendering, so a resumed run must keep its number of workers. With `keep_live`, a batch also
    carries its live samples' fields, `"live": [(corpus number, fields), ...]`, for recording.
    """

    def __init__(
        self,
        corpora: Sequence[TrainCorpus | LiveCorpus],
        policy: ViewPolicy,
        batch_size: int,
        *,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        shuffle_buffer: int = 1000,
        skip_batches: int = 0,
        storage_options: dict[str, Any] | None = None,
        live_device: str | None = None,
        live_check_every: int = 0,
        keep_live: bool = False,
    ) -> None:
        super().__init__()
        self.corpora = list(corpora)
        self.policy = policy
        self.batch_size = batch_size
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.shuffle_buffer = shuffle_buffer
        self.skip_batches = skip_batches
        self.storage_options = dict(storage_options or {})
        self.live_device = live_device
        self.live_check_every = live_check_every
        self.keep_live = keep_live

    def __iter__(self) -> Iterator[dict[str, Any]]:
        info = get_worker_info()
        workers, worker = (info.num_workers, info.id) if info is not None else (1, 0)
        if info is not None:
            # Ctrl-C reaches the whole process group: the training process decides when to stop.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            torch.set_num_threads(1)  # decoding is this process's work; the cores are the model's
        # The loader asks its workers in turn, always starting with worker 0. Batch b of the run
        # belongs to role b % workers; after `skip_batches`, worker 0 must play the next one's role.
        role = (worker + self.skip_batches) % workers
        nslots = self.world_size * workers
        slot = self.rank * workers + role
        counts = SkipCounts()
        streams: list[_StoredSamples | LiveStream] = []
        numbers: list[int | None] = []  # the corpus number of each live stream
        stored = [(n, c) for n, c in enumerate(self.corpora) if isinstance(c, TrainCorpus)]
        if stored:
            samples = mix(
                [
                    _tagged(
                        corpus_samples(c, slot, nslots, sample_seed(self.seed, 1, n), counts, self.storage_options),
                        n if self.policy.labels is not None else None,
                    )
                    for n, c in stored
                ],
                [c.weight for _, c in stored],
                sample_seed(self.seed, 2, slot),
            )
            shuffle = wds.shuffle(
                self.shuffle_buffer, min(100, self.shuffle_buffer), seed=sample_seed(self.seed, 3, slot)
            )
            streams.append(_StoredSamples(shuffle(samples), sum(c.weight for _, c in stored)))
            numbers.append(None)
        for number, corpus in enumerate(self.corpora):
            if isinstance(corpus, LiveCorpus):
                live = LiveStream(
                    corpus, slot, nslots, rank=self.rank, device=self.live_device, check_every=self.live_check_every
                )
                streams.append(live)
                numbers.append(number)
        draw = random.Random(sample_seed(self.seed, 5, slot))
        weights = [stream.weight for stream in streams]

        def next_stream() -> int:
            return 0 if len(streams) == 1 else draw.choices(range(len(streams)), weights)[0]

        failed_in_a_row = 0
        try:
            # Pass over this role's share of the batches already trained on. Views are drawn from
            # a seed per position, so nothing else needs replaying.
            position = _batches_of_worker(self.skip_batches, role, workers) * self.batch_size
            for _ in range(position):
                streams[next_stream()].skip(1)
            views_seed = sample_seed(self.seed, 4, slot)
            while True:
                images, labels, live = [], [], []
                while len(images) < self.batch_size:
                    chosen = next_stream()
                    sample = streams[chosen].take()
                    position += 1
                    if self.keep_live and numbers[chosen] is not None:
                        live.append((numbers[chosen], sample))
                    try:
                        example, label = to_example(sample, self.policy, random.Random(views_seed + position - 1))
                    except Exception as err:  # a damaged sample costs itself, never the run
                        counts.sample_failed(sample.get("__key__", "?"), err)
                        failed_in_a_row += 1
                        if failed_in_a_row >= MAX_CONSECUTIVE_FAILURES:
                            raise DataError(
                                f"{failed_in_a_row} samples in a row failed: a bug or a wholly unusable corpus, not "
                                f"damage; the last: sample {sample.get('__key__', '?')}: {type(err).__name__}: {err}"
                            ) from None
                        continue
                    failed_in_a_row = 0
                    if self.policy.labels is not None:
                        # Outside the damage handling: a label the settings do not cover stops the run.
                        corpus = numbers[chosen]
                        if corpus is None:  # a stored sample, tagged with its corpus's number
                            corpus = sample[_CORPUS]
                        label = self.policy.labels.index(label, corpus, sample.get("__key__", "?"))
                    images.append(example)
                    labels.append(label)
                batch = {
                    "images": torch.stack(images),
                    "labels": torch.tensor(labels, dtype=torch.int64),
                    **counts.take(),
                }
                if self.keep_live:
                    batch["live"] = live
                yield batch
        finally:
            for stream in streams:
                if isinstance(stream, LiveStream):
                    stream.close()


# The key under which a stored sample carries its corpus's number through the mix and the shuffle.
_CORPUS = "__corpus__"


def _tagged(samples: Iterator[dict[str, Any]], number: int | None) -> Iterator[dict[str, Any]]:
    """The samples, each marked as corpus `number`'s (None: unmarked, as they are)."""
    if number is None:
        yield from samples
        return
    for sample in samples:
        sample[_CORPUS] = number
        yield sample


def _batches_of_worker(batches: int, role: int, workers: int) -> int:
    """How many of the first `batches` batches (handed out round-robin) came from `role`."""
    return max(0, (batches - role + workers - 1) // workers)


def make_loader(stream: ShardStream, workers: int, pin_memory: bool = False) -> DataLoader:
    """A loader over `stream`'s ready-made batches.

    Its workers are forked, except when live recipes render on CUDA: CUDA cannot be used in a
    child forked from a process that has used it, so those workers are spawned.
    """
    spawn = workers > 0 and (stream.live_device or "").startswith("cuda")
    return DataLoader(
        stream,
        batch_size=None,
        num_workers=workers,
        pin_memory=pin_memory,
        persistent_workers=False,
        prefetch_factor=4 if workers > 0 else None,
        multiprocessing_context="spawn" if spawn else None,
    )
