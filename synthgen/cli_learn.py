"""The commands that learn from corpora: `synthgen train`, `synthgen eval` and `synthgen experiment`.

Registered on the `synthgen` group by synthgen/cli.py; thin like every command: parse, call one
library function, print.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from synthgen.cli_options import (
    QUIET,
    parse_permissions,
    parse_storage_options,
    permission_options,
    storage_option,
    verbosity,
)
from synthgen.cli_progress import ProgressBars
from synthgen.text import counted


@click.command()
@click.option(
    "--data",
    "data",
    multiple=True,
    metavar="CORPUS[@WEIGHT]",
    help="A corpus folder or URL, or a brace pattern of shards; repeat to mix corpora, weighted by @WEIGHT.",
)
@click.option(
    "--recipe",
    "recipes",
    multiple=True,
    metavar="RECIPE[@WEIGHT]",
    help="Train live: render this recipe's samples while training (a file or a shipped recipe's name; "
    "repeatable; mixes with --data by @WEIGHT).",
)
@click.option(
    "--live-samples",
    type=click.IntRange(min=1),
    help="Samples per pass of each live recipe (a virtual epoch; default: the recipe's count).",
)
@click.option(
    "--save-stream",
    metavar="DIR",
    help="Save the live samples trained on as shards in DIR/RECIPE_NAME; --recipe DIR/RECIPE_NAME replays them.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Training config: a YAML file or a shipped config's name (synthgen recipes list --kind config).",
)
@click.option(
    "--out", "run_dir", required=True, metavar="DIR", type=click.Path(file_okay=False), help="Run folder to write."
)
@click.option("--epochs", type=click.IntRange(min=1), help="Override epochs.")
@click.option("--batch-size", type=click.IntRange(min=2), help="Override data.batch_size (global, all processes).")
@click.option("--arch", help="Override model.arch (resnet18, resnet50, vit_s16, vit_b16, alexnet_small).")
@click.option("--method", help="Override method.name (simclr, mocov2, multipos, supcon, alignuniform, supervised).")
@click.option("--lr", type=float, help="Override optim.lr (the peak learning rate).")
@click.option("--workers", type=click.IntRange(min=0), help="Override data.workers (loader processes per rank).")
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a config key, e.g. --set augment.preset=mocov2 (repeatable; VALUE is YAML).",
)
@storage_option
# Not `--monitor`: torchrun would take it for its own --monitor-interval (argparse abbreviations).
@click.option(
    "--monitor-dataset",
    "monitor",
    metavar="SPEC",
    help="Measure a kNN probe on this labelled dataset (e.g. idx:DIR) as training goes: sets eval.monitor.dataset.",
)
@click.option(
    "--log",
    "log_sinks",
    multiple=True,
    type=click.Choice(["jsonl", "tensorboard"]),
    help="Where log lines go besides metrics.jsonl (always written): tensorboard writes RUN/tensorboard/ "
    "(needs the tensorboard package). Sets the config's `log`.",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Continue the run in --out from its last checkpoint, with its recorded configuration and data "
    "(flags given again must agree; --epochs N trains a finished run on to N epochs).",
)
@click.option("--stop-after", type=click.IntRange(min=1), help="Stop after this many steps (resume later).")
@permission_options
def train(
    data: tuple[str, ...],
    recipes: tuple[str, ...],
    live_samples: int | None,
    save_stream: str | None,
    config_path: str | None,
    run_dir: str,
    epochs: int | None,
    batch_size: int | None,
    arch: str | None,
    method: str | None,
    lr: float | None,
    workers: int | None,
    overrides: tuple[str, ...],
    storage_options: tuple[str, ...],
    monitor: str | None,
    log_sinks: tuple[str, ...],
    resume: bool,
    stop_after: int | None,
    allow_code: tuple[str, ...],
    trust_pickle: tuple[str, ...],
) -> None:
    """Pretrain an encoder self-supervised on corpora of shards; writes metrics, checkpoints and
    the backbone (safetensors) to --out. Under torchrun it trains on every process (DDP).
    A live recipe runs code only where --allow-code or --trust-pickle allows it.

    \b
    Examples:
      synthgen train --data out/demo-shaders --out runs/demo --arch resnet18 --epochs 2 --batch-size 64
      synthgen train --data out/shaders@0.7 --data out/noise@0.3 --config train.yaml --out runs/mix
      torchrun --nproc_per_node 8 -m synthgen train --data s3://bucket/corpus --config r50.yaml --out runs/r50
      synthgen train --out runs/demo --resume
      synthgen train --out runs/demo --resume --epochs 4
      synthgen train --data out/demo-shaders --out runs/demo --log tensorboard   # then: tensorboard --logdir runs
      synthgen train --recipe demo-shaders --live-samples 4096 --config demo --out runs/live
      synthgen train --recipe demo-shaders --save-stream streams --out runs/a
      synthgen train --recipe streams/demo-shaders --out runs/replay
      synthgen train --data out/demo-shaders --out runs/demo --monitor-dataset idx:/usr/share/datasets/fashion-mnist \
          --set eval.monitor.every=50
    """
    from synthgen.evaluate.monitor import build_monitor
    from synthgen.permissions import granting
    from synthgen.shipped import resolve_document
    from synthgen.train.config import load_train_config
    from synthgen.train.data import parse_data_spec
    from synthgen.train.live import LIVE_PREFIX
    from synthgen.train.loop import train as run_training
    from synthgen.train.run_record import resumed_config
    from synthgen.train.tensorboard import summary_writer_class

    permissions = parse_permissions(allow_code, trust_pickle)
    flags = {
        "epochs": epochs,
        "data.batch_size": batch_size,
        "model.arch": arch,
        "method.name": method,
        "optim.lr": lr,
        "data.workers": workers,
        "data.live_samples": live_samples,
    }
    # Values as click typed them, not read as YAML (a path or a spec may hold ':' or '#'); an
    # error about one names its flag (`--arch: unknown architecture ...`), not the config file.
    settings: dict[str, Any] = {**flags, "data.save_stream": save_stream, "eval.monitor.dataset": monitor}
    settings["log"] = ["jsonl", *log_sinks] if log_sinks else None  # --log replaces the config's list
    named: dict[str, str] = {**_FLAGS, "eval.monitor.dataset": "--monitor-dataset", "log": "--log"}
    for key, value in parse_storage_options(storage_options).items():
        settings[f"data.storage_options.{key}"] = value
        named[f"data.storage_options.{key}"] = f"--storage-option {key}=..."
    live = []
    for spec in recipes:  # a file, a saved stream's folder, or a shipped recipe's name; @WEIGHT kept
        path, weight = parse_data_spec(spec)
        resolved = str(resolve_document(path, "recipe"))
        live.append(f"{LIVE_PREFIX}{resolved if path == spec else f'{resolved}@{weight}'}")
    settings = {key: value for key, value in settings.items() if value is not None}
    # --config is a file or a shipped config's name: load_train_config resolves it.
    if resume:  # the run's recorded configuration; what is given again must agree with it
        origins = _origins({**flags, "data.save_stream": save_stream}, data, recipes)
        config = resumed_config(run_dir, config_path, overrides, [*data, *live], settings, origins, blame=named)
    else:
        config = load_train_config(config_path, overrides, [*data, *live], settings=settings, origins=named)
    if "tensorboard" in config.log:
        summary_writer_class()  # a missing package fails before the monitor's dataset is loaded
    watcher = build_monitor(config)  # its dataset is loaded now: a bad spec fails before training
    # The training loop opens the live recipes: what they may run is what is granted here.
    with ProgressBars() as bars, granting(permissions):
        summary = run_training(
            config, run_dir, resume=resume, stop_after=stop_after, monitor=watcher, on_progress=bars, on_start=_header
        )
    if summary.interrupted:
        click.echo(f"interrupted after step {summary.steps}, checkpoint saved: continue with --resume", err=True)
        sys.exit(130)
    if os.environ.get("RANK", "0") != "0":  # under torchrun, one process reports
        return
    state = "finished" if summary.finished else "stopped (continue with --resume)"
    loss = summary.final_loss
    top1 = summary.monitor.get("monitor_knn_top1")
    monitored = "" if top1 is None else f", monitor kNN top-1 {100 * top1:.1f}%"
    skipped = [
        counted(n, f"bad {noun}") for n, noun in ((summary.bad_samples, "sample"), (summary.bad_shards, "shard")) if n
    ]
    click.echo(
        f"{state}: {summary.steps}/{summary.total_steps} steps, loss {loss:.4f}, "
        f"{summary.images_per_s:.0f} images/s"
        + (f", skipped {' and '.join(skipped)}" if skipped else "")
        + f"{monitored}; backbone: {summary.backbone}"
        if loss is not None
        else f"{state}: no step taken"
    )


# The flags that set a config key, as `--resume` names one that disagrees with the run.
_FLAGS = {
    "epochs": "--epochs",
    "data.batch_size": "--batch-size",
    "model.arch": "--arch",
    "method.name": "--method",
    "optim.lr": "--lr",
    "data.workers": "--workers",
    "data.live_samples": "--live-samples",
    "data.save_stream": "--save-stream",
}


def _origins(flags: dict[str, Any], data: tuple[str, ...], recipes: tuple[str, ...]) -> dict[str, str]:
    """{config key: the flag as given} for the flags given."""
    origins = {key: f"{_FLAGS[key]} {value}" for key, value in flags.items() if value is not None and key in _FLAGS}
    if data or recipes:
        origins["data.corpora"] = " ".join([*(f"--data {d}" for d in data), *(f"--recipe {r}" for r in recipes)])
    return origins


def _header(plan: Any) -> None:
    """A job's plan (train's TrainPlan, eval's EvalPlan) before its work, on stderr (stdout keeps
    the one result line); none under --quiet."""
    if verbosity() != QUIET:
        for line in plan.lines():
            click.echo(line, err=True)


@click.command("eval")
@click.option(
    "--checkpoint",
    required=True,
    metavar="CHECKPOINT",
    help="A run folder, a backbone .safetensors, random[:ARCH@SIZE] (untrained) or pixels[@SIZE].",
)
@click.option("--dataset", required=True, metavar="SPEC", help="imagefolder:PATH, wds:URL_OR_PATTERN or idx:DIR.")
@click.option(
    "--probe", "probes", default="linear,knn", show_default=True, help="Comma-separated: linear, knn, finetune."
)
@click.option("--out", "out_path", type=click.Path(dir_okay=False), help="Write the JSON report here.")
@click.option("--cache", "cache_dir", metavar="DIR", type=click.Path(file_okay=False), help="Feature cache folder.")
@click.option("--no-cache", is_flag=True, help="Compute features afresh and keep none.")
@click.option("--size", type=click.IntRange(min=8), help="Resize every dataset image to SIZE x SIZE first.")
@click.option("--limit-train", type=click.IntRange(min=1), help="Use this many training images (stratified).")
@click.option("--limit-val", type=click.IntRange(min=1), help="Use this many validation images (stratified).")
@click.option(
    "--labels-per-class",
    type=click.IntRange(min=1),
    help="Keep exactly N training images per class (stratified, seeded) for every probe; val stays whole.",
)
@click.option("--finetune-epochs", type=click.IntRange(min=1), help="Epochs of --probe finetune [default: 30].")
@click.option("--finetune-lr", type=click.FloatRange(min=0, min_open=True), help="Peak lr of --probe finetune [1e-3].")
@click.option("--layer", help="Features from this module (e.g. layer3), pooled, instead of the final output.")
@click.option(
    "--device",
    default="auto",
    show_default=True,
    help="Torch device for features and probes: auto (a GPU when there is one, as train chooses), cpu, cuda:N.",
)
def eval_command(
    checkpoint: str,
    dataset: str,
    probes: str,
    out_path: str | None,
    cache_dir: str | None,
    no_cache: bool,
    size: int | None,
    limit_train: int | None,
    limit_val: int | None,
    labels_per_class: int | None,
    finetune_epochs: int | None,
    finetune_lr: float | None,
    layer: str | None,
    device: str,
) -> None:
    """Evaluate an encoder on real labelled data: frozen features once (cached), then a linear probe
    and a weighted kNN; or (--probe finetune) the whole network fine-tuned on the labelled images.
    Prints one line, writes JSON with --out.

    \b
    Examples:
      synthgen eval --checkpoint out/runs/demo --dataset idx:/usr/share/datasets/fashion-mnist --limit-train 5000
      synthgen eval --checkpoint random:resnet18@64 --dataset imagefolder:data/pets --probe knn
      synthgen eval --checkpoint pixels@28 --dataset idx:/usr/share/datasets/fashion-mnist --out pixels.json
      synthgen eval --checkpoint out/runs/demo --dataset imagefolder:data/pets --probe finetune --labels-per-class 10
    """
    from synthgen.errors import CorpusError
    from synthgen.evaluate.datasets import TooFewPerClass
    from synthgen.evaluate.finetune import FinetuneSettings
    from synthgen.evaluate.run import default_cache_dir, evaluate

    chosen = [name.strip() for name in probes.split(",") if name.strip()]
    if labels_per_class is not None and limit_train is not None:
        raise click.UsageError("--labels-per-class and --limit-train exclude each other (both size the train split)")
    overrides = {"epochs": finetune_epochs, "lr": finetune_lr}
    overrides = {key: value for key, value in overrides.items() if value is not None}
    if overrides and "finetune" not in chosen:
        raise click.UsageError("--finetune-epochs and --finetune-lr are read by --probe finetune only")
    options = {"size": size, "limit_train": limit_train, "limit_val": limit_val}
    try:
        with ProgressBars() as bars:
            report = evaluate(
                checkpoint,
                dataset,
                probes=chosen,
                cache_dir=None if no_cache else (cache_dir or default_cache_dir()),
                dataset_options={key: value for key, value in options.items() if value is not None},
                device=device,
                layer=layer,
                labels_per_class=labels_per_class,
                finetune=FinetuneSettings(**overrides) if "finetune" in chosen else None,
                on_start=_header,
                on_progress=bars,
            )
    except TooFewPerClass as err:
        raise CorpusError(  # the group prints it as one line; this wording names the flag
            f"--labels-per-class {err.asked}: class {err.class_name!r} of {dataset} holds only {err.held} "
            "training images"
        ) from None
    except ValueError as err:
        raise click.UsageError(str(err)) from None
    if out_path:
        report.write(out_path)
    click.echo(report.line())


@click.command()
@click.argument("experiment_file", metavar="FILE", type=click.Path(dir_okay=False))  # or a shipped name
@click.option(
    "--out", "out_dir", metavar="DIR", help="Folder for corpora, runs and results [default: out/experiments/NAME]."
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a key of FILE, e.g. --set train.set.epochs=8 (repeatable; VALUE is YAML).",
)
@permission_options
def experiment(
    experiment_file: str,
    out_dir: str | None,
    overrides: tuple[str, ...],
    allow_code: tuple[str, ...],
    trust_pickle: tuple[str, ...],
) -> None:
    """Run the study in FILE (a file, or a shipped experiment's name: `synthgen recipes list --kind
    experiment`): render each corpus it names, pretrain on each, evaluate every run and the
    random and pixels baselines on real data; write results.md, results.json and plots.
    Running it again reuses what is done and resumes what is not. Its recipes run code only
    where --allow-code or --trust-pickle allows it.

    \b
    Examples:
      synthgen experiment experiments/families-quick
      synthgen experiment experiments/program-scaling --set train.seeds=[0,1,2]
    """
    from synthgen.experiment import load_experiment, run_experiment

    permissions = parse_permissions(allow_code, trust_pickle)
    loaded = load_experiment(experiment_file, overrides)
    out = out_dir or os.path.join("out", "experiments", loaded.name)
    with ProgressBars() as bars:
        run_experiment(loaded, out, echo=click.echo, on_progress=bars, permissions=permissions)
    click.echo(f"results: {os.path.join(out, 'results.md')}")
