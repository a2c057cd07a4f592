"""Exported backbones: byte-deterministic files, and hostile metadata or weights refused in one
line naming the key (a backbone file may come from anyone)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file, save_file

from synthgen.cli import cli
from synthgen.evaluate.features import load_encoder
from synthgen.train.checkpoints import CheckpointError, export_backbone, read_backbone
from synthgen.train.models import build_backbone

INFO = {"arch": "resnet18", "stem": "cifar", "width": 4, "image_size": 16, "feature_dim": 32,
        "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25], "step": 3, "config_sha256": "ab" * 32}  # fmt: skip

EXPORT = """
import sys, torch
from pathlib import Path
from synthgen.train.checkpoints import export_backbone
from synthgen.train.models import build_backbone
torch.manual_seed(0)
export_backbone(Path(sys.argv[1]), build_backbone("resnet18", 16, stem="cifar", width=4), {info})
"""


def _backbone(path: Path, **changes) -> Path:
    torch.manual_seed(0)
    export_backbone(path, build_backbone("resnet18", 16, stem="cifar", width=4), {**INFO, **changes})
    return path


def test_the_same_weights_export_to_the_same_bytes_in_every_process(tmp_path: Path):
    # safetensors writes its metadata from a hash map, in an order that changes per process.
    digests = set()
    for run in range(3):
        out = tmp_path / f"run{run}.safetensors"
        subprocess.run([sys.executable, "-c", EXPORT.format(info=repr(INFO)), str(out)], check=True)
        digests.add(hashlib.sha256(out.read_bytes()).hexdigest())
    assert len(digests) == 1
    tensors, info = read_backbone(tmp_path / "run0.safetensors")
    assert info == INFO and len(tensors) > 10
    torch.manual_seed(0)
    expected = build_backbone("resnet18", 16, stem="cifar", width=4).state_dict()
    assert all(torch.equal(tensors[key], value) for key, value in expected.items())
    assert load_encoder(str(tmp_path / "run0.safetensors")).image_size == 16


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"image_size": 0}, "metadata image_size must be an integer from 8 to 8192, got 0"),
        ({"mean": [0.5, 0.5]}, "metadata mean must be three finite numbers, got [0.5, 0.5]"),
        ({"std": [0.25, 0.0, 0.25]}, "metadata std must be three finite numbers above 0"),
        ({"arch": ["resnet18"]}, "metadata arch must be an architecture name, got ['resnet18']"),
        ({"width": 10**6}, "metadata width must be an integer from 1 to 1024"),
        ({"arch": "resnet50"}, "the weights do not fit resnet50: layer1.0.conv1.weight has shape [4, 4, 3, 3]"),
    ],
)
def test_hostile_metadata_is_one_line_naming_the_key(tmp_path: Path, changes: dict, expected: str):
    path = _backbone(tmp_path / "b.safetensors", **changes)
    with pytest.raises(CheckpointError, match=f"^{path}: .*" + expected.replace("[", r"\[").replace("]", r"\]")):
        load_encoder(str(path))


def test_weights_of_another_shape_name_the_tensor(tmp_path: Path):
    path = _backbone(tmp_path / "b.safetensors")
    tensors = load_file(str(path))
    tensors["conv1.weight"] = torch.zeros(7, 3, 3, 3)
    save_file(tensors, str(tmp_path / "bad.safetensors"), metadata={k: json.dumps(v) for k, v in INFO.items()})
    result = CliRunner().invoke(cli, ["eval", "--checkpoint", str(tmp_path / "bad.safetensors"), "--dataset", "idx:x"])
    assert result.exit_code != 0 and len(result.output.strip().splitlines()) == 1, result.output
    assert "conv1.weight has shape [7, 3, 3, 3], the model's is [4, 3, 3, 3]" in result.output
