"""What a run folder records so that `synthgen train --out RUN --resume` alone goes on with it, and
what a run says before its first step.

    synthgen train --out runs/demo --resume               the run's config.yaml, data and all
    synthgen train --out runs/demo --resume --epochs 4    a finished 2-epoch run trained on to 4

A run records its configuration (RUN/config.yaml) with every data location absolute, so it resumes
from any working directory. A resume takes that configuration; flags given again must agree with
it, except the settings that only watch or operate the run (RUN_ONLY) and `epochs`, which may
grow: the learning-rate schedule is then recomputed for the new total (see `TrainPlan.lines`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from synthgen.schema import Origin, document_differences, read_yaml_mapping
from synthgen.text import counted
from synthgen.train.checkpoints import BACKBONE, LAST, CheckpointError, checkpoint_path
from synthgen.train.config import ConfigError, TrainConfig, load_train_config
from synthgen.train.data import TrainCorpus
from synthgen.train.live import LIVE_PREFIX, LiveCorpus
from synthgen.train.optim import lr_at

CONFIG = "config.yaml"
SUMMARY = "summary.json"
# Settings that may change between a run and its resumption: they do not change what is computed
# (the number of loader workers does: it fixes which worker reads which shards).
# The monitor (`eval`) and where lines are logged (`log`) only watch the run, so they may change too.
RUN_ONLY = {
    ("data", "storage_options"), ("data", "live_check_every"), ("log_every",), ("log",), ("checkpoint",), ("eval",)
}  # fmt: skip
# A URL (s3://, gs://, file://, ...): a location that means the same from any working directory.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# A spec's scheme before a local path (`idx:DIR`, `imagefolder:PATH`, `recipe:PATH`).
_SCHEME = re.compile(r"^(?P<scheme>[a-z]+):(?P<rest>.*)$")

logger = logging.getLogger(__name__)


def absolute_location(location: str) -> str:
    """`location` as it reads from any working directory: a relative local path becomes absolute,
    in a spec too (`idx:data/fm` becomes `idx:/abs/data/fm`); URLs stay as they are.

    A live recipe that is not a file here stays as given: the recipe loader may know it by name.
    """
    if _URL.match(location) or not location:
        return location
    spec = _SCHEME.match(location)
    if spec is not None and len(spec["scheme"]) > 1:  # not a Windows drive letter
        rest = spec["rest"]
        if location.startswith(LIVE_PREFIX) and not os.path.exists(rest):
            return location
        return f"{spec['scheme']}:{absolute_location(rest)}"
    return os.path.abspath(location)


def absolute_locations(resolved: Mapping[str, Any]) -> dict[str, Any]:
    """A resolved configuration (TrainConfig.resolved()) with its data locations absolute: the
    corpora, `data.save_stream` and the monitor's dataset."""
    document = {key: value for key, value in resolved.items()}
    data = dict(document.get("data") or {})
    data["corpora"] = [dict(c, url=absolute_location(c["url"])) for c in data.get("corpora") or []]
    if data.get("save_stream"):
        data["save_stream"] = absolute_location(data["save_stream"])
    document["data"] = data
    monitor = (document.get("eval") or {}).get("monitor")
    if monitor and monitor.get("dataset"):
        document["eval"] = dict(document["eval"], monitor=dict(monitor, dataset=absolute_location(monitor["dataset"])))
    return document


def with_absolute_locations(config: TrainConfig) -> TrainConfig:
    """`config` with its data locations absolute (absolute_locations): what a run records."""
    resolved = config.resolved()
    located = absolute_locations(resolved)
    return config if located == resolved else TrainConfig.model_validate(located)


def config_differences(saved: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """`key: OLD then, NEW now` for each setting that differs between two resolved configs,
    leaving out what may change between invocations of one run (storage options, logging,
    checkpointing). Data locations are compared as absolute paths from here, so a run recorded
    with relative ones (by an older synthgen) matches from the folder it was started in."""
    return [f"{key}: {a!r} then, {b!r} now" for key, a, b in _differences(saved, current)]


def _differences(saved: Mapping[str, Any], current: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    return document_differences(absolute_locations(saved), absolute_locations(current), RUN_ONLY)


def check_resumable(saved: Mapping[str, Any], current: Mapping[str, Any], where: Path) -> None:
    """Refuse to resume the checkpoint at `where` (its config `saved`) with another configuration
    than its own; `epochs` may change (the loop checks it against the steps done)."""
    changed = [f"{key}: {a!r} then, {b!r} now" for key, a, b in _differences(saved, current) if key != "epochs"]
    if changed:
        raise ConfigError(f"{where}: --resume needs the run's configuration; changed: {'; '.join(changed[:3])}")


def resumed_config(
    run_dir: str | Path,
    config_path: str | Path | None = None,
    overrides: Sequence[str] = (),
    data: Sequence[str] = (),
    settings: Mapping[str, Any] | None = None,
    origins: Mapping[str, str] | None = None,
    blame: Mapping[str, Origin | str] | None = None,
) -> TrainConfig:
    """The configuration of the run in `run_dir` (its config.yaml), to resume it.

    What is given again (a config file, `--set` overrides, `--data` specs, `settings`: as for
    load_train_config) goes on top, and must agree with the run: a setting that changes what is
    computed is refused in one line naming how it was given (`origins`: dotted key -> the flag
    as the user wrote it, e.g. {"model.arch": "--arch resnet50"}; otherwise `--set KEY=VALUE`,
    `--data` or `--config FILE`). `epochs` may change; the run-only settings (RUN_ONLY) may too.
    `blame` is load_train_config's `origins`: a value a flag gave that is invalid is blamed on it.
    """
    run = Path(run_dir)
    last = checkpoint_path(run, LAST)
    if not last.is_file():
        raise CheckpointError(f"{run}: nothing to resume (no {last.relative_to(run)})")
    recorded = read_yaml_mapping(run / CONFIG, "run configuration", ConfigError)
    _check_recorded_locations(recorded, run / CONFIG)
    saved = absolute_locations(recorded)
    config = load_train_config(
        config_path, list(overrides), list(data), settings, base=_without_none(saved), origins=blame
    )
    conflicts: dict[str, str] = {}  # origin -> what the run has there
    for key, then, _ in _differences(saved, config.resolved()):
        if key == "epochs":
            continue
        origin = _origin(key, overrides, data, config_path, origins or {})
        conflicts.setdefault(origin, f"{key}={_shown(key, then)}")
    if conflicts:
        said = "; ".join(f"{origin}: {run} was trained with {then}" for origin, then in conflicts.items())
        raise ConfigError(f"{said}; start a new run to change {'it' if len(conflicts) == 1 else 'them'}")
    return config


def _without_none(document: Any) -> Any:
    """A resolved document without its None values (every nullable setting defaults to None), so
    that a flag may set a key below one (`--monitor-dataset` below `eval.monitor: null`)."""
    if isinstance(document, Mapping):
        return {key: _without_none(value) for key, value in document.items() if value is not None}
    return document


def _check_recorded_locations(recorded: Mapping[str, Any], where: Path) -> None:
    """A run recorded by an older synthgen has its local corpora relative to the folder it was
    started in: it resumes from there, and elsewhere fails here in one line naming the path."""
    for corpus in (recorded.get("data") or {}).get("corpora") or []:
        url = str(corpus.get("url", "")) if isinstance(corpus, Mapping) else ""
        # A live recipe not found is named by the recipe loader (it may know it by name).
        if not url or url.startswith(LIVE_PREFIX) or _URL.match(url) or os.path.isabs(url):
            continue
        local = os.path.dirname(url) if "{" in url else url
        if not os.path.exists(local or "."):
            raise ConfigError(
                f"{where}: data.corpora: {url} is relative to the folder the run was started in, and is not "
                f"found from {os.getcwd()}: resume from that folder"
            )


def _origin(
    key: str, overrides: Sequence[str], data: Sequence[str], config_path: str | Path | None, origins: Mapping[str, str]
) -> str:
    """How the command gave the setting `key` (dotted): the flag that set it, as the user wrote it."""

    def overlaps(other: str) -> bool:
        return key == other or key.startswith(f"{other}.") or other.startswith(f"{key}.")

    for other, origin in origins.items():
        if overlaps(other):
            return origin
    for override in overrides:
        if overlaps(override.partition("=")[0]):
            return f"--set {override}"
    if key.startswith("data.corpora") and data:
        return " ".join(f"--data {spec}" for spec in data)
    if config_path is not None:
        return f"--config {config_path}"
    return key


def _shown(key: str, value: Any) -> str:
    if key == "data.corpora" and isinstance(value, list):
        return ", ".join(
            str(c.get("url")) + ("" if c.get("weight", 1.0) == 1.0 else f"@{c.get('weight')}") for c in value
        )
    if isinstance(value, str):
        return value
    return "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


@dataclass(frozen=True)
class TrainSummary:
    """What a call of train() did: the run folder's summary.json (`to_dict` is its content)."""

    run: str  # the run folder
    steps: int  # steps taken so far, by this call and the calls it resumed
    total_steps: int
    epochs: float  # steps in epochs
    finished: bool  # all total_steps taken
    interrupted: bool  # stopped by Ctrl-C or SIGTERM (a checkpoint was saved)
    seconds: float  # this call's training time
    images_per_s: float
    data_wait: float  # the share of that time spent waiting for the loader
    final_loss: float | None  # the last logged loss (None when this call took no step)
    bad_samples: int  # samples skipped as damaged, as of the last log line
    bad_shards: int
    backbone: str  # the exported backbone (safetensors)
    # The monitor's last figures (`monitor_knn_top1`, ...); empty without a monitor.
    monitor: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """summary.json's content: the fields in order, the monitor's figures flat at the end."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "monitor"}
        return fields | self.monitor

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainSummary:
        """A summary read back from summary.json (a field that an older version did not write is None)."""
        names = [f.name for f in dataclasses.fields(cls) if f.name != "monitor"]
        figures = {key: value for key, value in data.items() if key not in names}
        return cls(**{key: data.get(key) for key in names}, monitor=figures)  # type: ignore[arg-type]

    @classmethod
    def read(cls, run_dir: str | Path) -> TrainSummary:
        return cls.from_dict(json.loads((Path(run_dir) / SUMMARY).read_text()))

    def write(self, run_dir: str | Path) -> None:
        (Path(run_dir) / SUMMARY).write_text(json.dumps(self.to_dict(), indent=2) + "\n")


def trained_already(config: TrainConfig, run_dir: Path, main: bool, steps: int, steps_per_epoch: int) -> TrainSummary:
    """A resumed run with no step left: its summary as it stands. Only when summary.json does not
    say so (lost, or the run's epochs were lowered to those done) are it and config.yaml written."""
    with contextlib.suppress(OSError, ValueError, TypeError):
        found = TrainSummary.read(run_dir)
        if found.finished and found.steps == steps == found.total_steps:
            return found
    summary = TrainSummary(
        run=str(run_dir), steps=steps, total_steps=steps, epochs=steps / steps_per_epoch, finished=True,
        interrupted=False, seconds=0.0, images_per_s=0.0, data_wait=0.0, final_loss=None, bad_samples=0,
        bad_shards=0, backbone=str(run_dir / BACKBONE),
    )  # fmt: skip
    if main:  # the main process writes the run folder
        write_config(run_dir, config)
        summary.write(run_dir)
    return summary


def write_config(run_dir: Path, config: TrainConfig) -> None:
    """RUN/config.yaml: the resolved configuration (corpus locations absolute), which `--resume`
    reads back."""
    (run_dir / CONFIG).write_text(yaml.safe_dump(config.resolved(), sort_keys=False))


# -- the steps of a run, and the plan it announces ---------------------------------------------------


def input_sides(config: TrainConfig, corpora: Sequence[TrainCorpus | LiveCorpus]) -> tuple[int, int]:
    """(the side views are decoded to, the side the network sees after cropping)."""
    image_size = config.data.image_size or corpora[0].image_size[0]
    return image_size, config.augment.size or image_size


def plan_steps(
    config: TrainConfig, corpora: Sequence[TrainCorpus | LiveCorpus], world_size: int = 1
) -> tuple[int, int]:
    """(steps per epoch, total steps) of a run on `corpora` over `world_size` processes.

    Refused in one line, before any model is built: a batch larger than the corpora (every batch
    would hold the same samples several times, and under DDP a process would get fewer samples
    than its share of the batch), and an epoch shorter than a batch (it would take no step).
    """
    batch = config.data.batch_size
    samples = sum(corpus.nsamples for corpus in corpora)
    if batch > samples:
        where = corpora[0].spec if len(corpora) == 1 else f"the {len(corpora)} corpora"
        live = (
            " (data.live_samples, --live-samples, per live recipe)"
            if any(isinstance(corpus, LiveCorpus) for corpus in corpora)
            else ""
        )
        share = f" ({batch // world_size} per process over {world_size})" if world_size > 1 else ""
        raise ConfigError(
            f"data.batch_size: {batch}{share} is more than the {counted(samples, 'sample')}{live} of {where}: "
            f"give --batch-size {samples} or less, or a larger corpus"
        )
    epoch_samples = config.data.epoch_samples or samples
    if epoch_samples < batch:
        raise ConfigError(
            f"data.epoch_samples: {epoch_samples} is fewer than one batch (data.batch_size {batch}): "
            "an epoch would take no step"
        )
    steps_per_epoch = epoch_samples // batch
    return steps_per_epoch, config.epochs * steps_per_epoch


@dataclass(frozen=True)
class TrainPlan:
    """What train() is about to do, once the data and the checkpoint it resumes are read (before
    the model is built): `lines` is the header `synthgen train` shows."""

    run: str
    model: str  # the network in words: `resnet18 (cifar stem, width 16) at 32 px`
    method: str
    views: int  # views per sample the method takes
    corpora: tuple[str, ...]
    samples: int  # in the corpora, one pass (a live recipe: its samples per pass)
    epoch_samples: int
    batch_size: int  # global, all processes
    steps_per_epoch: int
    epochs: int
    total_steps: int
    device: str
    precision: str  # `bf16 autocast` or `fp32`
    processes: int
    start_step: int = 0  # the step resumed at (0: a new run)
    # A resume that changes the epochs: the run's epochs before, and the learning rate at
    # `start_step` under its schedule then and under the recomputed one.
    epochs_before: int | None = None
    lr_before: float | None = None
    lr_now: float | None = None

    @property
    def nothing_left(self) -> bool:
        return self.start_step >= self.total_steps

    def lines(self) -> list[str]:
        """`train: ...`, `data: ...`, `steps: ...`, `device: ...`, `run: ...`, and when resuming
        where it resumes (and the schedule, when the epochs changed)."""
        where = ", ".join(self.corpora) if len(self.corpora) <= 3 else counted(len(self.corpora), "corpus", "corpora")
        lines = [
            f"train: {self.model}, {self.method}, {counted(self.views, 'view')} per sample",
            f"data: {counted(self.samples, 'sample')} ({where}), {self.epoch_samples} per epoch",
            f"steps: batch {self.batch_size}, {self.steps_per_epoch} per epoch, "
            f"{counted(self.epochs, 'epoch')}, {self.total_steps} in all",
            f"device: {self.device}, {self.precision}, {counted(self.processes, 'process', 'processes')}",
            f"run: {self.run}",
        ]
        done = self.start_step / self.steps_per_epoch
        if self.nothing_left:
            epochs = f"{done:g} epoch" + ("" if done == 1 else "s")
            lines.append(
                f"nothing left to train: the run has taken its {self.total_steps} steps ({epochs}); "
                f"give --epochs N above {done:g} to train on"
            )
        elif self.start_step:
            lines.append(f"resuming at step {self.start_step} of {self.total_steps} (epoch {done:g} of {self.epochs})")
        if self.epochs_before is not None and self.epochs_before != self.epochs and not self.nothing_left:
            lines.append(
                f"epochs {self.epochs_before} -> {self.epochs}: the learning-rate schedule is recomputed for "
                f"{self.total_steps} steps, so step {self.start_step} goes on at lr {self.lr_now:.4g} "
                f"(the {self.epochs_before}-epoch schedule had {self.lr_before:.4g} there)"
            )
        return lines


PlanCallback = Callable[[TrainPlan], None]


def make_plan(
    config: TrainConfig,
    corpora: Sequence[TrainCorpus | LiveCorpus],
    run_dir: Path,
    *,
    device: str,
    bf16: bool,
    processes: int,
    start_step: int = 0,
    epochs_before: int | None = None,
) -> TrainPlan:
    steps_per_epoch, total_steps = plan_steps(config, corpora, processes)
    _, crop = input_sides(config, corpora)
    options = config.model.backbone_options(crop)
    shape = f" ({options['stem']} stem, width {options['width']})" if options else ""
    lr_before = lr_now = None
    if epochs_before is not None and epochs_before != config.epochs:
        warmup = round(config.optim.warmup_epochs * steps_per_epoch)
        lr_before = lr_at(start_step, epochs_before * steps_per_epoch, warmup, config.optim)
        lr_now = lr_at(start_step, total_steps, warmup, config.optim)
    return TrainPlan(
        run=str(run_dir),
        model=f"{config.model.arch}{shape} at {crop} px",
        method=config.method.name,
        views=config.method.views,
        corpora=tuple(corpus.spec for corpus in corpora),
        samples=sum(corpus.nsamples for corpus in corpora),
        epoch_samples=config.data.epoch_samples or sum(corpus.nsamples for corpus in corpora),
        batch_size=config.data.batch_size,
        steps_per_epoch=steps_per_epoch,
        epochs=config.epochs,
        total_steps=total_steps,
        device=device,
        precision="bf16 autocast" if bf16 else "fp32",
        processes=processes,
        start_step=start_step,
        epochs_before=epochs_before,
        lr_before=lr_before,
        lr_now=lr_now,
    )


def announce(plan: TrainPlan, on_start: PlanCallback | None) -> None:
    """Give the plan to `on_start`, or to the log when no one takes it."""
    if on_start is not None:
        on_start(plan)
    else:
        for line in plan.lines():
            logger.info("%s", line)


def check_epochs(config: TrainConfig, start_step: int, steps_per_epoch: int, where: Path) -> None:
    """A resume may set more epochs, or fewer down to those done, not fewer than the run has trained."""
    if start_step > config.epochs * steps_per_epoch:
        done = start_step / steps_per_epoch
        raise ConfigError(
            f"epochs: {config.epochs} is fewer than the {done:g} epochs {where} has trained ({start_step} steps): "
            f"give --epochs {-(-start_step // steps_per_epoch)} or more"
        )


def uses_bf16(config: TrainConfig, device_type: str) -> bool:
    """Whether the run computes under bf16 autocast (`precision: auto`: on CUDA)."""
    return config.precision == "bf16" or (config.precision == "auto" and device_type == "cuda")
