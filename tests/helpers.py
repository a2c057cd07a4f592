"""Plain helpers that tests import (`from .helpers import ...`): small programs that compile fast,
the base recipe the `make_recipe` fixture builds on, and functions to read a corpus back or render
a batch. Fixtures live in conftest.py."""

from __future__ import annotations

import concurrent.futures as cf
import copy
import json
import multiprocessing as mp
import socket
import tarfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

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


def merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of `base` with `changes` merged in (nested dicts merged, other values replaced)."""
    result = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def read_back(folder: Path, decode: str = "rgb") -> list[dict[str, Any]]:
    """Every sample of a finished local corpus, in order, read with webdataset and decoded."""
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


def read_fields(folder: Path) -> dict[str, dict[str, bytes]]:
    """Every sample of a finished local corpus, in manifest order, undecoded: key -> {field: bytes}."""
    manifest = json.loads((folder / "manifest.json").read_text())
    samples: dict[str, dict[str, bytes]] = {}
    for shard in manifest["shardlist"]:
        with tarfile.open(folder / shard["url"]) as tar:
            for member in tar.getmembers():
                key, _, field = member.name.partition(".")
                samples.setdefault(key, {})[field] = tar.extractfile(member).read()  # type: ignore[union-attr]
    return samples


# The gan source's noise banks as tests/test_gan.py shrinks them: an untrained network's source
# then builds in milliseconds instead of seconds (oriented maps are drawn at 512 pixels otherwise).
SMALL_GAN_BANKS = {"NOISE_BANK_SIZE": 8, "ORIENTED_MAP_SIZE": 64}


def small_gan_banks(setattr_: Callable[[Any, str, Any], None] = setattr) -> None:
    """Shrink the gan source's noise banks (pass `monkeypatch.setattr` to have it undone)."""
    from synthgen.sources.gan import untrained

    for name, value in SMALL_GAN_BANKS.items():
        setattr_(untrained, name, value)


def _init_pool_worker() -> None:
    """A pool worker renders as the test process does: small gan banks, one torch thread."""
    import torch

    from synthgen.processes import die_with_parent

    die_with_parent()
    small_gan_banks()
    torch.set_num_threads(1)


def _render_pool_shard(fn: Callable[..., Any], task: Any) -> Any:
    from synthgen.render.driver import release_worker_sources

    # A source per shard, closed after it (GL render processes and shared frames included).
    with release_worker_sources():
        return fn(task, None, _ignore_progress)


def _ignore_progress(n: int) -> None:
    pass


class SpawnedPool:
    """An executor for render_corpus (synthgen.render.Executor) over `workers` spawned processes
    that live for many renders, unlike LocalExecutor's, which start (and import torch) per render.
    Shards run in the workers in any order; each task builds its source afresh."""

    def __init__(self, workers: int = 2) -> None:
        self._pool = cf.ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=_init_pool_worker)

    def run(self, fn: Callable[..., Any], tasks: Sequence[Any], on_progress: Callable[[int], None]) -> Iterator[Any]:
        futures = [self._pool.submit(_render_pool_shard, fn, task) for task in tasks]
        for future in cf.as_completed(futures):
            record = future.result()
            on_progress(record.nsamples)
            yield record

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)
