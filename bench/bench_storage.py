"""Object storage and Ray, in one invocation:

1. upload throughput of `synthgen push` (verified uploads, skip-if-identical checks, manifest last)
   against `s3fs put` of the same files, to an S3-compatible server (moto) on 127.0.0.1;
2. `synthgen render` on the Ray executor (a local Ray with 2 CPUs, started before timing)
   against the local process pool with 2 workers, same recipe.

Runs alternate and the median of `--reps` is reported.

    python bench/bench_storage.py --reps 3
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import boto3
import s3fs
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from synthgen.corpus.push import push_corpus
from synthgen.render.executors import LocalExecutor, RayExecutor
from synthgen.recipe import parse_recipe
from synthgen.render import render_corpus


def recipe(count: int, size: int, shard: int):
    return parse_recipe(
        {
            "name": "bench-storage",
            "count": count,
            "views": 2,
            "image": {"size": size, "format": "jpg", "quality": 95},
            "shard": {"samples": shard},
            "source": {"kind": "shader", "programs": ["starter"]},
        }
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_upload(corpus: Path, reps: int) -> tuple[float, float, int]:
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    options = {"endpoint_url": endpoint}
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="bench")
    fs = s3fs.S3FileSystem(**options)
    files = sorted(corpus.iterdir())
    nbytes = sum(f.stat().st_size for f in files)
    ours, theirs = [], []
    try:
        for _ in range(reps):
            prefix = f"bench/{uuid.uuid4().hex}"
            started = time.perf_counter()
            fs.put([str(f) for f in files], f"{prefix}/")
            theirs.append(nbytes / (time.perf_counter() - started))
            started = time.perf_counter()
            push_corpus(str(corpus), f"s3://bench/{uuid.uuid4().hex}", options)
            ours.append(nbytes / (time.perf_counter() - started))
    finally:
        server.stop()
    return statistics.median(ours), statistics.median(theirs), nbytes


def bench_ray(count: int, size: int, shard: int, reps: int) -> tuple[float, float]:
    import ray

    task = recipe(count, size, shard)
    ray.init(num_cpus=2, include_dashboard=False, logging_level="error")
    ours, local = [], []
    try:
        for _ in range(reps):
            with tempfile.TemporaryDirectory() as out:
                started = time.perf_counter()
                render_corpus(task, out, executor=LocalExecutor(2))
                local.append(count / (time.perf_counter() - started))
            with tempfile.TemporaryDirectory() as out:
                started = time.perf_counter()
                render_corpus(task, out, executor=RayExecutor())
                ours.append(count / (time.perf_counter() - started))
    finally:
        ray.shutdown()
    return statistics.median(ours), statistics.median(local)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument(
        "--upload-count", type=int, default=1000, help="samples of the uploaded corpus (256x256, 2 views)"
    )
    parser.add_argument("--ray-count", type=int, default=2000, help="samples rendered per executor run (128x128)")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs; median of {args.reps}\n")

    with tempfile.TemporaryDirectory() as folder:
        render_corpus(recipe(args.upload_count, 256, 100), folder, workers=2)
        ours, theirs, nbytes = bench_upload(Path(folder), args.reps)
    shards = args.upload_count // 100
    print(f"upload of {nbytes / 1e6:.1f} MB ({args.upload_count} samples: {shards} shards, sidecars, manifest):")
    print("| s3fs put MB/s | synthgen push MB/s | push / put |\n|---|---|---|")
    print(f"| {theirs / 1e6:.1f} | {ours / 1e6:.1f} | {ours / theirs:.2f} |\n", flush=True)

    ray_rate, local_rate = bench_ray(args.ray_count, 128, 100, args.reps)
    print(f"render of {args.ray_count} samples at 128x128 (2 views, starter programs, 100 per shard):")
    print("| local pool (2 workers) samples/s | Ray (2 CPUs) samples/s | Ray / local |\n|---|---|---|")
    print(f"| {local_rate:.0f} | {ray_rate:.0f} | {ray_rate / local_rate:.2f} |")


if __name__ == "__main__":
    main()
