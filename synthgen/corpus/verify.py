"""`synthgen verify`: every shard of a complete corpus re-read against its manifest, every sample
checked; and `--repair`, which uncommits the damaged shards so that a render redoes them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from synthgen.corpus.encode import decode_image
from synthgen.corpus.format import (
    MANIFEST_NAME,
    SHARD_TAR,
    ShardEntry,
    cls_problem,
    sample_key,
    sidecar_beside,
    view_field,
)
from synthgen.corpus.read import Corpus
from synthgen.corpus.storage import Destination
from synthgen.corpus.tar import HashingReader, iter_tar_samples
from synthgen.errors import CorpusError
from synthgen.progress import ProgressCallback, ProgressReporter


@dataclass
class Problem:
    """One thing wrong with a corpus: in a shard (or the manifest), and maybe in one sample of it."""

    shard: str
    message: str
    sample: str | None = None

    def line(self) -> str:
        return f"{self.shard}: " + (f"sample {self.sample}: " if self.sample else "") + self.message


@dataclass(frozen=True)
class VerifyReport:
    """What verify_corpus found: the shards and samples it read, and every problem."""

    url: str
    shards: int  # shards the corpus has (0 without a manifest)
    samples: int  # samples read
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the corpus is whole: nothing wrong was found."""
        return not self.problems

    @property
    def bad_files(self) -> int:
        """How many files (shards, the manifest) have problems."""
        return len({problem.shard for problem in self.problems})

    def lines(self, every: bool = False) -> list[str]:
        """What `verify` prints about the problems: one line per damaged file, with its count of
        problems and the first of them (a swapped shard has one per sample), or, with `every`,
        every problem on its own line."""
        if every:
            return [problem.line() for problem in self.problems]
        by_file: dict[str, list[Problem]] = {}
        for problem in self.problems:
            by_file.setdefault(problem.shard, []).append(problem)
        lines = []
        for name, found in by_file.items():
            first = found[0].line()
            if len(found) > 1:
                first = f"{name}: {len(found)} problems, the first: {first[len(name) + 2 :]}"
            lines.append(first)
        return lines


def verify_corpus(
    url: str,
    storage_options: dict[str, Any] | None = None,
    decode: bool = False,
    on_progress: ProgressCallback | None = None,
) -> VerifyReport:
    """Re-read every shard of a complete corpus: sha256, size and sample count against the manifest,
    then each sample's key, index and fields (and, with `decode`, its images).

    `on_progress` gets a ProgressUpdate per shard read ("verify", unit "shard").
    """
    corpus = Corpus(url, storage_options)
    manifest = corpus.manifest
    if manifest is None:
        missing = Problem(MANIFEST_NAME, "missing: the corpus is incomplete (run the render again to finish it)")
        return VerifyReport(url, 0, 0, [missing])
    fmt = manifest.image_format
    expected = _Expected(
        {*(view_field(v, fmt) for v in range(manifest.views)), "json"}, manifest.image_size, manifest.recipe_sha256
    )
    problems: list[Problem] = []
    samples = 0
    first = 0
    reporter = ProgressReporter(on_progress, "verify", "shard", len(manifest.shardlist))
    for entry in manifest.shardlist:
        samples += _verify_shard(corpus, entry, first, expected, decode, problems)
        first += entry.nsamples
        reporter(1)
    return VerifyReport(url, len(corpus.shards), samples, problems)


@dataclass(frozen=True)
class _Expected:
    """What every sample of the corpus must be, from its manifest."""

    fields: set[str]
    size: tuple[int, int] | None
    recipe_sha256: str


def _verify_shard(
    corpus: Corpus, entry: ShardEntry, first: int, expected: _Expected, decode: bool, problems: list[Problem]
) -> int:
    name = entry.url
    info = corpus.dest.info(name)
    if info is None:
        problems.append(Problem(name, "missing"))
        return 0
    count = 0
    with corpus.dest.open(name) as raw:
        stream = HashingReader(raw)
        try:
            for count, sample in enumerate(iter_tar_samples(stream, where=name), 1):
                index = first + count - 1
                problems += [
                    Problem(name, m, sample["__key__"]) for m in _sample_problems(sample, index, expected, decode)
                ]
        except CorpusError as err:
            problems.append(Problem(name, str(err).removeprefix(f"{name}: ")))
        stream.read_to_end()
    # After what the reader found: a shard's first problem is its cause (a refused member, a cut),
    # the size, count and sha256 mismatches that follow from it come after.
    if int(info["size"]) != entry.filesize:
        problems.append(Problem(name, f"size {info['size']} bytes, the manifest says {entry.filesize}"))
    if count != entry.nsamples:
        problems.append(Problem(name, f"{count} samples, the manifest says {entry.nsamples}"))
    if stream.sha256.hexdigest() != entry.sha256:
        problems.append(Problem(name, "sha256 differs from the manifest: the shard is damaged"))
    return count


def _sample_problems(sample: dict[str, Any], index: int, expected: _Expected, decode: bool) -> list[str]:
    problems = []
    fields, size = expected.fields, expected.size
    key = sample["__key__"]
    if key != sample_key(index):
        problems.append(f"key out of place (expected {sample_key(index)})")
    missing = sorted(fields - set(sample))
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    if "json" in sample:
        try:
            meta = json.loads(sample["json"])
            if meta.get("index") != index or meta.get("key") != key:
                problems.append(f"json names sample {meta.get('index')!r} (key {meta.get('key')!r})")
            # A sample of another recipe (a shard swapped in from another corpus) is not this corpus's.
            theirs = meta.get("recipe_sha256")
            if theirs != expected.recipe_sha256:
                shown = f"recipe sha256 {theirs[:12]}" if isinstance(theirs, str) else "no recipe_sha256"
                problems.append(f"json names {shown}, the manifest's recipe is {expected.recipe_sha256[:12]}")
        except (ValueError, AttributeError, RecursionError):
            problems.append("json is not a valid JSON object")
    if "cls" in sample and (problem := cls_problem(sample["cls"])) is not None:
        problems.append(problem)
    if decode:
        for name in sorted(fields - {"json"} - set(missing)):
            try:
                image = decode_image(sample[name])
            except Exception as err:  # Pillow raises many types for bad bytes
                problems.append(f"{name} does not decode: {err}")
                continue
            if size and (image.shape[1], image.shape[0]) != size:
                problems.append(f"{name} is {image.shape[1]}x{image.shape[0]}, the recipe says {size[0]}x{size[1]}")
    return problems


def mark_for_rerender(url: str, problems: list[Problem], storage_options: dict[str, Any] | None = None) -> list[str]:
    """Uncommit the shards with problems (their sidecars and the manifest go), so that rendering the
    recipe again renders exactly those shards. Returns the shard names uncommitted."""
    dest = Destination(url, storage_options)
    bad = sorted({p.shard for p in problems if SHARD_TAR.match(p.shard)})
    dest.remove(MANIFEST_NAME)
    for name in bad:
        dest.remove(sidecar_beside(name))
    return bad
