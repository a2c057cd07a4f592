"""Downstream datasets from SPEC strings, each built tiny in tmp_path.

Every image encodes its own identity: red = 40 * class + 1, green = its index within the class, so
a loaded array can be checked against its label and its file without trusting the loader.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
import uuid
from pathlib import Path

import fsspec
import numpy as np
import pytest
from PIL import Image

from synthgen.corpus.encode import encode_image
from synthgen.corpus.format import Manifest, ShardRecord
from synthgen.corpus.tar import ShardWriter
from synthgen.errors import CorpusError
from synthgen.evaluate.datasets import (
    dataset_name,
    load_dataset,
    stratified_split,
    stratified_subset,
)

FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")  # apt-get install dataset-fashion-mnist


def tagged(label: int, index: int, size: tuple[int, int] = (6, 6)) -> np.ndarray:
    image = np.zeros((*size, 3), dtype=np.uint8)
    image[..., 0] = 40 * label + 1
    image[..., 1] = index
    return image


def check_tags(images: np.ndarray, labels: np.ndarray) -> None:
    assert images.dtype == np.uint8 and images.ndim == 4 and images.shape[3] == 3
    assert labels.dtype == np.int64
    assert np.array_equal(images[:, 0, 0, 0], 40 * labels + 1)


def identities(split) -> list[tuple[int, int]]:
    return sorted(zip(split.labels.tolist(), split.images[:, 0, 0, 1].tolist(), strict=True))


def write_class_folders(root: Path, counts: dict[str, int], size=(6, 6), labels: dict[str, int] | None = None) -> None:
    for label, (name, count) in enumerate(sorted(counts.items())):
        (root / name).mkdir(parents=True)
        for index in range(count):
            Image.fromarray(tagged((labels or {}).get(name, label), index, size)).save(root / name / f"{index:03d}.png")


# -- imagefolder ---------------------------------------------------------------------------------


def test_imagefolder_draws_a_stratified_deterministic_split(tmp_path: Path):
    write_class_folders(tmp_path / "data", {"cat": 10, "ant": 5, "bee": 20})
    (tmp_path / "data" / "README.txt").write_text("not an image")
    (tmp_path / "data" / "ant" / ".hidden.png").write_bytes(b"ignored")
    data = load_dataset(f"imagefolder:{tmp_path / 'data'}", seed=3)
    assert data.classes == ["ant", "bee", "cat"] and data.num_classes == 3
    check_tags(data.train.images, data.train.labels)
    check_tags(data.val.images, data.val.labels)
    assert np.bincount(data.train.labels).tolist() == [4, 16, 8]
    assert np.bincount(data.val.labels).tolist() == [1, 4, 2]
    everything = identities(data.train) + identities(data.val)
    assert len(set(everything)) == 35  # a partition: nothing lost, nothing twice

    again = load_dataset(f"imagefolder:{tmp_path / 'data'}", seed=3)
    assert np.array_equal(again.train.images, data.train.images) and again.name == data.name
    other = load_dataset(f"imagefolder:{tmp_path / 'data'}", seed=4)
    assert identities(other.val) != identities(data.val) and other.name != data.name


def test_imagefolder_uses_train_and_val_folders(tmp_path: Path):
    write_class_folders(tmp_path / "train", {"a": 3, "b": 4})
    write_class_folders(tmp_path / "val", {"a": 2, "b": 1}, labels={"a": 0, "b": 1})
    data = load_dataset(f"imagefolder:{tmp_path}")
    assert data.classes == ["a", "b"]
    assert identities(data.train) == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (1, 3)]
    assert identities(data.val) == [(0, 0), (0, 1), (1, 0)]
    assert data.name == dataset_name(f"imagefolder:{tmp_path}", split_fraction=0.5)  # no split drawn


def test_imagefolder_test_folder_and_class_missing_from_train(tmp_path: Path):
    write_class_folders(tmp_path / "train", {"a": 2, "b": 2})
    write_class_folders(tmp_path / "test", {"a": 1, "c": 1})
    with pytest.raises(CorpusError, match="test/ has classes that train/ lacks: c"):
        load_dataset(f"imagefolder:{tmp_path}")


def test_imagefolder_sizes_are_made_common(tmp_path: Path):
    write_class_folders(tmp_path / "a", {"x": 2}, size=(6, 6))
    write_class_folders(tmp_path / "b", {"y": 2}, size=(12, 8), labels={"y": 1})
    root = tmp_path / "all"
    root.mkdir()
    os.rename(tmp_path / "a" / "x", root / "x")
    os.rename(tmp_path / "b" / "y", root / "y")
    data = load_dataset(f"imagefolder:{root}", split_fraction=0.5)
    assert data.train.images.shape[1:] == (6, 6, 3) and data.val.images.shape[1:] == (6, 6, 3)
    check_tags(data.train.images, data.train.labels)  # flat colours survive resizing
    forced = load_dataset(f"imagefolder:{root}", split_fraction=0.5, size=4)
    assert forced.train.images.shape[1:] == (4, 4, 3) and forced.name != data.name


def test_limits_and_caps_are_stratified(tmp_path: Path):
    write_class_folders(tmp_path / "train", {"a": 10, "b": 10, "c": 20})
    write_class_folders(tmp_path / "val", {"a": 5, "b": 5, "c": 5})
    spec = f"imagefolder:{tmp_path}"
    limited = load_dataset(spec, limit_train=8, limit_val=3)
    assert np.bincount(limited.train.labels).tolist() == [2, 2, 4]
    assert np.bincount(limited.val.labels).tolist() == [1, 1, 1]
    capped = load_dataset(spec, max_per_class=3)
    assert np.bincount(capped.train.labels).tolist() == [3, 3, 3]
    assert np.bincount(capped.val.labels).tolist() == [3, 3, 3]
    assert load_dataset(spec, limit_train=8, limit_val=3).name == limited.name
    assert len({limited.name, capped.name, load_dataset(spec).name}) == 3
    assert identities(load_dataset(spec, limit_train=8, limit_val=3).train) == identities(limited.train)


def test_name_follows_the_files(tmp_path: Path):
    write_class_folders(tmp_path / "data", {"a": 2, "b": 2})
    spec = f"imagefolder:{tmp_path / 'data'}"
    before = dataset_name(spec)
    assert dataset_name(spec) == before == load_dataset(spec).name
    assert before.startswith(f"imagefolder:{os.path.realpath(tmp_path / 'data')}#")
    Image.fromarray(tagged(1, 9, (7, 7))).save(tmp_path / "data" / "b" / "001.png")
    assert dataset_name(spec) != before


def test_a_broken_image_is_named(tmp_path: Path):
    write_class_folders(tmp_path / "data", {"a": 2, "b": 2})
    (tmp_path / "data" / "b" / "001.png").write_bytes(b"not a png")
    with pytest.raises(CorpusError, match=r"b/001\.png is not a readable image"):
        load_dataset(f"imagefolder:{tmp_path / 'data'}", split_fraction=0.5)


# -- wds -----------------------------------------------------------------------------------------


def write_shards(folder: Path, samples_per_shard: list[list[dict]], manifest: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    records = []
    for shard, samples in enumerate(samples_per_shard):
        name = f"shard-{shard:06d}.tar"
        with open(folder / name, "wb") as out:
            writer = ShardWriter(out)
            for sample in samples:
                writer.write(sample)
            size, sha = writer.close()
        records.append(ShardRecord(shard, name, "0" * 64, 0, len(samples), size, sha))
    if manifest:
        recipe = {"name": "eval", "views": 1}
        (folder / "manifest.json").write_bytes(Manifest.build(recipe, "0" * 64, records, "test").to_json())


def labelled_samples(first: int, labels: list[int], fmt: str = "png") -> list[dict]:
    return [
        {"__key__": f"{first + n:012d}", fmt: encode_image(tagged(label, first + n), fmt), "cls": str(label)}
        for n, label in enumerate(labels)
    ]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    labels = [n % 3 for n in range(24)]
    write_shards(tmp_path / "corpus", [labelled_samples(0, labels[:12]), labelled_samples(12, labels[12:])], True)
    return tmp_path / "corpus"


def test_wds_forms_agree(corpus: Path):
    by_folder = load_dataset(f"wds:{corpus}", split_fraction=0.75)
    assert by_folder.classes == ["0", "1", "2"]
    check_tags(by_folder.train.images, by_folder.train.labels)
    assert np.bincount(by_folder.train.labels).tolist() == [6, 6, 6]
    assert np.bincount(by_folder.val.labels).tolist() == [2, 2, 2]
    by_manifest = load_dataset(f"wds:{corpus}/manifest.json", split_fraction=0.75)
    by_pattern = load_dataset(f"wds:{corpus}/shard-{{000000..000001}}.tar", split_fraction=0.75)
    for other in (by_manifest, by_pattern):
        assert np.array_equal(other.train.images, by_folder.train.images)
        assert np.array_equal(other.val.labels, by_folder.val.labels)
    assert by_manifest.name == by_folder.name != by_pattern.name
    one = load_dataset(f"wds:{corpus}/shard-000001.tar", split_fraction=0.5)
    assert len(one.train) + len(one.val) == 12


def test_wds_on_an_fsspec_store():
    fs = fsspec.filesystem("memory")
    root = f"/eval-{uuid.uuid4().hex[:8]}"
    try:
        for shard in range(2):
            buffer = io.BytesIO()
            writer = ShardWriter(buffer)
            for sample in labelled_samples(10 * shard, [n % 2 for n in range(6)]):
                writer.write(sample)
            writer.close()
            fs.pipe(f"{root}/shard-{shard:06d}.tar", buffer.getvalue())
        seen = []
        data = load_dataset(f"wds:memory://{root}/shard-{{000000..000001}}.tar", on_progress=seen.append)
        assert data.name.startswith(f"wds:memory://{root}/shard-{{000000..000001}}.tar#")
        assert len(data.train) == 10 and len(data.val) == 2 and sum(seen) == 12
        check_tags(data.train.images, data.train.labels)
    finally:
        fs.rm(root, recursive=True)


def test_wds_classes_file_and_jpeg(tmp_path: Path):
    write_shards(tmp_path / "c", [labelled_samples(0, [0, 1, 0, 1], fmt="jpg")])
    (tmp_path / "c" / "classes.txt").write_text("zero\none\n")
    data = load_dataset(f"wds:{tmp_path / 'c'}/shard-000000.tar", split_fraction=0.5)
    assert data.classes == ["zero", "one"]
    assert np.allclose(data.train.images[:, 0, 0, 0], 40 * data.train.labels + 1, atol=3)  # jpg is lossy


def test_wds_sample_without_cls(tmp_path: Path):
    samples = labelled_samples(0, [0, 1, 1])
    del samples[1]["cls"]
    write_shards(tmp_path / "c", [samples])
    spec = f"wds:{tmp_path / 'c'}/shard-000000.tar"
    with pytest.raises(CorpusError, match=r"sample 000000000001 in shard shard-000000\.tar has no cls label"):
        load_dataset(spec)


def test_wds_unsafe_member_is_refused(tmp_path: Path):
    data = encode_image(tagged(0, 0), "png")
    with tarfile.open(tmp_path / "evil.tar", "w") as tar:
        for name, payload in (("000.png", data), ("000.cls", b"0"), ("../evil.jpg", data)):
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    with pytest.raises(CorpusError, match=r"unsafe or malformed member name '\.\./evil\.jpg'"):
        load_dataset(f"wds:{tmp_path / 'evil.tar'}")


def test_wds_manifest_pointing_outside_is_refused(corpus: Path):
    manifest = json.loads((corpus / "manifest.json").read_text())
    manifest["shardlist"][0]["url"] = "../elsewhere.tar"
    (corpus / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CorpusError, match="outside the corpus folder"):
        load_dataset(f"wds:{corpus}")


# -- idx -----------------------------------------------------------------------------------------


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx(folder: Path, n_train: int = 12, n_val: int = 5, gz: tuple[str, ...] = ()) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_val)):
        labels = np.arange(n) % 4
        images = rng.integers(0, 256, (n, 5, 7)).astype(np.uint8)
        images[:, 0, 0] = 40 * labels + 1
        for name, array in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte", labels)):
            data = idx_bytes(array)
            if name in gz:
                (folder / f"{name}.gz").write_bytes(gzip.compress(data, mtime=0))
            else:
                (folder / name).write_bytes(data)


def test_idx_loads_train_and_t10k(tmp_path: Path):
    write_idx(tmp_path / "m", gz=("train-images-idx3-ubyte", "t10k-labels-idx1-ubyte"))
    data = load_dataset(f"idx:{tmp_path / 'm'}")
    assert data.classes == ["0", "1", "2", "3"]
    assert data.train.images.shape == (12, 5, 7, 3) and data.val.images.shape == (5, 5, 7, 3)
    assert data.train.labels.tolist() == [n % 4 for n in range(12)]
    check_tags(data.train.images, data.train.labels)
    check_tags(data.val.images, data.val.labels)
    assert np.array_equal(data.train.images[..., 0], data.train.images[..., 2])  # grey replicated
    (tmp_path / "m" / "classes.txt").write_text("w\nx\ny\nz\n")
    named = load_dataset(f"idx:{tmp_path / 'm'}", size=10, limit_train=4)
    assert named.classes == ["w", "x", "y", "z"] and named.name != data.name
    assert named.train.images.shape == (4, 10, 10, 3) and named.train.labels.tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: data[:-7], r"train-labels-idx1-ubyte: truncated: the header announces \(12,\) = 12 bytes"),
        (lambda data: data + b"xx", "2 bytes after"),
        (lambda data: b"\x08\x03" + data[2:], "not an IDX file"),
        (lambda data: data[:2] + b"\x0d" + data[3:], r"holds float values; only unsigned bytes \(type 0x08\)"),
        (lambda data: data[:3] + b"\x02" + data[4:], "has 2 dimensions, expected 1"),
        (lambda data: data[:6], "truncated in its header"),
    ],
)
def test_idx_damage_is_named(tmp_path: Path, damage, message):
    write_idx(tmp_path)
    path = tmp_path / "train-labels-idx1-ubyte"
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(CorpusError, match=message):
        load_dataset(f"idx:{tmp_path}")


def test_idx_truncated_gzip_is_named(tmp_path: Path):
    write_idx(tmp_path, gz=("t10k-images-idx3-ubyte",))
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(CorpusError, match=r"t10k-images-idx3-ubyte\.gz: damaged or truncated gzip"):
        load_dataset(f"idx:{tmp_path}")


def test_idx_missing_file(tmp_path: Path):
    write_idx(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(CorpusError, match=r"no t10k-labels-idx1-ubyte \(or t10k-labels-idx1-ubyte\.gz\)"):
        load_dataset(f"idx:{tmp_path}")


@pytest.mark.skipif(not FASHION_MNIST.is_dir(), reason="apt-get install dataset-fashion-mnist")
def test_real_fashion_mnist():
    data = load_dataset(f"idx:{FASHION_MNIST}")
    assert data.train.images.shape == (60000, 28, 28, 3) and data.val.images.shape == (10000, 28, 28, 3)
    assert np.bincount(data.train.labels).tolist() == [6000] * 10
    assert np.bincount(data.val.labels).tolist() == [1000] * 10
    assert data.train.labels[:5].tolist() == [9, 0, 0, 3, 0]


# -- specs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["cifar:/data", "no-scheme-at-all", "imagefolder:", "/some/folder"])
def test_unknown_spec_lists_the_valid_forms(spec: str):
    with pytest.raises(CorpusError, match="expected imagefolder:PATH") as caught:
        load_dataset(spec)
    assert "\n" not in str(caught.value) and spec in str(caught.value)


@pytest.mark.parametrize("scheme", ["imagefolder", "wds", "idx"])
def test_missing_path_names_the_spec_and_the_forms(tmp_path: Path, scheme: str):
    spec = f"{scheme}:{tmp_path / 'nowhere'}"
    with pytest.raises(CorpusError, match="expected imagefolder:PATH") as caught:
        load_dataset(spec)
    assert str(caught.value).startswith(f"{spec}: ") and "\n" not in str(caught.value)


def test_missing_shard_of_a_pattern(corpus: Path):
    with pytest.raises(CorpusError, match="no shard"):
        load_dataset(f"wds:{corpus}/shard-{{000000..000002}}.tar")


def test_stratified_helpers():
    labels = np.array([0] * 10 + [1] * 5 + [2] * 1)
    first, second = stratified_split(labels, 0.8, seed=1)
    assert np.bincount(labels[first], minlength=3).tolist() == [8, 4, 1]
    assert np.bincount(labels[second], minlength=3).tolist() == [2, 1, 0]
    assert sorted([*first, *second]) == list(range(16)) and list(first) == sorted(first)
    again = stratified_split(labels, 0.8, seed=1)
    assert np.array_equal(again[0], first) and np.array_equal(again[1], second)
    subset = stratified_subset(labels, 8, seed=0)
    assert np.bincount(labels[subset], minlength=3).tolist() == [5, 3, 0]
    assert len(stratified_subset(labels, 100, seed=0)) == 16
