"""Watching a run learn: the online kNN monitor in metrics.jsonl and summary.json, curves.png."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from synthgen.cli import cli
from synthgen.evaluate.features import cached_features, load_encoder
from synthgen.evaluate.monitor import KEY, build_monitor
from synthgen.evaluate.probes import knn_probe
from synthgen.train.checkpoints import CheckpointError, read_backbone
from synthgen.train.config import ConfigError, load_train_config
from synthgen.train.curves import write_curves
from synthgen.train.loop import train
from tests.test_train import FAST

# On top of test_train's FAST: a narrow ResNet-18 at 16 px, 6 steps of 16 samples (under a second
# a run, on one thread), and a monitor bank of all 24 labelled train images (6 val images classified).
TINY = ["model.width=8", "augment.size=16", "data.epoch_samples=96", "epochs=1"]
MONITOR = ["eval.monitor.limit=24"]
SIDE = 16
# Three classes told apart by colour, 20 px (so the monitor resizes them to the training side).
COLOURS = [(220, 40, 40), (40, 200, 40), (40, 40, 220)]
PER_CLASS = {"train": 8, "val": 4}


@pytest.fixture
def labelled(tmp_path: Path) -> str:
    """An imagefolder dataset SPEC: train/ and val/, a folder per class of noisy single-colour PNGs."""
    rng = np.random.default_rng(0)
    root = tmp_path / "labelled"
    for split, count in PER_CLASS.items():
        for label, colour in enumerate(COLOURS):
            folder = root / split / f"class{label}"
            folder.mkdir(parents=True)
            for index in range(count):
                pixels = np.clip(np.array(colour) + rng.integers(-40, 40, (20, 20, 3)), 0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(folder / f"{index}.png")
    return f"imagefolder:{root}"


def config_for(corpus: Path, spec: str | None, *extra: str):
    if spec is None:
        return load_train_config(None, [*FAST, *TINY, *extra], [str(corpus)])
    return load_train_config(None, [*FAST, *TINY, *MONITOR, *extra], [str(corpus)], {"eval.monitor.dataset": spec})


def lines(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def measured(run: Path) -> list[int]:
    return [line["step"] for line in lines(run) if KEY in line]


def cli_args(corpus: Path, run: Path, *extra: str, monitor: str | None = None) -> list[str]:
    settings = [*FAST, *TINY, *(MONITOR if monitor else [])]
    sets = [item for setting in settings for item in ("--set", setting)]
    watch = ["--monitor-dataset", monitor] if monitor else []
    return ["train", "--data", str(corpus), "--out", str(run), "--quiet", *sets, *watch, *extra]


@pytest.mark.parametrize(
    "settings, logged, expected",
    [
        # A monitor step is a log step too; the last step is always measured.
        (["eval.monitor.every=2", "log_every=3"], [2, 3, 4, 6], [2, 4, 6]),
        (["eval.monitor.every=4"], [1, 2, 3, 4, 5, 6], [4, 6]),
        # Without `every`, at the end of each epoch (3 steps here).
        (["epochs=2", "data.epoch_samples=48", "log_every=10"], [3, 6], [3, 6]),
    ],
)
@pytest.mark.slow
def test_the_monitor_measures_at_the_steps_asked_and_the_summary_has_the_last(
    shader_corpus: Path, labelled: str, tmp_path: Path, one_torch_thread, settings, logged, expected
):
    config = config_for(shader_corpus, labelled, *settings)
    run = tmp_path / "run"
    summary = train(config, run, monitor=build_monitor(config))
    assert [line["step"] for line in lines(run)] == logged
    assert all("loss" in line and "lr" in line for line in lines(run))  # every line is a full log line
    assert measured(run) == expected
    values = [line[KEY] for line in lines(run) if KEY in line]
    assert all(0.0 <= value <= 1.0 for value in values)
    # Colours are easy: even this tiny net's features separate them (chance is 1/3).
    assert values[-1] >= 2 / 3
    assert summary.monitor[KEY] == values[-1]
    assert json.loads((run / "summary.json").read_text())[KEY] == values[-1]


@pytest.mark.slow
def test_the_monitor_does_not_change_training(
    shader_corpus: Path, labelled: str, tmp_path: Path, one_torch_thread, caplog: pytest.LogCaptureFixture
):
    config = config_for(shader_corpus, labelled, "eval.monitor.every=1")  # a measure between every two steps
    with caplog.at_level(logging.WARNING, logger="synthgen.train.loop"):
        train(config, tmp_path / "plain")  # the section without a monitor to run: a warning
    assert "eval.monitor is set but train() got no monitor" in caplog.text
    train(config, tmp_path / "watched", monitor=build_monitor(config))
    assert measured(tmp_path / "plain") == [] and measured(tmp_path / "watched") == [1, 2, 3, 4, 5, 6]
    losses = {name: [line["loss"] for line in lines(tmp_path / name)] for name in ("plain", "watched")}
    assert losses["watched"] == losses["plain"]
    plain, _ = read_backbone(tmp_path / "plain" / "backbone.safetensors")
    watched, _ = read_backbone(tmp_path / "watched" / "backbone.safetensors")
    # BatchNorm statistics included: the monitor ran the backbone in eval mode.
    assert plain.keys() == watched.keys() and all(torch.equal(plain[name], watched[name]) for name in plain)


@pytest.mark.slow
def test_the_monitor_sees_the_images_as_eval_does(shader_corpus: Path, labelled: str, tmp_path: Path, one_torch_thread):
    # Not ImageNet's normalisation, and images of another size than training's: both must follow training.
    config = config_for(shader_corpus, labelled, "augment.mean=[0.5,0.4,0.3]", "augment.std=[0.2,0.3,0.25]")
    monitor = build_monitor(config)
    summary = train(config, tmp_path / "run", monitor=monitor)
    encoder = load_encoder(str(tmp_path / "run"))  # the exported backbone, as `synthgen eval` loads it
    options = {"size": SIDE, "limit_train": 24, "limit_val": 6}
    features = cached_features(encoder, labelled, None, dataset_options=options)
    bank, test = monitor.features(encoder.model)
    assert torch.allclose(bank, features.train_x, atol=1e-5) and torch.allclose(test, features.val_x, atol=1e-5)
    splits = (features.train_x, features.train_y, features.val_x, features.val_y)
    assert summary.monitor[KEY] == knn_probe(*splits, num_classes=3, ks=(20,))["by_k"]["20"]["top1"]


@pytest.mark.slow
def test_curves_png_shows_the_run_and_can_be_drawn_again(
    shader_corpus: Path, labelled: str, tmp_path: Path, one_torch_thread, monkeypatch: pytest.MonkeyPatch, caplog
):
    train(config_for(shader_corpus, None), tmp_path / "plain")
    config = config_for(shader_corpus, labelled, "eval.monitor.every=2")
    train(config, tmp_path / "watched", monitor=build_monitor(config))
    sizes = {}
    for name in ("plain", "watched"):
        with Image.open(tmp_path / name / "curves.png") as image:
            assert image.format == "PNG"
            sizes[name] = image.size
    assert sizes["watched"][1] > sizes["plain"][1]  # a third panel: the monitor's accuracy
    (tmp_path / "watched" / "curves.png").unlink()
    assert write_curves(tmp_path / "watched") == tmp_path / "watched" / "curves.png"
    with Image.open(tmp_path / "watched" / "curves.png") as image:
        assert image.size == sizes["watched"]
    with pytest.raises(CheckpointError, match="no metrics.jsonl"):
        write_curves(tmp_path)
    # Without matplotlib: one info line, no figure, and training is not affected.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    (tmp_path / "plain" / "curves.png").unlink()
    with caplog.at_level(logging.INFO, logger="synthgen.train.curves"):
        assert write_curves(tmp_path / "plain") is None
    assert "matplotlib is not installed" in caplog.text and not (tmp_path / "plain" / "curves.png").exists()


@pytest.mark.parametrize("spec", ["idx:/no/such/fashion-mnist", "fashion-mnist"])
def test_a_misspelt_monitor_dataset_fails_in_one_line_before_training(shader_corpus: Path, tmp_path: Path, spec: str):
    run = tmp_path / "run"
    result = CliRunner().invoke(cli, cli_args(shader_corpus, run, monitor=spec))
    assert result.exit_code == 2
    output = result.output.strip().splitlines()
    assert len(output) == 1 and "eval.monitor.dataset" in output[0] and spec in output[0], result.output
    assert not run.exists()  # no checkpoint, no metrics: nothing was trained


@pytest.mark.slow
def test_resume_may_add_change_or_drop_the_monitor(
    shader_corpus: Path, labelled: str, tmp_path: Path, one_torch_thread
):
    run, runner = tmp_path / "run", CliRunner()
    plain = runner.invoke(cli, cli_args(shader_corpus, run, "--stop-after", "2"))
    assert plain.exit_code == 0 and measured(run) == [] and (run / "curves.png").is_file()  # drawn when stopped too
    added = ["--set", "eval.monitor.every=2", "--stop-after", "2", "--resume"]
    second = runner.invoke(cli, cli_args(shader_corpus, run, *added, monitor=labelled))
    assert second.exit_code == 0 and "monitor kNN top-1" in second.output, second.output
    assert measured(run) == [4]
    changed = ["--set", "eval.monitor.every=5", "--set", "eval.monitor.k=5", "--stop-after", "1", "--resume"]
    third = runner.invoke(cli, cli_args(shader_corpus, run, *changed, monitor=labelled))
    assert third.exit_code == 0 and measured(run) == [4, 5], third.output
    # A resume keeps the run's recorded monitor unless told otherwise.
    dropped = runner.invoke(cli, cli_args(shader_corpus, run, "--resume", "--set", "eval.monitor=null"))
    assert dropped.exit_code == 0 and dropped.output.startswith("finished: 6/6 steps"), dropped.output
    assert measured(run) == [4, 5]  # step 6 trained without the monitor
    assert [line["step"] for line in lines(run)] == [1, 2, 3, 4, 5, 6]


def test_monitor_settings_are_checked_and_do_not_name_another_computation(shader_corpus: Path, labelled: str):
    with pytest.raises(ConfigError, match="eval.monitor.every"):
        config_for(shader_corpus, labelled, "eval.monitor.every=0")
    with pytest.raises(ConfigError, match="eval.monitor.dataset"):
        config_for(shader_corpus, None, "eval.monitor.every=5")
    # Watching does not change what a run computes: the config's sha256 leaves the section out.
    assert config_for(shader_corpus, labelled).sha256() == config_for(shader_corpus, None).sha256()
    with pytest.raises(ConfigError, match="no eval.monitor"):
        train(config_for(shader_corpus, None), "unused", monitor=lambda backbone, step: {})
