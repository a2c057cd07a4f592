"""Images/s of `synthgen render` against a bare render loop, in one invocation.

The bare loop is what a user would write by hand: moderngl renders the same programs at the same
size in-process, and Pillow encodes JPEG, with no tar, metadata, checks, watchdog or commit.
Both sides render exactly the same frames (synthgen's `ProgramSampler`), include context creation
and program compilation, and use the same number of processes. Runs alternate (bare, synthgen,
bare, ...) and the median of `--reps` is reported, because the machines are noisy.

    python bench/bench_render.py --count 2000 --size 256 --workers 1 2
    python bench/bench_render.py --programs library
    python bench/bench_render.py --programs generate:21000 --count 20000
"""

from __future__ import annotations

import argparse
import io
import multiprocessing as mp
import os
import platform
import statistics
import tempfile
import time
from typing import Any

import numpy as np
from PIL import Image

from synthgen.recipe import Recipe, parse_recipe
from synthgen.render import render_corpus
from synthgen.seeds import sample_seed
from synthgen.sources.base import SampleSpec
from synthgen.sources.shader.gl import ShaderRenderer
from synthgen.sources.shader.programs import load_program_set
from synthgen.sources.shader.source import ProgramSampler


def program_section(programs: str) -> dict[str, Any]:
    """`starter`, `library` or `generate:N` as the recipe's program set and sampling."""
    if programs.startswith("generate:"):
        return {"programs": [{"generate": int(programs.split(":")[1])}], "sampling": {"mode": "blocked"}}
    return {"programs": [programs]}


def bench_recipe(count: int, size: int, quality: int, workers: int, programs: str) -> Recipe:
    return parse_recipe(
        {
            "name": "bench-shaders",
            "count": count,
            "views": 1,
            "image": {"size": size, "format": "jpg", "quality": quality},
            "shard": {"samples": max(1, count // (4 * workers))},
            "source": {"kind": "shader", **program_section(programs)},
        }
    )


def bare_worker(args: tuple[Recipe, int, int]) -> int:
    """Render images [start, stop) with moderngl and encode them with Pillow; no checks."""
    recipe, start, stop = args
    programs = load_program_set(recipe.source.programs).programs
    sampler = ProgramSampler(recipe.source, len(programs), recipe.seed, recipe.count)
    renderer = ShaderRenderer(recipe.image.width, recipe.image.height)
    for i in range(start, stop):
        index, times = sampler.draw(SampleSpec(i, sample_seed(recipe.seed, i), 0, 1))
        program = programs[index]
        image = renderer.render(renderer.compile(program.id, program.code), times[0])
        Image.fromarray(image).save(io.BytesIO(), format="JPEG", quality=recipe.image.quality)
    renderer.close()
    return stop - start


def run_bare(recipe: Recipe, workers: int) -> float:
    bounds = np.linspace(0, recipe.count, workers + 1).astype(int)
    chunks = [(recipe, int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    started = time.perf_counter()
    if workers == 1:
        bare_worker(chunks[0])
    else:
        with mp.get_context("spawn").Pool(workers) as pool:
            pool.map(bare_worker, chunks)
    return recipe.count / (time.perf_counter() - started)


def run_synthgen(recipe: Recipe, workers: int) -> float:
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        render_corpus(recipe, out, workers=workers)
        return recipe.count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=2000, help="images per run")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--quality", type=int, default=95)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--programs", default="starter", help="starter, library or generate:N")
    args = parser.parse_args()

    renderer = ShaderRenderer(8, 8)
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, GL renderer: {renderer.renderer_name}")
    renderer.close()
    print(
        f"programs: {args.programs}; {args.count} images per run, {args.size}x{args.size} jpg q{args.quality}, "
        f"median of {args.reps}\n"
    )
    print("| workers | bare loop img/s | synthgen img/s | synthgen / bare |")
    print("|---|---|---|---|")
    for workers in args.workers:
        recipe = bench_recipe(args.count, args.size, args.quality, workers, args.programs)
        bare, ours = [], []
        for _ in range(args.reps):
            bare.append(run_bare(recipe, workers))
            ours.append(run_synthgen(recipe, workers))
        b, s = statistics.median(bare), statistics.median(ours)
        print(f"| {workers} | {b:.0f} | {s:.0f} | {s / b:.2f} |", flush=True)


if __name__ == "__main__":
    main()
