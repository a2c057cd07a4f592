"""Images/s of `synthgen render` with the diffusion source against a bare diffusers loop, in one invocation.

The bare loop is what a user would write by hand: load the pipeline with
`AutoPipelineForText2Image`, call it on `batch_size` prompts at a time with `num_images_per_prompt`
= views and one generator per image, round the images to uint8, and encode them as JPEG with
Pillow, with no tar, metadata, checks or commit. Both sides use the same tiny pipeline (built here,
nothing downloaded), the same prompts, sizes, steps, guidance, batch size and torch threads, and
both include loading the pipeline. Runs alternate (bare, synthgen, bare, ...) after one untimed
warm-up of each. Reported: the median images/s of `--reps` runs of each, and the median ratio of
each synthgen run to the bare run just before it (the machines are noisy, and neighbouring runs
see the most similar load); by the wall clock, and per CPU-second of the process.

    python bench/bench_diffusion.py
    python bench/bench_diffusion.py --count 128 --views 4 --size 64 --steps 2 --batch-size 4 --reps 5
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from synthgen.recipe import Recipe, parse_recipe
from synthgen.render import render_corpus
from synthgen.seeds import sample_seed
from synthgen.sources.diffusion.pipeline import quiet_hub_libraries
from synthgen.sources.diffusion.prompts import load_prompts
from synthgen.sources.diffusion.source import DiffusionSource, view_seeds
from synthgen.sources.diffusion.tiny import make_tiny_pipeline

CLASSES = ["cat", "dog", "horse", "bird", "fish", "car", "boat", "house", "tree", "flower"]


def bench_recipe(model: Path, args: argparse.Namespace) -> Recipe:
    return parse_recipe(
        {
            "name": "bench-diffusion",
            "count": args.count,
            "views": args.views,
            "image": {"size": args.size, "format": "jpg", "quality": args.quality},
            "shard": {"samples": args.shard},
            "source": {
                "kind": "diffusion",
                "model": str(model),
                "prompts": {"classes": CLASSES},
                "steps": args.steps,
                "generation_size": args.size,
                "batch_size": args.batch_size,
            },
        }
    )


def run_bare(recipe: Recipe) -> None:
    """A hand-written diffusers loop over the same samples."""
    config = recipe.source
    with quiet_hub_libraries():
        from diffusers import AutoPipelineForText2Image

        pipeline = AutoPipelineForText2Image.from_pretrained(config.model, torch_dtype=torch.float32)
    pipeline.set_progress_bar_config(disable=True)
    prompts = load_prompts(config.prompts)
    width, height = config.generation_size
    for begin in range(0, recipe.count, config.batch_size):
        indices = range(begin, min(begin + config.batch_size, recipe.count))
        texts = [prompts[i % len(prompts)].text for i in indices]
        seeds = [seed for i in indices for seed in view_seeds(sample_seed(recipe.seed, i), recipe.views)]
        images = pipeline(
            prompt=texts,
            num_images_per_prompt=recipe.views,
            width=width,
            height=height,
            num_inference_steps=config.steps,
            guidance_scale=config.guidance_scale,
            generator=[torch.Generator("cpu").manual_seed(seed) for seed in seeds],
            output_type="np",
        ).images
        for image in (images * 255).round().astype(np.uint8):
            Image.fromarray(image).save(io.BytesIO(), format="JPEG", quality=recipe.image.quality)


def run_synthgen(recipe: Recipe) -> None:
    with tempfile.TemporaryDirectory() as out:
        render_corpus(recipe, out)


def measure(run: Callable[[Recipe], None], recipe: Recipe) -> tuple[float, float]:
    """(images per second, images per CPU-second of this process) of one run.

    CPU time counts the work done, which the other jobs on a shared machine disturb far less
    than they disturb the wall clock; synthgen's writer thread is counted too.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    run(recipe)
    images = recipe.count * recipe.views
    return images / (time.perf_counter() - wall), images / (time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=128, help="samples per run")
    parser.add_argument("--views", type=int, default=4, help="images per sample (per prompt)")
    parser.add_argument("--size", type=int, default=64, help="generated and stored size")
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=4, help="prompts per pipeline call")
    parser.add_argument("--shard", type=int, default=32, help="samples per shard")
    parser.add_argument("--quality", type=int, default=95)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()

    # The bare loop runs with the torch threads synthgen uses on the CPU: the same settings.
    torch.set_num_threads(DiffusionSource.cpu_threads)
    threads = torch.get_num_threads()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, {threads} torch thread(s)")
    print(
        f"tiny pipeline; {args.count} samples x {args.views} views per run, {args.size}x{args.size} jpg "
        f"q{args.quality}, {args.steps} steps, {args.batch_size} prompts per call; median of {args.reps}\n"
    )
    with tempfile.TemporaryDirectory() as scratch:
        recipe = bench_recipe(make_tiny_pipeline(Path(scratch) / "tiny-sd"), args)
        run_bare(recipe), run_synthgen(recipe)  # warm-up: file cache, oneDNN kernels
        bare, ours = [], []
        for _ in range(args.reps):
            bare.append(measure(run_bare, recipe))
            ours.append(measure(run_synthgen, recipe))
    print("| clock | bare loop img/s | synthgen img/s | synthgen / bare (medians) | median of paired ratios |")
    print("|---|---|---|---|---|")
    for clock, column in (("wall", 0), ("CPU", 1)):
        b, s = statistics.median(r[column] for r in bare), statistics.median(r[column] for r in ours)
        # Each synthgen run against the bare run just before it: the two saw the most similar load.
        paired = statistics.median(o[column] / r[column] for r, o in zip(bare, ours, strict=True))
        print(f"| {clock} | {b:.0f} | {s:.0f} | {s / b:.2f} | {paired:.2f} |")
    for name, runs in (("bare", bare), ("synthgen", ours)):
        print(f"{name} img/s per run (wall): {', '.join(f'{r[0]:.0f}' for r in runs)}")


if __name__ == "__main__":
    main()
