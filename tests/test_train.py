"""`synthgen train`: every method learns, runs resume exactly, DDP finishes, bad input is refused."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from synthgen.cli import cli
from synthgen.corpus.tar import ShardWriter, iter_tar_samples
from synthgen.progress import ProgressUpdate
from synthgen.shipped import SHIPPED_ROOT
from synthgen.train.checkpoints import read_backbone
from synthgen.train.config import ConfigError, load_train_config
from synthgen.train.data import DataError
from synthgen.train.loop import TrainSummary, train
from tests.helpers import _free_port

# A small, fast run: ResNet-18 at 32x32, 4 steps per epoch of 16 samples, one loader process. The
# ImageNet stem, not the CIFAR stem that `auto` picks at 32 px: a sixteenth of the compute.
FAST = [
    "model.arch=resnet18",
    "model.stem=imagenet",
    "data.batch_size=16",
    "data.epoch_samples=64",
    "data.workers=0",
    "data.shuffle_buffer=16",
    "augment.size=32",
    "optim.name=adamw",
    "optim.lr=0.002",
    "optim.warmup_epochs=0",
    "log_every=1",
    "method.head.hidden=64",
    "method.head.out=32",
]
METHOD_SETTINGS = {
    "simclr": [],
    "mocov2": ["method.queue_size=64"],
    "multipos": ["method.views=3"],
    "supcon": [],
    "alignuniform": [],
}


def config_for(corpus: Path, *extra: str, method: str = "simclr", epochs: int = 3):
    return load_train_config(None, [f"method.name={method}", f"epochs={epochs}", *FAST, *extra], [str(corpus)])


def losses(run: Path) -> list[float]:
    return [json.loads(line)["loss"] for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.slow
@pytest.mark.parametrize("method", sorted(METHOD_SETTINGS))
def test_each_method_lowers_the_loss(shader_corpus: Path, tmp_path: Path, method: str):
    # Without augmentation the positives are the stored views (two renders of a program), so 16
    # steps show learning through the noise of so small a batch.
    config = config_for(shader_corpus, *METHOD_SETTINGS[method], "augment.preset=none", method=method, epochs=4)
    summary = train(config, tmp_path / "run")
    assert summary.finished and summary.steps == 16
    values = losses(tmp_path / "run")
    assert len(values) == 16
    # From the second epoch on (MoCo's loss first rises while its queue of 64 keys fills).
    assert sum(values[-4:]) / 4 < sum(values[4:8]) / 4, values


@pytest.mark.slow
def test_the_run_folder_holds_config_metrics_checkpoints_and_backbone(shader_corpus: Path, tmp_path: Path):
    run = tmp_path / "run"
    config = config_for(shader_corpus, "checkpoint.every_epochs=2", epochs=3)
    train(config, run)
    names = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert names == ["epoch-0002.pt", "epoch-0003.pt", "last.pt"]
    assert load_train_config(run / "config.yaml") == config  # the saved config repeats the run
    tensors, info = read_backbone(run / "backbone.safetensors")
    assert info["arch"] == "resnet18" and info["image_size"] == 32 and info["feature_dim"] == 512 and info["step"] == 12
    assert "layer4.1.bn2.running_var" in tensors and "conv1.weight" in tensors
    assert not any(name.startswith("fc.") for name in tensors)
    # Checkpoints hold plain data: they load with weights_only.
    state = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    assert state["step"] == 12


@pytest.mark.slow
@pytest.mark.parametrize("method", ["simclr", "mocov2"])
def test_a_resumed_run_takes_the_same_steps_as_an_uninterrupted_one(shader_corpus: Path, tmp_path: Path, method: str):
    config = config_for(shader_corpus, *METHOD_SETTINGS[method], method=method, epochs=2)
    train(config, tmp_path / "whole")
    stopped = train(config, tmp_path / "parts", stop_after=3)  # mid-epoch
    assert not stopped.finished and stopped.steps == 3
    train(config, tmp_path / "parts", resume=True)
    assert losses(tmp_path / "parts") == losses(tmp_path / "whole")
    whole, _ = read_backbone(tmp_path / "whole" / "backbone.safetensors")
    parts, _ = read_backbone(tmp_path / "parts" / "backbone.safetensors")
    assert all(torch.equal(whole[name], parts[name]) for name in whole)


@pytest.mark.slow
def test_resume_refuses_a_changed_configuration_and_a_fresh_run_refuses_an_old_one(shader_corpus: Path, tmp_path: Path):
    run = tmp_path / "run"
    with pytest.raises(Exception, match="nothing to resume"):
        train(config_for(shader_corpus), run, resume=True)
    train(config_for(shader_corpus), run, stop_after=1)
    with pytest.raises(Exception, match="a run is already here"):
        train(config_for(shader_corpus), run)
    with pytest.raises(ConfigError, match=r"optim.lr: 0.002 then, 0.01 now"):
        train(config_for(shader_corpus, "optim.lr=0.01"), run, resume=True)


def _corpus_without(tmp_path: Path, source: Path, drop: set[str]) -> Path:
    """A copy of `source`'s first shard with some fields removed from every sample."""
    out = tmp_path / "stripped"
    out.mkdir()
    with open(source / "shard-000000.tar", "rb") as stream, (out / "shard-000000.tar").open("wb") as target:
        writer = ShardWriter(target)
        for sample in iter_tar_samples(stream):
            writer.write({key: value for key, value in sample.items() if key not in drop})
        writer.close()
    return out / "shard-000000.tar"


def test_training_reports_each_step_and_returns_the_summary_it_writes(shader_corpus: Path, tmp_path: Path,
                                                                      one_torch_thread):  # fmt: skip
    tiny = ["model.width=8", "augment.size=16", "data.batch_size=8", "data.epoch_samples=32"]  # 4 steps
    config, run = config_for(shader_corpus, *tiny, epochs=1), tmp_path / "run"
    updates: list[ProgressUpdate] = []
    stopped = train(config, run, stop_after=2, on_progress=updates.append)
    assert updates[0] == ProgressUpdate("train", "step", advance=0, done=0, total=4)
    assert [u.advance for u in updates[1:]] == [1, 1] and updates[-1].done == stopped.steps == 2
    assert updates[-1].status["loss"] == f"{stopped.final_loss:.4f}"  # what the bar shows beside it
    # The typed summary is summary.json, key for key and in order.
    written = json.loads((run / "summary.json").read_text())
    assert written == stopped.to_dict() and list(written) == [
        "run", "steps", "total_steps", "epochs", "finished", "interrupted", "seconds", "images_per_s",
        "data_wait", "final_loss", "bad_samples", "bad_shards", "backbone",
    ]  # fmt: skip
    assert TrainSummary.read(run) == stopped and not stopped.finished
    updates.clear()
    finished = train(config, run, resume=True, on_progress=updates.append)
    assert (updates[0].done, updates[0].total) == (2, 4) and finished.finished
    assert sum(u.advance for u in updates) == finished.steps - stopped.steps == 2


def test_a_corpus_without_what_the_method_needs_is_refused_before_training(shader_corpus: Path, tmp_path: Path):
    no_labels = _corpus_without(tmp_path, shader_corpus, {"cls", "view1.png"})
    small = "data.batch_size=8"  # the copy holds one shard, of 8 samples
    with pytest.raises(DataError, match=r"method supcon needs a `cls` label"):
        train(config_for(no_labels, small, method="supcon"), tmp_path / "a")
    with pytest.raises(DataError, match=r"multipos needs at least 2 stored views per sample and this corpus has 1"):
        train(config_for(no_labels, small, method="multipos"), tmp_path / "b")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    with pytest.raises(ConfigError, match="mixing samples of different classes"):
        train(config_for(shader_corpus, "augment.mixup.k=2", method="supcon"), tmp_path / "c")


@pytest.mark.slow
def test_mixup_trains(shader_corpus: Path, tmp_path: Path):
    summary = train(config_for(shader_corpus, "augment.mixup.k=6", epochs=1), tmp_path / "run")
    assert summary.finished and summary.final_loss > 0


@pytest.mark.parametrize("path", sorted((SHIPPED_ROOT / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_training_configs_are_valid(path: Path):
    config = load_train_config(path, [], ["out/corpus"])
    assert config.data.corpora[0].url == "out/corpus"


def test_config_errors_name_the_field(shader_corpus: Path, tmp_path: Path):
    with pytest.raises(ConfigError, match=r"optim.lr"):
        load_train_config(None, ["optim.lr=fast"], [str(shader_corpus)])
    with pytest.raises(ConfigError, match=r"^--set data.batchsize=3: unknown key \(did you mean `batch_size`\?\)$"):
        load_train_config(None, ["data.batchsize=3"], [str(shader_corpus)])
    with pytest.raises(ConfigError, match=r"^--set model.arch=resnet7: unknown architecture 'resnet7'.*; known: resnet18, "):
        load_train_config(None, ["model.arch=resnet7"], [str(shader_corpus)])
    with pytest.raises(ConfigError, match=r"no training data"):
        load_train_config(None, [], [])
    with pytest.raises(ConfigError, match=r"model: stem: applies to ResNets only, not to vit_s16"):
        load_train_config(None, ["model.arch=vit_s16", "model.stem=cifar"], [str(shader_corpus)])
    with pytest.raises(ConfigError, match=r"^--set model.stem=tiny: must be one of auto, cifar or imagenet"):
        load_train_config(None, ["model.stem=tiny"], [str(shader_corpus)])
    bad = tmp_path / "train.yaml"
    bad.write_text("model: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_train_config(bad, [], [str(shader_corpus)])


@pytest.mark.slow
def test_the_cli_trains_stops_and_resumes(shader_corpus: Path, tmp_path: Path):
    runner = CliRunner()
    args = ["train", "--data", str(shader_corpus), "--out", str(tmp_path / "run"), "--epochs", "1", "--quiet"]
    args += [item for setting in FAST for item in ("--set", setting)]
    first = runner.invoke(cli, [*args, "--stop-after", "2"])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("stopped (continue with --resume): 2/4 steps")
    again = runner.invoke(cli, args)
    assert again.exit_code == 2 and "a run is already here" in again.output
    resumed = runner.invoke(cli, [*args, "--resume"])
    assert resumed.exit_code == 0 and resumed.output.startswith("finished: 4/4 steps"), resumed.output
    wrong = runner.invoke(cli, ["train", "--data", str(shader_corpus), "--out", str(tmp_path / "x"), "--method", "ab"])
    assert wrong.exit_code == 2 and "method" in wrong.output and "Traceback" not in wrong.output


@pytest.mark.slow
def test_training_reads_a_corpus_from_object_storage(shader_corpus: Path, s3_bucket, tmp_path: Path):
    from synthgen.corpus.push import push_corpus

    bucket, options = s3_bucket
    push_corpus(str(shader_corpus), f"s3://{bucket}/corpus", options)
    args = ["train", "--data", f"s3://{bucket}/corpus", "--out", str(tmp_path / "run"), "--epochs", "1", "--quiet"]
    args += [item for setting in [*FAST, "data.workers=2"] for item in ("--set", setting)]
    args += ["--storage-option", f"endpoint_url={options['endpoint_url']}"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0 and result.output.startswith("finished: 4/4 steps"), result.output


def _synthgen(*args: str) -> list[str]:
    return [sys.executable, "-m", "synthgen", *args]


@pytest.mark.slow
def test_ctrl_c_saves_a_checkpoint_at_a_step_boundary_and_resume_finishes(shader_corpus: Path, tmp_path: Path):
    run = tmp_path / "run"
    settings = [item for setting in FAST for item in ("--set", setting)]
    command = _synthgen("train", "--data", str(shader_corpus), "--out", str(run), "--epochs", "50", "--quiet")
    command += settings
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (run / "metrics.jsonl").exists() or not (run / "metrics.jsonl").read_text():
        assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "interrupted after step" in stderr and "Traceback" not in stderr
    state = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    assert 0 < state["step"] < 200 and state["step"] == len(losses(run))


@pytest.mark.ddp
@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])  # 2 slots for 3 uneven shards; 4 slots, more than shards
def test_two_process_ddp_on_the_cpu_finishes_with_uneven_shards(shader_corpus: Path, tmp_path: Path, workers: int):
    run = tmp_path / "run"
    settings = [item for setting in FAST for item in ("--set", setting)]
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=2",
        f"--master_port={_free_port()}",
        "-m",
        "synthgen",
        "train",
        "--data",
        str(shader_corpus),
        "--out",
        str(run),
        "--epochs",
        "2",
        "--quiet",
        *settings,
        "--workers",
        str(workers),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["finished"] and summary["steps"] == 8
    assert len(losses(run)) == 8
    assert "finished: 8/8 steps" in result.stdout


@pytest.mark.slow
def test_the_metrics_say_how_much_of_the_time_training_waited_for_data(
    shader_corpus: Path, tmp_path: Path, monkeypatch
):
    from synthgen.train import data

    config = config_for(shader_corpus, epochs=1)
    fed = train(config, tmp_path / "fed")
    real = data.to_example

    def slow(*args):
        time.sleep(0.1)  # a loader 16 x 100 ms per batch slower: training waits for every batch, even on a busy machine
        return real(*args)

    monkeypatch.setattr(data, "to_example", slow)
    starved = train(config, tmp_path / "starved")
    records = [json.loads(line) for line in (tmp_path / "starved" / "metrics.jsonl").read_text().splitlines()]
    # Per step, the wait varies (a batch the loader prefetched costs none): the run's share says it.
    assert all(0 <= record["data_wait"] <= 1 for record in records), records
    assert 0 <= fed.data_wait < starved.data_wait <= 1 and starved.data_wait > 0.5, (fed, starved)
