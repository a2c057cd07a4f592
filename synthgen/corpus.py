"""Reading a corpus back: its manifest (or sidecars, while incomplete), samples, report, preview
and verification."""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
from PIL import Image

from synthgen.errors import CorpusError
from synthgen.export.encode import IMAGE_FORMATS, decode_image
from synthgen.export.shards import MANIFEST_NAME, ShardRecord, iter_tar_samples
from synthgen.export.storage import Destination
from synthgen.plan import read_sidecars

# An image whose pixel standard deviation (0..255) is below this counts as near-constant.
NEAR_CONSTANT_STD = 2.0
_SHARD_FILE = re.compile(r"^shard-\d{6,}\.tar$")


class Corpus:
    """A corpus folder. Complete when it has a manifest; otherwise its committed shards so far."""

    def __init__(self, url: str, storage_options: dict[str, Any] | None = None) -> None:
        self.dest = Destination(url, storage_options)
        self.url = self.dest.url
        names = self.dest.listdir()
        self.manifest: dict[str, Any] | None = None
        self.records: list[ShardRecord] = []  # sidecars, read while there is no manifest
        if MANIFEST_NAME in names:
            try:
                self.manifest = json.loads(self.dest.read_bytes(MANIFEST_NAME))
                shardlist = self.manifest["shardlist"]
                self.shards = [(entry["url"], int(entry["nsamples"]), int(entry["filesize"])) for entry in shardlist]
            except (ValueError, KeyError, TypeError):
                raise CorpusError(f"{self.url}: {MANIFEST_NAME} is damaged") from None
        else:
            self.records = [record for _, record in sorted(read_sidecars(self.dest).items())]
            self.shards = [(r.url, r.nsamples, r.filesize) for r in self.records if r.url in names]
        if not self.shards:
            raise CorpusError(f"{self.url}: no corpus here (no manifest.json and no committed shards)")
        for shard_url, _, _ in self.shards:
            if not _SHARD_FILE.match(shard_url):
                raise CorpusError(f"{self.url}: unexpected shard name {shard_url!r} (expected shard-NNNNNN.tar)")

    @property
    def complete(self) -> bool:
        return self.manifest is not None

    def failures(self) -> dict[str, int]:
        if self.manifest is not None:
            return dict(self.manifest.get("failures", {}))
        total: dict[str, int] = {}
        for record in self.records:
            for reason, n in record.failures.items():
                total[reason] = total.get(reason, 0) + n
        return dict(sorted(total.items()))

    def samples(self, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Samples as `{"__key__": ..., field: bytes}`, in shard order."""
        seen = 0
        for shard_url, _, _ in self.shards:
            with self.dest.open(shard_url) as stream:
                for sample in iter_tar_samples(stream, where=f"{self.url}/{shard_url}"):
                    if limit is not None and seen >= limit:
                        return
                    seen += 1
                    yield sample


def sample_images(sample: dict[str, Any]) -> list[np.ndarray]:
    """All views of a sample, view 0 first, decoded to uint8 HxWx3."""
    fmt = next((f for f in IMAGE_FORMATS if f in sample), None)
    if fmt is None:
        raise CorpusError(f"sample {sample['__key__']}: no image field ({', '.join(IMAGE_FORMATS)})")
    images = [decode_image(sample[fmt])]
    view = 1
    while f"view{view}.{fmt}" in sample:
        images.append(decode_image(sample[f"view{view}.{fmt}"]))
        view += 1
    return images


def inspect_corpus(
    url: str, max_samples: int | None = 1000, storage_options: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Counts and bytes from the manifest or sidecars; image statistics from decoded samples."""
    corpus = Corpus(url, storage_options)
    total = np.zeros(3)
    total_sq = np.zeros(3)
    pixels = 0
    near_constant = 0
    decoded = 0
    views = 0
    size = (0, 0)
    first_meta: dict[str, Any] = {}
    for sample in corpus.samples(max_samples):
        if not first_meta and "json" in sample:
            first_meta = json.loads(sample["json"])
        images = sample_images(sample)
        views = max(views, len(images))
        for image in images:
            values = image.reshape(-1, 3).astype(np.float64)
            total += values.sum(axis=0)
            total_sq += (values**2).sum(axis=0)
            pixels += values.shape[0]
            near_constant += int(image.std() < NEAR_CONSTANT_STD)
            decoded += 1
            size = (image.shape[1], image.shape[0])
    mean = total / max(pixels, 1)
    std = np.sqrt(np.maximum(total_sq / max(pixels, 1) - mean**2, 0.0))
    manifest = corpus.manifest or {}
    recipe = manifest.get("recipe", {})
    nsamples = sum(n for _, n, _ in corpus.shards)
    views = recipe.get("views", views)
    return {
        "url": corpus.url,
        "complete": corpus.complete,
        "name": manifest.get("name", first_meta.get("recipe", "?")),
        "recipe_sha256": manifest.get("recipe_sha256", first_meta.get("recipe_sha256", "?")),
        "nsamples": nsamples,
        "nshards": len(corpus.shards),
        "views": views,
        "nimages": nsamples * views,
        "filesize": sum(size for _, _, size in corpus.shards),
        "failures": corpus.failures(),
        "images": {
            "decoded": decoded,
            "width": size[0],
            "height": size[1],
            "mean": [round(float(v), 2) for v in mean],
            "std": [round(float(v), 2) for v in std],
            "near_constant_fraction": near_constant / max(decoded, 1),
            "near_constant_std": NEAR_CONSTANT_STD,
        },
    }


def write_preview(
    url: str, out_path: str, count: int = 64, thumb: int = 128, storage_options: dict[str, Any] | None = None
) -> int:
    """A contact sheet PNG of the first `count` samples: each sample's views side by side in a row."""
    groups = [sample_images(sample) for sample in Corpus(url, storage_options).samples(count)]
    views = max(len(g) for g in groups)
    height, width = groups[0][0].shape[:2]
    scale = min(1.0, thumb / max(height, width))
    cell_w, cell_h = max(1, round(width * scale)), max(1, round(height * scale))
    gap, group_gap = 2, 10
    per_row = max(1, round(math.sqrt(len(groups) / views)))
    rows = math.ceil(len(groups) / per_row)
    group_w = views * cell_w + (views - 1) * gap
    sheet = Image.new(
        "RGB",
        (per_row * group_w + (per_row + 1) * group_gap, rows * cell_h + (rows + 1) * group_gap),
        (32, 32, 32),
    )
    for n, images in enumerate(groups):
        row, col = divmod(n, per_row)
        x0 = group_gap + col * (group_w + group_gap)
        y0 = group_gap + row * (cell_h + group_gap)
        for v, image in enumerate(images):
            tile = Image.fromarray(image).resize((cell_w, cell_h), Image.Resampling.BILINEAR)
            sheet.paste(tile, (x0 + v * (cell_w + gap), y0))
    sheet.save(out_path, format="PNG")
    return len(groups)


@dataclass
class Problem:
    shard: str
    message: str
    sample: str | None = None

    def line(self) -> str:
        return f"{self.shard}: " + (f"sample {self.sample}: " if self.sample else "") + self.message


def verify_corpus(
    url: str,
    storage_options: dict[str, Any] | None = None,
    decode: bool = False,
    on_shard: Callable[[str], None] | None = None,
) -> tuple[int, int, list[Problem]]:
    """Re-read every shard of a complete corpus: sha256, size and sample count against the manifest,
    then each sample's key, index and fields (and, with `decode`, its images).

    Returns (shards read, samples read, problems); no problems means the corpus is whole.
    """
    corpus = Corpus(url, storage_options)
    if corpus.manifest is None:
        return 0, 0, [Problem(MANIFEST_NAME, "missing: the corpus is incomplete (run the render again to finish it)")]
    recipe = corpus.manifest.get("recipe", {})
    fmt = recipe.get("image", {}).get("format", "jpg")
    views = int(recipe.get("views", 1))
    size = tuple(recipe.get("image", {}).get("size", ()))
    problems: list[Problem] = []
    samples = 0
    first = 0
    for entry in corpus.manifest["shardlist"]:
        name, expected = entry["url"], int(entry["nsamples"])
        found = _verify_shard(corpus, entry, first, fmt, views, size, decode, problems)
        samples += found
        first += expected
        if on_shard is not None:
            on_shard(name)
    return len(corpus.shards), samples, problems


def _verify_shard(
    corpus: Corpus,
    entry: dict[str, Any],
    first: int,
    fmt: str,
    views: int,
    size: tuple[int, ...],
    decode: bool,
    problems: list[Problem],
) -> int:
    name = entry["url"]
    info = corpus.dest.info(name)
    if info is None:
        problems.append(Problem(name, "missing"))
        return 0
    if int(info["size"]) != int(entry["filesize"]):
        problems.append(Problem(name, f"size {info['size']} bytes, the manifest says {entry['filesize']}"))
    expected_fields = {fmt, *(f"view{v}.{fmt}" for v in range(1, views)), "json"}
    count = 0
    with corpus.dest.open(name) as raw:
        stream = _HashingReader(raw)
        try:
            for count, sample in enumerate(iter_tar_samples(stream, where=name), 1):
                index = first + count - 1
                problems += [
                    Problem(name, m, sample["__key__"])
                    for m in _sample_problems(sample, index, expected_fields, size, decode)
                ]
        except CorpusError as err:
            problems.append(Problem(name, str(err).removeprefix(f"{name}: ")))
        stream.read_to_end()
    if count != int(entry["nsamples"]):
        problems.append(Problem(name, f"{count} samples, the manifest says {entry['nsamples']}"))
    if stream.sha256.hexdigest() != entry["sha256"]:
        problems.append(Problem(name, "sha256 differs from the manifest: the shard is damaged"))
    return count


def _sample_problems(
    sample: dict[str, Any], index: int, fields: set[str], size: tuple[int, ...], decode: bool
) -> list[str]:
    problems = []
    key = sample["__key__"]
    if key != f"{index:012d}":
        problems.append(f"key out of place (expected {index:012d})")
    missing = sorted(fields - set(sample))
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    if "json" in sample:
        try:
            meta = json.loads(sample["json"])
            if meta.get("index") != index or meta.get("key") != key:
                problems.append(f"json names sample {meta.get('index')!r} (key {meta.get('key')!r})")
        except (ValueError, AttributeError):
            problems.append("json is not valid JSON")
    if "cls" in sample and not sample["cls"].strip().lstrip(b"-").isdigit():
        problems.append(f"cls is not an integer: {sample['cls'][:20]!r}")
    if decode:
        for field in sorted(fields - {"json"} - set(missing)):
            try:
                image = decode_image(sample[field])
            except Exception as err:  # Pillow raises many types for bad bytes
                problems.append(f"{field} does not decode: {err}")
                continue
            if size and (image.shape[1], image.shape[0]) != size:
                problems.append(f"{field} is {image.shape[1]}x{image.shape[0]}, the recipe says {size[0]}x{size[1]}")
    return problems


def mark_for_rerender(url: str, problems: list[Problem], storage_options: dict[str, Any] | None = None) -> list[str]:
    """Uncommit the shards with problems (their sidecars and the manifest go), so that rendering the
    recipe again renders exactly those shards. Returns the shard names uncommitted."""
    dest = Destination(url, storage_options)
    bad = sorted({p.shard for p in problems if _SHARD_FILE.match(p.shard)})
    dest.remove(MANIFEST_NAME)
    for name in bad:
        dest.remove(name.removesuffix(".tar") + ".json")
    return bad


class _HashingReader(io.RawIOBase):
    """Reads from `source` while computing the sha256 of every byte read."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source
        self.sha256 = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.source.read(len(buffer))
        self.sha256.update(data)
        buffer[: len(data)] = data
        return len(data)

    def read_to_end(self) -> None:
        while self.read(1 << 20):
            pass
