"""Shared fixtures, and the markers that follow from them (plain helpers are in helpers.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from .helpers import BASE_RECIPE, PROGRAMS, _free_port, merge

# Tests that use these fixtures get the marker, so that `-m "not s3"` or `-m "not gl"` leaves out
# every test needing the moto server or an OpenGL context without each test saying so.
# `program_dir` holds shader programs (and `make_recipe`, which uses it, writes shader recipes);
# `shader_corpus` renders one.
FIXTURE_MARKERS = {"s3_server": "s3", "s3_bucket": "s3", "program_dir": "gl", "shader_corpus": "gl"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for marker in sorted({marker for fixture, marker in FIXTURE_MARKERS.items() if fixture in used}):
            item.add_marker(marker)


@pytest.fixture
def program_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "programs"
    folder.mkdir()
    for name, code in PROGRAMS.items():
        (folder / name).write_text(code)
    return folder


@pytest.fixture
def make_recipe(tmp_path: Path, program_dir: Path):
    """Write a recipe file next to `programs/` from BASE_RECIPE plus changes; returns its path."""

    def make(name: str = "recipe.yaml", **changes: Any) -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(merge(BASE_RECIPE, changes)))
        return path

    return make


@pytest.fixture
def one_torch_thread():
    """For tests of tiny tensors: intra-op threads only add overhead there, and on a busy 2-core
    machine their waking cost milliseconds per op (tests ran 50x slower). Restored afterwards."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def shader_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished corpus of 20 samples of 2 views at 32x32 in uneven shards (8, 8, 4), labelled
    (`cls`) by program: rendered once per test session, to be read, never written."""
    from synthgen.recipe import load_recipe
    from synthgen.render import render_corpus

    root = tmp_path_factory.mktemp("shader-corpus")
    (root / "programs").mkdir()
    for name, code in PROGRAMS.items():
        (root / "programs" / name).write_text(code)
    (root / "recipe.yaml").write_text(yaml.safe_dump(BASE_RECIPE))
    render_corpus(load_recipe(root / "recipe.yaml"), str(root / "out"))
    return root / "out"


@pytest.fixture(scope="session")
def s3_server():
    """An S3-compatible server (moto) on 127.0.0.1, reached over a real socket; yields its URL."""
    moto_server = pytest.importorskip("moto.moto_server.threaded_moto_server")
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_server: str, monkeypatch: pytest.MonkeyPatch):
    """A fresh bucket on the test server; yields (bucket name, storage options for fsspec)."""
    import uuid

    import boto3

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    bucket = f"corpus-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1").create_bucket(Bucket=bucket)
    yield bucket, {"endpoint_url": s3_server}
