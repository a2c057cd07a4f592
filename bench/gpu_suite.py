"""Every GPU path of synthgen, measured in one prepared run that fits one device call (issue 22).

    python bench/gpu_suite.py --out OUT [--budget 540] [--parts shader,train] [--cpu]

Each part runs in its own process with its own time budget (a share of `--budget`), and the suite
carries on past a part that fails or runs out of time. Results: OUT/gpu_suite.json (every row) and
OUT/gpu_suite.md (a table: figure, value, baseline, ratio, goal, the command), written after each
part, so a run cut short still leaves what it measured. The parts, at the sizes the issues named:

- machine: driver and GPU (`nvidia-smi`), the EGL vendor and renderer moderngl gets, torch and CUDA;
- shader: `synthgen render` of generated programs at 256x256 into shards against the bare moderngl
  loop over the same frames on the same GPU (goal: >= 5,000 images/s);
- noise, fractal: the dead leaves, spectrum and colour-wavelet models and FractalDB at 128 and 256,
  the source on the GPU against the same source on the CPU, in the same run;
- gan: StyleGAN-Random and -Oriented rendered into shards (bf16 on CUDA) against the bare forward
  loop of the same network on the same device and dtype;
- diffusion: the tiny pipeline (built here, nothing downloaded) rendered into shards against a bare
  diffusers loop; a real pipeline when one is in the Hugging Face cache;
- train: ResNet-50 SimCLR at 224x224 bf16 channels_last from shards against the same steps fed a
  batch already on the GPU (goal: >= 0.9x); live: training from a shader recipe rendered in the
  loader against training from its shards (goal: >= 0.9x);
- determinism: a shard rendered twice on the GPU is byte-identical (shaders, dead leaves, fractals),
  and dead leaves and fractals on the GPU against the CPU;
- study: a short families study at 64x64 (`synthgen experiment`), its table and its time.

`--cpu` is the dry run: every part at tiny sizes on the CPU (the GPU figures are then CPU figures,
labelled with the device), so the script is known to work before GPU time is spent on it;
tests/test_gpu_suite.py runs it. `--budget SECONDS` scales the sizes of every part to fit.

What a run on a lent GPU machine needs (the device tool's README, "Notes"): that machine has
torch, numpy, Pillow, PyYAML, click, fsspec, safetensors, transformers and huggingface-hub, but not
pydantic, moderngl, kornia, webdataset, wids or diffusers, nor the GL loader libraries. Here, once:

    bash bench/gpu_prepare.sh        # wheels into .whl/ and GL packages into .gl/ (both git-ignored)

Then one device call, with `carry: [".gl", ".whl"]` and `timeout_s: 600`:

    for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig;
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:$PWD || exit;
    PYTHONUNBUFFERED=1 python3 bench/gpu_suite.py --out $OUT --budget 540

(If EGL finds no NVIDIA driver, add `export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/
glvnd/egl_vendor.d/10_nvidia.json` first.) OUT's two files come back with the call.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]  # synthgen from this checkout; the other benchmarks
# ... and in every process the suite starts (the parts, synthgen's render and GL processes).
os.environ["PYTHONPATH"] = os.pathsep.join([str(BENCH.parent), *filter(None, [os.environ.get("PYTHONPATH")])])

# part -> share of the budget. The shares follow what each part costs on a GPU at full size.
PARTS: dict[str, float] = {
    "machine": 0.02,
    "shader": 0.14,
    "noise": 0.10,
    "fractal": 0.07,
    "gan": 0.09,
    "diffusion": 0.07,
    "train": 0.14,
    "live": 0.12,
    "determinism": 0.08,
    "study": 0.17,
}
# FractalDB's filling-rate search at 512 px takes minutes on a CPU: the dry run searches small.
DRY_FRACTAL = {"categories": 2, "points": 2000, "search": {"size": 64, "points": 2000}}
FULL_BUDGET = 540.0  # seconds the full sizes below are planned for, on one H100/H200


@dataclasses.dataclass
class Settings:
    """What every part is told: where to write, which device, and how large to be."""

    work: Path  # scratch folder of this part
    device: str  # "cuda" or "cpu"
    dry_run: bool  # --cpu: tiny sizes
    scale: float  # budget / FULL_BUDGET, so sizes shrink with the budget
    workers: int

    @property
    def reps(self) -> int:
        """Timed runs of each side (their median is reported): one in the dry run."""
        return 1 if self.dry_run else 2

    def size(self, full: int, tiny: int) -> int:
        """An image size: the issue's on a GPU, a tiny one in the dry run."""
        return tiny if self.dry_run else full

    def count(self, full: int, tiny: int, minimum: int = 1) -> int:
        """A number of images, steps or samples, scaled to the budget."""
        return tiny if self.dry_run else max(minimum, int(full * min(1.0, self.scale)))


Row = dict[str, Any]


def row(
    part: str,
    figure: str,
    value: Any,
    unit: str = "",
    *,
    baseline: str = "",
    baseline_value: float | None = None,
    goal: str = "",
    command: str = "",
    note: str = "",
) -> Row:
    ratio = None
    if isinstance(value, (int, float)) and baseline_value:
        ratio = round(float(value) / float(baseline_value), 3)
    return {
        "part": part,
        "figure": figure,
        "value": round(value, 2) if isinstance(value, float) else value,
        "unit": unit,
        "baseline": baseline,
        "baseline_value": None if baseline_value is None else round(float(baseline_value), 2),
        "ratio": ratio,
        "goal": goal,
        "command": command,
        "note": note,
    }


def median_of(run: Callable[[], float], reps: int) -> tuple[float, list[float]]:
    values = [run() for _ in range(reps)]
    return statistics.median(values), values


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_recipe(folder: Path, name: str, document: dict[str, Any]) -> Path:
    import yaml

    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"name": name, **document}, sort_keys=False))
    return path


# --------------------------------------------------------------------------------------------
# The parts. Each takes Settings and returns rows; an exception ends the part (the suite goes on).


def part_machine(s: Settings) -> list[Row]:
    rows = [row("machine", "host", f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")]
    smi = shutil.which("nvidia-smi")
    if smi:
        query = "--query-gpu=name,driver_version,memory.total,clocks.max.sm"
        done = subprocess.run([smi, query, "--format=csv,noheader"], capture_output=True, text=True, timeout=30)
        rows.append(row("machine", "nvidia-smi", (done.stdout or done.stderr).strip() or f"exit {done.returncode}"))
    else:
        rows.append(row("machine", "nvidia-smi", "not found"))
    try:
        import torch

        cuda = torch.cuda.is_available()
        facts = f"torch {torch.__version__}, CUDA {torch.version.cuda}, available: {cuda}"
        if cuda:
            props = torch.cuda.get_device_properties(0)
            facts += f", {props.name}, {props.total_memory / 2**30:.0f} GiB, bf16: {torch.cuda.is_bf16_supported()}"
        rows.append(row("machine", "torch", facts))
    except Exception as err:  # noqa: BLE001 - the machine part reports, it never fails
        rows.append(row("machine", "torch", f"unusable: {err}"))
    try:
        import moderngl

        context = moderngl.create_standalone_context(backend="egl")
        info = context.info
        rows.append(
            row("machine", "EGL", f"{info['GL_VENDOR']} | {info['GL_RENDERER']} | {info['GL_VERSION']}")
        )
        context.release()
    except Exception as err:  # noqa: BLE001
        rows.append(row("machine", "EGL", f"unusable: {str(err).splitlines()[0] if str(err) else type(err).__name__}"))
    return rows


def part_shader(s: Settings) -> list[Row]:
    import bench_render

    size = s.size(256, 32)
    count = s.count(40_000, 64, minimum=2000)
    programs = f"generate:{s.count(2000, 16, minimum=200)}"
    recipe = bench_render.bench_recipe(count, size, 95, s.workers, programs)
    bare, bare_runs = median_of(lambda: bench_render.run_bare(recipe, s.workers), s.reps)
    ours, our_runs = median_of(lambda: bench_render.run_synthgen(recipe, s.workers), s.reps)
    command = f"python bench/bench_render.py --count {count} --size {size} --workers {s.workers} --programs {programs}"
    return [
        row(
            "shader",
            f"render {programs} programs {size}px jpg into shards, workers: {s.workers} ({s.device})",
            ours,
            "img/s",
            baseline="bare moderngl + Pillow loop, same frames",
            baseline_value=bare,
            goal=">= 5000 img/s" if not s.dry_run else "",
            command=command,
            note=f"runs: synthgen {[round(v) for v in our_runs]}, bare {[round(v) for v in bare_runs]}",
        )
    ]


def time_source(recipe: Any, device: str, count: int) -> float:
    """Images/s of a source's `render` on `device` over `count` samples, after one warm-up batch."""
    from synthgen.seeds import sample_seed
    from synthgen.sources import build_source
    from synthgen.sources.base import SampleSpec

    source = build_source(recipe, device)
    batch = getattr(source, "batch_size", 16)
    source.render([SampleSpec(i, sample_seed(recipe.seed, i), 0, 1) for i in range(batch)])  # warm-up, compile
    _synchronize(device)
    batches = max(1, -(-count // batch))
    started = time.perf_counter()
    for first in range(batch, batch * (batches + 1), batch):
        source.render([SampleSpec(i, sample_seed(recipe.seed, i), 0, 1) for i in range(first, first + batch)])
    _synchronize(device)
    return batches * batch / (time.perf_counter() - started)


def _synchronize(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def _gpu_against_cpu(part: str, s: Settings, families: dict[str, dict[str, Any]], counts: tuple[int, int]) -> list[Row]:
    from synthgen.recipe import parse_recipe

    rows = []
    for name, source in families.items():
        for size in (s.size(128, 16), s.size(256, 24)):
            recipe = parse_recipe({"name": f"gpu-{name}", "count": 100_000, "image": {"size": size}, "source": source})
            gpu_count, cpu_count = s.count(counts[0], 8, minimum=64), s.count(counts[1], 4, minimum=8)
            gpu = time_source(recipe, s.device, gpu_count)
            cpu = time_source(recipe, "cpu", cpu_count)
            rows.append(
                row(
                    part,
                    f"{name} {size}px on {s.device}",
                    gpu,
                    "img/s",
                    baseline="the same source on the CPU, this run",
                    baseline_value=cpu,
                    command=f"python bench/gpu_suite.py --parts {part}",
                )
            )
    return rows


def part_noise(s: Settings) -> list[Row]:
    families = {
        "dead_leaves-mixed": {"kind": "noise", "model": "dead_leaves", "dead_leaves": {"shape": "mixed"}},
        "spectrum": {"kind": "noise", "model": "spectrum"},
        "spectrum_color_wmm": {"kind": "noise", "model": "spectrum_color_wmm"},
    }
    return _gpu_against_cpu("noise", s, families, (2048, 64))


def part_fractal(s: Settings) -> list[Row]:
    families = {
        "fractaldb-point": {"kind": "fractal", "mode": "fractaldb", "categories": 8, "render": "point"},
        "fractaldb-patch": {"kind": "fractal", "mode": "fractaldb", "categories": 8, "render": "patch"},
    }
    if s.dry_run:
        for source in families.values():
            source.update(DRY_FRACTAL)
    return _gpu_against_cpu("fractal", s, families, (1024, 32))


def part_gan(s: Settings) -> list[Row]:
    import torch

    from synthgen.recipe import parse_recipe
    from synthgen.render import render_corpus
    from synthgen.sources import build_source

    rows = []
    size = s.size(256, 32)
    count = s.count(8192, 16, minimum=512)
    for init in ("random", "oriented"):
        document = {
            "name": f"gpu-gan-{init}",
            "count": count,
            "image": {"size": size, "format": "jpg"},
            "shard": {"samples": max(1, count // 4)},
            "source": {"kind": "gan", "init": init, "batch_size": 8 if s.dry_run else 64,
                       "network": {"resolution": size, **({"channel_max": 32} if s.dry_run else {})}},
        }
        recipe = parse_recipe(document)

        def into_shards() -> float:
            with tempfile.TemporaryDirectory(dir=s.work) as out:
                started = time.perf_counter()
                render_corpus(recipe, out, workers=1)
                return count / (time.perf_counter() - started)

        source = build_source(recipe, s.device)
        model, batch = source.model, source.batch_size

        def bare_forward() -> float:
            generator = torch.Generator().manual_seed(0)
            started = time.perf_counter()
            with torch.inference_mode():
                for _ in range(0, count, batch):
                    latents = torch.randn(batch, *model.latent_shape, generator=generator)
                    inputs = [model.draw_inputs(generator) for _ in range(batch)]
                    raw = model.generate(latents, None, inputs, 0)
                    ((raw.float() + 1) * 127.5).clamp(0, 255).to(torch.uint8).cpu()
            _synchronize(s.device)
            return count / (time.perf_counter() - started)

        bare_forward()  # warm-up: kernels, allocator
        bare, _ = median_of(bare_forward, s.reps)
        ours, runs = median_of(into_shards, s.reps)
        rows.append(
            row(
                "gan",
                f"StyleGAN-{init} {size}px jpg into shards ({s.device}, {source.dtype})",
                ours,
                "img/s",
                baseline="bare forward loop, same network, device and dtype (no encode)",
                baseline_value=bare,
                command=f"python bench/gpu_suite.py --parts gan   # count {count}",
                note=f"synthgen runs {[round(v) for v in runs]}",
            )
        )
    return rows


def part_diffusion(s: Settings) -> list[Row]:
    import bench_diffusion

    from synthgen.sources.diffusion.tiny import make_tiny_pipeline

    model = make_tiny_pipeline(s.work / "tiny-sd")
    args = argparse.Namespace(
        count=s.count(256, 8, minimum=32), views=2, size=s.size(64, 32), steps=2, batch_size=8, shard=64, quality=95
    )
    recipe = bench_diffusion.bench_recipe(model, args)
    bare_runs = [bench_diffusion.measure(bench_diffusion.run_bare, recipe)[0] for _ in range(s.reps)]
    our_runs = [bench_diffusion.measure(bench_diffusion.run_synthgen, recipe)[0] for _ in range(s.reps)]
    rows = [
        row(
            "diffusion",
            f"tiny pipeline {args.size}px, {args.views} views, {args.steps} steps into shards",
            statistics.median(our_runs),
            "img/s",
            baseline="bare diffusers loop (float32, as bench_diffusion.py)",
            baseline_value=statistics.median(bare_runs),
            command=f"python bench/bench_diffusion.py --count {args.count} --size {args.size}",
        )
    ]
    cache = Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface")) / "hub"
    cached = sorted(p.name for p in cache.glob("models--*")) if cache.is_dir() else []
    rows.append(row("diffusion", "real pipeline", "skipped: no weights in the Hugging Face cache" if not cached
                    else f"cached, not timed here: {', '.join(cached[:3])}"))
    return rows


def _trainer(spec: str, corpus: Any, settings: list[str]) -> Any:
    from synthgen.train.config import load_train_config
    from synthgen.train.loop import Trainer, start_process

    return Trainer(load_train_config(None, settings, [spec]), start_process(), [corpus])


def _images_per_second(trainer: Any, feed: Callable[[], Any], steps: int, warmup: int, batch: int) -> float:
    for step in range(warmup):
        trainer.step(step, feed())
    trainer.synchronize()
    started = time.perf_counter()
    for step in range(warmup, warmup + steps):
        trainer.step(step, feed())
    trainer.synchronize()
    return steps * batch * 2 / (time.perf_counter() - started)


def part_train(s: Settings) -> list[Row]:
    import torch

    from synthgen.recipe import parse_recipe
    from synthgen.render import render_corpus
    from synthgen.train.data import open_corpus

    arch, size, batch = ("resnet50", 224, 256) if not s.dry_run else ("resnet18", 32, 8)
    steps, warmup = s.count(40, 2, minimum=10), 3 if not s.dry_run else 1
    count = batch * (steps + warmup) * 2
    recipe = parse_recipe(
        {
            "name": "gpu-train",
            "count": count,
            "views": 2,
            "image": {"size": size, "format": "jpg", "quality": 90},
            "shard": {"samples": 256},
            "source": {"kind": "noise", "model": "spectrum"},
        }
    )
    corpus_dir = s.work / "train-corpus"
    render_corpus(recipe, str(corpus_dir), workers=s.workers)
    settings = [
        f"model.arch={arch}",
        f"data.batch_size={batch}",
        f"data.workers={s.workers}",
        f"data.image_size={size}",
        f"augment.size={size}",
    ]
    trainer = _trainer(str(corpus_dir), open_corpus(str(corpus_dir)), settings)
    loader = trainer.loader()
    on_device = {k: v.to(trainer.process.device) if torch.is_tensor(v) else v for k, v in next(loader).items()}
    fed, _ = median_of(lambda: _images_per_second(trainer, lambda: on_device, steps, warmup, batch), s.reps)
    real, runs = median_of(lambda: _images_per_second(trainer, lambda: next(loader), steps, warmup, batch), s.reps)
    return [
        row(
            "train",
            f"{arch} SimCLR {size}px batch {batch}x2 from shards ({trainer.process.device}, bf16: {trainer.bf16},"
            f" channels_last: {trainer.config.channels_last})",
            real,
            "img/s",
            baseline="the same steps on a batch already on the device",
            baseline_value=fed,
            goal=">= 0.9x" if not s.dry_run else "",
            command=f"python bench/bench_train.py --part step --arch {arch} --size {size} --batch {batch} "
            f"--steps {steps} --workers {s.workers}",
            note=f"from shards {[round(v) for v in runs]}",
        )
    ]


def part_live(s: Settings) -> list[Row]:
    from synthgen.recipe import load_recipe
    from synthgen.render import render_corpus
    from synthgen.train.data import open_corpus
    from synthgen.train.live import LIVE_PREFIX, open_live

    arch, size, batch = ("resnet50", 224, 256) if not s.dry_run else ("resnet18", 32, 8)
    steps, warmup = s.count(30, 2, minimum=8), 3 if not s.dry_run else 1
    count = batch * (steps + warmup) * 2
    path = write_recipe(
        s.work,
        "gpu-live",
        {"count": count, "views": 1, "image": {"size": size, "format": "jpg"}, "shard": {"samples": 256},
         "source": {"kind": "shader", "programs": [{"generate": 2000 if not s.dry_run else 16}],
                    "sampling": {"mode": "blocked"}}},
    )
    shards = s.work / "live-shards"
    render_corpus(load_recipe(str(path)), str(shards), workers=s.workers)
    settings = [
        f"model.arch={arch}",
        f"data.batch_size={batch}",
        f"data.workers={s.workers}",
        f"data.image_size={size}",
        f"augment.size={size}",
        "data.positives=augment",
    ]
    on_shards = _trainer(str(shards), open_corpus(str(shards)), settings)
    live = _trainer(f"{LIVE_PREFIX}{path}", open_live(str(path), samples_per_pass=count), settings)
    results: dict[str, list[float]] = {"shards": [], "live": []}
    for _ in range(s.reps):
        for name, trainer in (("shards", on_shards), ("live", live)):
            loader = trainer.loader()
            results[name].append(_images_per_second(trainer, lambda loader=loader: next(loader), steps, warmup, batch))
            del loader
    return [
        row(
            "live",
            f"{arch} {size}px batch {batch}x2, generated shaders rendered in the loader (workers: {s.workers})"
            f" ({on_shards.process.device})",
            statistics.median(results["live"]),
            "img/s",
            baseline="training on the same recipe's shards",
            baseline_value=statistics.median(results["shards"]),
            goal=">= 0.9x" if not s.dry_run else "",
            command=f"python bench/bench_live.py --recipe {path.name} --size {size} --arch {arch} --batch {batch} "
            f"--workers {s.workers} --steps {steps}",
        )
    ]


def part_determinism(s: Settings) -> list[Row]:
    from synthgen.recipe import parse_recipe
    from synthgen.render import render_corpus
    from synthgen.render.executors import LocalExecutor

    size = s.size(128, 16)
    sources = {
        "shader": {"kind": "shader", "programs": ["starter"]},
        "dead_leaves": {"kind": "noise", "model": "dead_leaves", "dead_leaves": {"shape": "mixed"}},
        "fractal": {"kind": "fractal", "mode": "fractaldb", "categories": 4, "render": "point",
                    **(DRY_FRACTAL if s.dry_run else {})},
    }
    rows = []
    for name, source in sources.items():
        recipe = parse_recipe(
            {"name": f"gpu-det-{name}", "count": s.count(64, 4, minimum=64), "image": {"size": size, "format": "png"},
             "shard": {"samples": 1_000_000}, "source": source}
        )

        def shard(folder: str, devices: list[str] | None, recipe: Any = recipe) -> str:
            out = s.work / folder
            render_corpus(recipe, str(out), executor=LocalExecutor(1, devices=devices))
            return sha256_of(out / "shard-000000.tar")

        gpu_devices = [f"{s.device}:0"] if s.device == "cuda" else []
        first, second = shard(f"{name}-a", gpu_devices), shard(f"{name}-b", gpu_devices)
        rows.append(row("determinism", f"{name}: one shard rendered twice on {s.device}",
                        "identical" if first == second else "DIFFERENT", note=f"sha256 {first[:12]} / {second[:12]}"))
        if name != "shader":  # the CPU renders shaders through llvmpipe: another renderer, no promise
            cpu = shard(f"{name}-cpu", [])
            rows.append(row("determinism", f"{name}: {s.device} against the CPU",
                            "identical" if cpu == first else "different",
                            note=f"sha256 {first[:12]} / cpu {cpu[:12]}"))
    return rows


def part_study(s: Settings) -> list[Row]:
    """A short families study at 64x64 through the `synthgen experiment` command."""
    import yaml

    size, count = s.size(64, 16), s.count(8192, 64, minimum=1024)
    recipes = {
        "shaders": {"source": {"kind": "shader", "programs": [{"generate": 1000 if not s.dry_run else 16}],
                               "sampling": {"mode": "blocked"}}},
        "dead-leaves": {"source": {"kind": "noise", "model": "dead_leaves", "dead_leaves": {"shape": "mixed"}}},
        "stylegan-random": {"source": {"kind": "gan", "init": "random", "network": {
            "resolution": max(32, size), **({"channel_max": 32} if s.dry_run else {})}}},
        "fractaldb": {"source": {"kind": "fractal", "mode": "fractaldb", "categories": 16,
                                 **(DRY_FRACTAL if s.dry_run else {})}},
    }
    corpora = []
    for name, document in recipes.items():
        path = write_recipe(s.work, name, {"count": count, "image": {"size": size, "format": "jpg"}, **document})
        corpora.append({"name": name, "recipe": str(path)})
    fashion = "idx:/usr/share/datasets/fashion-mnist"
    experiment = {
        "name": "gpu-families-short",
        "render": {"workers": s.workers, "set": {"count": count, "image.size": size, "shard.samples": 512}},
        "corpora": corpora,
        "train": {
            "set": {"model.arch": "resnet18", "epochs": 2 if not s.dry_run else 1, "data.batch_size": 256 if not s.dry_run else 16,
                    "data.image_size": size, "augment.size": size, "data.workers": s.workers},
            "seeds": [0],
        },
        "eval": {"dataset": fashion, "probes": ["linear", "knn"], "limit_train": 2000 if not s.dry_run else 200,
                 "limit_val": 1000 if not s.dry_run else 100, "device": s.device},
        "baselines": ["random"],
    }
    path = s.work / "study.yaml"
    path.write_text(yaml.safe_dump(experiment, sort_keys=False))
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "synthgen", "experiment", str(path), "--out", str(s.work / "study")],
        capture_output=True,
        text=True,
        cwd=s.work,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"synthgen experiment exited {done.returncode}: {done.stderr.strip().splitlines()[-1:]}")
    rows = [row("study", f"families study {size}px, {count} images per corpus, 1 seed: wall time", seconds, "s",
                command=f"synthgen experiment {path.name}   # written by the suite")]
    table = next((s.work / "study").rglob("*.md"), None)
    if table:
        rows.append(row("study", "table", table.read_text()[:2000]))
    return rows


PART_FUNCTIONS: dict[str, Callable[[Settings], list[Row]]] = {
    "machine": part_machine,
    "shader": part_shader,
    "noise": part_noise,
    "fractal": part_fractal,
    "gan": part_gan,
    "diffusion": part_diffusion,
    "train": part_train,
    "live": part_live,
    "determinism": part_determinism,
    "study": part_study,
}
assert PART_FUNCTIONS.keys() == PARTS.keys()


# --------------------------------------------------------------------------------------------
# The runner: one child process per part, each under its own deadline.


def run_one_part(name: str, settings_path: Path, result_path: Path) -> None:
    """The child's side: run one part, write its rows (or its error) as JSON."""
    raw = json.loads(settings_path.read_text())
    settings = Settings(**{**raw, "work": Path(raw["work"])})
    started = time.perf_counter()
    try:
        rows = PART_FUNCTIONS[name](settings)
        outcome = {"status": "ok", "rows": rows}
    except Exception as err:  # noqa: BLE001 - a failing part is a result, reported with its cause
        outcome = {"status": "failed", "rows": [], "error": f"{type(err).__name__}: {err}",
                   "traceback": traceback.format_exc()[-4000:]}
    outcome["seconds"] = round(time.perf_counter() - started, 1)
    result_path.write_text(json.dumps(outcome, default=str))


def run_suite(out: Path, parts: list[str], budget: float, dry_run: bool, workers: int | None) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    device = "cpu" if dry_run else _cuda_or_cpu()
    total_share = sum(PARTS[name] for name in parts)
    report: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "device": device,
        "dry_run": dry_run,
        "budget_s": budget,
        "parts": {},
    }
    scratch = Path(tempfile.mkdtemp(prefix="gpu-suite-"))
    try:
        for name in parts:
            allowed = max(20.0, budget * PARTS[name] / total_share)
            work = scratch / name
            work.mkdir()
            settings = Settings(work=work, device=device, dry_run=dry_run, scale=allowed / (FULL_BUDGET * PARTS[name]),
                                workers=workers or min(8, os.cpu_count() or 1))
            settings_path, result_path = work / "settings.json", work / "result.json"
            settings_path.write_text(json.dumps({**dataclasses.asdict(settings), "work": str(work)}))
            print(f"[{name}] up to {allowed:.0f} s", flush=True)
            started = time.perf_counter()
            try:
                subprocess.run(
                    [sys.executable, __file__, "--run-part", name, str(settings_path), str(result_path)],
                    timeout=allowed,
                    check=False,
                )
                outcome = json.loads(result_path.read_text()) if result_path.exists() else {
                    "status": "failed", "rows": [], "error": "the part's process died without a result"}
            except subprocess.TimeoutExpired:
                outcome = {"status": "timed out", "rows": [], "error": f"over its {allowed:.0f} s"}
            outcome.setdefault("seconds", round(time.perf_counter() - started, 1))
            report["parts"][name] = outcome
            print(f"[{name}] {outcome['status']} in {outcome['seconds']} s"
                  + (f": {outcome['error']}" if outcome.get("error") else ""), flush=True)
            write_results(out, report)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return report


def _cuda_or_cpu() -> str:
    try:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    except Exception:  # noqa: BLE001
        return "cpu"


def write_results(out: Path, report: dict[str, Any]) -> None:
    (out / "gpu_suite.json").write_text(json.dumps(report, indent=2, default=str))
    lines = [
        f"# GPU suite, {report['started']}: device {report['device']}"
        + (" (dry run: --cpu, tiny sizes)" if report["dry_run"] else "")
        + f", budget {report['budget_s']:.0f} s",
        "",
        "| part | figure | value | baseline | ratio | goal | command |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, outcome in report["parts"].items():
        if outcome["status"] != "ok":
            lines.append(f"| {name} | **{outcome['status']}** ({outcome['seconds']} s) | {_cell(outcome.get('error'))} "
                         "| | | | |")
        for r in outcome["rows"]:
            value = f"{r['value']} {r['unit']}".strip()
            base = f"{r['baseline']}: {r['baseline_value']}" if r["baseline_value"] is not None else r["baseline"]
            ratio = f"{r['ratio']:.2f}x" if r["ratio"] is not None else ""
            lines.append(f"| {name} | {_cell(r['figure'])} | {_cell(value)} | {_cell(base)} | {ratio} | "
                         f"{_cell(r['goal'])} | {_cell(r['command'])} |")
    (out / "gpu_suite.md").write_text("\n".join(lines) + "\n")


def _cell(text: Any) -> str:
    return str(text or "").replace("|", "\\|").replace("\n", "<br>")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="Folder for gpu_suite.json and gpu_suite.md.")
    parser.add_argument("--budget", type=float, default=FULL_BUDGET, help="Seconds for the whole suite.")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"Comma-separated, of: {', '.join(PARTS)}.")
    parser.add_argument("--cpu", action="store_true", help="Dry run: every part at tiny sizes on the CPU.")
    parser.add_argument("--workers", type=int, help="Render and loader processes [default: min(8, CPUs)].")
    parser.add_argument("--run-part", nargs=3, metavar=("PART", "SETTINGS", "RESULT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_part:
        run_one_part(args.run_part[0], Path(args.run_part[1]), Path(args.run_part[2]))
        return
    if args.out is None:
        parser.error("--out is required")
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        parser.error(f"--parts: unknown part {', '.join(unknown)} (known: {', '.join(PARTS)})")
    report = run_suite(args.out, parts, args.budget, args.cpu, args.workers)
    failed = [name for name, outcome in report["parts"].items() if outcome["status"] != "ok"]
    print(f"wrote {args.out / 'gpu_suite.md'}: {len(parts) - len(failed)} of {len(parts)} parts ok"
          + (f"; not ok: {', '.join(failed)}" if failed else ""))


if __name__ == "__main__":
    main()
