"""Method `supervised`: cross-entropy on the corpus's `cls` (FDSL), under the ordinary trainer."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner

from synthgen.cli import cli
from synthgen.realdata import import_dataset
from synthgen.train.checkpoints import read_backbone
from synthgen.train.config import ConfigError, load_train_config
from synthgen.train.data import DataError, LabelSpace, ShardStream, ViewPolicy, open_corpus
from synthgen.train.loop import label_space, train
from synthgen.train.methods import SupervisedConfig, build_method
from synthgen.train.models import build_backbone
from tests.helpers import _free_port
from tests.test_methods import TinyBackbone
from tests.test_train import _corpus_without, losses

FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
# A tiny network at 16 px: ResNet-18 of width 8 (64 features), 4 steps of 16 per epoch.
SMALL = [
    "model.arch=resnet18",
    "model.stem=imagenet",
    "model.width=8",
    "data.batch_size=16",
    "data.epoch_samples=64",
    "data.workers=0",
    "data.shuffle_buffer=16",
    "augment.size=16",
    "augment.preset=none",
    "optim.name=adamw",
    "optim.lr=0.005",
    "optim.warmup_epochs=0",
    "log_every=1",
]

pytestmark = [
    pytest.mark.usefixtures("one_torch_thread"),
    pytest.mark.skipif(not FASHION_MNIST.is_dir(), reason="needs Fashion-MNIST's IDX files"),
]


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """64 Fashion-MNIST training images at 16x16 as a corpus (10 classes, `cls` 0..9)."""
    out = tmp_path_factory.mktemp("fashion") / "corpus"
    import_dataset(f"idx:{FASHION_MNIST}", str(out), limit=64, size=16)
    return out


def supervised(corpora: list[Path | str], *extra: str, epochs: int = 2):
    settings = ["method.name=supervised", "method.classes=10", f"epochs={epochs}", *SMALL, *extra]
    return load_train_config(None, settings, [str(c) for c in corpora])


def test_each_view_is_an_example_with_its_samples_label_and_label_smoothing_applies():
    torch.manual_seed(0)
    method = build_method(TinyBackbone(), SupervisedConfig(classes=3, views=2, label_smoothing=0.2))
    assert method.needs_labels and [type(m).__name__ for m in method.head] == ["Linear"]
    assert method.head[0].out_features == 3
    views, labels = torch.rand(4, 2, 3, 8, 8), torch.tensor([0, 2, 1, 2])
    loss, metrics = method(views, labels)
    logits = method.head(method.backbone(views.flatten(0, 1)))
    targets = torch.tensor([0, 0, 2, 2, 1, 1, 2, 2])  # view-major: both views of a sample share its label
    assert loss.item() == pytest.approx(F.cross_entropy(logits, targets, label_smoothing=0.2).item(), rel=1e-6)
    assert metrics["acc"].item() == pytest.approx((logits.argmax(1) == targets).float().mean().item())
    with pytest.raises(ValueError, match="needs a class label"):
        method(views, None)
    mlp = build_method(TinyBackbone(), SupervisedConfig(classes=[3, 4], head={"layers": 2, "hidden": 16}))
    assert [type(m).__name__ for m in mlp.head] == ["Linear", "BatchNorm1d", "ReLU", "Linear"]
    assert mlp.head[-1].out_features == 7  # one output per class of every corpus


def test_supervised_lowers_its_loss_and_exports_a_headless_backbone_that_evaluates(labelled: Path, tmp_path: Path):
    from synthgen.evaluate.run import evaluate

    run = tmp_path / "run"
    summary = train(supervised([labelled], epochs=4), run)
    assert summary.finished and summary.steps == 16
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    values = [r["loss"] for r in records]
    # Chance is ln 10 = 2.30 (plus the smoothing's floor); 16 steps on 64 images learn well below it.
    assert values[0] > 2.0 and sum(values[-4:]) / 4 < sum(values[:4]) / 4 - 0.4, values
    assert all(0.0 <= r["acc"] <= 1.0 for r in records) and sum(r["acc"] for r in records[-4:]) / 4 > 0.3
    tensors, info = read_backbone(run / "backbone.safetensors")
    # The classifier stays in the checkpoint, not in the export: the backbone is the plain network.
    assert set(tensors) == set(build_backbone("resnet18", 16, stem="imagenet", width=8).state_dict())
    assert "head.0.weight" in torch.load(run / "checkpoints" / "last.pt", weights_only=True)["model"]
    assert info["feature_dim"] == 64
    report = evaluate(str(run), f"wds:{labelled}", cache_dir=tmp_path / "cache", probes=["knn"])
    assert report.feature_dim == 64 and report.n_train + report.n_val == 64


def test_a_resumed_supervised_run_takes_the_same_steps(labelled: Path, tmp_path: Path):
    config = supervised([labelled], "method.label_smoothing=0")  # FractalDB's plain cross-entropy
    train(config, tmp_path / "whole")
    assert not train(config, tmp_path / "parts", stop_after=3).finished  # mid-epoch
    train(config, tmp_path / "parts", resume=True)
    assert losses(tmp_path / "parts") == losses(tmp_path / "whole")


def test_a_corpus_without_cls_is_refused_before_training(labelled: Path, tmp_path: Path):
    bare = _corpus_without(tmp_path, labelled, {"cls"})
    with pytest.raises(DataError, match=r"stripped/shard-000000.tar: method supervised needs a `cls` label") as err:
        train(supervised([bare]), tmp_path / "run")
    assert "\n" not in str(err.value)
    assert not (tmp_path / "run" / "metrics.jsonl").exists()


def test_class_counts_are_required_and_must_fit_the_corpora(labelled: Path):
    corpus = open_corpus(str(labelled))
    with pytest.raises(ConfigError, match=r"method.classes: supervised needs the number of classes"):
        label_space(SupervisedConfig(), [corpus])
    with pytest.raises(ConfigError, match=r"method.classes: a list of counts \(\[10, 10\]\) goes with"):
        label_space(SupervisedConfig(classes=[10, 10]), [corpus])
    with pytest.raises(ConfigError, match=r"one class count per corpus \(2: .*got 10"):
        label_space(SupervisedConfig(classes=10, mixed_classes="offset"), [corpus, corpus])
    assert label_space(SupervisedConfig(classes=10, mixed_classes="shared"), [corpus, corpus]).offsets == (0, 0)
    with pytest.raises(ConfigError, match="method.classes.*must be >= 1"):
        load_train_config(None, ["method.name=supervised", "method.classes=0"], [str(labelled)])


def test_labels_out_of_range_stop_the_run_in_one_line(labelled: Path, tmp_path: Path):
    with pytest.raises(DataError, match=r"corpus: sample \d+ has cls [5-9], outside 0..4 \(method.classes gives it 5"):
        train(supervised([labelled], "method.classes=5"), tmp_path / "run")
    # Through the CLI with a loader process: the worker's error comes back as its one line.
    settings = [item for setting in SMALL for item in ("--set", setting)]
    result = CliRunner().invoke(
        cli,
        ["train", "--data", str(labelled), "--out", str(tmp_path / "cli"), "--method", "supervised", "--quiet",
         *settings, "--set", "method.classes=5", "--workers", "1"],
    )  # fmt: skip
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "outside 0..4" in lines[0] and "Traceback" not in result.output, result.output


def test_mixed_corpora_are_refused_unless_their_classes_are_offset(labelled: Path, tmp_path: Path):
    other = labelled / "shard-000000.tar"  # the same images as a second corpus: its own class numbers
    with pytest.raises(ConfigError, match=rf"method.mixed_classes: the corpora {labelled}, {other} each number"):
        train(supervised([labelled, other]), tmp_path / "refused")
    config = supervised([labelled, other], "method.mixed_classes=offset", "method.classes=[10, 10]")
    corpora = [open_corpus(str(labelled)), open_corpus(str(other))]
    space = label_space(config.method, corpora)
    assert space == LabelSpace((str(labelled), str(other)), (10, 10), (0, 10))
    policy = ViewPolicy(1, True, (16, 16), True, labels=space)
    batch = next(iter(ShardStream(corpora, policy, 64, shuffle_buffer=16)))
    seen = set(batch["labels"].tolist())
    assert seen <= set(range(20)) and seen & set(range(10)) and seen & set(range(10, 20))
    summary = train(config, tmp_path / "offset", stop_after=2)
    assert summary.steps == 2 and math.isfinite(summary.final_loss)


@pytest.mark.ddp
@pytest.mark.slow
def test_two_process_ddp_trains_supervised_with_mixed_offset_corpora(labelled: Path, tmp_path: Path):
    run = tmp_path / "run"
    settings = [item for setting in SMALL for item in ("--set", setting)]
    other = labelled / "shard-000000.tar"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", f"--master_port={_free_port()}",
        "-m", "synthgen", "train", "--data", str(labelled), "--data", str(other), "--out", str(run), "--epochs", "1",
        "--method", "supervised", "--quiet", *settings, "--set", "method.mixed_classes=offset",
        "--set", "method.classes=[10, 10]",
    ]  # fmt: skip
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"}
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((run / "summary.json").read_text())
    # data.epoch_samples 64 in global batches of 16, 8 per rank.
    assert summary["finished"] and summary["steps"] == 4 and math.isfinite(summary["final_loss"])
    tensors, _ = read_backbone(run / "backbone.safetensors")
    assert not any(name.startswith("head.") for name in tensors)
