"""`synthgen eval`: encoders from runs and baselines, features cached and invalidated, one-line results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from synthgen.cli import cli
from synthgen.evaluate.run import evaluate
from synthgen.train.checkpoints import CheckpointError
from synthgen.train.config import load_train_config
from synthgen.train.loop import train
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
    assert result.output.startswith("pixels@16 on wds:") and "linear top-1" in result.output
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
