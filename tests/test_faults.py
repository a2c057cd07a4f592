"""Faults during a render: a kill -9 at seeded moments (failpoints), a dying worker. Whatever the
moment, what is committed is whole, and the resumed render equals a clean one byte for byte."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import fsspec
import pytest

from synthgen import faults
from synthgen.corpus.storage import TEMP_PREFIX
from synthgen.recipe import load_recipe
from synthgen.render import render_corpus

from .test_render import corpus_bytes

# 4 shards of 6 samples, 2 views: every failpoint is reached several times.
RECIPE = """
name: fault-noise
count: 24
seed: 0
views: 2
image: {size: 16, format: jpg, quality: 90}
shard: {samples: 6}
source: {kind: noise, model: spectrum}
"""
MOMENTS = 20


@pytest.fixture(scope="module")
def recipe_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("recipe") / "noise.yaml"
    path.write_text(RECIPE)
    return path


@pytest.fixture(scope="module")
def clean(recipe_file: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, bytes], Counter[str]]:
    """A clean render's bytes, and how often it reached each failpoint (in this process)."""
    hits: Counter[str] = Counter()
    with pytest.MonkeyPatch.context() as patch:
        for module in (
            "synthgen.render.driver",
            "synthgen.render.samples",
            "synthgen.corpus.tar",
            "synthgen.corpus.storage",
        ):
            patch.setattr(f"{module}.failpoint", lambda name: hits.update([name]))
        folder = tmp_path_factory.mktemp("clean") / "corpus"
        render_corpus(load_recipe(recipe_file), str(folder))
    assert set(hits) == set(faults.WRITE_FAILPOINTS), hits
    return corpus_bytes(folder), hits


def seeded_moments(hits: Counter[str]) -> list[tuple[str, int]]:
    """Distinct moments (name, N: the N-th time the render reaches it): every failpoint at two
    of its hits (the manifest has one), then random others."""
    rng = random.Random(20261122)
    chosen = [
        (name, n) for name in faults.WRITE_FAILPOINTS for n in rng.sample(range(1, hits[name] + 1), min(2, hits[name]))
    ]
    others = [
        (name, n) for name in faults.WRITE_FAILPOINTS for n in range(1, hits[name] + 1) if (name, n) not in chosen
    ]
    return chosen + rng.sample(others, MOMENTS - len(chosen))


def _env_without_failpoint() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key != faults.ENV}


def render_cli(recipe_file: Path, out: Path, *extra: str, failpoint: str | None = None) -> subprocess.CompletedProcess:
    env = _env_without_failpoint()
    if failpoint:
        env[faults.ENV] = failpoint
    command = [sys.executable, "-m", "synthgen", "render", str(recipe_file), "--out", str(out), "--quiet", *extra]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def committed_shards_are_whole(url: str | Path, options: dict | None = None) -> int:
    """Every sidecar in the corpus (a folder or a bucket URL) names a tar that is there, of its
    size and sha256: nothing half-committed. Returns how many shards are committed."""
    fs, root = fsspec.core.url_to_fs(str(url), **(options or {}))
    fs.invalidate_cache()
    sidecars = [path for path in fs.ls(root, detail=False) if re.fullmatch(r"shard-\d+\.json", path.rsplit("/", 1)[-1])]
    for sidecar in sidecars:
        record = json.loads(fs.cat_file(sidecar))
        data = fs.cat_file(f"{root}/{record['url']}")
        assert len(data) == record["filesize"] and hashlib.sha256(data).hexdigest() == record["sha256"], sidecar
    return len(sidecars)


@pytest.mark.slow
def test_twenty_seeded_kill_9_moments_then_resume_equal_a_clean_render(recipe_file: Path, clean, tmp_path: Path):
    clean_bytes, hits = clean
    moments = seeded_moments(hits)
    assert len(set(moments)) == MOMENTS and {name for name, _ in moments} == set(faults.WRITE_FAILPOINTS)
    survived = 0
    for name, n in moments:
        out = tmp_path / f"{name}-{n}"
        killed = render_cli(recipe_file, out, failpoint=f"{name}:{n}")
        assert killed.returncode == -9, (name, n, killed.stderr)
        assert not (out / "manifest.json").exists(), (name, n)
        committed_shards_are_whole(out)

        summary = render_corpus(load_recipe(recipe_file), str(out))
        assert not summary.already_complete
        assert corpus_bytes(out) == clean_bytes, (name, n)
        assert not [p.name for p in out.iterdir() if p.name.startswith(TEMP_PREFIX)], (name, n)
        survived += 1
    assert survived == len(moments)
    print(f"kill -9 moments survived: {survived}/{len(moments)}: {Counter(name for name, _ in moments)}")


@pytest.mark.slow
def test_a_worker_killed_mid_shard_stops_the_render_clearly_and_it_resumes(recipe_file: Path, clean, tmp_path: Path):
    clean_bytes, _ = clean
    out = tmp_path / "corpus"
    # Pool workers count their own hits: the 20th image one worker encodes is in its 2nd shard.
    broken = render_cli(recipe_file, out, "--workers", "2", failpoint="encode:20")
    assert broken.returncode == 2
    assert broken.stderr.strip().splitlines() == [
        "error: a render worker process died abruptly (killed, out of memory, or a crash in a native library); "
        "the shards committed so far are kept: run the same command again to resume"
    ]
    assert committed_shards_are_whole(out) >= 1
    assert not [p.name for p in out.iterdir() if p.name.startswith(TEMP_PREFIX)]

    resumed = render_cli(recipe_file, out, "--workers", "2")
    assert resumed.returncode == 0, resumed.stderr
    assert re.search(r"\d+ shards? kept from an earlier run", resumed.stdout), resumed.stdout
    assert corpus_bytes(out) == clean_bytes


def test_a_malformed_failpoint_setting_is_refused(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(faults.ENV, "tar.nowhere:3")
    with pytest.raises(ValueError, match="expected NAME:N with NAME one of pool.start, gl.start, render.batch"):
        faults._target()


def _unshare_mount() -> list[str] | None:
    """A command prefix that runs a shell in a private mount namespace, if this machine allows one
    (root, or unprivileged user namespaces)."""
    if shutil.which("unshare") is None:
        return None
    for prefix in (["unshare", "-m"], ["unshare", "-Urm"]):
        if subprocess.run([*prefix, "true"], capture_output=True).returncode == 0:
            return prefix
    return None


@pytest.mark.slow
def test_a_full_disk_is_a_clear_error_and_the_render_resumes_once_there_is_room(recipe_file: Path, clean, tmp_path):
    prefix = _unshare_mount()
    if prefix is None:
        pytest.skip("no private mount namespace here (unshare): cannot make a small disk to fill")
    clean_bytes, _ = clean
    disk, saved = tmp_path / "disk", tmp_path / "saved"
    disk.mkdir()
    render = f"{sys.executable} -m synthgen render {recipe_file} --out {disk}/corpus --quiet"
    # A 40 KiB tmpfs holds one 30 KiB shard and its sidecar, not two shards. Then it grows:
    # the same command resumes. Copies leave the namespace, where the tmpfs would vanish.
    script = f"""
mount -t tmpfs -o size=40k tmpfs {disk}
{render} 2> {saved}-full.err; echo $? > {saved}-full.rc
cp -a {disk}/corpus {saved}-full
mount -o remount,size=4m {disk}
{render}; echo $? > {saved}-resumed.rc
cp -a {disk}/corpus {saved}-resumed
"""
    subprocess.run([*prefix, "sh", "-c", script], check=True, timeout=300, env=_env_without_failpoint())
    assert Path(f"{saved}-full.rc").read_text().strip() == "2"
    error = Path(f"{saved}-full.err").read_text().strip().splitlines()
    assert len(error) == 1 and "cannot write shard-000001.tar: the disk is full" in error[0], error
    assert "run the same command again to resume" in error[0]
    full = Path(f"{saved}-full")
    assert committed_shards_are_whole(full) == 1
    assert sorted(p.name for p in full.iterdir()) == ["shard-000000.json", "shard-000000.tar"]  # no partial shard

    assert Path(f"{saved}-resumed.rc").read_text().strip() == "0"
    assert corpus_bytes(Path(f"{saved}-resumed")) == clean_bytes
