"""Corrupt corpora, one damage at a time: a truncated tar, garbage in a sample's json, bytes that
are not an image. `verify` names the shard and the sample, the training loader skips and counts
what it cannot use, and `eval` refuses the dataset in one line naming where the damage is."""

from __future__ import annotations

import io
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from synthgen.cli import cli

from .test_integrity import rebless
from .test_train_data import _batches

SHARD = "shard-000001.tar"  # samples 8..15


def _rewrite_members(tar: Path, change: Callable[[str, bytes], bytes]) -> None:
    members = []
    with tarfile.open(tar) as source:
        for member in source.getmembers():
            members.append((member, change(member.name, source.extractfile(member).read())))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as out:
        for member, data in members:
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    tar.write_bytes(buffer.getvalue())


DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated": lambda tar: tar.write_bytes(tar.read_bytes()[:5000]),
    "garbage-json": lambda tar: _rewrite_members(
        tar, lambda name, data: b"{not json" if name == "000000000009.json" else data
    ),
    "not-an-image": lambda tar: _rewrite_members(
        tar, lambda name, data: b"\x89PNG but not really" * 20 if name == "000000000010.png" else data
    ),
}
# What each reader must name: the shard, and the sample where the damage is in one.
NAMED = {"truncated": "cut short", "garbage-json": "000000000009", "not-an-image": "000000000010"}


@pytest.fixture(params=sorted(DAMAGE))
def damaged(request: pytest.FixtureRequest, shader_corpus: Path, tmp_path: Path) -> tuple[Path, str]:
    folder = tmp_path / request.param
    shutil.copytree(shader_corpus, folder)
    DAMAGE[request.param](folder / SHARD)
    # Damage from before the shard was hashed, so that every reader meets it inside the shard (shards
    # that differ from their manifest: tests/test_integrity.py).
    rebless(folder, SHARD)
    return folder, request.param


def test_verify_names_the_shard_and_the_sample(damaged: tuple[Path, str]):
    folder, kind = damaged
    result = CliRunner().invoke(cli, ["verify", str(folder), "--decode"])
    assert result.exit_code == 1
    problems = [line for line in result.output.splitlines() if SHARD in line]
    assert any(NAMED[kind] in line for line in problems), result.output
    assert "0x" not in result.output  # no object reprs in a message


def test_the_training_loader_skips_and_counts_what_it_cannot_use(damaged: tuple[Path, str], caplog):
    folder, kind = damaged
    caplog.set_level("WARNING", logger="synthgen")
    batches = _batches(folder, 12)
    images = sum(batch["images"].shape[0] for batch in batches)
    assert images == 48  # batches stay full: the stream moves on to good samples
    bad_samples = sum(batch["bad_samples"] for batch in batches)
    bad_shards = sum(batch["bad_shards"] for batch in batches)
    if kind == "truncated":
        assert bad_shards >= 1
    elif kind == "not-an-image":
        assert bad_samples >= 1 and "000000000010" in caplog.text
    else:  # training reads no json: the sample is still an image pair with its label
        assert (bad_samples, bad_shards) == (0, 0)


def test_eval_refuses_the_dataset_in_one_line(damaged: tuple[Path, str], tmp_path: Path):
    folder, kind = damaged
    result = CliRunner().invoke(
        cli, ["eval", "--checkpoint", "pixels@16", "--dataset", f"wds:{folder}", "--no-cache", "--probe", "knn"]
    )
    if kind == "garbage-json":  # eval reads images and `cls`, never the json
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and SHARD in lines[0], lines
