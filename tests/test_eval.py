"""`synthgen eval`: encoders from runs and baselines, features cached and invalidated, one-line results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from synthgen.cli import cli
from synthgen.cli_learn import eval_command
from synthgen.evaluate.finetune import FinetuneSettings
from synthgen.evaluate.run import EvalPlan, evaluate
from synthgen.progress import ProgressUpdate
from synthgen.train.checkpoints import CheckpointError
from synthgen.train.config import load_train_config
from synthgen.train.device import choose_device
from synthgen.train.loop import train
from tests.test_eval_datasets import write_idx
from tests.test_train import FAST


@pytest.fixture(scope="module")
def trained_run(shader_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("eval") / "run"
    train(load_train_config(None, ["epochs=1", *FAST], [str(shader_corpus)]), run, stop_after=2)
    return run


@pytest.mark.slow
def test_a_run_folder_and_both_baselines_evaluate(shader_corpus: Path, trained_run: Path, tmp_path: Path):
    dataset = f"wds:{shader_corpus}"
    for checkpoint, dim in [(str(trained_run), 512), ("random:resnet18@32", 512), ("pixels@16", 3 * 16 * 16)]:
        report = evaluate(checkpoint, dataset, cache_dir=tmp_path)
        assert report.feature_dim == dim and report.n_train + report.n_val == 20
        assert 0.0 <= report.linear["top1"] <= 1.0 and set(report.knn["by_k"]) == {"20", "200"}


@pytest.mark.slow
def test_features_are_cached_and_invalidated_by_a_new_checkpoint_or_other_data(
    shader_corpus: Path, trained_run: Path, tmp_path: Path
):
    dataset = f"wds:{shader_corpus}"
    first = evaluate(str(trained_run), dataset, cache_dir=tmp_path / "cache", probes=["knn"])
    again = evaluate(str(trained_run), dataset, cache_dir=tmp_path / "cache", probes=["knn"])
    assert not first.features_cached and again.features_cached
    assert again.knn["by_k"]["20"]["top1"] == first.knn["by_k"]["20"]["top1"]
    other_data = evaluate(str(trained_run), dataset, cache_dir=tmp_path / "cache", probes=["knn"],
                          dataset_options={"size": 24})  # fmt: skip
    assert not other_data.features_cached
    # Training on changes the backbone file, so its features are computed again.
    config = load_train_config(trained_run / "config.yaml")
    train(config, trained_run, resume=True, stop_after=1)
    moved_on = evaluate(str(trained_run), dataset, cache_dir=tmp_path / "cache", probes=["knn"])
    assert not moved_on.features_cached and moved_on.encoder != first.encoder
    assert len(list((tmp_path / "cache").glob("features-*.safetensors"))) == 3


@pytest.mark.slow
def test_a_chosen_layer_gives_its_pooled_features(shader_corpus: Path, trained_run: Path, tmp_path: Path):
    dataset = f"wds:{shader_corpus}"
    layer3 = evaluate(str(trained_run), dataset, cache_dir=tmp_path, probes=["knn"], layer="layer3")
    assert layer3.feature_dim == 256 and layer3.layer == "layer3"
    final = evaluate(str(trained_run), dataset, cache_dir=tmp_path, probes=["knn"])
    assert final.feature_dim == 512 and not final.features_cached  # another layer, another cache entry
    with pytest.raises(CheckpointError, match="no layer 'layer9'"):
        evaluate(str(trained_run), dataset, layer="layer9")


def test_the_cli_prints_one_line_and_writes_json(shader_corpus: Path, tmp_path: Path):
    out = tmp_path / "result.json"
    args = ["eval", "--checkpoint", "pixels@16", "--dataset", f"wds:{shader_corpus}", "--out", str(out), "--no-cache"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("pixels@16 on wds:") and "linear top-1" in result.stdout
    assert json.loads(out.read_text())["checkpoint"] == "pixels@16"


def test_bad_checkpoints_and_probes_are_one_line_errors(shader_corpus: Path, tmp_path: Path):
    runner = CliRunner()
    dataset = ["--dataset", f"wds:{shader_corpus}", "--no-cache"]
    missing = runner.invoke(cli, ["eval", "--checkpoint", str(tmp_path), *dataset])
    assert missing.exit_code == 2 and "no exported backbone here" in missing.output
    unknown = runner.invoke(cli, ["eval", "--checkpoint", "random:resnet7", *dataset])
    assert unknown.exit_code == 2 and "unknown backbone" in unknown.output
    probe = runner.invoke(cli, ["eval", "--checkpoint", "pixels", *dataset, "--probe", "svm"])
    assert probe.exit_code == 2 and "unknown probe 'svm'" in probe.output
    (tmp_path / "fake.safetensors").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="not a readable safetensors backbone"):
        evaluate(str(tmp_path / "fake.safetensors"), f"wds:{shader_corpus}")


@pytest.mark.slow
def test_a_cifar_stem_backbone_round_trips_through_eval(shader_corpus: Path, tmp_path: Path):
    from synthgen.evaluate.features import load_encoder
    from synthgen.train.checkpoints import read_backbone

    run = tmp_path / "run"
    # `stem: auto` at 16 px is the CIFAR stem; the metadata records what auto resolved to.
    settings = [s for s in FAST if not s.startswith(("model.stem", "augment.size"))]
    config = load_train_config(None, ["epochs=1", *settings, "augment.size=16", "model.width=8"], [str(shader_corpus)])
    train(config, run, stop_after=1)
    tensors, info = read_backbone(run / "backbone.safetensors")
    assert info["stem"] == "cifar" and info["width"] == 8 and info["feature_dim"] == 64
    encoder = load_encoder(str(run))
    assert encoder.model.stem == "cifar" and encoder.model.width == 8
    assert all(torch.equal(encoder.model.state_dict()[key], value) for key, value in tensors.items())
    report = evaluate(str(run), f"wds:{shader_corpus}", cache_dir=tmp_path / "cache", probes=["knn"])
    assert report.feature_dim == 64
    # The matching untrained network, named as the experiment's random baseline names it.
    baseline = load_encoder("random:resnet18@16?width=8")
    assert baseline.model.stem == "cifar" and baseline.identity == "random-resnet18-16-stemcifar-width8-seed0"
    assert load_encoder("random:resnet18@16?stem=imagenet").model.stem == "imagenet"


@pytest.mark.slow
def test_a_backbone_exported_before_stems_existed_loads_with_the_imagenet_stem(trained_run: Path, tmp_path: Path):
    from safetensors.torch import save_file

    from synthgen.evaluate.features import load_encoder
    from synthgen.train.checkpoints import read_backbone

    tensors, info = read_backbone(trained_run / "backbone.safetensors")
    old = {key: json.dumps(value) for key, value in info.items() if key not in ("stem", "width")}
    save_file(tensors, str(tmp_path / "old.safetensors"), metadata=old)
    model = load_encoder(str(tmp_path / "old.safetensors")).model
    assert model.stem == "imagenet" and model.width == 64


# -- what eval shows while it works: a header, then a bar per job ---------------------------------


def test_eval_announces_its_plan_then_reports_each_job_to_its_end(tmp_path: Path, one_torch_thread):
    write_idx(tmp_path / "idx", n_train=16, n_val=8)
    dataset, tiny = f"idx:{tmp_path / 'idx'}", "random:resnet18@16?width=8"
    seen: list = []  # plans and updates, in the order they came
    report = evaluate(tiny, dataset, cache_dir=tmp_path / "cache", probes=["linear", "knn", "finetune"],
                      finetune=FinetuneSettings(epochs=2), on_start=seen.append, on_progress=seen.append)  # fmt: skip
    plan, updates = seen[0], seen[1:]
    assert isinstance(plan, EvalPlan) and all(isinstance(update, ProgressUpdate) for update in updates)
    assert (plan.n_train, plan.n_val, plan.num_classes) == (report.n_train, report.n_val, 4) == (16, 8, 4)
    assert plan.device == str(choose_device("auto")) and plan.features_cached is False
    assert plan.model == "resnet18 (stem cifar, width 8) at 16 px"
    jobs = {update.name: update.total for update in updates if update.first}
    # Features of both splits; 6 decays and the final fit; every val image; 2 epochs of 1 step.
    assert jobs == {"features": 24, "linear": 7, "knn": 8, "finetune": 2}
    assert [update.name for update in updates if update.first] == list(jobs)  # one job after the other
    for name, total in jobs.items():
        advances = [update.advance for update in updates if update.name == name and not update.first]
        assert sum(advances) == total and [u.done for u in updates if u.name == name][-1] == total, name
    # Again: the features come from the cache, which the header says, and no features job runs.
    seen.clear()
    evaluate(tiny, dataset, cache_dir=tmp_path / "cache", probes=["knn"], on_start=seen.append, on_progress=seen.append)
    assert seen[0].features_cached is True and [u.name for u in seen[1:] if u.first] == ["knn"]


def test_the_cli_shows_the_header_on_stderr_and_quiet_leaves_only_the_result(tmp_path: Path):
    write_idx(tmp_path / "idx", n_train=16, n_val=8)
    args = ["eval", "--checkpoint", "pixels@8", "--dataset", f"idx:{tmp_path / 'idx'}", "--no-cache"]
    shown = CliRunner().invoke(cli, args)
    assert shown.exit_code == 0, shown.output
    assert shown.stderr.splitlines()[:5] == [
        "checkpoint: pixels@8 (pixels-8)",
        "model: pixels at 8 px",
        f"dataset: idx:{tmp_path / 'idx'}: 4 classes, 16 train and 8 val images",
        "protocols: linear, knn; features to extract",
        f"device: {choose_device('auto')}",
    ]
    assert shown.stdout.startswith("pixels@8 on idx:") and shown.stdout.count("\n") == 1
    quiet = CliRunner().invoke(cli, [*args, "--quiet"])
    assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout == shown.stdout


def test_eval_chooses_its_device_as_train_does(monkeypatch: pytest.MonkeyPatch):
    assert {param.name: param.default for param in eval_command.params}["device"] == "auto"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert choose_device() == torch.device("cuda", 0) and choose_device(local_rank=3) == torch.device("cuda", 3)
    assert choose_device("cpu") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert choose_device() == torch.device("cpu")
    with pytest.raises(ValueError, match="device 'cuda:1': CUDA is not available here"):
        choose_device("cuda:1")
    with pytest.raises(ValueError, match="device 'gpu': not a torch device"):
        choose_device("gpu")


def test_the_header_names_a_backbone_file_by_its_short_sha256():
    model = "resnet18 (stem cifar, width 16) at 32 px, features from layer3"
    plan = EvalPlan("runs/demo", "ab" * 32 + "#layer3", model, "idx:data", 10, 100, 50, ("knn",), 4, True, "cuda:0")
    assert plan.lines() == [
        f"checkpoint: runs/demo (sha256 {'ab' * 6})",
        "model: resnet18 (stem cifar, width 16) at 32 px, features from layer3",
        "dataset: idx:data: 10 classes, 100 train and 50 val images",
        "protocols: knn; 4 labels per class; features cached",
        "device: cuda:0",
    ]
