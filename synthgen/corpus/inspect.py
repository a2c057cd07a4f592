"""Looking at a corpus: the report of `synthgen inspect` (counts, bytes, failures, image
statistics) and the contact sheet of `synthgen preview`."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from synthgen.corpus.encode import decode_image
from synthgen.corpus.format import IMAGE_FORMATS, image_fields
from synthgen.corpus.read import Corpus
from synthgen.errors import CorpusError, StorageError

logger = logging.getLogger(__name__)

# An image whose pixel standard deviation (0..255) is below this counts as near-constant.
NEAR_CONSTANT_STD = 2.0
# Undecodable samples named one by one in the log; the rest are counted.
NAMED_BAD_SAMPLES = 5


def sample_images(sample: dict[str, Any]) -> list[np.ndarray]:
    """All views of a sample, view 0 first, decoded to uint8 HxWx3."""
    fields = image_fields(sample)
    if not fields:
        raise CorpusError(f"sample {sample['__key__']}: no image field ({', '.join(IMAGE_FORMATS)})")
    return [decode_image(sample[name]) for name in fields]


def _decoded(shard: str, sample: dict[str, Any], bad: list[str]) -> list[np.ndarray] | None:
    """A sample's views, or None for one that does not decode: it is named (shard and key) in the
    log and in `bad`, and the reader goes on: one bad image costs itself, not the report."""
    try:
        return sample_images(sample)
    except Exception as err:  # Pillow raises many types for bad bytes; CorpusError for no image
        key = sample["__key__"]
        problem = f"{shard}: sample {key}: {str(err).removeprefix(f'sample {key}: ')}"
        bad.append(problem)
        if len(bad) <= NAMED_BAD_SAMPLES:
            logger.warning("skipping an undecodable sample: %s", problem)
        return None


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
    bad: list[str] = []
    for shard, sample in corpus.located_samples(max_samples):
        if not first_meta and "json" in sample:
            try:
                meta = json.loads(sample["json"])
                first_meta = meta if isinstance(meta, dict) else {}
            except (ValueError, RecursionError):
                pass  # the recipe's name is also in the manifest; verify names a bad json
        images = _decoded(shard, sample, bad)
        if images is None:
            continue
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
    manifest = corpus.manifest
    nsamples = corpus.nsamples
    if manifest is not None:
        name, recipe_sha256, views = manifest.name, manifest.recipe_sha256, manifest.views
    else:  # an incomplete corpus: what its first sample says
        name, recipe_sha256 = first_meta.get("recipe", "?"), first_meta.get("recipe_sha256", "?")
    return {
        "url": corpus.url,
        "complete": corpus.complete,
        "name": name,
        "recipe_sha256": recipe_sha256,
        "nsamples": nsamples,
        "nshards": len(corpus.shards),
        "views": views,
        "nimages": nsamples * views,
        "filesize": sum(shard.filesize for shard in corpus.shards),
        "failures": corpus.failures(),
        "images": {
            "decoded": decoded,
            "width": size[0],
            "height": size[1],
            "mean": [round(float(v), 2) for v in mean],
            "std": [round(float(v), 2) for v in std],
            "near_constant_fraction": near_constant / max(decoded, 1),
            "near_constant_std": NEAR_CONSTANT_STD,
            "undecodable": len(bad),
            "first_undecodable": bad[0] if bad else None,
        },
    }


def write_preview(
    url: str, out_path: str, count: int = 64, thumb: int = 128, storage_options: dict[str, Any] | None = None
) -> int:
    """A contact sheet of the first `count` samples, each sample's views side by side in a row, as
    PNG, JPEG or WebP after `out_path`'s suffix (its folder is made if needed). A sample that
    does not decode is named in the log and left out; returns how many are shown."""
    bad: list[str] = []
    found = (_decoded(shard, sample, bad) for shard, sample in Corpus(url, storage_options).located_samples(count))
    groups = [images for images in found if images is not None]
    if not groups:
        first = f" (the first: {bad[0]})" if bad else ""
        raise CorpusError(f"{url}: none of the first {count} samples decodes{first}")
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
    out = Path(out_path)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        sheet.save(out, format=sheet_format(out_path))
    except OSError as err:
        raise StorageError(f"{out_path}: cannot write the contact sheet: {err.strerror or err}") from None
    return len(groups)


# Contact sheet formats by file suffix: the bytes are what the name says.
SHEET_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}


def sheet_format(out_path: str) -> str:
    """The image format that `out_path`'s suffix names; ValueError for another suffix."""
    suffix = Path(out_path).suffix.lower()
    if suffix not in SHEET_FORMATS:
        raise ValueError(f"expected a file name ending in {', '.join(SHEET_FORMATS)}, got {out_path!r}")
    return SHEET_FORMATS[suffix]
