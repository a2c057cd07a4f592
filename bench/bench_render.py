"""Images/s of `synthgen render` against a bare render loop, in one invocation.

The bare loop is what a user would write by hand: moderngl renders the same starter programs at
the same size, and Pillow encodes JPEG, with no tar, metadata, checks or commit. Both sides
include context creation and program compilation, and both use the same number of processes.
Runs alternate (bare, synthgen, bare, ...) and the median of `--reps` is reported, because the
machines are noisy.

    python bench/bench_render.py --count 2000 --size 256 --workers 1 2
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

import numpy as np
from PIL import Image

from synthgen.recipe import Recipe, parse_recipe
from synthgen.render import render_corpus
from synthgen.seeds import sample_seed
from synthgen.sources.base import SampleSpec
from synthgen.sources.shader.gl import ShaderRenderer
from synthgen.sources.shader.programs import load_program_set
from synthgen.sources.shader.source import ProgramSampler


def bench_recipe(count: int, size: int, quality: int, workers: int) -> Recipe:
    return parse_recipe(
        {
            "name": "bench-starter",
            "count": count,
            "views": 1,
            "image": {"size": size, "format": "jpg", "quality": quality},
            "shard": {"samples": max(1, count // (4 * workers))},
            "source": {"kind": "shader", "programs": ["starter"]},
        }
    )


def bare_worker(args: tuple[Recipe, int, int]) -> int:
    """Render images [start, stop) with moderngl and encode them with Pillow; no checks.

    In-process GL (no watchdog), no tar, metadata or commit. The program and iTime of image i
    are synthgen's (`ProgramSampler`), so both sides render exactly the same frames.
    """
    recipe, start, stop = args
    programs = load_program_set(recipe.source.programs).programs
    sampler = ProgramSampler(recipe.source, len(programs), recipe.seed, recipe.count)
    renderer = ShaderRenderer(recipe.image.width, recipe.image.height)
    for i in range(start, stop):
        index, times = sampler.draw(SampleSpec(i, sample_seed(recipe.seed, i), 0, 1))
        program = programs[index]
        image = renderer.render(renderer.compile(program.id, program.code), times[0])
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="JPEG", quality=recipe.image.quality)
    renderer.close()
    return stop - start


def run_bare(count: int, size: int, quality: int, workers: int) -> float:
    recipe = bench_recipe(count, size, quality, workers)
    bounds = np.linspace(0, count, workers + 1).astype(int)
    chunks = [(recipe, int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    started = time.perf_counter()
    if workers == 1:
        bare_worker(chunks[0])
    else:
        with mp.get_context("spawn").Pool(workers) as pool:
            pool.map(bare_worker, chunks)
    return count / (time.perf_counter() - started)


def run_synthgen(count: int, size: int, quality: int, workers: int) -> float:
    recipe = bench_recipe(count, size, quality, workers)
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        render_corpus(recipe, out, workers=workers, progress=False)
        return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=2000, help="images per run")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--quality", type=int, default=95)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()

    renderer = ShaderRenderer(8, 8)
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, GL renderer: {renderer.renderer_name}")
    renderer.close()
    print(f"{args.count} images per run, {args.size}x{args.size} jpg q{args.quality}, median of {args.reps}\n")
    print("| workers | bare loop img/s | synthgen img/s | synthgen / bare |")
    print("|---|---|---|---|")
    for workers in args.workers:
        bare, ours = [], []
        for _ in range(args.reps):
            bare.append(run_bare(args.count, args.size, args.quality, workers))
            ours.append(run_synthgen(args.count, args.size, args.quality, workers))
        b, s = statistics.median(bare), statistics.median(ours)
        print(f"| {workers} | {b:.0f} | {s:.0f} | {s / b:.2f} |", flush=True)


if __name__ == "__main__":
    main()
