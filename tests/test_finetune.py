"""Fine-tuning on few labels (`--probe finetune`) and the few-label protocol (`--labels-per-class`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from synthgen.cli import cli
from synthgen.evaluate.datasets import LabelledData, Split, TooFewPerClass, load_dataset
from synthgen.evaluate.features import load_encoder
from synthgen.evaluate.finetune import FinetuneSettings, finetune_probe
from synthgen.evaluate.run import evaluate

# The smallest backbone there is: ResNet-18 of width 8 (CIFAR stem at 16 px), about 35 ms a step.
TINY = "random:resnet18@16?width=8"
COLOURS = np.array([[220, 30, 30], [30, 200, 40], [40, 40, 220]], dtype=np.float64)


def noisy_colours(per_class: int, rng: np.random.Generator) -> Split:
    """16x16 images of three solid colours with pixel noise: separable, but not trivially identical."""
    labels = np.repeat(np.arange(len(COLOURS)), per_class)
    images = COLOURS[labels][:, None, None, :] + rng.normal(0, 20, (len(labels), 16, 16, 3))
    return Split(np.clip(images, 0, 255).astype(np.uint8), labels.astype(np.int64))


@pytest.fixture(scope="module")
def colours() -> LabelledData:
    rng = np.random.default_rng(0)
    return LabelledData("memory", "memory", ["red", "green", "blue"], noisy_colours(8, rng), noisy_colours(10, rng))


@pytest.fixture
def colour_folder(tmp_path: Path) -> str:
    """An imagefolder with train/ (6 a class, 5 for blue) and val/ (4 a class) of the colours."""
    rng = np.random.default_rng(1)
    for split, counts in (("train", (6, 6, 5)), ("val", (4, 4, 4))):
        for name, colour, count in zip(("red", "green", "blue"), COLOURS, counts, strict=True):
            folder = tmp_path / "data" / split / name
            folder.mkdir(parents=True)
            for i in range(count):
                pixels = np.clip(colour + rng.normal(0, 20, (16, 16, 3)), 0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(folder / f"{i}.png")
    return f"imagefolder:{tmp_path / 'data'}"


def test_fine_tuning_learns_a_separable_task_and_leaves_the_encoder_alone(colours: LabelledData, one_torch_thread):
    encoder = load_encoder(TINY)
    before = {key: value.clone() for key, value in encoder.model.state_dict().items()}
    report = finetune_probe(encoder, colours, settings=FinetuneSettings(epochs=20))
    assert report["top1"] >= 0.95 and report["top5"] == 1.0  # 3 classes: the true one is always in the top 5
    assert report["n_train"] == 24 and report["n_val"] == 30 and report["batch_size_used"] == 24
    assert report["settings"]["epochs"] == 20 and report["settings"]["lr"] == FinetuneSettings().lr
    assert report["epoch_losses"][-1] < report["epoch_losses"][0]
    after = encoder.model.state_dict()
    assert all(torch.equal(before[key], after[key]) for key in before)  # BN statistics included


def test_fine_tuning_is_deterministic_under_its_seed(colours: LabelledData, one_torch_thread):
    encoder = load_encoder(TINY)
    settings = FinetuneSettings(epochs=3)
    rng_state = torch.get_rng_state()
    first = finetune_probe(encoder, colours, settings=settings, seed=5)
    assert torch.equal(torch.get_rng_state(), rng_state)  # the global generator is left as it was
    again = finetune_probe(encoder, colours, settings=settings, seed=5)
    other = finetune_probe(encoder, colours, settings=settings, seed=6)
    assert (again["top1"], again["epoch_losses"]) == (first["top1"], first["epoch_losses"])
    assert other["train_loss"] != first["train_loss"]


def test_labels_per_class_keeps_exactly_n_train_images_per_class_for_every_probe(colour_folder: str, tmp_path: Path):
    report = evaluate(TINY, colour_folder, probes=["linear", "knn"], cache_dir=tmp_path / "cache", labels_per_class=2)
    assert report.n_train == 6 and report.linear["n_train"] == 6 and report.knn["n_train"] == 6
    assert report.n_val == 12 and report.protocol["labels_per_class"] == 2  # val stays whole
    assert "2 labels per class" in report.line()
    full = evaluate(TINY, colour_folder, probes=["knn"], cache_dir=tmp_path / "cache")
    assert full.n_train == 17 and not full.features_cached  # another train set, another cache entry

    data = load_dataset(colour_folder, train_per_class=3)
    assert np.bincount(data.train.labels).tolist() == [3, 3, 3] and len(data.val) == 12
    smaller = load_dataset(colour_folder, train_per_class=2)  # part of the draw for 3 (nested protocols)
    three = {image.tobytes() for image in data.train.images}
    assert all(image.tobytes() in three for image in smaller.train.images)
    with pytest.raises(TooFewPerClass, match="class 'blue' holds only 5 training images"):
        load_dataset(colour_folder, train_per_class=6)


def test_too_many_labels_per_class_is_one_line_naming_the_flag(colour_folder: str):
    args = ["eval", "--checkpoint", TINY, "--dataset", colour_folder, "--no-cache", "--labels-per-class", "6"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert result.output.strip().count("\n") == 0
    assert "--labels-per-class 6: class 'blue'" in result.output and "holds only 5 training images" in result.output


def test_the_cli_writes_the_finetune_section(colour_folder: str, tmp_path: Path, one_torch_thread):
    out = tmp_path / "report.json"
    args = ["eval", "--checkpoint", TINY, "--dataset", colour_folder, "--cache", str(tmp_path / "cache"),
            "--probe", "knn,finetune", "--labels-per-class", "4", "--finetune-epochs", "2", "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "finetune top-1" in result.output and "kNN-20 top-1" in result.output
    report = json.loads(out.read_text())
    assert report["finetune"]["settings"]["epochs"] == 2 and report["finetune"]["n_train"] == 12
    assert 0.0 <= report["finetune"]["top1"] <= 1.0 and report["finetune"]["n_val"] == 12
    assert report["protocol"] == {"labels_per_class": 4, "probes": ["knn", "finetune"], "seed": 0}


# The keys of the JSON report, in the order reports have always had (results files are compared).
HEAD = ["checkpoint", "encoder", "dataset", "dataset_name", "num_classes", "n_train", "n_val", "layer", "protocol"]


def test_the_report_is_typed_and_its_json_is_the_report_as_always(colour_folder: str, tmp_path: Path,
                                                                   one_torch_thread):  # fmt: skip
    frozen = evaluate("pixels@8", colour_folder, probes=["linear", "knn"])
    frozen.write(tmp_path / "frozen.json")
    written = json.loads((tmp_path / "frozen.json").read_text())
    assert written == frozen.to_dict()
    assert list(written) == [*HEAD, "feature_dim", "features_cached", "linear", "knn", "seconds"]
    assert frozen.finetune is None and frozen.feature_dim == 3 * 8 * 8 and frozen.features_cached is False
    # Fine-tuning alone extracts no features: no features_cached, and feature_dim after the probe.
    tuned = evaluate(TINY, colour_folder, probes=["finetune"], finetune=FinetuneSettings(epochs=1))
    tuned.write(tmp_path / "tuned.json")
    written = json.loads((tmp_path / "tuned.json").read_text())
    assert written == tuned.to_dict() and list(written) == [*HEAD, "finetune", "feature_dim", "seconds"]
    assert tuned.linear is tuned.knn is tuned.features_cached is None and tuned.line().startswith(f"{TINY} on ")


def test_pixels_cannot_be_fine_tuned_and_finetune_flags_need_the_probe(colour_folder: str):
    with pytest.raises(ValueError, match="no weights to fine-tune"):
        evaluate("pixels@16", colour_folder, probes=["finetune"])
    runner = CliRunner()
    base = ["eval", "--checkpoint", "pixels@16", "--dataset", colour_folder, "--no-cache"]
    pixels = runner.invoke(cli, [*base, "--probe", "finetune"])
    assert pixels.exit_code == 2 and "no weights to fine-tune" in pixels.output
    unread = runner.invoke(cli, [*base, "--finetune-lr", "0.01"])
    assert unread.exit_code == 2 and "read by --probe finetune only" in unread.output
