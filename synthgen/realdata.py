"""Real labelled images as a corpus: the `dataset` source, and `synthgen import`.

    summary = import_dataset("idx:/usr/share/datasets/fashion-mnist", "out/fashion-mnist-train")
    recipe = dataset_recipe("imagefolder:data/pets", split="train", limit=5000, size=64)

A study's real-data control is the downstream dataset's own training images, pretrained on in
the same way as a synthetic corpus. So they are written through the same render path: a recipe
(built in memory) whose source is `kind: dataset`, shards, sidecars, the manifest last; resumable,
local or remote; `verify`, `inspect` and the training loader read it like any corpus.

Sample i is the i-th image of the split, in file order after the stratified `limit`; `cls` is its
label. The data is read with synthgen.evaluate.datasets, as `synthgen eval --dataset` reads it
(the same split for data that comes unsplit, given the same seed), and resized to the recipe's
image size (scaled to cover, centre-cropped).

This module sits outside synthgen.sources on purpose: synthgen.evaluate depends on
synthgen.sources (through synthgen.train), so a source inside that package could not import it
without an import cycle. The recipe section, DatasetSourceConfig, is in synthgen/sources/dataset.py.
"""

from __future__ import annotations

import contextlib
import logging
import posixpath
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from synthgen.errors import SourceError
from synthgen.evaluate.datasets import dataset_name, fit_image, load_dataset, stratified_subset
from synthgen.progress import ProgressCallback
from synthgen.recipe import Recipe, parse_recipe
from synthgen.render import RenderSummary, render_corpus
from synthgen.sources.base import RenderedSample, SampleFailure, SampleSpec, Source

logger = logging.getLogger(__name__)

# Lossless: the control should hold the dataset's own pixels, not a re-compressed copy of them.
DEFAULT_FORMAT = "png"
# A size `dataset_recipe` validates a draft with before it knows the dataset's own size.
_DRAFT_SIZE = 256


@dataclass(frozen=True)
class Selection:
    """The images of one split as the corpus holds them: uint8 (N, H, W, 3), int64 labels (N,)."""

    images: np.ndarray
    labels: np.ndarray
    classes: list[str]

    def __len__(self) -> int:
        return len(self.labels)


# Selections loaded during `holding_selections()`, so that within one import the data is decoded
# once: to count it and find its size, by the source's check, and by a render in this process.
_held: dict[tuple[Any, ...], Selection] | None = None


@contextlib.contextmanager
def holding_selections() -> Iterator[None]:
    """Keep what load_selection loads during the block (dropped at its end)."""
    global _held
    outer = _held
    _held = {} if outer is None else outer
    try:
        yield
    finally:
        _held = outer


def load_selection(spec: str, split: str, *, limit: int | None, seed: int, size: tuple[int, int] | None) -> Selection:
    """The `split` ("train", "val" or "all": train then val) of dataset `spec`, `limit` images of
    it (stratified, seeded by `seed`), resized to `size` (width, height; None: the first image's)."""
    key = (spec, split, limit, seed, size)
    if _held is not None and key in _held:
        return _held[key]
    width, height = size if size is not None else (None, None)
    side = width if width == height else None  # load_dataset resizes to squares only
    # load_dataset decodes both splits; a one-image limit on the split not needed makes that one
    # cheap, and the split wanted is drawn the same (each split's subset has its own stream).
    if split == "train":
        data = load_dataset(spec, seed=seed, size=side, limit_train=limit, limit_val=1)
        images, labels = data.train.images, data.train.labels
    elif split == "val":
        data = load_dataset(spec, seed=seed, size=side, limit_train=1, limit_val=limit)
        images, labels = data.val.images, data.val.labels
    else:
        data = load_dataset(spec, seed=seed, size=side)
        images = np.concatenate([data.train.images, data.val.images])
        labels = np.concatenate([data.train.labels, data.val.labels])
        if limit is not None:
            keep = stratified_subset(labels, limit, seed)
            images, labels = images[keep], labels[keep]
    if size is not None and side is None:  # a non-square size: from the images as they come
        images = np.stack([fit_image(image, (height, width)) for image in images])
    selection = Selection(images, labels, data.classes)
    _hold(key, selection)
    return selection


def _hold(key: tuple[Any, ...], selection: Selection) -> None:
    if _held is not None:
        _held[key] = selection


def _selection_for(recipe: Recipe) -> Selection:
    config = recipe.source
    return load_selection(
        config.dataset, config.split, limit=config.limit, seed=recipe.seed, size=tuple(recipe.image.size)
    )


class DatasetSource(Source):
    """Sample i = image i of the chosen split; one view; `cls` = its label."""

    kind = "dataset"
    batch_size = 256  # indexing an array: large batches cost nothing

    def __init__(self, recipe: Recipe, device: str | None = None) -> None:
        super().__init__(recipe, device)
        self._selection: Selection | None = None
        self._identity = ""

    @classmethod
    def check(cls, recipe: Recipe) -> None:
        """views is 1, and count is the number of images the split holds (after the limit).

        This loads (decodes) the split: the loader counts no images without reading them. Within
        `synthgen import` that load is the one the import made already (holding_selections)."""
        if recipe.views != 1:
            raise SourceError(
                f"views: a dataset source has one view per sample, got {recipe.views}: a real image is "
                "one view (augmentations make its positives at training time)"
            )
        available = len(_selection_for(recipe))
        if recipe.count != available:
            config = recipe.source
            limited = f" (limit {config.limit})" if config.limit is not None else ""
            advice = (
                "a corpus holds the whole split; for fewer images set source.limit, which keeps classes in proportion"
                if recipe.count < available
                else f"set count to {available} (`synthgen import` sets it)"
            )
            raise SourceError(
                f"count: {recipe.count}, but the {config.split} split of {config.dataset} has "
                f"{available} images{limited}: {advice}"
            )

    def _loaded(self) -> Selection:
        # Once per worker: a worker renders many shards with this source.
        if self._selection is None:
            config = self.recipe.source
            # Which files (their sizes and times), so that a reader of a sample can tell.
            self._identity = dataset_name(config.dataset, seed=self.recipe.seed)
            selection = _selection_for(self.recipe)
            if len(selection) != self.recipe.count:
                raise SourceError(
                    f"{config.dataset}: the {config.split} split now has {len(selection)} images, the "
                    f"recipe counts {self.recipe.count}: the data changed during the import"
                )
            self._selection = selection
        return self._selection

    def render(self, specs: Sequence[SampleSpec]) -> list[RenderedSample | SampleFailure]:
        selection = self._loaded()
        config = self.recipe.source
        samples: list[RenderedSample | SampleFailure] = []
        for spec in specs:
            label = int(selection.labels[spec.index])
            meta = {
                "dataset": config.dataset,
                "dataset_name": self._identity,
                "split": config.split,
                "position": spec.index,  # in the split, after the limit: train first for "all"
                "class_name": selection.classes[label],
            }
            samples.append(RenderedSample(images=[selection.images[spec.index]], meta=meta, cls=label))
        return samples

    def close(self) -> None:
        self._selection = None


def default_name(spec: str, split: str) -> str:
    """A corpus name from the spec's folder and the split: `fashion-mnist-train`."""
    scheme, _, path = spec.partition(":")
    path = path.rstrip("/")
    base = posixpath.basename(path)
    if "{" in base or base == "manifest.json" or base.endswith((".tar", ".tar.gz", ".tgz")):
        base = posixpath.basename(posixpath.dirname(path))  # shards: name the folder they are in
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip("-._") or scheme
    return f"{base[:100]}-{split}"


def dataset_recipe(
    spec: str,
    *,
    split: str = "train",
    limit: int | None = None,
    size: int | None = None,
    seed: int = 0,
    shard_samples: int = 1000,
    fmt: str = DEFAULT_FORMAT,
    quality: int = 95,
    name: str | None = None,
    base_dir: str | Path | None = None,
    license: str | None = None,
) -> Recipe:
    """The in-memory recipe that writes dataset `spec` as a corpus: `count` is the number of images
    of the split (after `limit`, which may exceed it: then all are taken), the image size `size`
    (square) or else the dataset's own (its first image's). A relative path in `spec` is relative
    to `base_dir` (default: the current folder). `license`: the data's licence, a Hub licence id,
    for the corpus's dataset card (unset: the card says what synthgen knows of it, else `unknown`).

    This reads the data (to count it and find its size); inside holding_selections() the render
    that follows reuses what was read."""
    source: dict[str, Any] = {"kind": "dataset", "dataset": spec, "split": split}
    if limit is not None:
        source["limit"] = limit
    document: dict[str, Any] = {
        "name": name or default_name(spec, split),
        "count": 1,  # until the data is counted
        "seed": seed,
        "views": 1,
        "image": {"size": size or _DRAFT_SIZE, "format": fmt, "quality": quality},
        "shard": {"samples": shard_samples},
        "source": source,
    }
    if license is not None:
        document["license"] = license
    base = Path.cwd() if base_dir is None else Path(base_dir)
    origin = f"import {spec}"
    draft = parse_recipe(document, base_dir=base, origin=origin)  # checks the keys, resolves the path
    config = draft.source
    wanted = (size, size) if size is not None else None
    selection = load_selection(config.dataset, config.split, limit=config.limit, seed=seed, size=wanted)
    height, width = selection.images.shape[1:3]
    document["count"] = len(selection)
    document["image"]["size"] = [width, height]
    document["source"]["dataset"] = config.dataset
    recipe = parse_recipe(document, base_dir=base, origin=origin)
    # The same arrays that loading at the recipe's size gives (the first image's size is the one
    # every image was fitted to), so the source's check and an in-process render reuse them.
    _hold((config.dataset, config.split, config.limit, seed, (width, height)), selection)
    if limit is not None and limit > len(selection):
        logger.info("%s: limit %d exceeds the %d images of the %s split; all taken", spec, limit, len(selection), split)
    return recipe


def import_dataset(
    spec: str,
    dest: str,
    *,
    split: str = "train",
    limit: int | None = None,
    size: int | None = None,
    seed: int = 0,
    shard_samples: int = 1000,
    fmt: str = DEFAULT_FORMAT,
    quality: int = 95,
    name: str | None = None,
    base_dir: str | Path | None = None,
    workers: int = 1,
    overwrite: bool = False,
    storage_options: dict[str, Any] | None = None,
    on_progress: ProgressCallback | None = None,
    license: str | None = None,
) -> RenderSummary:
    """Write dataset `spec` (its `split`, `limit` images, at `size`) as a corpus in `dest`, through
    render_corpus: an interrupted import resumes, a complete one is left as it is (see
    dataset_recipe for the recipe it builds; the corpus's dataset card says these are real images,
    and their `license`). Returns the render's summary. `on_progress` gets
    the render's ProgressUpdates."""
    with holding_selections():
        recipe = dataset_recipe(
            spec,
            split=split,
            limit=limit,
            size=size,
            seed=seed,
            shard_samples=shard_samples,
            fmt=fmt,
            quality=quality,
            name=name,
            base_dir=base_dir,
            license=license,
        )
        return render_corpus(
            recipe, dest, workers=workers, overwrite=overwrite, storage_options=storage_options, on_progress=on_progress
        )


__all__ = ["DatasetSource", "Selection", "dataset_recipe", "default_name", "import_dataset", "load_selection"]
