"""`synthgen train --out RUN --resume` alone: the run's record (config.yaml with absolute data
locations), flags given again that must agree, a finished run trained on to more epochs, the
header a run prints first, and batches larger than the data refused before any model is built."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
import yaml
from click.testing import CliRunner

from synthgen.cli import cli
from synthgen.train.checkpoints import checkpoint_path
from synthgen.train.run_record import absolute_location

from .test_train import FAST

SETTINGS = [item for setting in FAST for item in ("--set", setting)]


def run_cli(*args: str):
    return CliRunner().invoke(cli, ["train", *args])


def metric_steps(run: Path) -> list[int]:
    return [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_data_locations_are_recorded_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "recipes").mkdir()
    (tmp_path / "recipes" / "r.yaml").write_text("")
    assert absolute_location("out/demo") == str(tmp_path / "out" / "demo")
    assert (
        absolute_location("out/demo/shard-{000000..000003}.tar") == f"{tmp_path}/out/demo/shard-{{000000..000003}}.tar"
    )
    assert absolute_location("s3://bucket/corpus") == "s3://bucket/corpus"
    assert absolute_location("file:///data/corpus") == "file:///data/corpus"
    assert absolute_location("/data/corpus") == "/data/corpus"
    assert absolute_location("idx:data/fashion-mnist") == f"idx:{tmp_path}/data/fashion-mnist"
    assert absolute_location("wds:s3://bucket/eval") == "wds:s3://bucket/eval"
    assert absolute_location("recipe:recipes/r.yaml") == f"recipe:{tmp_path}/recipes/r.yaml"
    assert absolute_location("recipe:demo-shaders") == "recipe:demo-shaders"  # a shipped recipe's name


@pytest.mark.slow
def test_resume_with_only_out_from_another_folder_prints_the_header(
    shader_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    run = tmp_path / "run"
    monkeypatch.chdir(shader_corpus.parent)  # the data given relative to where training starts
    first = run_cli("--data", shader_corpus.name, "--out", str(run), "--epochs", "1", "--stop-after", "2", *SETTINGS)
    assert first.exit_code == 0, first.output
    header = first.stderr.splitlines()
    assert header[:5] == [
        "train: resnet18 (imagenet stem, width 64) at 32 px, simclr, 2 views per sample",
        f"data: 20 samples ({shader_corpus}), 64 per epoch",
        "steps: batch 16, 4 per epoch, 1 epoch, 4 in all",
        "device: cpu, fp32, 1 process",
        f"run: {run}",
    ]
    recorded = yaml.safe_load((run / "config.yaml").read_text())
    assert recorded["data"]["corpora"][0]["url"] == str(shader_corpus)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    resumed = run_cli("--out", str(run), "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert "resuming at step 2 of 4 (epoch 0.5 of 1)" in resumed.output
    assert resumed.stdout.startswith("finished: 4/4 steps"), resumed.output
    assert metric_steps(run) == [1, 2, 3, 4]


@pytest.mark.slow
def test_flags_given_again_must_agree_with_the_run(shader_corpus: Path, tmp_path: Path):
    run = tmp_path / "run"
    first = run_cli("--data", str(shader_corpus), "--out", str(run), "--epochs", "2", "--quiet", "--stop-after", "1",
                    *SETTINGS)  # fmt: skip
    assert first.exit_code == 0, first.output

    arch = run_cli("--out", str(run), "--resume", "--arch", "resnet50")
    assert arch.exit_code == 2
    assert arch.output == (
        f"error: --arch resnet50: {run} was trained with model.arch=resnet18; start a new run to change it\n"
    )
    lr = run_cli("--out", str(run), "--resume", "--set", "optim.lr=0.01", "--batch-size", "8")
    assert lr.exit_code == 2 and len(lr.output.splitlines()) == 1, lr.output
    assert "--batch-size 8: " in lr.output and "data.batch_size=16" in lr.output
    assert "--set optim.lr=0.01: " in lr.output and "optim.lr=0.002" in lr.output
    other = run_cli("--out", str(run), "--resume", "--data", str(tmp_path / "other"))
    assert other.exit_code == 2 and f"--data {tmp_path / 'other'}: {run} was trained with data.corpora=" in other.output

    # The same values again, and what only operates the run, are fine.
    agreeing = run_cli("--out", str(run), "--resume", "--quiet", "--data", str(shader_corpus), "--batch-size", "16",
                       "--arch", "resnet18", "--set", "log_every=2", "--stop-after", "1")  # fmt: skip
    assert agreeing.exit_code == 0, agreeing.output
    assert agreeing.output.startswith("stopped (continue with --resume): 2/8 steps")


@pytest.mark.slow
def test_a_finished_run_trains_on_to_more_epochs(shader_corpus: Path, tmp_path: Path):
    run = tmp_path / "run"
    first = run_cli("--data", str(shader_corpus), "--out", str(run), "--epochs", "1", "--quiet", *SETTINGS)
    assert first.exit_code == 0 and first.output.startswith("finished: 4/4 steps"), first.output
    summary = (run / "summary.json").read_text()

    again = run_cli("--out", str(run), "--resume")
    assert again.exit_code == 0, again.output
    assert "nothing left to train: the run has taken its 4 steps (1 epoch); give --epochs N above 1" in again.output
    assert (run / "summary.json").read_text() == summary  # a resume with nothing to do rewrites nothing

    more = run_cli("--out", str(run), "--resume", "--epochs", "2")
    assert more.exit_code == 0, more.output
    assert "resuming at step 4 of 8 (epoch 1 of 2)" in more.output
    assert "epochs 1 -> 2: the learning-rate schedule is recomputed for 8 steps, so step 4 goes on at lr 0.001" in (
        more.output
    )
    assert more.stdout.startswith("finished: 8/8 steps"), more.output
    assert metric_steps(run) == [1, 2, 3, 4, 5, 6, 7, 8]  # appended, the steps going on
    lrs = [json.loads(line)["lr"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert lrs[4] == pytest.approx(0.001)  # step 4 of the 8-step cosine: half the peak
    assert (checkpoint_path(run, "epoch-0002.pt")).is_file()
    last = torch.load(checkpoint_path(run), weights_only=True)
    assert last["step"] == 8 and last["config"]["epochs"] == 2
    assert yaml.safe_load((run / "config.yaml").read_text())["epochs"] == 2

    fewer = run_cli("--out", str(run), "--resume", "--epochs", "1")
    assert fewer.exit_code == 2
    assert fewer.output.startswith(f"error: epochs: 1 is fewer than the 2 epochs {run} has trained (8 steps)")
    assert len(fewer.output.splitlines()) == 1


@pytest.mark.slow
def test_an_older_run_recorded_relative_resumes_from_its_folder_only(
    shader_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    run = tmp_path / "run"
    first = run_cli("--data", str(shader_corpus), "--out", str(run), "--epochs", "1", "--quiet", *SETTINGS)
    assert first.exit_code == 0, first.output
    # As an older synthgen recorded it: the corpus relative to the folder training ran in.
    relative = os.path.relpath(shader_corpus, shader_corpus.parent)
    recorded = yaml.safe_load((run / "config.yaml").read_text())
    recorded["data"]["corpora"][0]["url"] = relative
    (run / "config.yaml").write_text(yaml.safe_dump(recorded, sort_keys=False))
    state = torch.load(checkpoint_path(run), weights_only=True)
    state["config"]["data"]["corpora"][0]["url"] = relative
    torch.save(state, checkpoint_path(run))

    monkeypatch.chdir(tmp_path)
    lost = run_cli("--out", str(run), "--resume")
    assert lost.exit_code == 2 and len(lost.output.splitlines()) == 1, lost.output
    assert f"data.corpora: {relative} is relative to the folder the run was started in" in lost.output
    monkeypatch.chdir(shader_corpus.parent)
    found = run_cli("--out", str(run), "--resume")
    assert found.exit_code == 0 and "nothing left to train" in found.output, found.output


def test_a_batch_larger_than_the_data_is_refused_before_training(shader_corpus: Path, tmp_path: Path):
    run = tmp_path / "run"
    big = run_cli(
        "--data", str(shader_corpus), "--out", str(run), "--epochs", "1", *SETTINGS, "--set", "data.batch_size=32"
    )
    assert big.exit_code == 2
    assert big.output == (
        f"error: data.batch_size: 32 is more than the 20 samples of {shader_corpus}: "
        "give --batch-size 20 or less, or a larger corpus\n"
    )
    short = run_cli(
        "--data", str(shader_corpus), "--out", str(run), "--epochs", "1", *SETTINGS, "--set", "data.epoch_samples=8"
    )
    assert short.exit_code == 2
    assert short.output == (
        "error: data.epoch_samples: 8 is fewer than one batch (data.batch_size 16): an epoch would take no step\n"
    )
    assert not checkpoint_path(run).exists() and not (run / "config.yaml").exists()


def test_a_live_batch_larger_than_a_pass_is_refused(tmp_path: Path):
    recipe = tmp_path / "noise.yaml"
    recipe.write_text(
        "name: live-noise\ncount: 64\nviews: 2\nimage: {size: 16, format: png}\nshard: {samples: 8}\n"
        "source: {kind: noise, model: spectrum}\n"
    )
    live = run_cli(
        "--recipe", str(recipe), "--live-samples", "8", "--out", str(tmp_path / "run"), "--epochs", "1", *SETTINGS
    )
    assert live.exit_code == 2
    assert live.output.startswith("error: data.batch_size: 16 is more than the 8 samples (data.live_samples")
    assert len(live.output.splitlines()) == 1
