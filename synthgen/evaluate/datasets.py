"""Downstream labelled data for evaluation, named by a SPEC string.

    imagefolder:PATH   a folder per class (label order = sorted class names); split as given by
                       PATH/train and PATH/val (or PATH/test) when both exist, else drawn per class
    wds:URL            WebDataset shards: a synthgen corpus folder (with manifest.json), that
                       manifest.json, one .tar (.tar.gz), or a brace pattern such as dir/shard-{000000..000009}.tar;
                       image from the jpg/jpeg/png/webp field, label from `cls` (an ascii integer);
                       split drawn per class
    idx:DIR            MNIST-format IDX files (train-/t10k-images-idx3-ubyte, -labels-idx1-ubyte,
                       optionally .gz), as Fashion-MNIST ships them; train = train files, val = t10k

Paths may be local or any fsspec URL (s3://...). Images are returned as numpy uint8 arrays
(N, H, W, 3), RGB, like every image elsewhere in synthgen (sources render HWC uint8; the feature
extractor moves them to the device in batches, so a second full-size torch copy is never needed),
with int64 labels (N,). All images of a dataset share one size: `size` (square) when given, else
the size of the first train image read; an image of another size is scaled to cover it and
centre-cropped (aspect ratio kept), as eval transforms usually do.

Drawn splits and subsets are stratified (per class) and depend only on `seed`, the labels and the
file order, never on global random state. Each split keeps its samples in file order.

`LabelledData.name` identifies the data for cache keys: the resolved location, a fingerprint of the
files (sizes and modification times or ETags, and the manifest's shard checksums) and the options
that shape the arrays. `dataset_name` computes it without decoding any image.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import posixpath
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image
from webdataset.shardlists import expand_urls

from synthgen.corpus.encode import decode_image
from synthgen.corpus.format import MANIFEST_NAME, Manifest, image_format, parse_cls
from synthgen.corpus.read import checked_samples, load_manifest
from synthgen.corpus.storage import Destination
from synthgen.errors import CorpusError

SCHEMES = ("imagefolder", "wds", "idx")
VALID_FORMS = (
    "imagefolder:PATH (a folder per class), wds:URL (a corpus folder with manifest.json, a .tar or a brace "
    "pattern like dir/shard-{000000..000009}.tar) or idx:DIR (MNIST-format IDX files)"
)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff", ".ppm", ".pgm")
WDS_IMAGE_FIELDS = ("jpg", "jpeg", "png", "webp")
SHARD_SUFFIXES = (".tar", ".tar.gz", ".tgz")
CLASSES_FILE = "classes.txt"
# Bump when decoding, resizing or splitting changes, so that caches keyed by `name` are not reused.
NAME_VERSION = 1
# Threads decoding images, and how many images they are handed at a time.
DECODE_THREADS = min(8, os.cpu_count() or 1)
DECODE_BLOCK = 512
# An IDX header announcing more than this is refused rather than decompressed (a gzip bomb guard).
MAX_IDX_BYTES = 1 << 34

# Streams of the seeded generator, so the split and each subset draw independently of one another.
_SPLIT_STREAM, _TRAIN_STREAM, _VAL_STREAM = 0, 1, 2


class TooFewPerClass(CorpusError):
    """A class holds fewer train images than `train_per_class` asks for (attributes for callers'
    own wording: the CLI names its flag)."""

    def __init__(self, spec: str, class_name: str, held: int, asked: int) -> None:
        super().__init__(f"{spec}: class {class_name!r} holds only {held} training images, fewer than {asked}")
        self.class_name, self.held, self.asked = class_name, held, asked


@dataclass
class Split:
    """One split: `images` uint8 (N, H, W, 3) RGB, `labels` int64 (N,)."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


@dataclass
class LabelledData:
    """A labelled dataset: `classes[label]` names each label; `name` identifies the data (cache keys)."""

    spec: str
    name: str
    classes: list[str]
    train: Split
    val: Split

    @property
    def num_classes(self) -> int:
        return len(self.classes)


def load_dataset(
    spec: str,
    *,
    split_fraction: float = 0.8,
    seed: int = 0,
    size: int | None = None,
    max_per_class: int | None = None,
    limit_train: int | None = None,
    limit_val: int | None = None,
    train_per_class: int | None = None,
    storage_options: dict[str, Any] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> LabelledData:
    """Load the labelled dataset named by `spec` (see the module docstring for the forms).

    split_fraction: the share of each class that goes to train when the split is drawn (not when
        the data comes split). seed: draws that split and the subsets below.
    size: resize every image to size x size (scale to cover, centre crop).
    max_per_class: keep at most this many images per class in each split.
    limit_train, limit_val: keep at most this many images in that split, classes in proportion.
    train_per_class: keep exactly this many train images per class (few labels; val untouched);
        a class holding fewer raises TooFewPerClass. The draw for N is part of the draw for N' > N.
    on_progress: called with the number of images just decoded (for a progress bar).
    """
    options = _Options(split_fraction, seed, size, max_per_class, limit_train, limit_val, train_per_class)
    source = _resolve(spec, storage_options)
    name = _name(source, options)  # before reading: the identity of the files as they were found
    classes, pools = source.read()
    if "all" in pools:
        pool = pools["all"]
        train_idx, val_idx = stratified_split(pool.labels, split_fraction, _seed(seed, _SPLIT_STREAM))
        parts = {"train": (pool, train_idx), "val": (pool, val_idx)}
    else:
        parts = {name: (items, np.arange(len(items.labels))) for name, items in pools.items()}

    splits: dict[str, Split] = {}
    target = (size, size) if size is not None else None
    for split, stream, limit in (("train", _TRAIN_STREAM, limit_train), ("val", _VAL_STREAM, limit_val)):
        items, indices = parts[split]
        cap = max_per_class
        if split == "train" and train_per_class is not None:
            held = np.bincount(items.labels[indices], minlength=len(classes))
            if held.min() < train_per_class:
                short = int(held.argmin())
                raise TooFewPerClass(spec, classes[short], int(held[short]), train_per_class)
            cap = min(train_per_class, cap or train_per_class)  # the same draw as a per-class cap
        indices = indices[_subset(items.labels[indices], cap, limit, _seed(seed, stream))]
        if len(indices) == 0:
            raise CorpusError(f"{spec}: the {split} split is empty ({len(items.labels)} images found)")
        images = items.take(indices, target, on_progress)
        target = images.shape[1:3]  # val follows train's size
        splits[split] = Split(images, items.labels[indices].astype(np.int64))
    return LabelledData(spec, name, classes, splits["train"], splits["val"])


def dataset_name(
    spec: str,
    *,
    split_fraction: float = 0.8,
    seed: int = 0,
    size: int | None = None,
    max_per_class: int | None = None,
    limit_train: int | None = None,
    limit_val: int | None = None,
    train_per_class: int | None = None,
    storage_options: dict[str, Any] | None = None,
) -> str:
    """The `name` that `load_dataset` with these arguments gives, computed from file listings and
    metadata only (for a cache lookup before loading anything)."""
    options = _Options(split_fraction, seed, size, max_per_class, limit_train, limit_val, train_per_class)
    return _name(_resolve(spec, storage_options), options)


# -- splits and subsets ----------------------------------------------------------------------------


def stratified_split(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split indices per class: about `fraction` of each class in the first part, the rest in the
    second. A class with at least two samples has at least one in each part; a class of one goes to
    the first. Both parts are sorted (original order kept)."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"the split fraction must lie strictly between 0 and 1, got {fraction}")
    rng = np.random.default_rng(seed)
    first, second = [], []
    for members in _by_class(labels):
        members = rng.permutation(members)
        n_first = len(members) if len(members) < 2 else min(max(round(len(members) * fraction), 1), len(members) - 1)
        first.append(members[:n_first])
        second.append(members[n_first:])
    return _sorted_concat(first), _sorted_concat(second)


def stratified_subset(labels: np.ndarray, count: int, seed: int) -> np.ndarray:
    """`count` indices (all if fewer), each class represented in proportion to its size (largest
    remainders get the spare places); sorted."""
    if count >= len(labels):
        return np.arange(len(labels))
    groups = _by_class(labels)
    sizes = np.array([len(g) for g in groups])
    exact = sizes * count / len(labels)
    quotas = np.floor(exact).astype(int)
    spare = count - int(quotas.sum())
    quotas[np.argsort(-(exact - quotas), kind="stable")[:spare]] += 1
    rng = np.random.default_rng(seed)
    return _sorted_concat([rng.permutation(g)[:q] for g, q in zip(groups, quotas, strict=True)])


def _subset(labels: np.ndarray, max_per_class: int | None, limit: int | None, seed: int) -> np.ndarray:
    """Positions into `labels` kept by the per-class cap and then the overall limit."""
    keep = np.arange(len(labels))
    if max_per_class is not None:
        rng = np.random.default_rng(_seed(seed, 0))
        keep = _sorted_concat([rng.permutation(g)[:max_per_class] for g in _by_class(labels)])
    if limit is not None:
        keep = keep[stratified_subset(labels[keep], limit, _seed(seed, 1))]
    return keep


def _by_class(labels: np.ndarray) -> list[np.ndarray]:
    """Indices of each class, classes in increasing order, indices increasing."""
    order = np.argsort(labels, kind="stable")
    _, starts = np.unique(labels[order], return_index=True)
    return np.split(order, starts[1:])


def _sorted_concat(parts: list[np.ndarray]) -> np.ndarray:
    return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)


def _seed(seed: int, stream: int) -> int:
    return int(np.random.SeedSequence([seed, stream]).generate_state(1, np.uint64)[0] >> np.uint64(1))


# -- options and names -----------------------------------------------------------------------------


@dataclass
class _Options:
    split_fraction: float
    seed: int
    size: int | None
    max_per_class: int | None
    limit_train: int | None
    limit_val: int | None
    train_per_class: int | None = None

    def __post_init__(self) -> None:
        if not 0.0 < self.split_fraction < 1.0:
            raise ValueError(f"split_fraction must lie strictly between 0 and 1, got {self.split_fraction}")
        if self.train_per_class is not None and self.limit_train is not None:
            raise ValueError("train_per_class and limit_train exclude each other (both size the train split)")
        for name in ("size", "max_per_class", "limit_train", "limit_val", "train_per_class"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, (int, np.integer)) or value < 1):
                raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _name(source: _Source, options: _Options) -> str:
    """`scheme:location#digest`, the digest covering the files' fingerprint and the options that
    change the arrays (the split fraction only where the split is drawn; the seed only where it draws)."""
    shaping: dict[str, Any] = {"size": options.size}
    draws = not source.presplit or any(
        v is not None for v in (options.max_per_class, options.limit_train, options.limit_val, options.train_per_class)
    )
    if not source.presplit:
        shaping["split_fraction"] = options.split_fraction
    if draws:
        shaping |= {"seed": options.seed, "max_per_class": options.max_per_class,
                    "limit_train": options.limit_train, "limit_val": options.limit_val}  # fmt: skip
    if options.train_per_class is not None:  # only when set, so the names of other data stay as they were
        shaping["train_per_class"] = options.train_per_class
    identity = {"version": NAME_VERSION, "files": source.fingerprint(), "options": shaping}
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()
    return f"{source.scheme}:{source.location}#{digest[:16]}"


# -- sources ---------------------------------------------------------------------------------------


@dataclass
class _Items:
    """A pool of labelled images, decoded only when taken."""

    labels: np.ndarray
    take: Callable[[np.ndarray, tuple[int, int] | None, Callable[[int], None] | None], np.ndarray]


class _Source:
    """A resolved spec: where the data is, a cheap fingerprint of it, and how to read it."""

    scheme: str
    location: str
    presplit: bool

    def fingerprint(self) -> Any:
        raise NotImplementedError

    def read(self) -> tuple[list[str], dict[str, _Items]]:
        """Class names and the pools: {"train": ..., "val": ...} or {"all": ...} to be split."""
        raise NotImplementedError


def _resolve(spec: str, storage_options: dict[str, Any] | None) -> _Source:
    scheme, sep, path = spec.partition(":")
    if not sep or scheme not in SCHEMES or not path:
        raise CorpusError(f"{spec!r}: not a dataset spec; expected {VALID_FORMS}")
    if scheme == "imagefolder":
        return _ImageFolder(spec, path, storage_options)
    if scheme == "wds":
        return _Shards(spec, path, storage_options)
    return _Idx(spec, path, storage_options)


def _missing(spec: str, what: str) -> CorpusError:
    return CorpusError(f"{spec}: {what}; expected {VALID_FORMS}")


def _location(dest: Destination) -> str:
    """A stable spelling of where a destination is: the real path locally, the full URL elsewhere."""
    if dest.is_local:
        return os.path.realpath(dest.root)
    return dest.fs.unstrip_protocol(dest.root)


def _stamp(info: dict[str, Any]) -> list[Any]:
    """What identifies a file's version cheaply: its size and its ETag or modification time."""
    for key in ("ETag", "etag", "md5Hash", "mtime", "LastModified", "last_modified", "updated", "created"):
        if info.get(key) is not None:
            return [int(info.get("size", -1)), str(info[key])]
    return [int(info.get("size", -1))]


def _read_classes(dest: Destination, spec: str, num_labels: int) -> list[str]:
    """Names from classes.txt beside the data (one a line) if there is one, else "0", "1", ..."""
    if not dest.exists(CLASSES_FILE):
        return [str(label) for label in range(num_labels)]
    names = [line.strip() for line in dest.read_bytes(CLASSES_FILE).decode("utf-8", "replace").splitlines()]
    names = [name for name in names if name]
    if len(names) < num_labels:
        raise CorpusError(f"{spec}: {CLASSES_FILE} names {len(names)} classes but the labels go up to {num_labels - 1}")
    return names


def _classes_stamp(dest: Destination) -> str | None:
    return hashlib.sha256(dest.read_bytes(CLASSES_FILE)).hexdigest() if dest.exists(CLASSES_FILE) else None


def _decoding_take(decode: Callable[[int], np.ndarray]):
    """A `take` that decodes into one preallocated array (no second full-size copy), on a few
    threads: Pillow releases the GIL while it decodes and resizes, and reading files waits on I/O."""

    def take(
        indices: np.ndarray, target: tuple[int, int] | None, on_progress: Callable[[int], None] | None
    ) -> np.ndarray:
        first = decode(int(indices[0]))  # the first image read sets the size when none is asked for
        if target is None:
            target = (first.shape[0], first.shape[1])
        out = np.empty((len(indices), *target, 3), dtype=np.uint8)
        out[0] = fit_image(first, target)
        if on_progress is not None:
            on_progress(1)

        def load(index: int) -> np.ndarray:
            return fit_image(decode(int(index)), target)

        with ThreadPoolExecutor(DECODE_THREADS) as pool:
            # Blocks of indices, so that pending results stay few whatever the dataset size.
            for start in range(1, len(indices), DECODE_BLOCK):
                block = indices[start : start + DECODE_BLOCK]
                for n, image in enumerate(pool.map(load, block), start):
                    out[n] = image
                if on_progress is not None:
                    on_progress(len(block))
        return out

    return take


def fit_image(image: np.ndarray, target: tuple[int, int]) -> np.ndarray:
    """Scale a uint8 HxWx3 image to cover `target` (height, width), keeping its aspect ratio, and
    centre-crop it to exactly that size."""
    height, width = image.shape[:2]
    if (height, width) == tuple(target):
        return image
    scale = max(target[0] / height, target[1] / width)
    new_h, new_w = max(target[0], round(height * scale)), max(target[1], round(width * scale))
    # Pillow widens the filter when shrinking, so this is antialiased like torchvision's Resize.
    resized = Image.fromarray(image).resize((new_w, new_h), Image.Resampling.BILINEAR)
    top, left = (new_h - target[0]) // 2, (new_w - target[1]) // 2
    return np.asarray(resized.crop((left, top, left + target[1], top + target[0])))


class _ImageFolder(_Source):
    scheme = "imagefolder"

    def __init__(self, spec: str, path: str, storage_options: dict[str, Any] | None) -> None:
        self.spec = spec
        self.dest = Destination(path, storage_options)
        if not self.dest.retrying("look up", lambda: self.dest.fs.isdir(self.dest.root)):
            raise _missing(spec, f"no folder {path}")
        self.location = _location(self.dest)
        files = self.dest.retrying("list", lambda: self.dest.fs.find(self.dest.root, detail=True))
        # (relative path parts, info) of every image file, hidden files and folders left out.
        self.files: dict[tuple[str, ...], dict[str, Any]] = {}
        for full, info in files.items():
            parts = tuple(posixpath.relpath(full, self.dest.root).split("/"))
            if any(part.startswith(".") for part in parts) or not parts[-1].lower().endswith(IMAGE_EXTENSIONS):
                continue
            self.files[parts] = info
        folders = {parts[0] for parts in self.files if len(parts) > 1}
        val_name = "val" if "val" in folders else "test"
        self.presplit = "train" in folders and val_name in folders
        self.split_folders = {"train": "train", "val": val_name} if self.presplit else {"all": None}

    def fingerprint(self) -> Any:
        return sorted(["/".join(parts), *_stamp(info)] for parts, info in self.files.items())

    def read(self) -> tuple[list[str], dict[str, _Items]]:
        listing: dict[str, dict[str, list[str]]] = {}  # split -> class -> files, sorted
        for split, folder in self.split_folders.items():
            depth = 0 if folder is None else 1
            by_class: dict[str, list[str]] = {}
            for parts in self.files:
                if (folder is None or parts[0] == folder) and len(parts) > depth + 1:
                    by_class.setdefault(parts[depth], []).append(self.dest.path("/".join(parts)))
            listing[split] = {name: sorted(paths) for name, paths in sorted(by_class.items())}
        first = "train" if self.presplit else "all"
        classes = list(listing[first])
        if not classes:
            where = f"{self.dest.url}/train" if self.presplit else self.dest.url
            raise CorpusError(f"{self.spec}: no class folders with images in {where}")
        if self.presplit:
            extra = sorted(set(listing["val"]) - set(classes))
            if extra:
                raise CorpusError(
                    f"{self.spec}: {self.split_folders['val']}/ has classes that train/ lacks: {', '.join(extra[:5])}"
                )
        label_of = {name: label for label, name in enumerate(classes)}
        pools = {}
        for split, by_class in listing.items():
            paths = [path for name in by_class for path in by_class[name]]
            labels = np.array([label_of[name] for name in by_class for _ in by_class[name]], dtype=np.int64)
            pools[split] = _Items(labels, _decoding_take(lambda i, paths=paths: self._decode(paths[i])))
        return classes, pools

    def _decode(self, path: str) -> np.ndarray:
        data = self.dest.retrying(f"read {path}", lambda: self.dest.fs.cat_file(path))
        try:
            return decode_image(data)
        except Exception as err:  # Pillow raises many types for bad bytes
            raise CorpusError(f"{self.spec}: {path} is not a readable image: {err}") from None


class _Shards(_Source):
    scheme = "wds"
    presplit = False

    def __init__(self, spec: str, path: str, storage_options: dict[str, Any] | None) -> None:
        self.spec = spec
        self.manifest: Manifest | None = None
        if "{" in path or path.endswith(SHARD_SUFFIXES):
            urls = expand_urls(path)
            self.folder = Destination(posixpath.dirname(urls[0]) or ".", storage_options)  # for classes.txt
            # The pattern as written, its folder resolved (unless the folder itself has braces).
            head, tail = posixpath.split(path)
            self.location = f"{head if '{' in head else _location(Destination(head or '.', storage_options))}/{tail}"
        else:  # a corpus folder, or its manifest.json
            folder = posixpath.dirname(path) if path.endswith(MANIFEST_NAME) else path
            self.folder = Destination(folder or ".", storage_options)
            if not self.folder.exists(MANIFEST_NAME):
                raise _missing(spec, f"no {MANIFEST_NAME} in {folder} (or name its shards: a .tar or a brace pattern)")
            try:
                self.manifest = load_manifest(self.folder)
            except CorpusError as err:
                raise CorpusError(f"{spec}: {err}") from None
            names = [_safe_relative(entry.url, spec) for entry in self.manifest.shardlist]
            urls = [posixpath.join(folder, name) for name in names]
            self.location = _location(self.folder)
        if not urls:
            raise _missing(spec, "no shards named")
        # One destination per folder: shards are opened by name in it, with its retries and errors.
        folders: dict[str, Destination] = {}
        self.shards = []
        for url in urls:
            head = posixpath.dirname(url) or "."
            folders.setdefault(head, Destination(head, storage_options))
            self.shards.append((folders[head], posixpath.basename(url)))

    def fingerprint(self) -> Any:
        classes = _classes_stamp(self.folder)
        # The files as found (sizes, times or ETags), and with a manifest the sha256 it records too:
        # shards replaced under an unchanged manifest must not be served their old cached features.
        listing = self.folder.infos() if self.manifest is not None else {}  # one request per corpus
        stamps = []
        for dest, name in self.shards:
            info = (listing.get(name) if dest.root == self.folder.root else None) or dest.info(name)
            if info is None:
                raise _missing(self.spec, f"no shard {dest.path(name)}")
            stamps.append([_location(dest), name, *_stamp(info)])
        if self.manifest is not None:
            return {"shardlist": [e.to_dict() for e in self.manifest.shardlist], "shards": stamps, "classes": classes}
        return {"shards": stamps, "classes": classes}

    def read(self) -> tuple[list[str], dict[str, _Items]]:
        encoded: list[tuple[bytes, str, str]] = []  # (image bytes, key, shard)
        labels: list[int] = []
        # With a manifest, each shard is checked against it as it streams (size first, then sha256):
        # eval reads everything before using any of it, so a mismatch refuses the dataset in one line.
        entries = self.manifest.shardlist if self.manifest is not None else [None] * len(self.shards)
        for (dest, name), entry in zip(self.shards, entries, strict=True):
            if not dest.exists(name):
                raise _missing(self.spec, f"no shard {dest.path(name)}")
            with dest.open(name) as stream:
                for sample in checked_samples(stream, f"{self.spec}: shard {name}", entry):
                    encoded.append(self._image_field(sample, name))
                    labels.append(self._label(sample, name))
        if not labels:
            raise CorpusError(f"{self.spec}: the shards hold no samples")
        classes = _read_classes(self.folder, self.spec, max(labels) + 1)

        def decode(i: int) -> np.ndarray:
            data, key, shard = encoded[i]
            try:
                return decode_image(data)
            except Exception as err:  # Pillow raises many types for bad bytes
                raise CorpusError(f"{self.spec}: sample {key} in shard {shard} does not decode: {err}") from None

        return classes, {"all": _Items(np.array(labels, dtype=np.int64), _decoding_take(decode))}

    def _image_field(self, sample: dict[str, Any], shard: str) -> tuple[bytes, str, str]:
        key = sample["__key__"]
        field = image_format(sample, WDS_IMAGE_FIELDS)
        if field is not None:
            return sample[field], key, shard
        raise CorpusError(
            f"{self.spec}: sample {key} in shard {shard} has no image ({', '.join(WDS_IMAGE_FIELDS)} field)"
        )

    def _label(self, sample: dict[str, Any], shard: str) -> int:
        key = sample["__key__"]
        if "cls" not in sample:
            raise CorpusError(f"{self.spec}: sample {key} in shard {shard} has no cls label")
        where = f"{self.spec}: sample {key} in shard {shard}"
        label = parse_cls(sample["cls"], where)
        if label < 0:  # a label indexes the classes
            raise CorpusError(f"{where}: cls must be a non-negative integer, got {label}")
        return label


def _safe_relative(url: str, spec: str) -> str:
    """A manifest's shard URL, which must name a file inside the corpus folder."""
    if "://" in url or url.startswith("/") or ".." in url.split("/"):
        raise CorpusError(f"{spec}: the manifest names a shard outside the corpus folder: {url!r}")
    return url


class _Idx(_Source):
    scheme = "idx"
    presplit = True
    # Split -> (images file, labels file) base names; each may also come gzipped (.gz).
    FILES = {
        "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        "val": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    }

    def __init__(self, spec: str, path: str, storage_options: dict[str, Any] | None) -> None:
        self.spec = spec
        self.dest = Destination(path, storage_options)
        self.location = _location(self.dest)
        infos = self.dest.infos()
        if not infos:
            raise _missing(spec, f"no folder {path}, or it is empty")
        self.names: dict[str, tuple[str, str]] = {}
        for split, bases in self.FILES.items():
            found = []
            for base in bases:
                name = next((n for n in (base, base + ".gz") if n in infos), None)
                if name is None:
                    raise _missing(spec, f"no {base} (or {base}.gz) in {path}")
                found.append(name)
            self.names[split] = (found[0], found[1])
        self.stamps = {name: _stamp(infos[name]) for pair in self.names.values() for name in pair}

    def fingerprint(self) -> Any:
        return {"files": self.stamps, "classes": _classes_stamp(self.dest)}

    def read(self) -> tuple[list[str], dict[str, _Items]]:
        arrays = {}
        for split, (images_name, labels_name) in self.names.items():
            images = self._read(images_name, (3, 4))
            labels = self._read(labels_name, (1,))
            if len(images) != len(labels):
                raise CorpusError(
                    f"{self.spec}: {images_name} holds {len(images)} images, {labels_name} {len(labels)} labels"
                )
            if images.ndim == 4 and images.shape[3] != 3:
                raise CorpusError(
                    f"{self.spec}: {images_name}: images have {images.shape[3]} channels, expected 1 or 3"
                )
            arrays[split] = (images, labels.astype(np.int64))
        num_labels = max(int(labels.max(initial=0)) for _, labels in arrays.values()) + 1
        classes = _read_classes(self.dest, self.spec, num_labels)
        return classes, {split: _Items(labels, _array_take(images)) for split, (images, labels) in arrays.items()}

    def _read(self, name: str, ndims: tuple[int, ...]) -> np.ndarray:
        data = self.dest.read_bytes(name)
        where = f"{self.spec}: {self.dest.path(name)}"
        if name.endswith(".gz"):
            data = _gunzip_idx(data, where)
        return parse_idx(data, where, ndims)


def _array_take(images: np.ndarray):
    """A `take` over decoded arrays: (N, H, W) grey (replicated to RGB) or (N, H, W, 3)."""

    def take(
        indices: np.ndarray, target: tuple[int, int] | None, on_progress: Callable[[int], None] | None
    ) -> np.ndarray:
        chosen = images[indices]
        if chosen.ndim == 3:
            chosen = np.repeat(chosen[..., None], 3, axis=3)
        if target is not None and tuple(target) != chosen.shape[1:3]:
            chosen = np.stack([fit_image(image, target) for image in chosen])
        if on_progress is not None:
            on_progress(len(chosen))
        return np.ascontiguousarray(chosen)

    return take


# IDX type codes: only unsigned bytes (0x08) are images as MNIST-style datasets store them.
_IDX_TYPES = {0x08: "unsigned byte", 0x09: "signed byte", 0x0B: "short", 0x0C: "int", 0x0D: "float", 0x0E: "double"}


def _idx_header(data: bytes, where: str, ndims: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
    """(header length, dims) of an IDX file, after checking the magic number."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise CorpusError(f"{where}: not an IDX file (bad magic number {data[:4].hex() or 'none'})")
    code, ndim = data[2], data[3]
    if code != 0x08:
        kind = _IDX_TYPES.get(code, f"unknown type 0x{code:02x}")
        raise CorpusError(f"{where}: holds {kind} values; only unsigned bytes (type 0x08) are supported")
    if ndim not in ndims:
        expected = " or ".join(str(n) for n in ndims)
        raise CorpusError(f"{where}: has {ndim} dimensions, expected {expected}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise CorpusError(f"{where}: truncated in its header ({len(data)} bytes)")
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return header, dims


def parse_idx(data: bytes, where: str, ndims: tuple[int, ...] = (1, 2, 3, 4)) -> np.ndarray:
    """An IDX (MNIST format) file's array of unsigned bytes; CorpusError naming `where` otherwise."""
    header, dims = _idx_header(data, where, ndims)
    expected = int(np.prod(dims, dtype=np.int64))
    found = len(data) - header
    if found < expected:
        raise CorpusError(f"{where}: truncated: the header announces {dims} = {expected} bytes of data, found {found}")
    if found > expected:
        raise CorpusError(f"{where}: {found - expected} bytes after the {dims} data the header announces")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def _gunzip_idx(data: bytes, where: str) -> bytes:
    """Decompress a gzipped IDX file, never more than its header announces (plus one byte, to notice
    trailing data): a damaged or hostile file cannot make this inflate without bound."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            head = stream.read(4 + 4 * 255)  # room for the longest possible header
            header, dims = _idx_header(head, where, (1, 2, 3, 4))
            total = header + int(np.prod(dims, dtype=np.int64))
            if total > MAX_IDX_BYTES:
                raise CorpusError(f"{where}: the header announces {dims}, over {MAX_IDX_BYTES >> 30} GiB; refusing")
            return head + stream.read(max(total + 1 - len(head), 0))
    except (OSError, EOFError, zlib.error) as err:  # BadGzipFile is an OSError; EOFError: cut short
        raise CorpusError(f"{where}: damaged or truncated gzip data ({err})") from None


__all__ = [
    "IMAGE_EXTENSIONS",
    "SCHEMES",
    "LabelledData",
    "TooFewPerClass",
    "Split",
    "dataset_name",
    "fit_image",
    "load_dataset",
    "parse_idx",
    "stratified_split",
    "stratified_subset",
]
