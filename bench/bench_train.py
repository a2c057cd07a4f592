"""Training data path: can the loader keep a model fed?

1. `loader`: images/s of synthgen's training loader (`ShardStream` in a torch DataLoader: shard
   split, shuffle buffer, view choice, decode, batching, batches sent to the training process)
   against a bare decode of the same shards (as many processes, each reading its shards with
   tarfile and decoding every image with Pillow into a tensor, sending nothing back: the ceiling
   of any loader). Same corpus, same number of processes, at least as many images.
2. `step`: training images/s of one method on the corpus (loader -> device -> augment -> model ->
   optimiser) against the same steps fed one synthetic uint8 batch already on the device, so the
   ratio is what the data path costs the training step. On CUDA this is the issue's ResNet-50
   SimCLR 224x224 bf16 figure; on a CPU it is a smaller model, and the figure says how much the
   loader's work competes with the model's for the same cores.

Runs alternate (baseline, synthgen, baseline, ...) in one invocation; medians of `--reps`.

    python bench/bench_train.py --part loader --workers 2
    python bench/bench_train.py --part step --arch resnet18 --size 64 --batch 64 --steps 20
    python bench/bench_train.py --part step --arch resnet50 --size 224 --batch 256 --steps 50   # a GPU
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import platform
import statistics
import tarfile
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from synthgen.recipe import parse_recipe
from synthgen.render import render_corpus
from synthgen.train.data import ShardStream, ViewPolicy, make_loader, open_corpus


def make_corpus(folder: Path, count: int, size: int) -> Path:
    """A noise corpus of `count` samples of 2 views (jpg), rendered once and reused."""
    out = folder / f"bench-train-{count}-{size}"
    if not (out / "manifest.json").exists():
        recipe = parse_recipe(
            {
                "name": "bench-train",
                "count": count,
                "seed": 0,
                "views": 2,
                "image": {"size": size, "format": "jpg", "quality": 90},
                "shard": {"samples": 256},
                "source": {"kind": "noise", "model": "spectrum"},
            }
        )
        render_corpus(recipe, str(out), workers=2)
    return out


def decode_shards(shard_urls: list[str]) -> int:
    """Read shards with tarfile and decode every image into a tensor: the least any loader does."""
    torch.set_num_threads(1)
    # Pillow's arrays are read-only; the bare loop takes them as they are, without a copy.
    warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
    decoded = 0
    for url in shard_urls:
        with tarfile.open(url) as tar:
            for member in tar:
                if member.name.endswith(".jpg"):
                    with Image.open(io.BytesIO(tar.extractfile(member).read())) as image:
                        torch.from_numpy(np.asarray(image.convert("RGB"))).permute(2, 0, 1)
                    decoded += 1
    return decoded


def time_bare(shard_urls: list[str], workers: int, images: int) -> float:
    """`workers` processes each decode their share of the shards, passes over the corpus until
    `images` are decoded; nothing is sent back but a count."""
    processes = max(workers, 1)
    started = time.perf_counter()
    decoded = 0
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        while decoded < images:
            decoded += sum(pool.map(decode_shards, [shard_urls[w::processes] for w in range(processes)]))
    return decoded / (time.perf_counter() - started)


def time_loader(corpus_dir: Path, workers: int, images: int, batch: int, size: int) -> float:
    corpus = open_corpus(str(corpus_dir))
    policy = ViewPolicy(views=2, distinct=True, size=(size, size), needs_labels=False)
    started = time.perf_counter()
    loader = iter(make_loader(ShardStream([corpus], policy, batch, shuffle_buffer=1000), workers))
    seen = 0
    while seen < images:
        views = next(loader)["images"]
        seen += views.shape[0] * views.shape[1]
    return seen / (time.perf_counter() - started)


def bench_loader(args: argparse.Namespace, corpus_dir: Path) -> None:
    corpus = open_corpus(str(corpus_dir))
    images = args.count * 2 * args.passes
    bare, ours = [], []
    for _ in range(args.reps):
        bare.append(time_bare(list(corpus.shard_urls), args.workers, images))
        ours.append(time_loader(corpus_dir, args.workers, images, args.batch, args.size))
    b, o = statistics.median(bare), statistics.median(ours)
    print(f"loader, {args.workers} workers, {args.size}px jpg, {images} images per run, {args.reps} reps")
    print(f"  bare decode      {b:9.0f} images/s   (runs: {', '.join(f'{x:.0f}' for x in bare)})")
    print(f"  synthgen loader  {o:9.0f} images/s   (runs: {', '.join(f'{x:.0f}' for x in ours)})")
    print(f"  ratio            {o / b:9.2f}x")


def bench_step(args: argparse.Namespace, corpus_dir: Path) -> None:
    from synthgen.train.config import load_train_config
    from synthgen.train.loop import Trainer, start_process

    config = load_train_config(
        None,
        [
            f"model.arch={args.arch}",
            f"data.batch_size={args.batch}",
            f"data.workers={args.workers}",
            f"augment.size={args.size}",
            f"data.image_size={args.size}",
        ],
        [str(corpus_dir)],
    )
    process = start_process()
    corpora = [open_corpus(c.url) for c in config.data.corpora]
    trainer = Trainer(config, process, corpora)
    loader = trainer.loader()
    synthetic = next(loader)
    synthetic = {key: value.to(process.device) if torch.is_tensor(value) else value for key, value in synthetic.items()}

    def run(feed) -> float:
        for step in range(args.warmup):
            trainer.step(step, feed())
        trainer.synchronize()
        started = time.perf_counter()
        for step in range(args.steps):
            trainer.step(step, feed())
        trainer.synchronize()
        return args.steps * args.batch * 2 / (time.perf_counter() - started)

    fed, real = [], []
    for _ in range(args.reps):
        fed.append(run(lambda: synthetic))
        real.append(run(lambda: next(loader)))
    f, r = statistics.median(fed), statistics.median(real)
    print(f"step: {args.arch} {config.method.name} {args.size}px, batch {args.batch} x 2 views, {process.device}")
    print(f"  synthetic batch on the device {f:8.1f} images/s   (runs: {', '.join(f'{x:.1f}' for x in fed)})")
    print(f"  shards through the loader     {r:8.1f} images/s   (runs: {', '.join(f'{x:.1f}' for x in real)})")
    print(f"  ratio                         {r / f:8.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=["loader", "step", "all"], default="all")
    parser.add_argument("--count", type=int, default=2048, help="Samples in the benchmark corpus.")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--passes", type=int, default=1, help="loader: passes over the corpus per run.")
    parser.add_argument("--arch", default="resnet18")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "synthgen-bench"))
    args = parser.parse_args()
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}")
    corpus_dir = make_corpus(Path(args.cache), args.count, args.size)
    if args.part in ("loader", "all"):
        bench_loader(args, corpus_dir)
    if args.part in ("step", "all"):
        bench_step(args, corpus_dir)


if __name__ == "__main__":
    main()
