"""Remote destinations against a real S3-compatible server (moto) on 127.0.0.1, and Ray."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import fsspec
import pytest
import webdataset as wds
from click.testing import CliRunner

from synthgen.cli import cli
from synthgen.corpus import storage
from synthgen.corpus.push import push_corpus
from synthgen.errors import StorageError
from synthgen.recipe import load_recipe
from synthgen.render import render_corpus

from .helpers import _free_port


def local_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix == ".tar" or p.name == "manifest.json"}


def remote_bytes(url: str, options: dict) -> dict[str, bytes]:
    fs, root = fsspec.core.url_to_fs(url, **options)
    fs.invalidate_cache()
    names = [p.rsplit("/", 1)[1] for p in fs.ls(root, detail=False)]
    return {n: fs.cat_file(f"{root}/{n}") for n in sorted(names) if n.endswith(".tar") or n == "manifest.json"}


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_render_to_s3_resumes_and_reads_back_with_webdataset(make_recipe, s3_bucket, tmp_path: Path):
    bucket, options = s3_bucket
    recipe = load_recipe(make_recipe(image={"format": "jpg"}))
    url = f"s3://{bucket}/corpus"
    render_corpus(recipe, url, storage_options=options)
    render_corpus(recipe, str(tmp_path / "local"))
    assert remote_bytes(url, options) == local_bytes(tmp_path / "local")

    storage.register_webdataset_opener(options)
    manifest = json.loads(fsspec.open(f"{url}/manifest.json", **options).open().read())
    samples = list(
        wds.WebDataset([f"{url}/{s['url']}" for s in manifest["shardlist"]], shardshuffle=False).decode("rgb")
    )
    assert [s["__key__"] for s in samples] == [f"{i:012d}" for i in range(20)]
    assert samples[0]["jpg"].shape == (32, 32, 3) and "view1.jpg" in samples[0]

    # An interrupted remote render (no manifest, one shard never committed) resumes.
    fs, root = fsspec.core.url_to_fs(url, **options)
    fs.rm_file(f"{root}/manifest.json")
    fs.rm_file(f"{root}/shard-000001.json")
    summary = render_corpus(recipe, url, storage_options=options)
    assert summary.rendered_shards == 1
    assert remote_bytes(url, options) == local_bytes(tmp_path / "local")


def test_push_then_verify_and_a_killed_push_resumes(make_recipe, s3_bucket, tmp_path: Path):
    bucket, options = s3_bucket
    local = tmp_path / "local"
    render_corpus(load_recipe(make_recipe()), str(local))
    url = f"s3://{bucket}/pushed"

    class Killed(Exception):
        pass

    def die_after_three(name: str, size: int) -> None:
        if name == "shard-000001.tar":
            raise Killed

    with pytest.raises(Killed):
        push_corpus(str(local), url, options, on_file=die_after_three)
    assert not remote_bytes(url, options).get("manifest.json")
    summary = push_corpus(str(local), url, options)
    # Shard 1's tar went up before the interruption; its sidecar and the manifest had not.
    # 3 shards, 3 sidecars, the card and the manifest.
    assert summary.uploaded + summary.skipped == 8 and summary.skipped >= 1 and summary.uploaded >= 2
    assert remote_bytes(url, options) == local_bytes(local)
    assert push_corpus(str(local), url, options).uploaded == 0

    ok = invoke("verify", url, "--decode", "--storage-option", f"endpoint_url={options['endpoint_url']}")
    assert ok.exit_code == 0, ok.output
    assert "whole: 3 shards, 20 samples verified" in ok.output


def test_verify_names_a_corrupt_remote_shard_and_render_repairs_it(make_recipe, s3_bucket, tmp_path: Path):
    bucket, options = s3_bucket
    recipe_path = make_recipe()
    url = f"s3://{bucket}/damaged"
    render_corpus(load_recipe(recipe_path), url, storage_options=options)
    clean = remote_bytes(url, options)
    fs, root = fsspec.core.url_to_fs(url, **options)
    damaged = bytearray(clean["shard-000002.tar"])
    damaged[600] ^= 0xFF  # inside the first member's data: same size, other bytes
    fs.pipe_file(f"{root}/shard-000002.tar", bytes(damaged))

    endpoint = f"endpoint_url={options['endpoint_url']}"
    result = invoke("verify", url, "--repair", "--storage-option", endpoint)
    assert result.exit_code == 1
    assert "shard-000002.tar: sha256 differs from the manifest: the shard is damaged" in result.output
    assert "uncommitted 1 shards" in result.output
    rendered = invoke("render", str(recipe_path), "--out", url, "--quiet", "--storage-option", endpoint)
    assert rendered.exit_code == 0, rendered.output
    assert "2 shards kept from an earlier run" in rendered.output
    assert remote_bytes(url, options) == clean
    assert invoke("verify", url, "--storage-option", endpoint).exit_code == 0


def test_missing_bucket_and_unreachable_endpoint_are_one_clear_line(make_recipe, s3_bucket, monkeypatch):
    _, options = s3_bucket
    monkeypatch.setattr(storage, "RETRY_DELAYS", (0.05,))
    recipe = str(make_recipe())
    missing = invoke(
        "render",
        recipe,
        "--out",
        "s3://no-such-bucket/x",
        "--storage-option",
        f"endpoint_url={options['endpoint_url']}",
    )
    assert missing.exit_code == 2
    assert (
        missing.output.strip()
        == "error: s3://no-such-bucket/x: the bucket 'no-such-bucket' does not exist (create it first)"
    )

    fast = '{"connect_timeout": 1, "retries": {"max_attempts": 1}}'
    closed = invoke(
        "render",
        recipe,
        "--out",
        "s3://bucket/x",
        "--storage-option",
        f"endpoint_url=http://127.0.0.1:{_free_port()}",
        "--storage-option",
        f"config_kwargs={fast}",
    )
    assert closed.exit_code == 2
    assert closed.output.count("\n") == 1 and "Could not connect to the endpoint URL" in closed.output


@pytest.mark.s3
@pytest.mark.slow
def test_wrong_credentials_are_one_clear_line(make_recipe, tmp_path: Path, monkeypatch):
    # A second server that checks credentials: every key is unknown to it.
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env={**__import__("os").environ, "INITIAL_NO_AUTH_ACTION_COUNT": "0"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                __import__("urllib.request").request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
            except Exception as err:  # a 403 answer means it is up
                if "403" in str(err) or "Forbidden" in str(err):
                    break
                time.sleep(0.2)
        for name, value in {
            "AWS_ACCESS_KEY_ID": "wrong",
            "AWS_SECRET_ACCESS_KEY": "wrong",
            "AWS_DEFAULT_REGION": "us-east-1",
        }.items():
            monkeypatch.setenv(name, value)
        result = invoke(
            "render",
            str(make_recipe()),
            "--out",
            "s3://bucket/x",
            "--storage-option",
            f"endpoint_url=http://127.0.0.1:{port}",
        )
        assert result.exit_code == 2
        assert result.output.count("\n") == 1
        assert "access denied" in result.output and "check the credentials" in result.output
        assert "wrong" not in result.output  # no secret is ever printed
    finally:
        server.kill()
        server.wait()


def test_a_store_that_keeps_failing_gives_up_with_a_clear_error(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(storage, "RETRY_DELAYS", (0.01, 0.01))
    dest = storage.Destination("memory://flaky")
    calls = []

    def flaky():
        calls.append(1)
        raise ConnectionResetError("Connection reset by peer")

    with pytest.raises(StorageError, match="memory://flaky: cannot upload x: Connection reset by peer"):
        dest.retrying("upload x", flaky)
    assert len(calls) == 3  # the first try and two retries

    def throttled_then_fine():
        calls.append(1)
        if len(calls) < 5:
            raise OSError("503 SlowDown: please reduce your request rate")
        return "done"

    assert dest.retrying("upload x", throttled_then_fine) == "done"


@pytest.mark.ray
@pytest.mark.slow
def test_a_ray_render_is_byte_identical_to_the_local_one(make_recipe, tmp_path: Path):
    ray = pytest.importorskip("ray")
    from synthgen.render.executors import RayExecutor

    recipe = load_recipe(make_recipe(image={"format": "jpg"}))
    render_corpus(recipe, str(tmp_path / "local"))
    ray.init(num_cpus=2, include_dashboard=False, logging_level="error")
    try:
        progress = []
        from synthgen import render as render_module

        summary = render_corpus(recipe, str(tmp_path / "ray"), executor=RayExecutor())
        assert summary.rendered_shards == 3
        del progress, render_module
    finally:
        ray.shutdown()
    assert local_bytes(tmp_path / "ray") == local_bytes(tmp_path / "local")


def test_the_ray_executor_without_ray_says_how_to_install_it(make_recipe, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    result = invoke("render", str(make_recipe()), "--out", "unused", "--executor", "ray")
    assert result.exit_code == 2
    assert result.output.strip() == "error: --executor ray needs Ray: pip install 'synthgen[ray]'"
