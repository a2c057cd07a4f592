"""Images/s of the visualatom source on the CPU, at 64 and 256 pixels (VisualAtom-1k's ranges).

`torch`: VisualAtomSource.render on batches of `batch_size` samples, one view each: the
per-view numpy geometry (noise and contours) and the batched torch strokes, up to uint8 images
(no encoding). `pil`: the same contours (the same numpy geometry), stroked one image at a time
with PIL's ImageDraw.line, 1 pixel wide, as the released renderer strokes them (its own
geometry is a per-vertex Python loop, slower still). Runs alternate and the median of `--reps`
is reported, because the machines are noisy.

    PYTHONPATH=. python bench/bench_visualatom.py                 # 64 and 256, 1 torch thread
    PYTHONPATH=. python bench/bench_visualatom.py --sizes 512 --samples 32 --reps 3
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
import torch
from PIL import Image, ImageDraw

from synthgen.recipe import parse_recipe
from synthgen.seeds import sample_rng, sample_seed
from synthgen.sources import build_source
from synthgen.sources.base import SampleSpec
from synthgen.sources.visualatom.atoms import draw_instance


def recipe_at(size: int):
    return parse_recipe({
        "name": "bench-visualatom", "count": 1_000_000, "image": {"size": size, "format": "png"},
        "source": {"kind": "visualatom", "classes": 1000},
    })  # fmt: skip


def run_torch(source, specs: list[SampleSpec]) -> float:
    start = time.perf_counter()
    for first in range(0, len(specs), source.batch_size):
        source.render(specs[first : first + source.batch_size])
    return len(specs) / (time.perf_counter() - start)


def run_pil(source, specs: list[SampleSpec], size: int) -> float:
    start = time.perf_counter()
    for spec in specs:
        seed = int(sample_rng(spec.seed).integers(0, 2**63))
        atom = source.classes[spec.index % len(source.classes)]
        instance = draw_instance(atom, seed, source.config, size, size)
        image = Image.new("RGB", (size, size))
        draw = ImageDraw.Draw(image)
        for x, y, level in zip(instance.x, instance.y, instance.levels, strict=True):
            points = np.stack([np.append(x, x[0]), np.append(y, y[0])], axis=1).ravel().tolist()
            draw.line(points, fill=tuple(int(v) for v in level), width=1)
        np.asarray(image)
    return len(specs) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--samples", type=int, default=64, help="samples per timed run")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"# {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, {args.threads} thread(s)")
    print("| size | torch images/s | PIL images/s | torch / PIL |")
    print("|---|---|---|---|")
    for size in args.sizes:
        source = build_source(recipe_at(size))
        specs = [SampleSpec(i, sample_seed(0, i), 0, 1) for i in range(args.samples)]
        run_torch(source, specs[: source.batch_size])  # warm up
        torch_rates, pil_rates = [], []
        for _ in range(args.reps):
            pil_rates.append(run_pil(source, specs, size))
            torch_rates.append(run_torch(source, specs))
        fast, slow = statistics.median(torch_rates), statistics.median(pil_rates)
        print(f"| {size} | {fast:.1f} | {slow:.1f} | {fast / slow:.2f}x |")


if __name__ == "__main__":
    main()
