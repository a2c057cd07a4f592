"""Plain helpers that tests import (`from .helpers import ...`): small programs that compile fast,
the base recipe the `make_recipe` fixture builds on, and functions to read a corpus back or render
a batch. Fixtures live in conftest.py."""

from __future__ import annotations

import copy
import json
import socket
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
