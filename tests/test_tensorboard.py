"""`synthgen train --log tensorboard`: the events say what metrics.jsonl says, resumed runs included."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from synthgen.cli import cli
from synthgen.train.config import ConfigError, load_train_config
from synthgen.train.curves import read_metrics
from synthgen.train.loop import train
from tests.test_eval_datasets import write_idx
from tests.test_train import FAST

# 4 steps per epoch of a ResNet-18 of width 8 at 16 px: seconds on a small CPU.
TINY = [*FAST, "model.width=8", "augment.size=16", "data.batch_size=8", "data.epoch_samples=32"]


def _events(run: Path) -> Any:
    """The run's events as TensorBoard reads them (several files, purges applied)."""
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    events = accumulator.EventAccumulator(str(run / "tensorboard"))
    events.Reload()
    return events


def _scalars(events: Any, tag: str) -> dict[int, float]:
    return {event.step: event.value for event in events.Scalars(tag)}


@pytest.mark.slow
def test_the_events_hold_the_metrics_lines_at_their_steps(shader_corpus: Path, tmp_path: Path, one_torch_thread):
    run = tmp_path / "run"
    write_idx(tmp_path / "idx", n_train=16, n_val=8)
    args = ["train", "--data", str(shader_corpus), "--out", str(run), "--epochs", "1", "--quiet"]
    args += ["--log", "tensorboard", "--monitor-dataset", f"idx:{tmp_path / 'idx'}"]
    settings = [*TINY, "eval.monitor.every=2", "eval.monitor.limit=8"]
    result = CliRunner().invoke(cli, [*args, *(item for setting in settings for item in ("--set", setting))])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load((run / "config.yaml").read_text())["log"] == ["jsonl", "tensorboard"]
    lines = read_metrics(run)
    assert [line["step"] for line in lines] == [1, 2, 3, 4]
    events = _events(run)
    tags = set(events.Tags()["scalars"])
    assert {"train/loss", "train/lr", "train/images_per_s", "train/data_wait", "train/epoch"} <= tags
    for key in ("loss", "lr", "images_per_s", "data_wait"):
        # TensorBoard keeps float32: the jsonl's loss is a float32 already, so it is equal there.
        expected = {line["step"]: np.float32(line[key]) for line in lines}
        assert _scalars(events, f"train/{key}") == expected, key
    # The monitor's figure where it was measured (steps 2 and 4), under its own section.
    measured = {line["step"]: np.float32(line["monitor_knn_top1"]) for line in lines if "monitor_knn_top1" in line}
    assert list(measured) == [2, 4] and _scalars(events, "monitor/knn_top1") == measured


@pytest.mark.slow
def test_a_resumed_run_appends_and_the_steps_it_trains_again_replace_the_old_ones(
    shader_corpus: Path, tmp_path: Path, one_torch_thread
):
    run = tmp_path / "run"
    config = load_train_config(None, [*TINY, "epochs=2", "checkpoint.every_epochs=1"], [str(shader_corpus)])
    first = train(config, run, stop_after=2)  # without TensorBoard: `log` may change on --resume
    assert not (run / "tensorboard").exists() and first.steps == 2
    logged = load_train_config(run / "config.yaml", ["log=[tensorboard]"])
    assert logged.sha256() == config.sha256()  # where lines go does not change what is computed
    train(logged, run, resume=True)  # steps 3 to 8, checkpoints after 4 and 8
    # As if the machine died after step 8's line but before its checkpoint: back to step 4.
    shutil.copy(run / "checkpoints" / "epoch-0001.pt", run / "checkpoints" / "last.pt")
    train(logged, run, resume=True)  # steps 5 to 8 again
    assert len(list((run / "tensorboard").glob("events.out.tfevents.*"))) == 2
    events = _scalars(_events(run), "train/images_per_s")
    # Each step once, with the value of its latest line (images/s differs between the two takes).
    assert events == {line["step"]: np.float32(line["images_per_s"]) for line in read_metrics(run) if line["step"] > 2}


def test_the_log_key_keeps_jsonl_and_refuses_unknown_sinks(shader_corpus: Path):
    assert load_train_config(None, ["log=[tensorboard]"], [str(shader_corpus)]).log == ["jsonl", "tensorboard"]
    assert load_train_config(None, [], [str(shader_corpus)]).log == ["jsonl"]
    with pytest.raises(ConfigError) as refused:
        load_train_config(None, ["log=[wandb]"], [str(shader_corpus)])
    message = str(refused.value)  # names the key, the value and what it may be
    assert "log" in message and "wandb" in message and "jsonl" in message and "tensorboard" in message, message


def test_without_the_package_the_flag_is_one_line_before_anything_runs(
    shader_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # `import` raises ImportError
    run = tmp_path / "run"
    result = CliRunner().invoke(cli, ["train", "--data", str(shader_corpus), "--out", str(run), "--log", "tensorboard"])
    assert result.exit_code == 2, result.output
    assert result.output == "error: --log tensorboard needs the tensorboard package: pip install tensorboard\n"
    assert not run.exists()
