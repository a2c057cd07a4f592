from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import webdataset as wds
from click.testing import CliRunner

from synthgen.cli import cli
from synthgen.errors import CorpusError
from synthgen.progress import ProgressUpdate
from synthgen.recipe import load_recipe
from synthgen.render import render_corpus
from synthgen.sources.shader.programs import load_program_set

from .helpers import BROKEN_PROGRAM


def corpus_bytes(folder: Path) -> dict[str, bytes]:
    """What must be identical between renders: the shards and the manifest.

    (Sidecars also record render seconds, which differ run to run.)
    """
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix == ".tar" or p.name == "manifest.json"}


def test_corpus_layout_and_fields(make_recipe, tmp_path: Path):
    recipe = load_recipe(make_recipe())
    summary = render_corpus(recipe, str(tmp_path / "out"))
    out = tmp_path / "out"
    assert summary.nsamples == 20 and summary.nshards == 3 and summary.rendered_shards == 3
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md",  # the dataset card (tests/test_card.py)
        "manifest.json",
        "shard-000000.json",
        "shard-000000.tar",
        "shard-000001.json",
        "shard-000001.tar",
        "shard-000002.json",
        "shard-000002.tar",
    ]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["wids_version"] == 1 and manifest["recipe_sha256"] == recipe.sha256
    assert manifest["recipe"] == recipe.resolved()
    assert [s["nsamples"] for s in manifest["shardlist"]] == [8, 8, 4]
    for entry in manifest["shardlist"]:
        assert (out / entry["url"]).stat().st_size == entry["filesize"]
        sidecar = json.loads((out / entry["url"].replace(".tar", ".json")).read_text())
        assert sidecar["sha256"] == entry["sha256"] and sidecar["recipe_sha256"] == recipe.sha256

    programs = load_program_set(recipe.source.programs).programs
    urls = [str(out / s["url"]) for s in manifest["shardlist"]]
    samples = list(wds.WebDataset(urls, shardshuffle=False).decode("rgb"))
    assert len(samples) == 20
    assert [s["__key__"] for s in samples] == [f"{i:012d}" for i in range(20)]
    for index, sample in enumerate(samples):
        assert set(sample) >= {"png", "view1.png", "json", "cls"}
        assert sample["png"].shape == (32, 32, 3)
        meta = sample["json"]
        assert meta["index"] == index and meta["key"] == sample["__key__"]
        assert meta["recipe"] == "test-corpus" and meta["recipe_sha256"] == recipe.sha256 and meta["kind"] == "shader"
        assert (meta["width"], meta["height"]) == (32, 32) and "synthgen_version" in meta
        assert len(meta["views"]) == 2
        assert all(0.5 <= v["time"] <= 5.0 for v in meta["views"])
        assert sample["cls"] == meta["program"]["index"]
        assert programs[sample["cls"]].id == meta["program"]["id"]


def test_manifest_is_a_wids_index(make_recipe, tmp_path: Path):
    wids = pytest.importorskip("wids")
    render_corpus(load_recipe(make_recipe()), str(tmp_path / "out"))
    dataset = wids.ShardListDataset(str(tmp_path / "out" / "manifest.json"), transformations=[])
    assert len(dataset) == 20
    assert dataset[13]["__key__"] == f"{13:012d}"
    assert json.loads(dataset[13][".json"].read())["index"] == 13


def test_renders_are_byte_identical_whatever_the_workers(make_recipe, tmp_path: Path):
    recipe = load_recipe(make_recipe(image={"format": "jpg"}))
    render_corpus(recipe, str(tmp_path / "a"))
    render_corpus(recipe, str(tmp_path / "b"))
    render_corpus(recipe, str(tmp_path / "c"), workers=2)
    a = corpus_bytes(tmp_path / "a")
    assert len(a) == 4
    assert a == corpus_bytes(tmp_path / "b") == corpus_bytes(tmp_path / "c")


def test_a_broken_program_is_excluded_counted_and_reported_once(make_recipe, program_dir: Path, tmp_path: Path):
    (program_dir / "zz-broken.frag").write_text(BROKEN_PROGRAM)
    recipe = load_recipe(make_recipe(count=40))
    reported: list[str] = []
    summary = render_corpus(recipe, str(tmp_path / "out"), on_failure_subject=lambda s, m: reported.append(s))
    assert reported == ["programs/zz-broken"]
    assert "compile_error" in summary.failure_subjects["programs/zz-broken"]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["nsamples"] == 40  # fixed size: failures are redrawn, never dropped
    assert manifest["failures"]["compile_error"] == summary.failures["compile_error"] > 0
    urls = [str(tmp_path / "out" / s["url"]) for s in manifest["shardlist"]]
    metas = [s["json"] for s in wds.WebDataset(urls, shardshuffle=False).decode()]
    assert len(metas) == 40
    assert all(m["program"]["id"] != "programs/zz-broken" for m in metas)
    assert any(m["attempt"] > 0 for m in metas)
    # The program excluded, in the manifest (from the sidecars) and in the summary, apart from the draws.
    (excluded,) = manifest["excluded"]
    assert (excluded["id"], excluded["reason"]) == ("programs/zz-broken", "compile_error")
    assert "undefined_symbol" in excluded["message"]
    draws = summary.failures["compile_error"]
    assert f"; redrawn {draws} failed draws: compile_error {draws} (1 program excluded); " in summary.line()
    # inspect names it; --json lists every one.
    report = CliRunner().invoke(cli, ["inspect", str(tmp_path / "out"), "--count", "0"]).stdout
    assert "excluded   1 program (compile_error 1): programs/zz-broken\n" in report
    assert f"failures   {draws} compile_error (failed draws, each redrawn)\n" in report
    as_json = json.loads(CliRunner().invoke(cli, ["inspect", str(tmp_path / "out"), "--count", "0", "--json"]).stdout)
    assert as_json["excluded"] == manifest["excluded"]
    (tmp_path / "out" / "manifest.json").unlink()  # an incomplete corpus: from its sidecars
    as_json = json.loads(CliRunner().invoke(cli, ["inspect", str(tmp_path / "out"), "--count", "0", "--json"]).stdout)
    assert as_json["excluded"] == manifest["excluded"]


def test_missing_shards_are_rendered_again_and_the_result_is_identical(make_recipe, tmp_path: Path):
    recipe = load_recipe(make_recipe())
    out = tmp_path / "out"
    updates: list[ProgressUpdate] = []
    render_corpus(recipe, str(out), on_progress=updates.append)
    # Progress: a first update announcing the job, then the samples as they are done.
    assert updates[0] == ProgressUpdate("test-corpus", "sample", advance=0, done=0, total=20)
    assert sum(u.advance for u in updates) == 20 == updates[-1].done and all(u.advance for u in updates[1:])
    clean = corpus_bytes(out)
    # An interrupted run: no manifest, shard 1 never committed, a leftover temporary.
    (out / "manifest.json").unlink()
    (out / "shard-000001.json").unlink()
    (out / "shard-000001.tar").write_bytes(b"half a tar")
    (out / ".synthgen-tmp-1234-shard-000002.tar").write_bytes(b"junk")
    updates.clear()
    summary = render_corpus(recipe, str(out), on_progress=updates.append)
    assert summary.rendered_shards == 1 and summary.rendered_samples == 8
    # The shards kept count as done from the start; the advances add up to what was rendered now.
    assert (updates[0].done, updates[0].total) == (12, 20) and updates[-1].done == 20
    assert sum(u.advance for u in updates) == summary.rendered_samples
    assert corpus_bytes(out) == clean
    assert not [p for p in out.iterdir() if p.name.startswith(".synthgen-tmp")]


def test_a_complete_corpus_is_left_untouched(make_recipe, tmp_path: Path):
    recipe = load_recipe(make_recipe())
    out = tmp_path / "out"
    render_corpus(recipe, str(out))
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    updates: list[ProgressUpdate] = []
    summary = render_corpus(recipe, str(out), on_progress=updates.append)
    assert summary.already_complete and "nothing to do" in summary.line() and updates == []  # no job ran
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


@pytest.mark.parametrize("complete", [True, False])
def test_a_corpus_of_another_recipe_is_refused_not_damaged(make_recipe, tmp_path: Path, complete: bool):
    out = tmp_path / "out"
    render_corpus(load_recipe(make_recipe()), str(out))
    if not complete:
        (out / "manifest.json").unlink()
    before = corpus_bytes(out)
    other = load_recipe(make_recipe(seed=99))
    with pytest.raises(CorpusError, match="another recipe"):
        render_corpus(other, str(out))
    assert corpus_bytes(out) == before
    # --overwrite replaces it.
    render_corpus(other, str(out), overwrite=True)
    assert json.loads((out / "manifest.json").read_text())["recipe_sha256"] == other.sha256


def test_a_destination_that_is_a_file_is_refused(make_recipe, tmp_path: Path):
    target = tmp_path / "file.txt"
    target.write_text("keep me")
    with pytest.raises(CorpusError, match="destination is a file"):
        render_corpus(load_recipe(make_recipe()), str(target))
    assert target.read_text() == "keep me"


def _render_processes() -> list[str]:
    """`pid: command line` of running GL render processes and spawned pool workers."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "synthgen.sources.shader.watchdog" in text or "multiprocessing.spawn" in text:
            found.append(f"{cmdline.parent.name}: {text}")
    return found


def _run_cli(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "synthgen", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs
    )


@pytest.mark.parametrize(
    ("stop", "workers", "committed_before_kill"),
    [(signal.SIGKILL, 1, 1), (signal.SIGKILL, 2, 3), (signal.SIGINT, 2, 2)],
    ids=["kill-9-1-worker", "kill-9-2-workers", "ctrl-c-2-workers"],
)
@pytest.mark.slow
def test_resume_after_an_interrupted_render_equals_a_clean_render(
    make_recipe, tmp_path: Path, stop: signal.Signals, workers: int, committed_before_kill: int
):
    recipe_path = make_recipe(
        count=600, shard={"samples": 30}, image={"size": 64, "format": "jpg"}, source={"programs": ["starter"]}
    )
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    render_corpus(load_recipe(recipe_path), str(clean))

    before = set(_render_processes())
    process = _run_cli("render", str(recipe_path), "--out", str(killed), "--workers", str(workers), "--quiet")
    deadline = time.monotonic() + 120
    while len(list(killed.glob("shard-*.json"))) < committed_before_kill:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(stop)
    _, stderr = process.communicate(timeout=60)
    assert not (killed / "manifest.json").exists(), "render finished before it could be stopped"
    if stop == signal.SIGINT:
        assert process.returncode == 130
        assert stderr.decode().strip().splitlines()[-1] == "interrupted: run the same command again to resume"
        assert not [p for p in killed.iterdir() if p.name.startswith(".synthgen-tmp")]
    # Pool workers and GL render processes die with their parent (PR_SET_PDEATHSIG).
    deadline = time.monotonic() + 10
    while set(_render_processes()) - before:  # other programs' processes are not ours to count
        assert time.monotonic() < deadline, set(_render_processes()) - before
        time.sleep(0.05)
    assert not list(Path("/dev/shm").glob("synthgen-frames-*")), "shared frames outlived their processes"

    resumed = _run_cli("render", str(recipe_path), "--out", str(killed), "--quiet")
    stdout, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, stderr
    assert re.search(r"\d+ shards? kept from an earlier run", stdout.decode())
    assert corpus_bytes(killed) == corpus_bytes(clean)
    assert not [p for p in killed.iterdir() if p.name.startswith(".synthgen-tmp")]


def test_a_generated_program_set_renders_with_blocked_sampling(make_recipe, tmp_path: Path):
    recipe = load_recipe(
        make_recipe(
            count=24,
            shard={"samples": 12},
            source={"programs": [{"generate": 6, "seed": 1}], "sampling": {"mode": "blocked", "block": 3}},
        )
    )
    render_corpus(recipe, str(tmp_path / "out"))
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    urls = [str(tmp_path / "out" / s["url"]) for s in manifest["shardlist"]]
    metas = [s["json"] for s in wds.WebDataset(urls, shardshuffle=False).decode()]
    ids = [m["program"]["id"] for m in metas]
    assert all(i.startswith("generated/1/") for i in ids)
    # Two blocks of 3 programs x 4 samples: each shard holds one block, each program 4 samples.
    assert len(set(ids[:12])) == 3 and set(ids[:12]).isdisjoint(ids[12:])
    failures = sum(manifest["failures"].values())
    assert failures or sorted(Counter(ids).values()) == [4] * 6


def test_the_summary_line_counts_honestly(make_recipe, tmp_path: Path):
    """One shard is `1 shard`, and a resume with nothing left says so instead of `0 samples/s`."""
    recipe = load_recipe(make_recipe(count=4, shard={"samples": 4}, views=1))
    out = tmp_path / "out"
    line = render_corpus(recipe, str(out)).line()
    assert " 4 samples (4 images) in 1 shard to " in line and "samples/s" in line
    (out / "manifest.json").unlink()  # every shard is committed: the resume renders nothing
    again = render_corpus(recipe, str(out)).line()
    assert "nothing left to render, 1 shard kept from an earlier run" in again and "0 samples/s" not in again
