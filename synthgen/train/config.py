"""The training configuration: one YAML file (or none), command-line flags on top, validated whole.

    synthgen train --data out/demo --config train.yaml --set optim.lr=0.1 --out runs/demo

Every section is strict (unknown keys are errors, with their field path), and the resolved
configuration is saved in the run folder, so a run can be repeated and `--resume` can check it
goes on with the same settings.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from synthgen.errors import DocumentError
from synthgen.recipe import canonical_json
from synthgen.schema import (
    Origin,
    Origins,
    StrictModel,
    apply_override,
    did_you_mean,
    flag_text,
    format_validation_error,
    read_yaml_mapping,
    set_key,
    setting_label,
)
from synthgen.train.augment import AugmentConfig
from synthgen.train.methods import METHODS, MethodConfig, SimCLRConfig
from synthgen.train.models import BACKBONES, RESNETS, resolve_stem
from synthgen.train.optim import OptimConfig


class ConfigError(DocumentError):
    """The training configuration is invalid: the message names the field path."""


class CorpusSpec(StrictModel):
    url: str = Field(min_length=1)
    weight: float = Field(default=1.0, gt=0)


class DataConfig(StrictModel):
    corpora: list[CorpusSpec] = Field(default_factory=list)
    # Global batch, split evenly over the ranks: the learning rate keeps its meaning on any GPU count.
    batch_size: int = Field(default=256, ge=2)
    workers: int = Field(default=4, ge=0)
    shuffle_buffer: int = Field(default=2000, ge=1)
    # Side every view is decoded to (default: the first corpus's image size).
    image_size: int | None = Field(default=None, ge=8)
    # views: positives are different stored views when a sample has enough (GenRep, StableRep);
    # augment: every view is an augmentation of view 0 (classic SimCLR).
    positives: Literal["views", "augment"] = "views"
    # Samples per epoch (default: all samples of all corpora once).
    epoch_samples: int | None = Field(default=None, ge=1)
    # Samples per pass of each live recipe (`recipe:PATH` corpora; default: the recipe's count).
    live_samples: int | None = Field(default=None, ge=1)
    # Where live recipes render: cpu, or train (the training device, e.g. the rank's GPU).
    live_device: Literal["cpu", "train"] = "cpu"
    # Each loader worker renders its first live sample again after every this many samples and
    # stops the run if the pixels differ (0: never).
    live_check_every: int = Field(default=1000, ge=0)
    # Save the live samples trained on as shards here, to replay the run (`--recipe DIR/NAME`).
    save_stream: str | None = Field(default=None, min_length=1)
    storage_options: dict[str, Any] = Field(default_factory=dict)


class ModelConfig(StrictModel):
    arch: str = "resnet18"
    # ResNets only. auto: the CIFAR stem (3x3 stride 1, no max-pool) below 64 px, else ImageNet's.
    stem: Literal["auto", "cifar", "imagenet"] = "auto"
    # ResNets only: channels of the first stage (torchvision's 64), doubled at each stage.
    width: int | None = Field(default=None, ge=1, le=1024)

    @field_validator("arch")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in BACKBONES:
            close = did_you_mean(value, BACKBONES)
            raise ValueError(f"unknown architecture {value!r}{close}; known: {', '.join(BACKBONES)}")
        return value

    @model_validator(mode="after")
    def _resnet_options(self) -> ModelConfig:
        if self.arch not in RESNETS:
            if self.stem != "auto":
                raise ValueError(f"stem: applies to ResNets only, not to {self.arch}")
            if self.width is not None:
                raise ValueError(f"width: applies to ResNets only, not to {self.arch}")
        return self

    def backbone_options(self, image_size: int) -> dict[str, Any]:
        """build_backbone's keyword arguments for inputs of side `image_size`, resolved (`auto`
        becomes the stem it means there): what the exported backbone records."""
        if self.arch not in RESNETS:
            return {}
        return {"stem": resolve_stem(self.arch, image_size, self.stem), "width": self.width or 64}


class CheckpointConfig(StrictModel):
    every_epochs: int = Field(default=10, ge=1)
    # Also save `last` every N steps (long epochs on machines that may be taken away).
    every_steps: int | None = Field(default=None, ge=1)


class MonitorConfig(StrictModel):
    """An online kNN probe during pretraining (synthgen/evaluate/monitor.py): it only watches, so it
    may change between a run and its resumption, and is left out of the config's sha256."""

    # An eval dataset SPEC (imagefolder:PATH, wds:URL, idx:DIR), loaded once before training.
    dataset: str = Field(min_length=1)
    # Steps between two measures (default: at the end of every epoch); the last step is always measured.
    every: int | None = Field(default=None, ge=1)
    # Labelled images in the kNN bank, drawn per class from the train split; limit // 4 (at least
    # one) more from the val split are the images classified.
    limit: int = Field(default=2000, ge=1)
    k: int = Field(default=20, ge=1)


class EvalConfig(StrictModel):
    monitor: MonitorConfig | None = None


class TrainConfig(StrictModel):
    # Seeds feed numpy's SeedSequence (non-negative) and torch (64 bits).
    seed: int = Field(default=0, ge=0, lt=2**63)
    epochs: int = Field(default=100, ge=1)
    model: ModelConfig = ModelConfig()
    method: MethodConfig = Field(default_factory=SimCLRConfig, discriminator="name")
    augment: AugmentConfig = AugmentConfig()
    optim: OptimConfig = OptimConfig()
    data: DataConfig = DataConfig()
    # auto: bf16 autocast on CUDA, fp32 on the CPU.
    precision: Literal["auto", "bf16", "fp32"] = "auto"
    channels_last: bool = True
    compile: bool = False
    checkpoint: CheckpointConfig = CheckpointConfig()
    log_every: int = Field(default=10, ge=1)
    # Where the log lines go: metrics.jsonl always; `tensorboard` adds RUN/tensorboard/ (events files).
    log: list[Literal["jsonl", "tensorboard"]] = Field(default_factory=lambda: ["jsonl"])
    eval: EvalConfig = EvalConfig()

    @field_validator("log")
    @classmethod
    def _jsonl_always(cls, value: list[str]) -> list[str]:
        # metrics.jsonl is what summary.json, curves.png and resumed runs read: it is never left out.
        return ["jsonl", *sorted(set(value) - {"jsonl"})]

    def resolved(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def sha256(self) -> str:
        # Without `eval` and `log`: watching a run does not change what it computes (and configs keep
        # the sha256 they had before these keys existed).
        computed = {key: value for key, value in self.resolved().items() if key not in ("eval", "log")}
        return hashlib.sha256(canonical_json(computed)).hexdigest()


def load_train_config(
    path: str | Path | None = None,
    overrides: tuple[str, ...] | list[str] = (),
    data: tuple[str, ...] | list[str] = (),
    settings: Mapping[str, Any] | None = None,
    base: Mapping[str, Any] | None = None,
    origins: Mapping[str, Origin | str] | None = None,
) -> TrainConfig:
    """The configuration from `path` (optional), `settings` ({dotted key: value}), `--set`
    overrides, and `--data` specs (which replace `data.corpora`). `base` (a run's recorded
    configuration, when resuming it) is what they change, in place of the defaults. `origins`
    names the setting behind a key of `settings` (`{"model.arch": "--arch"}`): an error about
    that key blames it, not the config file."""
    from synthgen.train.data import parse_data_spec

    document: dict[str, Any] = copy.deepcopy(dict(base or {}))
    origin = "config"
    if path is not None:
        from synthgen.shipped import resolve_document

        path = resolve_document(path, "config")  # a file, or a shipped config's name (`demo`)
        origin = str(path)
        document = _merged(document, read_yaml_mapping(path, "config", ConfigError))
    given = Origins(origin)
    named = dict(origins or {})
    for key, value in (settings or {}).items():
        set_key(document, key, value, setting_label(named.get(key), f"{origin}: {key}"), ConfigError)
        if key in named:
            given.record(key, named[key])
    for override in overrides:
        apply_override(document, override, ConfigError, given)
    if data:
        corpora = []
        for number, spec in enumerate(data):
            url, weight = parse_data_spec(spec)
            corpora.append({"url": url, "weight": weight})
            live = spec.startswith("recipe:")  # train.live.LIVE_PREFIX: `--recipe PATH`
            given.record(f"data.corpora.{number}", flag_text("--recipe" if live else "--data", spec[7 * live :]))
        document.setdefault("data", {})
        if not isinstance(document["data"], dict):
            raise ConfigError(f"{origin}: data: expected a mapping")
        document["data"]["corpora"] = corpora
    if isinstance(document.get("method"), dict):
        # `--set method.temperature=0.2` alone means the default method's temperature.
        document["method"].setdefault("name", "simclr")
    try:
        config = TrainConfig.model_validate(document)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, document, {"name": METHODS}, given)) from None
    if not config.data.corpora:
        raise ConfigError(
            f"{origin}: no training data: give --data CORPUS, --recipe RECIPE or data.corpora in the config"
        )
    return config


def _merged(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """`top`'s keys over `base`'s, mapping by mapping."""
    merged = dict(base)
    for key, value in top.items():
        below = merged.get(key)
        merged[key] = _merged(below, value) if isinstance(below, dict) and isinstance(value, dict) else value
    return merged
