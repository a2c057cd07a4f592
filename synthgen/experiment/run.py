"""`synthgen experiment`: render each corpus of a study, pretrain on it, evaluate every run and
the baselines on real labelled data, then write the table (markdown and JSON) and the plots.

Everything lands in one folder, and every stage picks up where an earlier invocation stopped:

    OUT/corpora/NAME/            the rendered corpus (an interrupted render resumes)
    OUT/runs/NAME-seedS/         the pretraining run (reused when finished, resumed otherwise)
    OUT/evals/NAME-seedS.json    each evaluation report
    OUT/features/                the feature cache (re-running an experiment decodes no image)
    OUT/results.json, results.md, accuracy.png, programs.png
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import logging
import os
import platform
import tempfile
import time
from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from synthgen import __version__
from synthgen.corpus.storage import Destination
from synthgen.errors import CorpusError
from synthgen.evaluate.datasets import TooFewPerClass, load_dataset
from synthgen.evaluate.monitor import build_monitor
from synthgen.evaluate.run import EvalReport, evaluate
from synthgen.experiment.config import CorpusEntry, EvalSection, Experiment, ExperimentError, Protocol
from synthgen.experiment.report import gap_closed, headline_metric, metrics_of, summarise, write_plots, write_tables
from synthgen.permissions import Permissions, check_code_allowed, granting, resolve_permissions
from synthgen.progress import ProgressCallback
from synthgen.realdata import dataset_recipe, holding_selections
from synthgen.recipe import Recipe, load_recipe
from synthgen.render import other_recipe_problem, recorded_manifest, render_corpus
from synthgen.schema import Origin, read_yaml_mapping, set_key
from synthgen.sources import source_class
from synthgen.train.checkpoints import LAST, checkpoint_path
from synthgen.train.config import TrainConfig, load_train_config
from synthgen.train.device import choose_device
from synthgen.train.loop import train
from synthgen.train.run_record import CONFIG, SUMMARY, TrainSummary, config_differences

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlannedCorpus:
    """One corpus of a study, resolved: its recipe, where it is rendered, one config per seed."""

    name: str
    recipe: Recipe
    recipe_path: str
    folder: Path
    programs: int | None
    configs: dict[int, TrainConfig]  # by training seed
    control: bool = False  # the real-data control (imported), not a synthetic corpus


def run_experiment(
    experiment: Experiment,
    out_dir: str | Path,
    *,
    echo: Callable[[str], None] = logger.info,
    on_progress: ProgressCallback | None = None,
    permissions: Permissions | None = None,
) -> dict[str, Any]:
    """Run (or finish) the study in `out_dir`; returns the results that results.json holds.

    `echo` gets a line per stage and result (default: this module's logger, at INFO);
    `on_progress` gets the ProgressUpdates of every render and training run, one job after
    another.
    `permissions` (synthgen.permissions.Permissions): what the study's recipes may run, as
    `--allow-code` and `--trust-pickle` give it; None: the permissions in effect, else what the
    environment variables allow (by default nothing). Every recipe is checked before the first
    render, so a study asking for more stops at once, naming the recipe file.
    """
    out = Path(out_dir).resolve()
    started = time.perf_counter()
    # Granted for the whole study: the renders get them, and so does the training loop (its
    # live recipes, if a training config names any).
    with holding_selections(), granting(resolve_permissions(permissions)):
        return _run(experiment, out, started, on_progress, echo)


def _run(
    experiment: Experiment,
    out: Path,
    started: float,
    on_progress: ProgressCallback | None,
    echo: Callable[[str], None],
) -> dict[str, Any]:
    corpora = check_inputs(experiment, out)
    seconds: dict[str, float] = {}

    with _timed(seconds, "render"):
        for corpus in corpora:
            echo(f"render {corpus.name}")
            summary = render_corpus(
                corpus.recipe, str(corpus.folder), workers=experiment.render.workers, on_progress=on_progress
            )
            echo(f"  {summary.line()}")
    with _timed(seconds, "train"):
        trained = {}
        for corpus in corpora:
            for seed, config in corpus.configs.items():
                echo(f"train {corpus.name} (seed {seed})")
                trained[corpus.name, seed] = _train(config, _run_dir(out, corpus, seed), on_progress, echo)
    device = _device(experiment.eval.device)
    first = corpora[0].configs[experiment.train.seeds[0]]
    arch, size = first.model.arch, first.augment.size
    evaluator = _Evaluator(experiment, out, device, echo)
    with _timed(seconds, "eval"):
        rows = [_corpus_row(evaluator, corpus, trained) for corpus in corpora]
        baselines = {"random": random_spec(first), "pixels": f"pixels@{size}"}
        rows += [_baseline_row(evaluator, name, baselines[name]) for name in experiment.baselines]
    headline = headline_metric(experiment.eval)
    for row in rows:
        if row["kind"] == "corpus":
            row["gap_closed"] = {metric: gap_closed(row, rows, metric) for metric in row["mean"]}
    # Every evaluation read the same images: the dataset and its options are the experiment's.
    facts = evaluator.first_report
    assert facts is not None  # the baselines and every corpus were evaluated

    results = {
        "experiment": experiment.name,
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": _machine(device),
        "synthgen_version": __version__,
        "settings": experiment.model_dump(mode="json"),
        "dataset": experiment.eval.dataset,
        "dataset_name": facts.dataset_name,
        "n_train": facts.n_train,
        "n_val": facts.n_val,
        "arch": arch,
        "image_size": size,
        "protocols": [protocol_facts(protocol, experiment.eval) for protocol in experiment.eval.measured],
        "headline": headline,
        "rows": rows,
        "train_seconds": round(sum(summary.seconds for summary in trained.values()), 1),
        "seconds": {key: round(value, 1) for key, value in seconds.items()}
        | {"total": round(time.perf_counter() - started, 1)},
    }
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    table = write_tables(results, out)
    echo(table)
    for path in write_plots(results, out, echo):
        echo(f"wrote {path}")
    return results


@contextlib.contextmanager
def _timed(seconds: dict[str, float], stage: str) -> Iterator[None]:
    began = time.perf_counter()
    try:
        yield
    finally:
        seconds[stage] = seconds.get(stage, 0.0) + time.perf_counter() - began


def _corpus_row(
    evaluator: _Evaluator, corpus: PlannedCorpus, trained: dict[tuple[str, int], TrainSummary]
) -> dict[str, Any]:
    runs = []
    for seed in evaluator.experiment.train.seeds:
        summary = trained[corpus.name, seed].to_dict()
        metrics = evaluator(f"{corpus.name}-seed{seed}", summary["run"])
        keys = ("steps", "seconds", "images_per_s", "final_loss", "bad_samples", "monitor_knn_top1")
        facts = {key: summary.get(key) for key in keys if key in summary}
        runs.append({"seed": seed, "run": summary["run"], "train": facts, "metrics": metrics})
    return {
        "name": corpus.name,
        "kind": "control" if corpus.control else "corpus",
        "recipe": corpus.recipe_path,
        "corpus": str(corpus.folder),
        "recipe_sha256": corpus.recipe.sha256,
        "images": corpus.recipe.count * corpus.recipe.views,
        "programs": corpus.programs,
        "runs": runs,
        **summarise(runs),
    }


def _baseline_row(evaluator: _Evaluator, name: str, checkpoint: str) -> dict[str, Any]:
    # The random baseline draws one init per training seed; pixels have no randomness.
    experiment = evaluator.experiment
    seeds = experiment.train.seeds if name == "random" else [experiment.eval.seed]
    runs = []
    for seed in seeds:
        # Raw pixels have no weights to fine-tune: that protocol's cells stay empty for them.
        metrics = evaluator(f"{name}-seed{seed}", checkpoint, init_seed=seed, finetune=name != "pixels")
        runs.append({"seed": seed, "metrics": metrics})
    return {"name": name, "kind": "baseline", "checkpoint": checkpoint, "runs": runs, **summarise(runs)}


def random_spec(config: TrainConfig) -> str:
    """The untrained network that a run of `config` starts from, as an eval checkpoint spec
    (`random:resnet18@32?stem=cifar&width=16`): the same architecture, stem and width."""
    size = config.augment.size or config.data.image_size or 64
    options = "&".join(f"{key}={value}" for key, value in config.model.backbone_options(size).items())
    return f"random:{config.model.arch}@{size}" + (f"?{options}" if options else "")


def plan_corpora(experiment: Experiment, out: Path) -> list[PlannedCorpus]:
    """Each corpus's recipe (with the experiment's settings) and training configs, validated."""
    return [_plan(number, entry, experiment, out) for number, entry in enumerate(experiment.corpora)]


def _plan(number: int, entry: CorpusEntry, experiment: Experiment, out: Path) -> PlannedCorpus:
    # An error about a key that the study sets names the study's key (or its --set), not the file
    # of the recipe or config it was set in.
    def origin(key: str, own: Container[str], section: str, study: tuple[str, ...]) -> Origin:
        path = ("corpora", str(number), section) if key in own else study
        return experiment.setting_origin((*path, *key.split(".")))

    if entry.dataset is not None:
        recipe = _control_recipe(entry.dataset, experiment)
    else:
        settings = {**experiment.render.set, **entry.set}
        origins = {key: origin(key, entry.set, "set", ("render", "set")) for key in settings}
        recipe = load_recipe(entry.recipe, settings=settings, origins=origins)
        # With the study's settings (and its --set) applied: they may name a factory too.
        check_code_allowed(recipe, origin=entry.recipe)
    source_class(recipe.source.kind).check(recipe)
    folder = out / "corpora" / entry.name
    train_settings = _train_settings(experiment, entry)
    # A corpus that names its method gives the whole `method` (_train_settings).
    own_train = {*entry.train, *(["method"] if "method.name" in entry.train else [])}
    train_origins = {key: origin(key, own_train, "train", ("train", "set")) for key in train_settings}
    configs = {
        seed: load_train_config(
            experiment.train.config,
            data=[str(folder)],
            settings={**train_settings, "seed": seed},
            origins={**train_origins, "seed": experiment.setting_origin(("train", "seeds"))},
        )
        for seed in experiment.train.seeds
    }
    origin = entry.recipe or f"dataset {entry.dataset}"
    return PlannedCorpus(entry.name, recipe, origin, folder, entry.programs or _count_programs(recipe), configs,
                         control=entry.is_control)  # fmt: skip


def _train_settings(experiment: Experiment, entry: CorpusEntry) -> dict[str, Any]:
    """The study's training settings, then the corpus's own. A corpus that names its method
    (`method.name`) gets that method whole: the study's method settings (a SimCLR temperature,
    a projection head) and the config file's do not apply to another method."""
    own = {key.removeprefix("method."): value for key, value in entry.train.items() if key.startswith("method.")}
    if "name" not in own:
        return {**experiment.train.set, **entry.train}
    study = {
        key: value for key, value in experiment.train.set.items() if key != "method" and not key.startswith("method.")
    }
    rest = {key: value for key, value in entry.train.items() if not key.startswith("method.")}
    method: dict[str, Any] = {}  # the dotted keys back into one mapping: it replaces the file's
    for key, value in own.items():
        set_key(method, key, value, f"corpora: {entry.name}: train", ExperimentError)
    return {**study, **rest, "method": method}


# The render settings that a real-data control takes over (the rest describe a synthetic family).
_CONTROL_SETTINGS = {"count", "image.size", "shard.samples"}


def _control_recipe(spec: str, experiment: Experiment) -> Recipe:
    """The recipe that imports the train split of `spec` as the real-data control: as many images
    as the synthetic corpora have samples (`render.set.count`; all of the split without it), at
    the study's image size, drawn with the evaluation's seed (so the split is the one `eval` uses)."""
    settings = experiment.render.set
    size = settings.get("image.size")
    return dataset_recipe(
        spec,
        split="train",
        limit=settings.get("count"),
        size=size if isinstance(size, int) else None,
        seed=experiment.eval.seed,
        shard_samples=settings.get("shard.samples", 1000),
        name=f"{experiment.name}-real",
    )


def check_inputs(experiment: Experiment, out: Path) -> list[PlannedCorpus]:
    """Every input of the study checked before any work, so that a misspelt name fails in seconds,
    not after hours of rendering and training: the evaluation data, every recipe (with the study's
    settings) and training config, the monitor's data of each, what earlier invocations left in
    `out` (corpora and runs of other settings), and that `out` can be written. Returns the plan."""
    check_evaluation(experiment)
    corpora = plan_corpora(experiment, out)
    check_monitors(corpora)
    for corpus in corpora:
        _check_same_recipe(corpus)
        for seed, config in corpus.configs.items():
            _check_same_config(config, _run_dir(out, corpus, seed))
    _check_writable(out)
    return corpora


def check_monitors(corpora: list[PlannedCorpus]) -> None:
    """Open the labelled data of every training config's monitor (`eval.monitor.dataset`) as the
    evaluation data is checked: its labels, no image decoded."""
    specs = {c.eval.monitor.dataset for corpus in corpora for c in corpus.configs.values() if c.eval.monitor}
    for spec in sorted(specs):
        try:
            load_dataset(spec, limit_train=1, limit_val=1)
        except CorpusError as err:
            raise ExperimentError(f"train: eval.monitor.dataset: {err}") from None


def _check_writable(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as err:
        raise ExperimentError(f"{out}: cannot write the study's results there: {err.strerror or err}") from None


def _run_dir(out: Path, corpus: PlannedCorpus, seed: int) -> Path:
    return out / "runs" / f"{corpus.name}-seed{seed}"


def _check_same_config(config: TrainConfig, run_dir: Path) -> None:
    """A run folder trained with another configuration (the study was edited) is an error."""
    if not (run_dir / CONFIG).is_file():
        return
    saved = read_yaml_mapping(run_dir / CONFIG, "run configuration", ExperimentError)
    changed = config_differences(saved, config.resolved())
    if changed:
        raise ExperimentError(
            f"{run_dir}: trained with another configuration ({changed[0]}); "
            "delete the folder or rename the corpus to train again"
        )


def _check_same_recipe(corpus: PlannedCorpus) -> None:
    """A corpus rendered from other settings (the file was edited) is an error here, with the
    experiment's remedy rather than `render`'s --overwrite. Another count too: render would
    grow the corpus, but the finished runs trained on the smaller one would be reused."""
    found = recorded_manifest(Destination(str(corpus.folder)))
    if found is None:
        return
    changed = other_recipe_problem(found, corpus.recipe, "the folder")
    if changed is None and found.nsamples != corpus.recipe.count:
        changed = f"count: {found.nsamples} in the folder, {corpus.recipe.count} in this recipe"
    if changed is not None:
        raise ExperimentError(
            f"{corpus.folder}: rendered from other settings ({changed}); "
            "delete the folder or rename the corpus to render again"
        )


def _count_programs(recipe: Recipe) -> int | None:
    if recipe.source.kind != "shader":
        return None
    from synthgen.sources.shader.programs import load_program_set

    return len(load_program_set(recipe.source.programs).programs)  # type: ignore[union-attr]


def _train(
    config: TrainConfig, run_dir: Path, on_progress: ProgressCallback | None, echo: Callable[[str], None]
) -> TrainSummary:
    """A finished run with this configuration is reused, a stopped one resumed; a run folder
    trained with another configuration is an error, never silently mixed into the results."""
    if (run_dir / CONFIG).is_file():
        _check_same_config(config, run_dir)
        if (run_dir / SUMMARY).is_file():
            summary = TrainSummary.read(run_dir)
            if summary.finished:
                echo(f"  reusing the finished run {run_dir}")
                return summary
    resume = checkpoint_path(run_dir, LAST).is_file()
    summary = train(config, run_dir, resume=resume, monitor=build_monitor(config), on_progress=on_progress)
    if summary.interrupted:
        raise KeyboardInterrupt
    if summary.final_loss is None:  # resumed at its last step: it only had to write its summary
        echo(f"  {run_dir} had finished its {summary.steps} steps")
    else:
        echo(f"  {summary.steps} steps in {summary.seconds:.0f} s, final loss {summary.final_loss:.4f}")
    return summary


class _Evaluator:
    """`synthgen eval` of one checkpoint under each of the experiment's protocols; each report is
    written to OUT/evals/LABEL.json (LABEL@N.json for N labels per class). Returns the metrics of
    all protocols together, each suffixed with its protocol's `@N`."""

    def __init__(self, experiment: Experiment, out: Path, device: str, echo: Callable[[str], None]) -> None:
        self.experiment, self.out, self.device, self.echo = experiment, out, device, echo
        self.first_report: EvalReport | None = None

    def __call__(
        self, label: str, checkpoint: str, init_seed: int | None = None, finetune: bool = True
    ) -> dict[str, float]:
        spec = self.experiment.eval
        metrics: dict[str, float] = {}
        for protocol in spec.measured:
            probes = [probe for probe in protocol.probes if finetune or probe != "finetune"]
            if not probes:
                continue
            report = evaluate(
                checkpoint,
                spec.dataset,
                probes=probes,
                cache_dir=self.out / "features",
                dataset_options=_dataset_options(spec, protocol),
                device=self.device,
                seed=spec.seed,
                init_seed=init_seed,
                labels_per_class=protocol.labels_per_class,
                finetune=protocol.finetune.settings(),
            )
            report.write(self.out / "evals" / f"{label}{protocol.suffix}.json")
            self.echo(f"eval {label}{protocol.suffix}: {report.line().split(': ', 1)[1]}")
            self.first_report = self.first_report or report
            metrics |= {f"{key}{protocol.suffix}": value for key, value in metrics_of(report).items()}
        return metrics


def _dataset_options(spec: EvalSection, protocol: Protocol) -> dict[str, Any]:
    """The dataset subsets of a protocol: limit_train for all labels (few labels per class are
    drawn from the whole train split instead), limit_val always."""
    options = {"limit_val": spec.limit_val}
    if protocol.labels_per_class is None:
        options["limit_train"] = spec.limit_train
    return {key: value for key, value in options.items() if value is not None}


def check_evaluation(experiment: Experiment) -> None:
    """Load the evaluation data as each protocol will (labels and a few images), so that a
    misspelt dataset or too many labels per class fails before anything is rendered or trained."""
    spec = experiment.eval
    for protocol in spec.measured:
        options = {**_dataset_options(spec, protocol), "limit_val": 1, "seed": spec.seed}
        if protocol.labels_per_class is not None:
            options["train_per_class"] = protocol.labels_per_class
        else:
            options["limit_train"] = 1
        try:
            load_dataset(spec.dataset, **options)
        except TooFewPerClass as err:
            raise ExperimentError(f"eval.protocols: labels_per_class {protocol.labels_per_class}: {err}") from None
        except CorpusError as err:
            raise ExperimentError(f"eval.dataset: {err}") from None


def protocol_facts(protocol: Protocol, spec: EvalSection) -> dict[str, Any]:
    """What a protocol measured, for results.json and the table's heading."""
    facts: dict[str, Any] = {"probes": protocol.probes, "labels_per_class": protocol.labels_per_class}
    if protocol.labels_per_class is None:
        facts["limit_train"] = spec.limit_train
    if "finetune" in protocol.probes:
        facts["finetune"] = dataclasses.asdict(protocol.finetune.settings())
    return facts


def _device(choice: str) -> str:
    """`eval.device` as train and eval choose it (synthgen.train.device)."""
    try:
        return str(choose_device(choice))
    except ValueError as err:
        raise ExperimentError(f"eval.device: {err}") from None


def _machine(device: str) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "torch": torch.__version__,
        "device": device,
    }
    if device.startswith("cuda"):
        facts["gpu"] = torch.cuda.get_device_name(device)
    return facts
