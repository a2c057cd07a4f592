"""Reading a corpus back: its manifest (or sidecars, while incomplete), samples, report and preview."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

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


def inspect_corpus(url: str, max_samples: int | None = 1000) -> dict[str, Any]:
    """Counts and bytes from the manifest or sidecars; image statistics from decoded samples."""
    corpus = Corpus(url)
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


def write_preview(url: str, out_path: str, count: int = 64, thumb: int = 128) -> int:
    """A contact sheet PNG of the first `count` samples: each sample's views side by side in a row."""
    groups = [sample_images(sample) for sample in Corpus(url).samples(count)]
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
