"""Shared test helpers: small programs that compile fast, and recipe files built from dicts."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

# Cheap programs: each compiles in milliseconds on llvmpipe and fills the canvas with colour.
PROGRAMS = {
    "gradient.frag": """// name: gradient
// tags: palette, test
void mainImage(out vec4 fragColor, in vec2 fragCoord) {
    vec2 uv = fragCoord / iResolution.xy;
    fragColor = vec4(0.5 + 0.5 * cos(iTime + uv.xyx * 6.0 + vec3(0.0, 2.0, 4.0)), 1.0);
}
""",
    "rings.frag": """// name: rings
// tags: rings, test
void mainImage(out vec4 fragColor, in vec2 fragCoord) {
    vec2 p = (2.0 * fragCoord - iResolution.xy) / iResolution.y;
    float r = length(p);
    fragColor = vec4(0.5 + 0.5 * sin(20.0 * r - 3.0 * iTime), 0.5 + 0.5 * cos(7.0 * p.x + iTime), r, 1.0);
}
""",
    "checker.glsl": """// name: checker
void mainImage(out vec4 fragColor, in vec2 fragCoord) {
    vec2 cell = floor(fragCoord / 4.0 + iTime);
    float c = mod(cell.x + cell.y, 2.0);
    fragColor = vec4(c, 1.0 - c, fract(iTime), 1.0);
}
""",
}

BROKEN_PROGRAM = """// name: broken
void mainImage(out vec4 fragColor, in vec2 fragCoord) {
    fragColor = vec4(undefined_symbol, 1.0);
}
"""

BASE_RECIPE: dict[str, Any] = {
    "name": "test-corpus",
    "count": 20,
    "seed": 7,
    "views": 2,
    "image": {"size": 32, "format": "png"},
    "shard": {"samples": 8},
    "source": {"kind": "shader", "programs": ["programs"], "time": {"min": 0.5, "max": 5.0}},
}


@pytest.fixture
def program_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "programs"
    folder.mkdir()
    for name, code in PROGRAMS.items():
        (folder / name).write_text(code)
    return folder


def merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of `base` with `changes` merged in (nested dicts merged, other values replaced)."""
    result = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


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
    render_corpus(load_recipe(root / "recipe.yaml"), str(root / "out"), progress=False)
    return root / "out"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


def read_back(folder: Path, decode: str = "rgb") -> list[dict[str, Any]]:
    """Every sample of a finished local corpus, in order, read with webdataset and decoded."""
    import json

    import webdataset as wds

    manifest = json.loads((folder / "manifest.json").read_text())
    urls = [str(folder / shard["url"]) for shard in manifest["shardlist"]]
    return list(wds.WebDataset(urls, shardshuffle=False).decode(decode))


def specs(indices: Any, views: int = 1, seed: int = 0) -> list:
    """Sample specs for `indices` of a recipe with this seed (attempt 0)."""
    from synthgen.seeds import sample_seed
    from synthgen.sources.base import SampleSpec

    return [SampleSpec(i, sample_seed(seed, i), 0, views) for i in indices]


def rendered(source: Any, batch: list) -> list:
    """A source's results for `batch`, asserting that every sample rendered."""
    from synthgen.sources.base import RenderedSample

    results = source.render(batch)
    assert all(isinstance(result, RenderedSample) for result in results), results
    return results
