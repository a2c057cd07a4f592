"""Images/s of `synthgen render` for the gan source against a bare generator loop, on the CPU.

The bare loop is what a user would write around the same network: build the untrained StyleGAN2
variant (same class, same weights, same batch size), then per batch draw the latents and the
per-image network inputs, run the forward pass, apply the paper's per-channel colour
normalisation, convert to uint8 and encode JPEG with Pillow (quality 95), with no shards,
metadata, checks or seeds per sample. synthgen renders the same number of images at the same
size through `synthgen.render.render_corpus` into a temporary folder. Both sides build their
network inside the timed run, use one torch thread per process (GanSource.cpu_threads), and
use the same number of processes. Runs alternate (bare, synthgen, bare, ...) and the median of
`--reps` is reported, because the machines are noisy.

    python bench/bench_gan.py                                  # oriented, 128 and 256, 1 worker
    python bench/bench_gan.py --sizes 128 --workers 2 --reps 5
    python bench/bench_gan.py --init random --sizes 128 --count 32
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

import torch
from PIL import Image

from synthgen.recipe import parse_recipe
from synthgen.render import render_corpus
from synthgen.sources.gan.config import PAPER_BIAS_RANGE
from synthgen.sources.gan.source import COLOR_MEANS, COLOR_STDS, GanSource
from synthgen.sources.gan.stylegan2 import Architecture
from synthgen.sources.gan.untrained import UntrainedStyleGAN

# Images per timed run, per size (about a minute per run on a 2-core CPU for the sparse variants).
DEFAULT_COUNTS = {64: 1024, 128: 256, 256: 64, 512: 16}


def bench_recipe(init: str, size: int, count: int, batch_size: int, workers: int):
    return parse_recipe(
        {
            "name": "bench-gan",
            "count": count,
            "views": 1,
            "image": {"size": size, "format": "jpg", "quality": 95},
            "shard": {"samples": -(-count // workers)},  # one shard per worker
            "source": {"kind": "gan", "init": init, "network": {"resolution": size}, "batch_size": batch_size},
        }
    )


def run_synthgen(init: str, size: int, count: int, batch_size: int, workers: int) -> float:
    recipe = bench_recipe(init, size, count, batch_size, workers)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        render_corpus(recipe, folder, workers=workers)
        return count / (time.perf_counter() - started)


def bare_loop(init: str, size: int, count: int, batch_size: int, seed: int) -> int:
    """The hand-written loop: returns the number of JPEG bytes (so nothing is optimised away)."""
    torch.set_num_threads(GanSource.cpu_threads)
    model = UntrainedStyleGAN(
        init,
        Architecture(size, activation="relu"),
        weights_seed=0,
        samples_per_network=None,
        bias_range=PAPER_BIAS_RANGE[init],
        device=torch.device("cpu"),
        dtype=torch.float32,
    )
    generator = torch.Generator().manual_seed(seed)
    total = 0
    with torch.inference_mode():
        for start in range(0, count, batch_size):
            n = min(batch_size, count - start)
            latents = torch.randn(n, *model.latent_shape, generator=generator)
            inputs = [model.draw_inputs(generator) for _ in range(n)]
            raw = model.generate(latents, None, inputs, 0).float()
            pixels = paper_colors(raw, generator).numpy()
            for image in pixels:
                buffer = io.BytesIO()
                Image.fromarray(image).save(buffer, format="JPEG", quality=95)
                total += len(buffer.getvalue())
    return total


def paper_colors(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """The paper's colour normalisation: standardise each channel, give it a random mean and
    std, clip; [N, 3, H, W] float -> [N, H, W, 3] uint8."""
    noise = torch.randn(len(images), 3, 2, generator=generator)
    means = COLOR_MEANS[:, 0] + noise[..., 0] * COLOR_MEANS[:, 1]
    stds = COLOR_STDS[:, 0] + noise[..., 1] * COLOR_STDS[:, 1]
    flat = images.flatten(2)
    standard = (flat - flat.mean(-1, keepdim=True)) / flat.std(-1, keepdim=True)
    unit = (standard * stds[..., None] + means[..., None]).clamp(0, 1).reshape(images.shape)
    return (unit * 255).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous()


def _bare_worker(args: tuple) -> int:
    return bare_loop(*args)


def run_bare(init: str, size: int, count: int, batch_size: int, workers: int) -> float:
    started = time.perf_counter()
    if workers == 1:
        bare_loop(init, size, count, batch_size, 0)
    else:
        shares = [count // workers + (k < count % workers) for k in range(workers)]
        with mp.get_context("spawn").Pool(workers) as pool:
            pool.map(_bare_worker, [(init, size, share, batch_size, k) for k, share in enumerate(shares)])
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--init", default="oriented", choices=["random", "highfreq", "sparse", "oriented"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256])
    parser.add_argument("--count", type=int, help="images per run (default: by size)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()

    print(f"# {platform.machine()} {platform.processor() or ''}, {os.cpu_count()} CPUs, torch {torch.__version__}")
    print(f"# init={args.init} batch_size={args.batch_size} workers={args.workers} reps={args.reps} (median)")
    print("| size | images/run | bare loop img/s | synthgen img/s | synthgen / bare |")
    print("|---|---|---|---|---|")
    for size in args.sizes:
        count = args.count or DEFAULT_COUNTS[size]
        if args.workers == 1:  # both sides run in this process: build the cached noise banks first
            bare_loop(args.init, size, 1, 1, 0)
        bare, synthgen = [], []
        for _ in range(args.reps):
            bare.append(run_bare(args.init, size, count, args.batch_size, args.workers))
            synthgen.append(run_synthgen(args.init, size, count, args.batch_size, args.workers))
        b, s = statistics.median(bare), statistics.median(synthgen)
        runs = ", ".join(f"{x:.2f}/{y:.2f}" for x, y in zip(bare, synthgen, strict=True))
        print(
            f"| {size} | {count} | {b:.2f} | {s:.2f} | {s / b:.2f} |  <!-- runs bare/synthgen: {runs} -->", flush=True
        )


if __name__ == "__main__":
    main()
