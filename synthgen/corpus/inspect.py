"""Looking at a corpus: the report of `synthgen inspect` (counts, bytes, failures, image
statistics, classes). The contact sheet of `synthgen preview` is in preview.py."""

from __future__ import annotations

import json
import logging
import statistics
from collections import Counter
from typing import Any

import numpy as np

from synthgen.corpus.card import read_card
from synthgen.corpus.encode import decode_image
from synthgen.corpus.format import IMAGE_FORMATS, excluded_programs, image_fields, parse_cls
from synthgen.corpus.read import Corpus, locate_corpus
from synthgen.errors import CorpusError
from synthgen.frames import judge_frame
from synthgen.text import counted

logger = logging.getLogger(__name__)

# An image whose largest per-channel pixel standard deviation (0..255) is below this counts as
# near-constant: the shader family's default min_std, judged as a render judges its samples
# (synthgen.frames.judge_frame), so a flat colour counts as well as grey.
NEAR_CONSTANT_STD = 2.0
# Undecodable samples named one by one in the log; the rest are counted.
NAMED_BAD_SAMPLES = 5


def sample_images(sample: dict[str, Any]) -> list[np.ndarray]:
    """All views of a sample, view 0 first, decoded to uint8 HxWx3."""
    fields = image_fields(sample)
    if not fields:
        raise CorpusError(f"sample {sample['__key__']}: no image field ({', '.join(IMAGE_FORMATS)})")
    return [decode_image(sample[name]) for name in fields]


def decode_or_skip(shard: str, sample: dict[str, Any], bad: list[str]) -> list[np.ndarray] | None:
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
    """Counts and bytes from the manifest or sidecars; image statistics from decoded samples, and
    the classes of those read. `url` is any corpus spec that training reads (locate_corpus): a
    corpus folder or URL, a brace pattern of shards, a saved stream."""
    location = locate_corpus(url, storage_options)
    corpus = location.corpus  # None for a brace pattern or a saved stream
    classes: Counter[int] = Counter()
    total = np.zeros(3)
    total_sq = np.zeros(3)
    pixels = 0
    near_constant = 0
    decoded = 0
    views = 0
    size = (0, 0)
    first_meta: dict[str, Any] = {}
    bad: list[str] = []
    for shard, sample in location.located_samples(max_samples):
        label = sample_class(sample)
        if label is not None:
            classes[label] += 1
        if not first_meta and "json" in sample:
            try:
                meta = json.loads(sample["json"])
                first_meta = meta if isinstance(meta, dict) else {}
            except (ValueError, RecursionError):
                pass  # the recipe's name is also in the manifest; verify names a bad json
        images = decode_or_skip(shard, sample, bad)
        if images is None:
            continue
        views = max(views, len(images))
        for image in images:
            values = image.reshape(-1, 3).astype(np.float64)
            total += values.sum(axis=0)
            total_sq += (values**2).sum(axis=0)
            pixels += values.shape[0]
            near_constant += judge_frame(image, NEAR_CONSTANT_STD) is not None
            decoded += 1
            size = (image.shape[1], image.shape[0])
    mean = total / max(pixels, 1)
    std = np.sqrt(np.maximum(total_sq / max(pixels, 1) - mean**2, 0.0))
    manifest = corpus.manifest if corpus is not None else None
    recorded = (location.stream or {}).get("recipe")
    nsamples = location.nsamples
    if manifest is not None:
        name, recipe_sha256, views = manifest.name, manifest.recipe_sha256, manifest.views
    elif isinstance(recorded, dict):  # a saved stream: the recipe its header records
        name, recipe_sha256 = recorded.get("name", "?"), (location.stream or {}).get("recipe_sha256", "?")
        views = recorded.get("views", views)
    else:  # an incomplete corpus, a pattern: what its first sample says
        name, recipe_sha256 = first_meta.get("recipe", "?"), first_meta.get("recipe_sha256", "?")
    return {
        "url": location.url,
        "kind": location.kind,
        "complete": corpus is not None and corpus.complete,
        "name": name,
        "recipe_sha256": recipe_sha256,
        "nsamples": nsamples,
        "nshards": len(location.shards),
        "views": views,
        "nimages": nsamples * views,
        "filesize": location.filesize(),
        "failures": corpus.failures() if corpus is not None else {},
        # README.md: licence, citation, front matter (None: no card)
        "card": read_card(corpus.dest) if corpus is not None else None,
        "excluded": excluded_in(corpus) if corpus is not None else [],
        "classes": class_histogram(classes),
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


def sample_class(sample: dict[str, Any]) -> int | None:
    """A sample's `cls`, or None without one (or with a bad one: verify names those)."""
    if "cls" not in sample:
        return None
    try:
        return parse_cls(sample["cls"])
    except CorpusError:
        return None


def class_histogram(counts: Counter[int]) -> dict[str, Any] | None:
    """The classes of the samples read: how many samples (with a `cls`), how many classes, the
    fewest, median and most samples of a class, and every class's count (by class); None when no
    sample has a class."""
    if not counts:
        return None
    per_class = [counts[label] for label in sorted(counts)]
    return {
        "samples": sum(per_class),
        "classes": len(counts),
        "min": min(per_class),
        "median": statistics.median(per_class),
        "max": max(per_class),
        "per_class": {str(label): counts[label] for label in sorted(counts)},
    }


# Classes drawn as bars by `inspect` (the most frequent); --json has every class's count.
SHOWN_CLASSES = 5
_BAR = 24


def class_lines(classes: dict[str, Any]) -> list[str]:
    """The class histogram of the samples read: how many classes, the fewest, median and most
    samples per class, then a bar for each of the most frequent few."""
    lines = [
        f"classes    {classes['classes']} in {counted(classes['samples'], 'sample')} read; per class "
        f"min {classes['min']}, median {classes['median']:g}, max {classes['max']}"
    ]
    ranked = sorted(classes["per_class"].items(), key=lambda item: (-item[1], int(item[0])))
    width = max(len(label) for label, _ in ranked[:SHOWN_CLASSES])
    for label, n in ranked[:SHOWN_CLASSES]:
        lines.append(f"  cls {label:>{width}} {n:>6} {'#' * max(1, round(_BAR * n / classes['max']))}")
    if len(ranked) > SHOWN_CLASSES:
        lines.append(f"  ... and {len(ranked) - SHOWN_CLASSES} more classes (--json lists them all)")
    return lines


def excluded_in(corpus: Corpus) -> list[dict[str, str]]:
    """The programs excluded from `corpus` ({id, reason, message}, sorted by id): its manifest's,
    or for an incomplete corpus, its sidecars'."""
    if corpus.manifest is not None:
        return [dict(entry) for entry in corpus.manifest.excluded]
    return excluded_programs(corpus.records)
