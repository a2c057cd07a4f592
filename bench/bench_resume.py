"""What checking the kept shards costs at resume: a render's time against a resume that re-reads
every kept shard for its sha256 (the default) and one that trusts their sizes (`--trust-sizes`).

A corpus of about `--mb` megabytes (incompressible noise, PNG) is rendered once; then, `--reps`
times, its manifest is removed and the same render resumes, alternately with and without the
check. The medians are reported, and the check's cost as a share of the render time.

    PYTHONPATH=. python bench/bench_resume.py --mb 200 --reps 3
    PYTHONPATH=. python bench/bench_resume.py --mb 200 --reps 3 --s3   # into moto on 127.0.0.1

The shards are read back from the page cache here (they were just written); from a cold disk or
an object store the check runs at the read speed of the disk or the network instead.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import fsspec

from synthgen.recipe import parse_recipe
from synthgen.render import render_corpus

# A 256x256 RGB PNG of spectrum noise: about 86 KB (measured; its spectrum is smooth enough to compress).
IMAGE_BYTES = 86_000


def recipe(count: int):
    return parse_recipe(
        {
            "name": "bench-resume",
            "count": count,
            "views": 1,
            "image": {"size": 256, "format": "png"},
            "shard": {"samples": 50},
            "source": {"kind": "noise", "model": "spectrum"},
        }
    )


def start_s3() -> tuple[str, dict, object]:
    import socket

    import boto3
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="bench")
    return "s3://bench/resume", {"endpoint_url": endpoint}, server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=200.0, help="corpus size to render, in MB")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--s3", action="store_true", help="render into an S3-compatible server (moto) on 127.0.0.1")
    args = parser.parse_args()
    count = max(50, round(args.mb * 1e6 / IMAGE_BYTES))
    chosen = recipe(count)
    with tempfile.TemporaryDirectory() as tmp:
        url, options, server = str(Path(tmp) / "corpus"), {}, None
        if args.s3:
            url, options, server = start_s3()
        fs, root = fsspec.core.url_to_fs(url, **options)
        started = time.perf_counter()
        render_corpus(chosen, url, workers=args.workers, storage_options=options)
        render_s = time.perf_counter() - started
        fs.invalidate_cache()
        shards = [info for info in fs.ls(root, detail=True) if info["name"].endswith(".tar")]
        nbytes, nshards = sum(int(info["size"]) for info in shards), len(shards)
        timings: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(args.reps):
            for check in (True, False):
                fs.rm_file(f"{root}/manifest.json")
                started = time.perf_counter()
                summary = render_corpus(
                    chosen, url, workers=args.workers, trust_sizes=not check, storage_options=options
                )
                timings[check].append(time.perf_counter() - started)
                assert summary.rendered_shards == 0, "every shard should have been kept"
        if server is not None:
            server.stop()
    checked, trusted = statistics.median(timings[True]), statistics.median(timings[False])
    cost = checked - trusted
    print(f"# {platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}")
    where = "moto on 127.0.0.1" if args.s3 else "a local folder"
    print(f"corpus: {nbytes / 1e6:.1f} MB in {nshards} shards ({count} samples of 256x256 PNG noise), in {where}")
    print("| measure | seconds |")
    print("|---|---|")
    print(f"| render ({args.workers} worker{'s' if args.workers > 1 else ''}) | {render_s:.2f} |")
    print(f"| resume, every kept shard's sha256 checked (default) | {checked:.2f} |")
    print(f"| resume, sizes only (`--trust-sizes`) | {trusted:.2f} |")
    rate = nbytes / 1e6 / max(cost, 1e-9)
    print(f"| the check | {cost:.2f} ({rate:.0f} MB/s, {cost / render_s:.1%} of the render) |")


if __name__ == "__main__":
    main()
