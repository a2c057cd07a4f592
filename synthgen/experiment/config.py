"""Experiment files: one study (corpora to render, a training setup, downstream data), validated
like recipes.

    name: families-quick
    render: {workers: 2, set: {count: 4096, image.size: 32}}   # applied to every corpus
    corpora:
      - {name: shaders, recipe: ../demo-shaders.yaml}
      - {name: dead-leaves, recipe: noise-demo-dead_leaves-mixed}     # a shipped recipe's name
    train: {config: small-cpu, set: {epochs: 8}, seeds: [0, 1]}
    eval: {dataset: "idx:/usr/share/datasets/fashion-mnist", probes: [linear, knn]}
    baselines: [random, pixels]

Paths (recipes, the train config, a local dataset) are relative to the experiment file; a
recipe or config that is not a file there may be a shipped one's name (synthgen.shipped).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator

from synthgen.errors import DocumentError
from synthgen.evaluate.finetune import FinetuneSettings
from synthgen.evaluate.run import DEFAULT_PROBES
from synthgen.schema import (
    NAME_PATTERN,
    DocumentSpec,
    Origin,
    Origins,
    StrictModel,
    apply_override,
    format_validation_error,
    read_yaml_mapping,
)
from synthgen.shipped import ConfigReference, RecipeReference

# The probes an experiment may run (evaluate.run.PROBES).
Probe = Literal["linear", "knn", "finetune"]
Baseline = Literal["random", "pixels"]
BASELINES: tuple[str, ...] = get_args(Baseline)
# Seeds feed numpy's SeedSequence (non-negative) and torch (64 bits).
Seed = Annotated[int, Field(ge=0, lt=2**63)]


class ExperimentError(DocumentError):
    """An experiment file that cannot be read or is not valid."""


def flatten_settings(value: Any) -> Any:
    """`{image: {size: 64}}` means `{image.size: 64}`: a nested mapping sets single keys and keeps
    the rest, so `--set render.set.image.size=64` changes the size and keeps the format. Later
    keys win. Lists are values as a whole."""
    if not isinstance(value, dict):
        return value
    flat: dict[str, Any] = {}

    def walk(prefix: str, node: dict[Any, Any]) -> None:
        for key, item in node.items():
            if isinstance(item, dict) and item:
                walk(f"{prefix}{key}.", item)
            else:
                flat.pop(f"{prefix}{key}", None)  # re-inserted last: it wins over an earlier spelling
                flat[f"{prefix}{key}"] = item

    walk("", value)
    return flat


class RenderSection(StrictModel):
    workers: int = Field(1, ge=1)
    # Recipe settings for every corpus ({dotted key: value}), before each corpus's own.
    set: dict[str, Any] = Field(default_factory=dict)

    _flat = field_validator("set", mode="before")(flatten_settings)


class CorpusEntry(StrictModel):
    """A corpus of the study: rendered from a `recipe`, or imported from a labelled `dataset`
    (the real-data control: its train split, as many images as `render.set.count`, at the
    study's image size; self-supervised methods never read its labels)."""

    name: str = Field(pattern=NAME_PATTERN, max_length=64)
    recipe: RecipeReference | None = None
    dataset: DocumentSpec | None = Field(None, min_length=1)
    set: dict[str, Any] = Field(default_factory=dict)
    # Training settings for this corpus, after the study's `train.set` (e.g. a formula-driven
    # corpus pretrained with `method: {name: supervised, classes: 100}`).
    train: dict[str, Any] = Field(default_factory=dict)
    # For the accuracy-against-programs plot; counted from the recipe for shader corpora.
    programs: int | None = Field(None, ge=1)

    _flat = field_validator("set", "train", mode="before")(flatten_settings)

    @field_validator("train")
    @classmethod
    def _same_network_and_seeds(cls, value: dict[str, Any]) -> dict[str, Any]:
        # Every row is compared with the same untrained network (the random baseline, the gap
        # closed) and over the study's seeds: those stay the study's.
        fixed = sorted(key for key in value if key.startswith("model.") or key in ("model", "seed", "data.corpora"))
        if fixed:
            raise ValueError(
                f"{fixed[0]} is the study's (train.set or the corpus itself): every corpus trains the same "
                "network on its own data over the study's seeds"
            )
        return value

    @model_validator(mode="after")
    def _one_origin(self) -> CorpusEntry:
        if (self.recipe is None) == (self.dataset is None):
            raise ValueError("give exactly one of `recipe` (a synthetic corpus) or `dataset` (the real-data control)")
        if self.dataset is not None and self.set:
            raise ValueError("`set` goes with `recipe`: a dataset corpus takes count and image.size from render.set")
        return self

    @property
    def is_control(self) -> bool:
        return self.dataset is not None


class TrainSection(StrictModel):
    config: ConfigReference | None = None
    set: dict[str, Any] = Field(default_factory=dict)
    # One pretraining run per corpus and seed (`seed` of the train config); results are the mean
    # and spread over seeds. The random baseline draws one init per seed too.
    seeds: list[Seed] = Field(default_factory=lambda: [0], min_length=1)

    _flat = field_validator("set", mode="before")(flatten_settings)

    @field_validator("seeds")
    @classmethod
    def _distinct(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError(f"seeds must be distinct, got {value}")
        return value


# The metrics each probe reports (experiment.report.metrics_of).
_PROBE_METRICS = {
    "linear": ("linear_top1", "linear_top5"),
    "knn": ("knn20_top1", "knn200_top1"),
    "finetune": ("finetune_top1", "finetune_top5"),
}


class FinetuneSection(StrictModel):
    """The settings of the fine-tuning probe that studies change (the rest: FinetuneSettings)."""

    epochs: int = Field(FinetuneSettings.epochs, ge=1)
    lr: float = Field(FinetuneSettings.lr, gt=0)
    batch_size: int = Field(FinetuneSettings.batch_size, ge=2)

    def settings(self) -> FinetuneSettings:
        return FinetuneSettings(epochs=self.epochs, lr=self.lr, batch_size=self.batch_size)


class Protocol(StrictModel):
    """One way of measuring an encoder: probes on `limit_train` images (all labels), or on
    `labels_per_class` images per class (few labels). Its metrics are suffixed `@N` then."""

    probes: list[Probe] = Field(min_length=1)
    labels_per_class: int | None = Field(None, ge=1)
    finetune: FinetuneSection = FinetuneSection()

    @property
    def suffix(self) -> str:
        return "" if self.labels_per_class is None else f"@{self.labels_per_class}"


class EvalSection(StrictModel):
    dataset: DocumentSpec
    # The probes of the one protocol when `protocols` is not given (all of limit_train's labels).
    probes: list[Probe] = Field(default_factory=lambda: list(DEFAULT_PROBES), min_length=1)
    # Several protocols, each measured on every row: e.g. all labels and 10 labels per class.
    protocols: list[Protocol] | None = Field(None, min_length=1)
    limit_train: int | None = Field(None, ge=1)
    limit_val: int | None = Field(None, ge=1)
    # The metric of the plots, the `vs random` and the gap-closed columns (default: the first
    # protocol's first metric, e.g. linear_top1 or linear_top1@10).
    headline: str | None = None
    # Draws the dataset's subsets and the linear probe's held-out part: the same for every row.
    seed: Seed = 0
    # auto: CUDA when there is one.
    device: str = "auto"

    @model_validator(mode="after")
    def _distinct_protocols(self) -> EvalSection:
        suffixes = [protocol.suffix for protocol in self.measured]
        if len(set(suffixes)) != len(suffixes):
            raise ValueError("protocols: two protocols with the same labels_per_class; merge their probes")
        measured = [key + p.suffix for p in self.measured for probe in p.probes for key in _PROBE_METRICS[probe]]
        if self.headline is not None and self.headline not in measured:
            raise ValueError(f"headline: {self.headline!r} is not measured; measured: {', '.join(measured)}")
        return self

    @property
    def measured(self) -> list[Protocol]:
        """The protocols to run: `protocols`, or the one that `probes` describes."""
        return self.protocols or [Protocol(probes=self.probes)]


class Experiment(StrictModel):
    name: str = Field(pattern=NAME_PATTERN, max_length=128)
    render: RenderSection = RenderSection()
    corpora: list[CorpusEntry] = Field(min_length=1)
    train: TrainSection = TrainSection()
    eval: EvalSection
    baselines: list[Baseline] = Field(default_factory=lambda: list(BASELINES))
    # Which setting gave each key (the file, or a --set): load_experiment records it, so that the
    # recipes and configs its settings change blame the right one too (setting_origin).
    _origins: Origins | None = PrivateAttr(default=None)

    def setting_origin(self, path: Sequence[str]) -> Origin:
        """The setting that gave the key at `path` of this study (`render.set.image.size`): the
        --set that set it, or the study file with the key's own path there."""
        if self._origins is None:
            return Origin("experiment", tuple(path))
        origin, below = self._origins.given(path)
        if origin.path is None and not below:  # the --set that gave this very key
            return origin
        return Origin(origin.label, (*(origin.path or ()), *below))

    @field_validator("corpora")
    @classmethod
    def _unique_names(cls, corpora: list[CorpusEntry]) -> list[CorpusEntry]:
        taken: set[str] = set()
        if sum(corpus.is_control for corpus in corpora) > 1:
            raise ValueError("one real-data control (a corpus with `dataset`) per study")
        for corpus in corpora:
            if corpus.name in BASELINES:
                raise ValueError(f"the corpus name {corpus.name!r} is a baseline's")
            if corpus.name in taken:
                raise ValueError(f"the corpus name {corpus.name!r} is used twice")
            taken.add(corpus.name)
        return corpora


def load_experiment(path: str | Path, overrides: Sequence[str] = ()) -> Experiment:
    """Read and validate an experiment file; `overrides` are `KEY=VALUE` as for `--set`
    (e.g. `train.set.epochs=50`). `path` may name a shipped study (`experiments/families-quick`)."""
    from synthgen.shipped import resolve_document

    path = resolve_document(path, "experiment")
    document = read_yaml_mapping(path, "experiment", ExperimentError)
    origins = Origins(str(path))
    for override in overrides:
        apply_override(document, override, ExperimentError, origins)
    try:
        experiment = Experiment.model_validate(document, context={"base_dir": path.parent})
    except ValidationError as err:
        raise ExperimentError(format_validation_error(err, document, origins=origins)) from None
    experiment._origins = origins
    return experiment
