"""Live training against training on shards of the same recipe: does rendering hide behind training?

Two trainers with the same model, method, batch, workers and seed; one reads the recipe rendered
beforehand into shards (`--data`), the other renders it in its loader workers (`--recipe`).
Each run builds a fresh loader, takes `--warmup` steps untimed (worker start-up, GL contexts,
first renders), then times `--steps` steps. Runs alternate (shards, live, shards, ...) in one
invocation; medians of `--reps`. Also printed: the live loader alone, without a model (how fast
the workers render and decode), to tell a renderer that cannot keep up from one that competes
with the model for the same cores.

    python bench/bench_live.py                                      # CPU: shaders at 64px, ResNet-18
    python bench/bench_live.py --size 224 --arch resnet50 --batch 256 --workers 8 --steps 50 \
        --set data.live_device=train                                # a GPU (the issue's figure)
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch

from synthgen.recipe import Recipe, load_recipe
from synthgen.render import render_corpus
from synthgen.shipped import resolve_document
from synthgen.train.config import load_train_config
from synthgen.train.data import TrainCorpus, open_corpus
from synthgen.train.live import LIVE_PREFIX, LiveCorpus, open_live
from synthgen.train.loop import Trainer, start_process


def rendered_corpus(recipe: Recipe, cache: Path) -> Path:
    """The recipe rendered into shards once (reused while the recipe is unchanged)."""
    out = cache / f"bench-live-{recipe.name}-{recipe.sha256[:12]}"
    render_corpus(recipe, str(out), workers=os.cpu_count() or 1)
    return out


def make_trainer(spec: str, corpus: TrainCorpus | LiveCorpus, args: argparse.Namespace) -> Trainer:
    settings = [
        f"model.arch={args.arch}",
        f"data.batch_size={args.batch}",
        f"data.workers={args.workers}",
        f"data.image_size={args.size}",
        f"augment.size={args.size}",
        "data.positives=augment",
        *args.set,
    ]
    return Trainer(load_train_config(None, settings, [spec]), start_process(), [corpus])


def time_training(trainer: Trainer, args: argparse.Namespace) -> float:
    loader = trainer.loader()
    for step in range(args.warmup):
        trainer.step(step, next(loader))
    trainer.synchronize()
    started = time.perf_counter()
    for step in range(args.warmup, args.warmup + args.steps):
        trainer.step(step, next(loader))
    trainer.synchronize()
    del loader  # stops its workers
    return args.steps * args.batch * 2 / (time.perf_counter() - started)


def time_loader(trainer: Trainer, args: argparse.Namespace) -> float:
    """Batches/s of the loader alone, in its steady state. Its workers fill their queue ahead
    (`prefetch` batches) during start-up; those come at once, so the rate counts only the rest."""
    prefetch = 4 * max(1, args.workers) if args.workers else 0
    batches = args.steps + 3 * prefetch
    loader = trainer.loader()
    for _ in range(args.warmup):
        next(loader)
    time.sleep(1.0)  # let the queue fill, so that exactly `prefetch` batches come at once
    started = time.perf_counter()
    for _ in range(batches):
        next(loader)
    seconds = time.perf_counter() - started
    del loader
    return (batches - prefetch) * args.batch * 2 / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", default="demo-shaders", help="A recipe file or a shipped recipe's name.")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--arch", default="resnet18")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--set", action="append", default=[], help="A training setting for both runs (KEY=VALUE).")
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "synthgen-bench"))
    args = parser.parse_args()
    args.recipe = str(resolve_document(args.recipe, "recipe"))

    # Both sides see the same samples: as many as the timed runs take, at the benchmark's size.
    count = args.batch * (args.warmup + args.steps) * args.reps
    overrides = (f"count={count}", f"image.size={args.size}")
    recipe = load_recipe(args.recipe, overrides)
    shards = str(rendered_corpus(recipe, Path(args.cache)))
    on_shards = make_trainer(shards, open_corpus(shards), args)
    live_spec = f"{LIVE_PREFIX}{args.recipe}"
    live = make_trainer(live_spec, open_live(args.recipe, samples_per_pass=count, overrides=overrides), args)
    device = on_shards.process.device
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, {device}")
    print(
        f"{recipe.name} ({recipe.source.kind}) at {args.size}px, {args.arch} {on_shards.config.method.name}, "
        f"batch {args.batch} x 2 views, {args.workers} loader workers, {args.steps} timed steps, {args.reps} reps"
    )

    from_shards, from_live = [], []
    for _ in range(args.reps):
        from_shards.append(time_training(on_shards, args))
        from_live.append(time_training(live, args))
    loader_only = [time_loader(live, args) for _ in range(args.reps)]
    s, v, lo = statistics.median(from_shards), statistics.median(from_live), statistics.median(loader_only)
    print(f"  training on shards     {s:9.1f} images/s   (runs: {', '.join(f'{x:.1f}' for x in from_shards)})")
    print(f"  training live          {v:9.1f} images/s   (runs: {', '.join(f'{x:.1f}' for x in from_live)})")
    print(f"  live / shards          {v / s:9.2f}x")
    print(
        f"  live loader alone      {lo:9.1f} images/s   (no model; runs: {', '.join(f'{x:.1f}' for x in loader_only)})"
    )


if __name__ == "__main__":
    main()
