"""One writer per destination, only synthgen's own files, checked resumes (issue 19: D1-D4, D9,
D10, C3, C9). The concurrency tests run two real processes: a `synthgen` command in a child
process holds the destination while this process tries to write there too."""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fsspec
import pytest
from click.testing import CliRunner

from synthgen.cli import cli
from synthgen.corpus import lock as lock_module
from synthgen.corpus.lock import LOCK_NAME, DestinationBusy, hold_destination
from synthgen.corpus.storage import TEMP_PREFIX, Destination
from synthgen.errors import CorpusError, RecipeError, StorageError, WorkerError
from synthgen.recipe import load_recipe
from synthgen.render import render_corpus
from synthgen.render.plan import MAX_SHARDS, plan_shards
from synthgen.train.checkpoints import CheckpointError

NOISE = """
name: own-noise
count: {count}
seed: {seed}
views: {views}
image: {{size: {size}, format: jpg, quality: 90}}
shard: {{samples: {per_shard}}}
source: {{kind: noise, model: spectrum}}
"""


@pytest.fixture
def noise_recipe(tmp_path: Path) -> Callable[..., Path]:
    """Write a noise recipe (no GL, renders in milliseconds); returns its path."""

    def make(name: str = "noise", count: int = 24, seed: int = 0, views: int = 1, size: int = 16, per_shard: int = 6):
        path = tmp_path / f"{name}.yaml"
        path.write_text(NOISE.format(count=count, seed=seed, views=views, size=size, per_shard=per_shard))
        return path

    return make


def corpus_bytes(folder: Path) -> dict[str, bytes]:
    """The shards and the manifest (sidecars also record render seconds, which vary)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix == ".tar" or p.name == "manifest.json"}


def whole(fs: Any, root: str, recipe_sha256: str) -> int:
    """Every shard of the manifest is there, of its size and sha256, and of `recipe_sha256`."""
    fs.invalidate_cache()
    manifest = json.loads(fs.cat_file(f"{root}/manifest.json"))
    assert manifest["recipe_sha256"] == recipe_sha256
    for entry in manifest["shardlist"]:
        data = fs.cat_file(f"{root}/{entry['url']}")
        assert (len(data), hashlib.sha256(data).hexdigest()) == (entry["filesize"], entry["sha256"]), entry["url"]
        sidecar = json.loads(fs.cat_file(f"{root}/{entry['url'][:-4]}.json"))
        assert sidecar["recipe_sha256"] == recipe_sha256
    return len(manifest["shardlist"])


def spawn(*args: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "synthgen", *args, "--quiet"]
    env = {k: v for k, v in os.environ.items() if k != "SYNTHGEN_FAILPOINT"}
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for_holder(read: Callable[[], bytes | None], process: subprocess.Popen, timeout: float = 120) -> dict:
    """The lock note of `process`, once it holds the lock."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            note = json.loads(read() or b"null")
        except ValueError:  # read while being written
            note = None
        if isinstance(note, dict) and note.get("pid") == process.pid:
            return note
        time.sleep(0.02)
    raise AssertionError("the child never took the lock")


def local_note(folder: Path) -> Callable[[], bytes | None]:
    def read() -> bytes | None:
        try:
            return (folder / LOCK_NAME).read_bytes()
        except OSError:
            return None

    return read


def busy_line(url: str, pid: int, tail: str = "wait for it, or pass --force if it is dead") -> str:
    return rf"^{url}: another synthgen run \(pid {pid} on [^ ]+, since [0-9T:-]+Z\) is writing here; {tail}$"


# -- D1, D2: one writer per local folder -------------------------------------------------------------


@pytest.mark.slow
def test_a_second_render_into_a_folder_being_written_is_refused_and_the_first_ends_whole(noise_recipe, tmp_path):
    first = noise_recipe("first", count=1200, per_shard=30)
    other = noise_recipe("other", count=24, seed=5)
    out = tmp_path / "corpus"
    child = spawn("render", str(first), "--out", str(out))
    note = wait_for_holder(local_note(out), child)
    assert note["purpose"] == "render"
    # A different recipe (D1), and the same one a moment later (D2): both refused, nothing touched.
    with pytest.raises(DestinationBusy, match=busy_line(str(out), child.pid)):
        render_corpus(load_recipe(other), str(out))
    same = CliRunner().invoke(cli, ["render", str(first), "--out", str(out), "--quiet"])
    assert same.exit_code == 2
    assert same.output.count("\n") == 1 and "is writing here; wait for it, or pass --force" in same.output
    _, stderr = child.communicate(timeout=300)
    assert child.returncode == 0, stderr
    assert whole(fsspec.filesystem("file"), str(out), load_recipe(first).sha256) == 40
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []  # no lock, no temporary


@pytest.mark.slow
def test_a_killed_render_leaves_no_lock_and_the_next_one_resumes(noise_recipe, tmp_path):
    recipe = noise_recipe(count=3000, per_shard=30)
    out = tmp_path / "corpus"
    child = spawn("render", str(recipe), "--out", str(out))
    wait_for_holder(local_note(out), child)
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=60)
    # The OS released the flock with its process: no --force, no waiting.
    summary = render_corpus(load_recipe(recipe), str(out))
    assert not summary.already_complete
    assert whole(fsspec.filesystem("file"), str(out), load_recipe(recipe).sha256) == 100


def test_a_run_removes_only_its_own_temporaries(tmp_path: Path):
    ours, theirs = Destination(tmp_path, run_id="aaaa"), Destination(tmp_path, run_id="bbbb")
    for dest in (ours, theirs):
        (tmp_path / f"{TEMP_PREFIX}{dest.run_id}-0000-shard-000000.tar").write_bytes(b"half")
    ours.remove_temporaries(all_runs=False)
    assert [p.name for p in tmp_path.iterdir()] == [f"{TEMP_PREFIX}bbbb-0000-shard-000000.tar"]
    with ours.staging("shard-000001.tar") as out:  # staged under this run's id
        assert Path(out.name).name.startswith(f"{TEMP_PREFIX}aaaa-")
        out.write(b"x")


def test_lock_force_replaces_a_held_local_lock(tmp_path: Path):
    with hold_destination(Destination(tmp_path)) as first:
        with pytest.raises(DestinationBusy, match=busy_line(str(tmp_path), os.getpid())):
            with hold_destination(Destination(tmp_path)):
                pass
        with hold_destination(Destination(tmp_path), force=True) as second:
            assert json.loads((tmp_path / LOCK_NAME).read_text())["owner"] == second.owner != first.owner
            second.check()
            with pytest.raises(CorpusError, match="took this destination's lock over"):
                first.check()  # the run whose lock was broken stops at its next shard
    assert not (tmp_path / LOCK_NAME).exists()


# -- D1, D2 on object storage: a lock object with a heartbeat and an expiry ----------------------------


def s3_note(url: str, options: dict) -> Callable[[], bytes | None]:
    fs, root = fsspec.core.url_to_fs(url, **options)

    def read() -> bytes | None:
        try:
            fs.invalidate_cache()
            return fs.cat_file(f"{root}/{LOCK_NAME}")
        except FileNotFoundError:
            return None

    return read


@pytest.mark.slow
def test_a_second_render_into_a_prefix_being_written_is_refused_until_force(noise_recipe, s3_bucket):
    bucket, options = s3_bucket
    url = f"s3://{bucket}/corpus"
    recipe = noise_recipe(count=3000, per_shard=30)
    other = load_recipe(noise_recipe("other", count=24, seed=5))
    child = spawn("render", str(recipe), "--out", url, "--storage-option", f"endpoint_url={options['endpoint_url']}")
    note = wait_for_holder(s3_note(url, options), child)
    assert note["expires_after"] == lock_module.EXPIRY_S
    with pytest.raises(DestinationBusy, match=busy_line(url, child.pid)):
        render_corpus(other, url, storage_options=options)
    # A dead run's lock object stays until it expires: still refused, then broken with --force.
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=60)
    with pytest.raises(DestinationBusy, match=busy_line(url, child.pid)):
        render_corpus(other, url, storage_options=options, overwrite=True)
    render_corpus(other, url, storage_options=options, overwrite=True, force=True)
    fs, root = fsspec.core.url_to_fs(url, **options)
    assert whole(fs, root, other.sha256) == 4
    assert s3_note(url, options)() is None  # released


def test_an_expired_lock_object_is_taken_over_and_a_live_one_is_renewed(s3_bucket, monkeypatch, caplog):
    bucket, options = s3_bucket
    dest = Destination(f"s3://{bucket}/corpus", options)
    stale = {"owner": "dead", "pid": 1, "host": "elsewhere", "since": "2026-01-01T00:00:00Z", "heartbeat": 0}
    dest.write_bytes(LOCK_NAME, json.dumps(stale).encode())
    monkeypatch.setattr(lock_module, "HEARTBEAT_S", 0.1)
    with hold_destination(dest) as held:
        assert "expired" in caplog.text
        # Two runs at the same moment: the conditional write lets one in.
        with pytest.raises(DestinationBusy):
            with hold_destination(Destination(dest.url, options)):
                pass
        first = json.loads(dest.read_bytes(LOCK_NAME))
        deadline = time.monotonic() + 10
        while json.loads(dest.read_bytes(LOCK_NAME))["heartbeat"] == first["heartbeat"]:
            assert time.monotonic() < deadline, "no heartbeat"
            time.sleep(0.05)
        held.check()
        # Another run takes it over (--force): the heartbeat notices, and the holder stops.
        dest.write_bytes(LOCK_NAME, json.dumps(stale | {"heartbeat": time.time()}).encode())
        while held.lost is None:
            assert time.monotonic() < deadline, "the lost lock went unnoticed"
            time.sleep(0.05)
        with pytest.raises(CorpusError, match="took this destination's lock over"):
            held.check()
    assert json.loads(dest.read_bytes(LOCK_NAME))["owner"] == "dead"  # not ours to delete any more


def test_a_store_without_conditional_writes_still_has_one_writer():
    dest = Destination("memory://own/corpus")
    with hold_destination(dest):
        with pytest.raises(DestinationBusy, match=busy_line("memory://own/corpus", os.getpid())):
            with hold_destination(Destination("memory://own/corpus")):
                pass
    assert not dest.exists(LOCK_NAME)


def test_a_hostile_lock_note_is_shown_escaped():
    dest = Destination("memory://own/hostile")
    note = {"owner": "x", "pid": 7, "host": "\x1b]0;owned\x07\nerror: fake", "since": "now", "heartbeat": time.time()}
    dest.write_bytes(LOCK_NAME, json.dumps(note).encode())
    with pytest.raises(DestinationBusy) as refused:
        with hold_destination(dest):
            pass
    assert "\\x1b]0;owned\\x07\\nerror: fake" in str(refused.value) and "\x1b" not in str(refused.value)
    dest.remove(LOCK_NAME)


# -- D3: only synthgen's own files ---------------------------------------------------------------------


def write_foreign_webdataset(folder: Path, shards: int = 3) -> dict[str, bytes]:
    """A user's own WebDataset corpus in synthgen's names: `shard-%06d.tar`, no sidecars."""
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(shards):
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            for name, data in ((f"{k:04d}.cls", b"3"), (f"{k:04d}.json", b'{"label": 3}')):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        (folder / f"shard-{k:06d}.tar").write_bytes(buffer.getvalue())
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@pytest.mark.parametrize("overwrite", [False, True])
def test_another_tools_shards_are_named_and_left_alone(noise_recipe, tmp_path: Path, overwrite: bool):
    out = tmp_path / "theirs"
    before = write_foreign_webdataset(out)
    with pytest.raises(CorpusError) as refused:
        render_corpus(load_recipe(noise_recipe()), str(out), overwrite=overwrite)
    assert str(refused.value).startswith(
        f"{out}: holds files that are not synthgen's: shard-000000.tar, shard-000001.tar, shard-000002.tar"
    )
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@pytest.mark.parametrize("overwrite", [False, True])
def test_another_tools_manifest_is_named_as_such(noise_recipe, tmp_path: Path, overwrite: bool):
    out = tmp_path / "theirs"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"__kind__": "wids-shard-index-v1", "shardlist": []}))
    with pytest.raises(CorpusError, match=r"manifest\.json is not synthgen's \(its format is null") as refused:
        render_corpus(load_recipe(noise_recipe()), str(out), overwrite=overwrite)
    assert "damaged" not in str(refused.value) and "--overwrite" not in str(refused.value)
    assert (out / "manifest.json").exists()


def test_overwrite_deletes_only_synthgens_files(noise_recipe, tmp_path: Path):
    out = tmp_path / "corpus"
    render_corpus(load_recipe(noise_recipe()), str(out))
    (out / "notes.txt").write_text("mine")
    other = load_recipe(noise_recipe("other", seed=3, count=12))
    render_corpus(other, str(out), overwrite=True)
    assert (out / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in out.glob("shard-*.tar")) == ["shard-000000.tar", "shard-000001.tar"]
    assert whole(fsspec.filesystem("file"), str(out), other.sha256) == 2


def test_shards_of_a_render_killed_before_any_sidecar_are_its_own(noise_recipe, tmp_path: Path):
    recipe = load_recipe(noise_recipe())
    out = tmp_path / "corpus"
    render_corpus(recipe, str(out))
    clean = corpus_bytes(out)
    for path in [out / "manifest.json", *out.glob("shard-*.json")]:
        path.unlink()  # tars only, as a kill between each tar and its sidecar leaves them
    summary = render_corpus(recipe, str(out))
    assert summary.rendered_shards == 4 and corpus_bytes(out) == clean


@pytest.mark.parametrize("out", ["", ".", "./"])
def test_the_current_folder_is_refused(noise_recipe, tmp_path: Path, monkeypatch, out: str):
    recipe = noise_recipe()
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["render", str(recipe), "--out", out, "--quiet"])
    assert result.exit_code == 2
    assert result.output == f"error: --out {out!r}: that is the current folder; name a folder of its own for the " \
        "corpus (e.g. --out out/NAME)\n"  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["noise.yaml"]


# -- D4: resume checks what it keeps -------------------------------------------------------------------


def test_resume_rehashes_kept_shards_and_derives_their_urls(noise_recipe, tmp_path: Path):
    recipe = load_recipe(noise_recipe())
    out = tmp_path / "corpus"
    render_corpus(recipe, str(out))
    clean = corpus_bytes(out)
    (out / "manifest.json").unlink()
    swapped = bytearray((out / "shard-000001.tar").read_bytes())
    swapped[700] ^= 0xFF  # inside a member's data: same size, other bytes
    (out / "shard-000001.tar").write_bytes(bytes(swapped))
    sidecar = json.loads((out / "shard-000000.json").read_text())
    (out / "shard-000000.json").write_text(json.dumps(sidecar | {"url": "../clean/shard-000000.tar"}))

    # --trust-sizes keeps the swapped shard (as documented: sizes only)...
    trusting = render_corpus(recipe, str(out), trust_sizes=True)
    assert trusting.rendered_shards == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert [e["url"] for e in manifest["shardlist"]] == [f"shard-{k:06d}.tar" for k in range(4)]
    # ...the default re-reads every kept shard, and renders the swapped one again.
    (out / "manifest.json").unlink()
    summary = render_corpus(recipe, str(out))
    assert summary.rendered_shards == 1 and corpus_bytes(out) == clean


def test_the_manifest_is_not_written_over_shards_that_changed_during_the_render(noise_recipe, tmp_path, monkeypatch):
    from synthgen.render import driver

    recipe = load_recipe(noise_recipe())
    out = tmp_path / "corpus"
    real = driver.render_shard

    def and_clobber(recipe_: Any, dest: Destination, task: Any, *args: Any) -> Any:
        record = real(recipe_, dest, task, *args)
        if task.index == 3:  # a writer of another recipe that ignored the lock, before the manifest
            sidecar = json.loads((out / "shard-000000.json").read_text())
            (out / "shard-000000.json").write_text(json.dumps(sidecar | {"recipe_sha256": "f" * 64}))
        return record

    monkeypatch.setattr(driver, "render_shard", and_clobber)
    with pytest.raises(CorpusError, match="shard-000000.tar is not what this run committed"):
        render_corpus(recipe, str(out))
    assert not (out / "manifest.json").exists()


# -- C3: cleanup never hides the real error --------------------------------------------------------------


def test_a_failing_cleanup_does_not_replace_the_error(noise_recipe, tmp_path: Path, monkeypatch):
    out = tmp_path / "corpus"

    class Dies:
        def run(self, fn: Any, tasks: Any, on_progress: Any) -> Any:
            (out / f"{TEMP_PREFIX}{fn.keywords['run_id']}-0000-shard-000000.tar").write_bytes(b"half")
            raise WorkerError("a render worker process died abruptly")
            yield  # a generator, as executors are

    def read_only(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(os, "unlink", read_only)
    with pytest.raises(WorkerError, match="died abruptly"):
        render_corpus(load_recipe(noise_recipe()), str(out), executor=Dies())
    assert [p.name for p in out.glob(f"{TEMP_PREFIX}*")]  # the unlink failed, and said nothing
    # And inside a staged write: the write's error, not the unlink's.
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(errno.EIO, "I/O error")))
    with pytest.raises(StorageError, match=r"cannot write shard-000009.tar: \[Errno 5\] I/O error"):
        Destination(out).write_bytes("shard-000009.tar", b"data")


def _unshare() -> list[str] | None:
    for prefix in (["unshare", "-m"], ["unshare", "-Urm"]):
        try:
            if subprocess.run([*prefix, "true"], capture_output=True).returncode == 0:
                return prefix
        except FileNotFoundError:
            return None
    return None


def test_a_read_only_destination_is_one_line_naming_it(noise_recipe, tmp_path: Path):
    prefix = _unshare()
    if prefix is None:
        pytest.skip("no private mount namespace here (unshare): cannot mount a read-only filesystem")
    recipe, disk = noise_recipe(), tmp_path / "disk"
    disk.mkdir()
    script = (
        f"mount -t tmpfs tmpfs {disk} && mkdir {disk}/corpus && mount -o remount,ro {disk} && "
        f"{sys.executable} -m synthgen render {recipe} --out {disk}/corpus --quiet"
    )
    done = subprocess.run([*prefix, "sh", "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [f"error: {disk}/corpus: cannot write here: [Errno 30] Read-only file system: "
                                        f"'{disk}/corpus/{LOCK_NAME}'"]  # fmt: skip


# -- C9: planning is O(1) in the count -------------------------------------------------------------------


def test_an_absurd_plan_is_one_line_and_planning_takes_no_memory(noise_recipe, tmp_path: Path):
    with pytest.raises(RecipeError, match=r"^count 100000000000 with shard.samples 1 makes 100000000000 shards"):
        plan_shards(10**11, 1)
    tracemalloc.start()
    plan = plan_shards(MAX_SHARDS * 1000, 1000)
    assert len(plan) == MAX_SHARDS and plan[-1].stop == MAX_SHARDS * 1000 and plan[7].start == 7000
    assert sum(1 for _ in zip(plan, range(1000), strict=False)) == 1000
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 100_000, peak
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["render", str(noise_recipe()), "--out", str(out), "--count", "100000000000", "--set", "shard.samples=1"]
    )
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert "count 100000000000 with shard.samples 1" in result.output and not out.exists()


# -- D9, D10: a training run's folder and data ------------------------------------------------------------

TINY_TRAIN = [
    "model.arch=resnet18",
    "model.stem=imagenet",
    "model.width=8",
    "data.batch_size=8",
    "data.epoch_samples=16",
    "data.workers=0",
    "data.shuffle_buffer=8",
    "augment.size=16",
    "augment.preset=none",
    "method.name=simclr",
    "method.head.hidden=16",
    "method.head.out=8",
    "log_every=1",
]


@pytest.mark.slow
def test_resume_refuses_another_corpus_at_the_same_path(noise_recipe, tmp_path: Path, one_torch_thread):
    from synthgen.train.config import load_train_config
    from synthgen.train.loop import train

    corpus, run = tmp_path / "corpus", tmp_path / "run"
    render_corpus(load_recipe(noise_recipe(views=2, count=16, per_shard=8)), str(corpus))
    config = load_train_config(None, ["epochs=2", *TINY_TRAIN], [str(corpus)])
    train(config, run, stop_after=1)
    assert json.loads((run / "corpora.json").read_text())[0]["spec"] == str(corpus)

    render_corpus(load_recipe(noise_recipe(views=2, count=16, per_shard=8, seed=1)), str(corpus), overwrite=True)
    with pytest.raises(CheckpointError, match=rf"^{corpus}: not the corpus this run started on \(recipe [0-9a-f]{{12}} "
                       r"then, [0-9a-f]{12} now\); --resume goes on only with the same data"):  # fmt: skip
        train(config, run, resume=True)
    before = (run / "metrics.jsonl").read_text()
    # The same recipe, one shard's bytes changed (re-rendered elsewhere and copied in, say).
    render_corpus(load_recipe(noise_recipe(views=2, count=16, per_shard=8)), str(corpus), overwrite=True)
    manifest = json.loads((corpus / "manifest.json").read_text())
    manifest["shardlist"][1]["sha256"] = "0" * 64
    (corpus / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match="its shards differ from those the run started on"):
        train(config, run, resume=True)
    assert (run / "metrics.jsonl").read_text() == before


@pytest.mark.slow
def test_a_second_training_run_into_one_folder_is_refused_in_one_line(noise_recipe, tmp_path: Path):
    from synthgen.train.config import load_train_config
    from synthgen.train.loop import train

    corpus, run = tmp_path / "corpus", tmp_path / "run"
    render_corpus(load_recipe(noise_recipe(views=2, count=16, per_shard=8)), str(corpus))
    sets = [arg for item in ["epochs=1000", *TINY_TRAIN] for arg in ("--set", item)]
    child = spawn("train", "--data", str(corpus), "--out", str(run), *sets)
    wait_for_holder(local_note(run), child)
    deadline = time.monotonic() + 120
    while not (run / "metrics.jsonl").is_file() or not (run / "metrics.jsonl").read_text():
        assert child.poll() is None and time.monotonic() < deadline, child.communicate()
        time.sleep(0.05)
    config = load_train_config(None, ["epochs=1", *TINY_TRAIN], [str(corpus)])
    try:
        busy = busy_line(str(run), child.pid, "wait for it to end, or choose another --out")
        with pytest.raises(DestinationBusy, match=busy):
            train(config, run)
        cli_run = CliRunner().invoke(cli, ["train", "--data", str(corpus), "--out", str(run), *sets, "--quiet"])
        assert cli_run.exit_code == 2 and cli_run.output.count("\n") == 1, cli_run.output
        assert "is writing here; wait for it to end, or choose another --out" in cli_run.output
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=60)
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, len(steps) + 1))  # one run's lines only
