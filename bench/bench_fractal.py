"""Images/s of the fractal source's batched torch renderer against FractalDB's generator loop.

The baseline is `synthgen.sources.fractal.reference.fractaldb_image`, a per-image numpy port of
FractalDB's published `ifs_function.py` (one chain, a Python loop over points, a Python loop
that pastes each point's 3x3 patch). Both sides draw the same FractalDB IFS categories (found
once, before timing, by the source's filling-rate search) at the same size and point count; the
torch side is `FractalSource.render` on batches of `batch_size` samples, so it includes the
per-sample numpy draws, the rasterising and the flips. Runs alternate (numpy, torch, ...) in one
process and the median of `--reps` is reported, because the machines are noisy.

    PYTHONPATH=. python bench/bench_fractal.py                      # FractalDB's 362 px, 200,000 points, patches
    PYTHONPATH=. python bench/bench_fractal.py --size 256 --points 100000 --render point --reps 5
    PYTHONPATH=. python bench/bench_fractal.py --device cuda:0 --time-1k   # + FractalDB-1k's render time on a GPU
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
import torch

from synthgen.recipe import parse_recipe
from synthgen.seeds import sample_seed
from synthgen.sources.base import SampleSpec
from synthgen.sources.fractal.reference import fractaldb_image
from synthgen.sources.fractal.source import FractalSource


def bench_recipe(size: int, points: int, render: str, categories: int):
    return parse_recipe(
        {
            "name": "bench-fractal",
            "count": 1_000_000,
            "image": {"size": size, "format": "png"},
            "source": {
                "kind": "fractal",
                "mode": "fractaldb",
                "categories": categories,
                "points": points,
                "render": render,
            },
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=362)
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--render", choices=["point", "patch"], default="patch")
    parser.add_argument("--torch-samples", type=int, default=64, help="samples per timed torch run")
    parser.add_argument("--numpy-samples", type=int, default=2, help="images per timed numpy run")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (numpy is single-threaded)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--time-1k", action="store_true", help="also time 20,000 samples of FractalDB-1k and extrapolate"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    categories = 8
    recipe = bench_recipe(args.size, args.points, args.render, categories)
    source = FractalSource(recipe, device=args.device)
    t0 = time.perf_counter()
    with torch.inference_mode():
        found = source.categories.get(range(categories))
    search = time.perf_counter() - t0
    specs = [SampleSpec(i, sample_seed(0, i), 0, 1) for i in range(args.torch_samples)]
    source.render(specs[: source.batch_size])  # warm-up

    def run_torch() -> float:
        start = time.perf_counter()
        source.render(specs)
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        return args.torch_samples / (time.perf_counter() - start)

    def run_numpy() -> float:
        start = time.perf_counter()
        for k in range(args.numpy_samples):
            ifs = found[k % categories].ifs
            fractaldb_image(
                ifs.coefficients, ifs.probabilities, args.points, args.size, 6, args.render, np.random.default_rng(k)
            )
        return args.numpy_samples / (time.perf_counter() - start)

    numpy_rates, torch_rates = [], []
    for _ in range(args.reps):
        numpy_rates.append(run_numpy())
        torch_rates.append(run_torch())
    numpy_rate, torch_rate = statistics.median(numpy_rates), statistics.median(torch_rates)
    print(
        f"# {platform.machine()} {os.cpu_count()} CPUs, torch {torch.__version__}, {args.threads} torch thread(s), "
        f"device {args.device}; {args.size}x{args.size}, {args.points} points, {args.render}; "
        f"search of {categories} categories {search:.1f} s"
    )
    print(f"| renderer | images/s (median of {args.reps}) | runs |")
    print("|---|---|---|")
    print(f"| FractalDB loop, numpy | {numpy_rate:.2f} | {', '.join(f'{r:.2f}' for r in numpy_rates)} |")
    print(f"| synthgen torch | {torch_rate:.1f} | {', '.join(f'{r:.1f}' for r in torch_rates)} |")
    print(f"ratio: {torch_rate / numpy_rate:.0f}x")

    if args.time_1k:
        recipe = parse_recipe(
            {
                "name": "fractaldb-1k",
                "count": 1_000_000,
                "image": {"size": 362, "format": "png"},
                "source": {"kind": "fractal", "mode": "fractaldb", "categories": 1000},
            }
        )
        source = FractalSource(recipe, device=args.device)
        start = time.perf_counter()
        with torch.inference_mode():
            source.categories.get(range(1000))
        search = time.perf_counter() - start
        n = 20_000
        start = time.perf_counter()
        for s in range(0, n, 1000):
            source.render([SampleSpec(i, sample_seed(0, i), 0, 1) for i in range(s, s + 1000)])
        rate = n / (time.perf_counter() - start)
        print(
            f"FractalDB-1k: search of 1,000 categories {search:.0f} s; {rate:.0f} images/s before encoding; "
            f"1,000,000 images in {(search + 1e6 / rate) / 3600:.2f} h on one {args.device}"
        )


if __name__ == "__main__":
    main()
