"""`synthgen import`: a labelled dataset written as a corpus through the render path, on tiny data
built here (an image folder of 3 classes x 6 PNGs, IDX files of 12 + 6 images)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from click.testing import CliRunner
from PIL import Image

from synthgen import faults
from synthgen.cli import cli
from synthgen.errors import RecipeError
from synthgen.evaluate.datasets import SCHEMES, load_dataset
from synthgen.realdata import dataset_recipe, default_name, import_dataset
from synthgen.sources.dataset import DATASET_SCHEMES
from synthgen.train.data import ShardStream, ViewPolicy, make_loader, open_corpus

from .helpers import read_back
from .test_eval_datasets import idx_bytes
from .test_render import corpus_bytes
from .test_storage import local_bytes, remote_bytes


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(scope="module")
def folder_spec(tmp_path_factory: pytest.TempPathFactory) -> str:
    """imagefolder:.../pets: classes cat, dog, owl of 6 noisy 12x12 PNGs each (no split folders)."""
    root = tmp_path_factory.mktemp("data") / "pets"
    rng = np.random.default_rng(1)
    for name in ("cat", "dog", "owl"):
        (root / name).mkdir(parents=True)
        for k in range(6):
            Image.fromarray(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)).save(root / name / f"{k}.png")
    return f"imagefolder:{root}"


@pytest.fixture(scope="module")
def idx_spec(tmp_path_factory: pytest.TempPathFactory) -> str:
    """idx:.../digits: 12 train and 6 t10k grey 10x10 images, labels 0, 1, 2 in turn."""
    folder = tmp_path_factory.mktemp("data") / "digits"
    folder.mkdir()
    rng = np.random.default_rng(2)
    for prefix, n in (("train", 12), ("t10k", 6)):
        (folder / f"{prefix}-images-idx3-ubyte").write_bytes(idx_bytes(rng.integers(0, 256, (n, 10, 10))))
        (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(idx_bytes(np.arange(n) % 3))
    return f"idx:{folder}"


def stack(samples: list[dict], field: str = "png") -> np.ndarray:
    return np.stack([sample[field] for sample in samples])


def test_an_image_folder_round_trips_and_verifies(folder_spec: str, tmp_path: Path):
    out = tmp_path / "real"
    result = invoke("import", folder_spec, "--out", str(out), "--shard-samples", "4", "--quiet")
    assert result.exit_code == 0, result.output
    expected = load_dataset(folder_spec).train  # seed 0, the images' own size
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["nsamples"] == len(expected) == 15 and manifest["nshards"] == 4  # 5 of each class
    assert manifest["name"] == "pets-train" and manifest["recipe"]["image"]["size"] == [12, 12]
    assert manifest["recipe"]["source"] == {"kind": "dataset", "dataset": folder_spec, "split": "train"}

    samples = read_back(out, "rgb8")
    assert [s["cls"] for s in samples] == expected.labels.tolist()
    assert np.array_equal(stack(samples), expected.images)  # png: the pixels exactly
    meta = [s["json"] for s in samples]
    assert [m["position"] for m in meta] == list(range(15))
    assert [m["class_name"] for m in meta] == [["cat", "dog", "owl"][label] for label in expected.labels]
    assert {m["split"] for m in meta} == {"train"} and {m["dataset"] for m in meta} == {folder_spec}
    assert meta[0]["dataset_name"].startswith(f"imagefolder:{folder_spec[len('imagefolder:') :]}#")

    verified = invoke("verify", str(out))
    assert verified.exit_code == 0 and "whole: 4 shards, 15 samples verified" in verified.output
    # Run again: nothing to do, the corpus is kept as it is.
    again = invoke("import", folder_spec, "--out", str(out), "--shard-samples", "4", "--quiet")
    assert again.exit_code == 0 and "already holds this corpus complete" in again.output


def test_idx_splits_sizes_and_limits(idx_spec: str, tmp_path: Path):
    # The t10k part, resized on the way (cover and centre-crop, as the loader does).
    val = invoke("import", idx_spec, "--out", str(tmp_path / "val"), "--split", "val", "--size", "16", "--quiet")
    assert val.exit_code == 0, val.output
    expected = load_dataset(idx_spec, size=16).val
    samples = read_back(tmp_path / "val", "rgb8")
    assert np.array_equal(stack(samples), expected.images) and stack(samples).shape == (6, 16, 16, 3)
    assert [s["cls"] for s in samples] == expected.labels.tolist() == [0, 1, 2, 0, 1, 2]

    # all = train then val; a limit keeps classes in proportion, and each image is a dataset image
    # under its own label.
    limited = invoke("import", idx_spec, "--out", str(tmp_path / "all"), "--split", "all", "--limit", "9", "--quiet")
    assert limited.exit_code == 0, limited.output
    data = load_dataset(idx_spec)
    pool = {
        (image.tobytes(), int(label))
        for split in (data.train, data.val)
        for image, label in zip(split.images, split.labels, strict=True)
    }
    samples = read_back(tmp_path / "all", "rgb8")
    assert Counter(s["cls"] for s in samples) == {0: 3, 1: 3, 2: 3}
    assert all((s["png"].tobytes(), s["cls"]) in pool for s in samples)
    assert len({s["png"].tobytes() for s in samples}) == 9

    # A limit over the split's size takes all of it, and says so.
    over = invoke("import", idx_spec, "--out", str(tmp_path / "over"), "--limit", "100", "--quiet")
    assert over.exit_code == 0 and "wrote 12 samples" in over.output
    assert "note: --limit 100 exceeds the 12 images of the split: all are taken" in over.output


def test_the_recipe_hash_covers_the_data_keys(idx_spec: str):
    # (The same bytes twice: the killed import below, and tests/test_source_contract.py.)
    variants = [
        dataset_recipe(idx_spec),
        dataset_recipe(idx_spec, split="val"),
        dataset_recipe(idx_spec, limit=6),
        dataset_recipe(idx_spec, size=16),
        dataset_recipe(idx_spec, seed=1),
    ]
    assert len({recipe.sha256 for recipe in variants}) == len(variants)
    assert [recipe.count for recipe in variants] == [12, 6, 6, 12, 12]


def _import_cli(spec: str, out: Path, failpoint: str | None = None) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != faults.ENV}
    if failpoint:
        env[faults.ENV] = failpoint
    command = [sys.executable, "-m", "synthgen", "import", spec, "--out", str(out), "--shard-samples", "4", "--quiet"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def test_a_killed_import_resumes_to_the_same_bytes(idx_spec: str, tmp_path: Path):
    import_dataset(idx_spec, str(tmp_path / "clean"), shard_samples=4)
    out = tmp_path / "killed"
    # kill -9 once the second shard's tar is committed, before its sidecar.
    killed = _import_cli(idx_spec, out, failpoint="commit.sidecar:2")
    assert killed.returncode == -9, killed.stderr
    assert not (out / "manifest.json").exists() and (out / "shard-000000.json").exists()
    resumed = import_dataset(idx_spec, str(out), shard_samples=4)  # the same command
    assert (resumed.nshards, resumed.rendered_shards) == (3, 2)  # shard 0 was kept
    assert corpus_bytes(out) == corpus_bytes(tmp_path / "clean")


def test_an_import_to_object_storage_equals_the_local_one(folder_spec: str, s3_bucket, tmp_path: Path):
    bucket, options = s3_bucket
    url = f"s3://{bucket}/pets"
    endpoint = f"endpoint_url={options['endpoint_url']}"
    result = invoke("import", folder_spec, "--out", url, "--storage-option", endpoint, "--quiet")
    assert result.exit_code == 0, result.output
    import_dataset(folder_spec, str(tmp_path / "local"))
    assert remote_bytes(url, options) == local_bytes(tmp_path / "local")
    assert invoke("verify", url, "--storage-option", endpoint).exit_code == 0


def test_bad_input_is_one_line_naming_it(folder_spec: str, tmp_path: Path):
    missing = invoke("import", "idx:/nope", "--out", str(tmp_path / "x"))
    assert missing.exit_code == 2 and not (tmp_path / "x").exists()
    assert missing.stderr.count("\n") == 1 and missing.stderr.startswith("error: idx:/nope: no folder /nope")
    scheme = invoke("import", "pets", "--out", str(tmp_path / "x"))
    assert scheme.exit_code == 2 and scheme.stderr.count("\n") == 1
    assert "source.dataset: expected imagefolder:DIR, idx:DIR or wds:URL_OR_PATTERN, got 'pets'" in scheme.stderr
    # The tag `dataset` is also a key's name; errors still name the key as written.
    with pytest.raises(RecipeError, match=r"^import idx:/x: source\.limit: must be >= 1"):
        dataset_recipe("idx:/x", limit=0)

    # A recipe file may name a dataset source too; its path is relative to the file's folder.
    data = Path(folder_spec.removeprefix("imagefolder:"))
    recipe = {"name": "pets", "count": 15, "image": {"size": 12, "format": "png"},
              "source": {"kind": "dataset", "dataset": f"imagefolder:{data.name}"}}  # fmt: skip
    good = data.parent / "pets.yaml"
    good.write_text(yaml.safe_dump(recipe))
    validated = invoke("validate", str(good))
    assert validated.exit_code == 0, validated.output
    assert f'"dataset": "{folder_spec}"' in validated.output
    for changes, message in (
        ({"views": 2}, "error: views: a dataset source has one view per sample, got 2"),
        ({"count": 16}, f"error: count: 16, but the train split of {folder_spec} has 15 images: set count to 15"),
        ({"count": 14}, "error: count: 14, but the train split of"),
    ):
        bad = tmp_path / "bad.yaml"
        bad.write_text(yaml.safe_dump({**recipe, "source": {**recipe["source"], "dataset": folder_spec}, **changes}))
        result = invoke("render", str(bad), "--out", str(tmp_path / "bad"), "--quiet")
        assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
        assert result.stderr.startswith(message), result.stderr
        assert not (tmp_path / "bad").exists()


def test_the_imported_corpus_trains_with_its_labels(idx_spec: str, tmp_path: Path, one_torch_thread):
    import_dataset(idx_spec, str(tmp_path / "real"), shard_samples=5)
    corpus = open_corpus(str(tmp_path / "real"))
    assert corpus.nsamples == 12 and corpus.has_labels and corpus.stored_views == 1 and corpus.image_size == (10, 10)
    policy = ViewPolicy(views=2, distinct=True, size=(10, 10), needs_labels=True)
    batch = next(iter(make_loader(ShardStream([corpus], policy, 6, seed=0, shuffle_buffer=4), 0)))
    assert batch["images"].shape == (6, 2, 3, 10, 10) and batch["images"].dtype == torch.uint8
    train = load_dataset(idx_spec).train
    by_image = {img.tobytes(): int(label) for img, label in zip(train.images, train.labels, strict=True)}
    for views, label in zip(batch["images"], batch["labels"].tolist(), strict=True):
        assert by_image[views[0].permute(1, 2, 0).numpy().tobytes()] == label  # each image with its own label


def test_names_and_schemes():
    assert default_name("idx:/usr/share/datasets/fashion-mnist", "train") == "fashion-mnist-train"
    assert default_name("wds:s3://bucket/corpora/cifar/shard-{000000..000009}.tar", "val") == "cifar-val"
    assert default_name("wds:out/real/manifest.json", "all") == "real-all"
    assert set(DATASET_SCHEMES) == set(SCHEMES)  # the recipe accepts what the loader reads
