"""The training loop: one process per device, from one CPU to many GPUs under torchrun (DDP).

    torchrun --nproc_per_node 8 -m synthgen train --data s3://bucket/corpus --out runs/r50

Each step: a batch of uint8 views from the loader, moved to the device; MixUp (optional) and
augmentation there, batched; the method's loss under bf16 autocast on CUDA; an optimiser step on
the learning rate of the schedule. The global RNG is seeded from (seed, rank, step) at every step,
so a run resumed from a checkpoint takes exactly the steps the uninterrupted run would have taken.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from synthgen import __version__
from synthgen.corpus.lock import hold_destination
from synthgen.corpus.storage import Destination
from synthgen.progress import ProgressCallback, ProgressReporter
from synthgen.seeds import sample_seed
from synthgen.train.augment import GPUAugment
from synthgen.train.checkpoints import (
    BACKBONE,
    LAST,
    CheckpointError,
    check_same_corpora,
    checkpoint_path,
    corpus_identity,
    epoch_checkpoint_name,
    export_backbone,
    first_line,
    load_checkpoint,
    save_checkpoint,
    write_corpora,
)
from synthgen.train.config import ConfigError, TrainConfig
from synthgen.train.curves import METRICS, write_curves
from synthgen.train.data import (
    DataError,
    LabelSpace,
    ShardStream,
    TrainCorpus,
    ViewPolicy,
    make_loader,
    open_corpus,
)
from synthgen.train.device import choose_device
from synthgen.train.live import LiveCorpus
from synthgen.train.methods import MethodConfig, SupervisedConfig, build_method
from synthgen.train.models import build_backbone
from synthgen.train.optim import build_optimizer, lr_at, set_lr
from synthgen.train.recording import StreamRecorder
from synthgen.train.run_record import (
    PlanCallback,
    TrainSummary,
    announce,
    check_epochs,
    check_resumable,
    input_sides,
    make_plan,
    plan_steps,
    trained_already,
    uses_bf16,
    with_absolute_locations,
    write_config,
)
from synthgen.train.tensorboard import TensorBoardLog, summary_writer_class

# Measures a backbone during training: called with it and the step, returns figures for metrics.jsonl
# (synthgen.evaluate.monitor.build_monitor makes one; train/ may not import evaluate/).
Monitor = Callable[[nn.Module, int], dict[str, float]]

# What a second run into a run folder is told (the lock dies with its holder: no --force needed).
_BUSY_HINT = "wait for it to end, or choose another --out"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Process:
    """Where this process stands in the job: its rank and device."""

    rank: int
    world_size: int
    device: torch.device

    @property
    def main(self) -> bool:
        return self.rank == 0


def start_process() -> Process:
    """Join torchrun's process group when launched by it; otherwise a single process."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    device = choose_device(local_rank=int(os.environ.get("LOCAL_RANK", "0")))
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    rank = dist.get_rank() if dist.is_initialized() else 0
    return Process(rank, world_size, device)


class Trainer:
    """The model, method, augmentation, optimiser and schedule of a run, and one training step."""

    def __init__(self, config: TrainConfig, process: Process, corpora: list[TrainCorpus | LiveCorpus]) -> None:
        self.config = config
        self.process = process
        self.corpora = corpora
        self.image_size, self.crop_size = input_sides(config, corpora)
        torch.manual_seed(config.seed)  # the same initial weights on every rank
        # The stem and width as resolved for this input size: exported with the backbone, so that
        # `eval` rebuilds exactly this network.
        self.backbone_options = config.model.backbone_options(self.crop_size)
        backbone = build_backbone(config.model.arch, self.crop_size, **self.backbone_options)
        # Before the method: its classification head's size comes from the class counts checked here.
        self.labels = label_space(config.method, corpora)
        self.method = build_method(backbone, config.method)
        _check_fit(config, self.method, corpora, process)
        self.method.to(process.device)
        if config.channels_last:
            self.method.to(memory_format=torch.channels_last)
        self.optimizer = build_optimizer(self.method, config.optim, process.device)
        self.augment = GPUAugment(config.augment).to(process.device)
        self.model: nn.Module = self.method
        if process.world_size > 1:
            # The MoCo queue and BN statistics stay per rank: broadcasting them every step costs more than it gives.
            self.model = nn.parallel.DistributedDataParallel(
                self.method,
                device_ids=[process.device] if process.device.type == "cuda" else None,
                broadcast_buffers=False,
            )
        if config.compile:
            self.model = torch.compile(self.model)
        self.bf16 = uses_bf16(config, process.device.type)
        self.steps_per_epoch, self.total_steps = plan_steps(config, corpora, process.world_size)
        self.warmup_steps = round(config.optim.warmup_epochs * self.steps_per_epoch)

    def loader(self, skip_batches: int = 0) -> Iterator[dict[str, Any]]:
        """This rank's endless batches, from batch `skip_batches` of the run on."""
        config, process = self.config, self.process
        policy = ViewPolicy(
            views=config.method.views,
            distinct=config.data.positives == "views",
            size=(self.image_size, self.image_size),
            needs_labels=self.method.needs_labels,
            labels=self.labels,
        )
        stream = ShardStream(
            self.corpora,
            policy,
            config.data.batch_size // process.world_size,
            seed=config.seed,
            rank=process.rank,
            world_size=process.world_size,
            shuffle_buffer=config.data.shuffle_buffer,
            skip_batches=skip_batches,
            storage_options=config.data.storage_options,
            live_device=self.live_device,
            live_check_every=config.data.live_check_every,
            keep_live=config.data.save_stream is not None,
        )
        return _plain_errors(make_loader(stream, config.data.workers, pin_memory=process.device.type == "cuda"))

    @property
    def live_device(self) -> str | None:
        """The device live recipes render on (None: the source's default, the CPU)."""
        device = self.process.device
        if self.config.data.live_device == "cpu" or device.type == "cpu":
            return None
        return f"{device.type}:{device.index if device.index is not None else torch.cuda.current_device()}"

    def step(self, step: int, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, Any]]:
        """Train on `batch` as step `step` of the run; returns the loss and the method's metrics."""
        config, device = self.config, self.process.device
        torch.manual_seed(sample_seed(config.seed, step, self.process.rank))
        images = batch["images"].to(device, non_blocking=True)
        labels = batch["labels"].to(device, non_blocking=True) if self.method.needs_labels else None
        with torch.no_grad():
            views = self.augment(images)  # MixUp first, when configured
        set_lr(self.optimizer, lr_at(step, self.total_steps, self.warmup_steps, config.optim))
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=self.bf16):
            loss, metrics = self.model(views, labels)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss, metrics

    def synchronize(self) -> None:
        if self.process.device.type == "cuda":
            torch.cuda.synchronize(self.process.device)

    def state_dict(self, step: int) -> dict[str, Any]:
        return {
            "step": step,
            "config": self.config.resolved(),
            "model": self.method.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "synthgen_version": __version__,
        }

    def load_state_dict(self, state: dict[str, Any]) -> int:
        """Restore a checkpoint; returns the step it was taken after."""
        self.method.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        return int(state["step"])

    def export(self, path: Path, step: int) -> None:
        export_backbone(
            path,
            self.method.backbone,
            {
                "arch": self.config.model.arch,
                **self.backbone_options,
                "image_size": self.crop_size,
                "feature_dim": self.method.backbone.feature_dim,
                "mean": list(self.config.augment.mean),
                "std": list(self.config.augment.std),
                "step": step,
                "config_sha256": self.config.sha256(),
                "synthgen_version": __version__,
            },
        )


def train(
    config: TrainConfig,
    run_dir: str | Path,
    *,
    resume: bool = False,
    stop_after: int | None = None,
    monitor: Monitor | None = None,
    on_progress: ProgressCallback | None = None,
    on_start: PlanCallback | None = None,
) -> TrainSummary:
    """Train as `config` says, writing the run folder; returns the run's summary (summary.json).

    `stop_after` ends this invocation after that many steps (saving `last`), as a time-limited
    cluster job would; `resume` continues from `last` with the same configuration
    (run_record.resumed_config reads it back from the run folder), where `epochs` may grow: a
    finished run then trains on, its learning-rate schedule recomputed for the new total; a
    finished run resumed without more epochs trains nothing and returns its summary. `monitor`
    measures the backbone on the main process at the steps `config.eval.monitor` says (other ranks
    pass None): its figures join that step's line of metrics.jsonl, the last ones the summary.
    `on_start` gets the main process's TrainPlan before the model is built (without it, the plan
    is logged at INFO); `on_progress` its ProgressUpdates ("train", one per step, the latest loss
    and images/s as status). Data locations are recorded absolute (config.yaml), so the run
    resumes from any working directory.
    """
    config = with_absolute_locations(config)
    if monitor is not None and config.eval.monitor is None:
        raise ConfigError("eval.monitor: train() got a monitor but the config has no eval.monitor to say when it runs")
    process = start_process()
    if process.main and config.eval.monitor is not None and monitor is None:
        logger.warning("eval.monitor is set but train() got no monitor to run (build one with build_monitor)")
    if process.main and "tensorboard" in config.log:
        summary_writer_class()  # a missing package fails now, not after the data is opened
    run_dir = Path(run_dir)
    # One run per folder: a second `train --out` into it is refused in one line. The main
    # process holds the lock (torchrun's other ranks write nothing of their own there).
    held = hold_destination(Destination(str(run_dir)), purpose="train", hint=_BUSY_HINT) if process.main else None
    with held or contextlib.nullcontext():
        return _train_held(
            config,
            run_dir,
            process,
            resume=resume,
            stop_after=stop_after,
            monitor=monitor,
            on_progress=on_progress,
            on_start=on_start,
        )


def _train_held(
    config: TrainConfig,
    run_dir: Path,
    process: Process,
    *,
    resume: bool,
    stop_after: int | None,
    monitor: Monitor | None,
    on_progress: ProgressCallback | None,
    on_start: PlanCallback | None,
) -> TrainSummary:
    """train()'s work, once the main process holds the run folder's lock."""
    last = checkpoint_path(run_dir, LAST)
    if resume and not last.is_file():
        raise CheckpointError(f"{run_dir}: nothing to resume (no {last.relative_to(run_dir)})")
    if not resume and last.is_file():
        raise CheckpointError(f"{run_dir}: a run is already here; add --resume to continue it, or choose another --out")

    data = config.data
    corpora = [open_corpus(c.url, c.weight, data.storage_options, data.live_samples) for c in data.corpora]
    steps_per_epoch, _ = plan_steps(config, corpora, process.world_size)  # a batch that fits, before any model
    identities = [corpus_identity(corpus, data.storage_options) for corpus in corpora]
    start_step = 0
    state: dict[str, Any] | None = None
    epochs_before = None  # the run's epochs as its checkpoint has them (resuming)
    recorded = False  # whether the run folder says what data the run started on
    if resume:
        state = load_checkpoint(last, process.device)
        check_resumable(state["config"], config.resolved(), last)
        recorded = check_same_corpora(run_dir, identities)
        start_step, epochs_before = int(state["step"]), state["config"].get("epochs")
        check_epochs(config, start_step, steps_per_epoch, run_dir)
    bf16 = uses_bf16(config, process.device.type)
    plan = make_plan(config, corpora, run_dir, device=str(process.device), bf16=bf16,
                     processes=process.world_size, start_step=start_step, epochs_before=epochs_before)  # fmt: skip
    if process.main:
        announce(plan, on_start)
    if plan.nothing_left:
        return trained_already(config, run_dir, process.main, start_step, steps_per_epoch)
    trainer = Trainer(config, process, corpora)
    if state is not None:
        try:
            trainer.load_state_dict(state)
        except (KeyError, TypeError, ValueError, RuntimeError) as err:  # tensors or groups that do not fit
            raise CheckpointError(f"{last}: does not fit this run's model and optimiser ({first_line(err)})") from None
    loader = trainer.loader(skip_batches=start_step)
    recorder = None
    if data.save_stream is not None:
        recorder = StreamRecorder(
            data.save_stream,
            {n: c for n, c in enumerate(corpora) if isinstance(c, LiveCorpus)},
            rank=process.rank,
            ranks=process.world_size,
            workers=data.workers,
            run_id=config.sha256(),
            start_step=start_step,
            resume=resume,
            storage_options=data.storage_options,
        )
    if process.main:
        run_dir.mkdir(parents=True, exist_ok=True)
        write_config(run_dir, config)
        if not recorded:
            write_corpora(run_dir, identities)

    steps_per_epoch, total_steps = trainer.steps_per_epoch, trainer.total_steps

    def checkpoint(step: int) -> None:
        if recorder is not None:  # the stream first: a checkpoint never runs ahead of its recording
            recorder.commit(step)
        if not process.main:
            return
        state = trainer.state_dict(step)
        save_checkpoint(last, state)
        epoch, within = divmod(step, steps_per_epoch)
        if within == 0 and (epoch % config.checkpoint.every_epochs == 0 or step == total_steps):
            save_checkpoint(checkpoint_path(run_dir, epoch_checkpoint_name(epoch)), state)
        trainer.export(run_dir / BACKBONE, step)

    tensorboard = "tensorboard" in config.log and process.main
    board = TensorBoardLog(run_dir, resume=resume, start_step=start_step) if tensorboard else None
    log = _MetricsLog(run_dir / METRICS, process, resume, board)
    # Every rank knows the monitor's steps from the config, and writes a log line at each (a line's
    # reductions are collectives); the main process adds the monitor's figures to it.
    every = None if config.eval.monitor is None else config.eval.monitor.every or steps_per_epoch
    monitored: dict[str, float] = {}  # the last figures, for the summary

    def measure(step: int) -> dict[str, float]:
        if monitor is None or not process.main:
            return {}
        clock = time.perf_counter()
        figures = monitor(trainer.method.backbone, step)
        log.since += time.perf_counter() - clock  # images_per_s counts training time only
        monitored.update(figures)
        return figures

    where = f"{process.device}, process {process.rank + 1} of {process.world_size}"
    logger.debug("training on %s: steps %d to %d, %d per epoch", where, start_step, total_steps, steps_per_epoch)
    reporter = ProgressReporter(on_progress if process.main else None, "train", "step", total_steps, done=start_step)
    shown: dict[str, str] = {}
    step = start_step
    started = time.perf_counter()
    stop = _StopRequest()
    try:
        trainer.model.train()
        while step < total_steps and (stop_after is None or step - start_step < stop_after):
            if stop.agreed(process):
                break
            waiting = time.perf_counter()
            batch = next(loader)
            log.waited(time.perf_counter() - waiting)
            if recorder is not None:
                recorder.add(step, batch.pop("live"))
            loss, metrics = trainer.step(step, batch)
            step += 1
            log.add(loss, metrics, batch, batch["images"].shape[0] * batch["images"].shape[1])
            watch = every is not None and (step % every == 0 or step == total_steps)
            if watch or step % config.log_every == 0 or step == total_steps:
                figures = measure(step) if watch else {}
                record = log.write(step, step / steps_per_epoch, trainer.optimizer.param_groups[0]["lr"], figures)
                shown = {"loss": f"{record['loss']:.4f}", "img_s": f"{record['images_per_s']:.0f}"}
                shown |= {key.removeprefix("monitor_"): f"{value:.3f}" for key, value in monitored.items()}
            reporter(1, shown)
            save_every = config.checkpoint.every_steps
            if step % steps_per_epoch == 0 or (save_every and step % save_every == 0):
                checkpoint(step)
    except BaseException:
        if recorder is not None:
            recorder.discard()
        if board is not None:
            board.close()
        raise
    finally:
        stop.release()
    if log.pending:
        log.write(step, step / steps_per_epoch, trainer.optimizer.param_groups[0]["lr"])
    if board is not None:
        board.close()
    if step % steps_per_epoch != 0:  # stopped mid-epoch: keep where we are
        checkpoint(step)
    if process.world_size > 1:
        dist.barrier()
    seconds = time.perf_counter() - started
    summary = TrainSummary(
        run=str(run_dir),
        steps=step,
        total_steps=total_steps,
        epochs=step / steps_per_epoch,
        finished=step >= total_steps,
        interrupted=stop.requested,
        seconds=round(seconds, 3),
        images_per_s=round(log.images_total / max(seconds, 1e-9), 1),
        data_wait=round(log.wait_total / max(seconds, 1e-9), 4),
        final_loss=log.last.get("loss"),
        bad_samples=log.last.get("bad_samples", 0),
        bad_shards=log.last.get("bad_shards", 0),
        backbone=str(run_dir / BACKBONE),
        monitor=dict(monitored),
    )
    if process.main:
        summary.write(run_dir)
        try:
            write_curves(run_dir)
        except Exception as err:  # a figure that fails to draw must not fail a run whose results are saved
            logger.warning("no curves.png: %s", err)
    return summary


def _plain_errors(loader: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The loader's batches; a DataError raised in a loader worker comes back as its own one line.

    torch re-raises a worker's exception with the worker's traceback in its message.
    """
    try:
        yield from loader
    except DataError as err:
        lines = [line for line in str(err).splitlines() if line.strip()]
        if len(lines) > 1 and lines[-1].startswith(f"{DataError.__module__}.{DataError.__name__}: "):
            raise DataError(lines[-1].split(": ", 1)[1]) from None
        raise


def label_space(method: MethodConfig, corpora: list[TrainCorpus | LiveCorpus]) -> LabelSpace | None:
    """How the corpora's `cls` map to the classes of a `supervised` method's head (None for other
    methods, which take `cls` as stored); ConfigError, naming the key, for class counts that are
    missing, do not match the corpora, or a mix whose classes would collide."""
    if not isinstance(method, SupervisedConfig):
        return None
    specs = tuple(corpus.spec for corpus in corpora)
    classes = method.classes
    if classes is None:
        raise ConfigError(
            "method.classes: supervised needs the number of classes of the corpora's `cls` (a corpus does not "
            "record it): set it, e.g. --set method.classes=1000"
        )
    if len(corpora) > 1 and method.mixed_classes == "refuse":
        raise ConfigError(
            f"method.mixed_classes: the corpora {', '.join(specs)} each number their own classes (class 3 of one "
            "is not class 3 of another): set method.mixed_classes=offset and method.classes=[N1, N2, ...] to give "
            "each its own classes, or method.mixed_classes=shared if they share one set of classes"
        )
    if method.mixed_classes == "offset":
        if not isinstance(classes, list) or len(classes) != len(corpora):
            raise ConfigError(
                f"method.classes: with mixed_classes: offset, give one class count per corpus "
                f"({len(corpora)}: [N1, N2, ...] in the order of the corpora), got {classes!r}"
            )
        offsets = [sum(classes[:n]) for n in range(len(classes))]
        return LabelSpace(specs, tuple(classes), tuple(offsets))
    if isinstance(classes, list):
        if len(classes) != 1:
            raise ConfigError(
                f"method.classes: a list of counts ({classes!r}) goes with method.mixed_classes: offset; "
                "give one number for corpora that share their classes"
            )
        classes = classes[0]
    return LabelSpace(specs, (classes,) * len(corpora), (0,) * len(corpora))


def _check_fit(
    config: TrainConfig, method: nn.Module, corpora: list[TrainCorpus | LiveCorpus], process: Process
) -> None:
    """Refuse, before any training, a run that the data or the machine cannot serve."""
    name = config.method.name
    live = [corpus for corpus in corpora if isinstance(corpus, LiveCorpus)]
    if config.data.save_stream is not None and not live:
        raise ConfigError("data.save_stream: the run has no live recipe (--recipe) whose stream could be saved")
    workers = max(1, config.data.workers)
    for corpus in live:
        replay = corpus.replay
        if replay is not None and (replay.ranks, replay.workers) != (process.world_size, workers):
            raise ConfigError(
                f"{corpus.spec}: the stream was saved by {replay.ranks} process(es) with {replay.workers} loader "
                f"worker(s) each, this run has {process.world_size} with {workers}: replay it with the same layout"
            )
    for corpus in corpora:
        if method.needs_labels and not corpus.has_labels:
            raise DataError(
                f"{corpus.spec}: method {name} needs a `cls` label per sample and this corpus has none "
                "(render a recipe whose source defines classes)"
            )
        if corpus.stored_views < method.min_stored_views:
            raise DataError(
                f"{corpus.spec}: method {name} needs at least {method.min_stored_views} stored views per sample "
                f"and this corpus has {corpus.stored_views} (render it with `views: {config.method.views}`)"
            )
    if config.data.batch_size % process.world_size:
        raise ConfigError(
            f"data.batch_size: {config.data.batch_size} does not split evenly over {process.world_size} processes"
        )
    if config.augment.mixup is not None and method.needs_labels:
        raise ConfigError(f"augment.mixup: mixing samples of different classes breaks the labels that {name} needs")
    per_rank = config.data.batch_size // process.world_size
    if config.augment.mixup is not None and per_rank < config.augment.mixup.k:
        raise ConfigError(f"augment.mixup.k: {config.augment.mixup.k} is more than the {per_rank} samples per process")


class _StopRequest:
    """Ctrl-C or SIGTERM (a cluster taking the machine back) ends the run after the current step,
    so the checkpoint saved then is consistent; a second signal stops at once."""

    def __init__(self) -> None:
        self.requested = False
        self.previous: dict[int, Any] = {}
        if threading.current_thread() is threading.main_thread():
            for number in (signal.SIGINT, signal.SIGTERM):
                self.previous[number] = signal.signal(number, self._handle)

    def _handle(self, number: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def agreed(self, process: Process) -> bool:
        """Whether to stop now; under DDP every rank stops at the same step or none does."""
        if process.world_size == 1:
            return self.requested
        flag = torch.tensor([float(self.requested)], device=process.device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        return bool(flag.item())

    def release(self) -> None:
        for number, handler in self.previous.items():
            signal.signal(number, handler)
        self.previous.clear()


class _MetricsLog:
    """Accumulates per-step figures between log lines; writes JSONL on the main process."""

    def __init__(self, path: Path, process: Process, resume: bool, board: TensorBoardLog | None = None) -> None:
        self.path = path
        self.process = process
        self.board = board  # the main process's TensorBoard view of the same lines (`log: [tensorboard]`)
        if process.main and not resume:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("")
        self.losses: list[torch.Tensor] = []
        self.metrics: dict[str, list[Any]] = {}
        self.images = 0
        self.images_total = 0
        self.bad_samples = 0
        self.bad_shards = 0
        self.wait = 0.0  # seconds this process waited for the loader since the last line
        self.wait_total = 0.0
        self.last: dict[str, Any] = {}
        self.since = time.perf_counter()

    def waited(self, seconds: float) -> None:
        self.wait += seconds
        self.wait_total += seconds

    def add(self, loss: torch.Tensor, metrics: dict[str, Any], batch: dict[str, Any], images: int) -> None:
        self.losses.append(loss.detach().float())
        for key, value in metrics.items():
            self.metrics.setdefault(key, []).append(value)
        self.images += images
        self.images_total += images * self.process.world_size
        self.bad_samples += int(batch["bad_samples"])
        self.bad_shards += int(batch["bad_shards"])

    def write(self, step: int, epoch: float, lr: float, extra: dict[str, float] | None = None) -> dict[str, Any]:
        # One reduction per log line, not per step: the device never waits for the host in between.
        device = self.losses[0].device
        means = [torch.stack(self.losses).mean()] + [
            torch.stack([torch.as_tensor(v, dtype=torch.float32, device=device) for v in values]).mean()
            for values in self.metrics.values()
        ]
        counts = torch.tensor([self.wait, self.bad_samples, self.bad_shards], dtype=torch.float32, device=device)
        figures = torch.cat([torch.stack(means).float(), counts])
        if self.process.world_size > 1:
            dist.all_reduce(figures)
            figures[: len(means)] /= self.process.world_size
        values = figures.tolist()
        seconds = time.perf_counter() - self.since
        record = {
            "step": step,
            "epoch": round(epoch, 4),
            "loss": values[0],
            "lr": lr,
            **dict(zip(self.metrics, values[1 : len(means)], strict=True)),
            "images_per_s": self.images * self.process.world_size / max(seconds, 1e-9),
            # The share of the time the training processes waited for batches: near 0 when the
            # loader (or a live renderer) keeps up, near 1 when it starves training.
            "data_wait": round(values[-3] / self.process.world_size / max(seconds, 1e-9), 4),
            "bad_samples": int(values[-2]),  # totals so far, all processes
            "bad_shards": int(values[-1]),
            **(extra or {}),
        }
        self.last = record
        if self.process.main:
            with self.path.open("a") as stream:
                stream.write(json.dumps(record) + "\n")
            if self.board is not None:
                self.board.write(record)
        self.losses.clear()
        self.metrics.clear()
        self.images = 0
        self.wait = 0.0
        self.since = time.perf_counter()
        return record

    @property
    def pending(self) -> bool:
        return bool(self.losses)
