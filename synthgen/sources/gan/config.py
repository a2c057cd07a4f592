"""Recipe section of the `gan` source (light: no torch import here).

A recipe names exactly one network:
- `init: random | highfreq | sparse | oriented`: an untrained StyleGAN2 of "Learning to See by
  Looking at Noise" (Baradad et al., NeurIPS 2021), its weights a pure function of `weights_seed`;
- `checkpoint: PATH`: trained weights (safetensors, or a torch state dict read with
  `weights_only=True`) loaded into the built-in StyleGAN2 described by `network`;
- `generator: "package.module:factory"`: any torch generator (a BigGAN or BigBiGAN port, ...),
  optionally with `checkpoint` loaded into the module it returns.
Samples are groups of latent views as in GenRep (Jahanian et al., ICLR 2022).

Keys that the chosen network does not read are errors, and the keys it reads are filled in with
their defaults, so the resolved recipe (and its hash) lists exactly the parameters of the corpus.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from synthgen.schema import StrictModel
from synthgen.sources.imageops import RejectConfig

INITS = ("random", "highfreq", "sparse", "oriented")
VIEW_METHODS = ("gaussian", "independent", "same_class")
NOISE_MODES = ("random", "const", "none")
OUTPUTS = ("random_stats", "clip")
DTYPES = ("auto", "float32", "bfloat16", "float16")
# The paper's Sparse and Oriented variants draw every conv bias from U(-0.2, 0.2).
PAPER_BIAS_RANGE = {"random": 0.0, "highfreq": 0.0, "sparse": 0.2, "oriented": 0.2}

UNTRAINED = "untrained networks (`init`)"
BUILT_IN = "the built-in StyleGAN2 (`init` or `checkpoint`), not to a `generator` factory"

_FACTORY = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")


class NetworkConfig(StrictModel):
    """The built-in StyleGAN2 generator: stylegan2-ada-pytorch's hyperparameters and names.

    Channels at resolution r are min(channel_base / r, channel_max). Untrained variants take one
    w_dim latent per layer and no mapping network, so `z_dim`, `mapping_layers` and `classes` are
    errors there; a checkpoint must match all of them.
    """

    resolution: int = 256
    z_dim: int = Field(512, ge=1, le=4096)
    w_dim: int = Field(512, ge=1, le=4096)
    mapping_layers: int = Field(8, ge=1, le=16)
    channel_base: int = Field(32768, ge=64)
    channel_max: int = Field(512, ge=1, le=4096)
    # Class-conditional generators: the number of classes (0: unconditional).
    classes: int = Field(0, ge=0, le=100_000)
    # Activations are clamped to +-conv_clamp (stylegan2-ada trains with 256); None: no clamp.
    conv_clamp: float | None = Field(None, gt=0.0)

    @field_validator("resolution")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if value not in (32, 64, 128, 256, 512):
            raise ValueError(f"must be a power of two from 32 to 512, got {value}")
        return value

    @field_validator("channel_base")
    @classmethod
    def _channels_at_full_size(cls, value: int, info: ValidationInfo) -> int:
        resolution = info.data.get("resolution")
        if resolution is not None and value < resolution:
            raise ValueError(
                f"must be >= resolution ({resolution}): the last block has channel_base / resolution channels"
            )
        return value


class GanSourceConfig(StrictModel):
    kind: Literal["gan"]
    # Field order matters: each check reads the fields validated before it.
    init: Literal[INITS] | None = None  # type: ignore[valid-type]
    # Resolved against the recipe's folder. Its existence is checked when a render builds the
    # source, not here, so a shared recipe with a placeholder path still validates.
    checkpoint: str | None = None
    # Allow a checkpoint that only full unpickling reads (unpickling can run code).
    trust_pickle: bool = False
    generator: str | None = None
    generator_kwargs: dict[str, Any] | None = Field(None, validate_default=True)
    network: NetworkConfig | None = Field(None, validate_default=True)
    # Untrained variants: network k's weights are a pure function of (weights_seed, k).
    weights_seed: int | None = Field(None, ge=0, lt=2**63, validate_default=True)
    # Sample i uses network i // samples_per_network (the paper: a fresh network every 400
    # images); None: one network for the whole corpus.
    samples_per_network: int | None = Field(None, ge=1)
    # Untrained variants: every conv bias is drawn per sample from U(-bias_range, bias_range).
    bias_range: float | None = Field(None, ge=0.0, le=10.0, validate_default=True)
    # Built-in trained generator: per-sample noise inputs (`random`), the learned constant maps
    # (`const`) or none.
    noise: Literal[NOISE_MODES] | None = Field(None, validate_default=True)  # type: ignore[valid-type]
    truncation: float = 1.0
    # Latents are truncation * truncnorm(-latent_bound, latent_bound); None: an untruncated normal.
    latent_bound: float | None = 2.0
    views_method: Literal[VIEW_METHODS] = "gaussian"  # type: ignore[valid-type]
    # `gaussian` views: neighbour = anchor + truncation * truncnorm * std.
    std: float | None = Field(None, validate_default=True)
    output: Literal[OUTPUTS] | None = Field(None, validate_default=True)  # type: ignore[valid-type]
    # `near_constant` (imageops.RejectConfig, min_std 1.0); `nan` when the output is not finite.
    reject: RejectConfig = RejectConfig()
    # Images per forward pass; every pass runs at exactly this size (see source.py).
    batch_size: int = Field(32, ge=1, le=4096)
    # auto: float32 on the CPU, bfloat16 on CUDA. Half precision needs a CUDA device.
    dtype: Literal[DTYPES] = "auto"  # type: ignore[valid-type]

    @property
    def mode(self) -> str:
        """`untrained`, `checkpoint` (the built-in network with trained weights) or `factory`."""
        if self.init is not None:
            return "untrained"
        return "factory" if self.generator is not None else "checkpoint"

    @field_validator("checkpoint")
    @classmethod
    def _resolve_checkpoint(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if info.data.get("init") is not None:
            raise ValueError("`init` builds an untrained network; drop it to load a checkpoint")
        return _absolute(value, info)

    @field_validator("trust_pickle")
    @classmethod
    def _trust_needs_checkpoint(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("checkpoint") is None and "checkpoint" in info.data:
            raise ValueError("goes with `checkpoint`")
        return value

    @field_validator("generator")
    @classmethod
    def _factory_string(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if info.data.get("init") is not None:
            raise ValueError("`init` builds the built-in network; drop it to use a generator factory")
        if not _FACTORY.match(value):
            raise ValueError(f"expected 'package.module:function', got {value!r}")
        return value

    @field_validator("generator_kwargs")
    @classmethod
    def _kwargs_need_factory(cls, value: dict[str, Any] | None, info: ValidationInfo) -> Any:
        value = _in_use(value, _mode(info) == "factory" if _mode(info) else None, dict, "a `generator` factory")
        # The resolved recipe records them as JSON, and its hash names the corpus: a value JSON cannot
        # hold exactly (NaN, bytes, a date) would be recorded, and hashed, as something else.
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            raise ValueError(
                "must hold JSON values only: finite numbers, strings, booleans, null, lists and mappings"
            ) from None
        return value

    @field_validator("network")
    @classmethod
    def _network_applies(cls, value: NetworkConfig | None, info: ValidationInfo) -> Any:
        mode = _mode(info)
        value = _in_use(value, mode in ("untrained", "checkpoint") if mode else None, NetworkConfig, BUILT_IN)
        unread = sorted({"z_dim", "mapping_layers", "classes"} & (value.model_fields_set if value else set()))
        if mode == "untrained" and unread:
            raise ValueError(
                f"{', '.join(f'`{key}`' for key in unread)} do not apply to untrained variants "
                "(they take one w_dim latent per layer, no mapping network, no class)"
            )
        return value

    @field_validator("weights_seed")
    @classmethod
    def _seed_applies(cls, value: int | None, info: ValidationInfo) -> Any:
        return _in_use(value, _mode(info) == "untrained" if _mode(info) else None, lambda: 0, UNTRAINED)

    @field_validator("samples_per_network")
    @classmethod
    def _networks_apply(cls, value: int | None, info: ValidationInfo) -> Any:
        return _in_use(value, _mode(info) == "untrained" if _mode(info) else None, lambda: None, UNTRAINED)

    @field_validator("bias_range")
    @classmethod
    def _bias_applies(cls, value: float | None, info: ValidationInfo) -> Any:
        init = info.data.get("init")
        return _in_use(
            value, _mode(info) == "untrained" if _mode(info) else None, lambda: PAPER_BIAS_RANGE[init], UNTRAINED
        )

    @field_validator("noise")
    @classmethod
    def _noise_applies(cls, value: str | None, info: ValidationInfo) -> Any:
        mode = _mode(info)
        return _in_use(
            value,
            mode == "checkpoint" if mode else None,
            lambda: "random",
            "the built-in StyleGAN2 with a `checkpoint`",
        )

    @field_validator("truncation")
    @classmethod
    def _truncation_positive(cls, value: float) -> float:
        if not 0.0 < value <= 10.0:
            raise ValueError(f"must be > 0 and <= 10, got {value}")
        return value

    @field_validator("latent_bound")
    @classmethod
    def _bound_positive(cls, value: float | None) -> float | None:
        if value is not None and not value > 0.0:
            raise ValueError(f"must be > 0 (or null: an untruncated normal), got {value}")
        return value

    @field_validator("views_method")
    @classmethod
    def _same_class_needs_classes(cls, value: str, info: ValidationInfo) -> str:
        if value != "same_class":
            return value
        if _mode(info) == "untrained":
            raise ValueError("same_class needs a class-conditional generator; untrained variants have no classes")
        network = info.data.get("network")
        if _mode(info) == "checkpoint" and network is not None and not network.classes:
            raise ValueError("same_class needs a class-conditional generator: set source.network.classes")
        return value

    @field_validator("std")
    @classmethod
    def _std_applies(cls, value: float | None, info: ValidationInfo) -> Any:
        method = info.data.get("views_method")
        value = _in_use(value, method == "gaussian" if method else None, lambda: 0.2, "views_method gaussian")
        if value is not None and not value > 0.0:
            raise ValueError(f"must be > 0, got {value}")
        return value

    @field_validator("output")
    @classmethod
    def _output_default(cls, value: str | None, info: ValidationInfo) -> str | None:
        mode = _mode(info)
        if value is None and mode is not None:
            return "random_stats" if mode == "untrained" else "clip"
        return value

    @model_validator(mode="after")
    def _one_network(self) -> GanSourceConfig:
        if self.init is None and self.checkpoint is None and self.generator is None:
            raise ValueError(
                "give `init` (an untrained StyleGAN2), `checkpoint` (trained StyleGAN2 weights) "
                "or `generator` (a factory, 'package.module:function')"
            )
        return self


def _mode(info: ValidationInfo) -> str | None:
    """The network the recipe names, from the fields validated so far; None if one was invalid."""
    if not {"init", "checkpoint", "generator"} <= set(info.data):
        return None
    data = info.data
    if data["init"] is not None:
        return "untrained"
    if data["generator"] is not None:
        return "factory"
    return "checkpoint" if data["checkpoint"] is not None else None


def _in_use(value: Any, used: bool | None, default: Any, what: str) -> Any:
    """A key the network reads gets its default; a key it does not read is an error."""
    if used is None:
        return value
    if used:
        return default() if value is None else value
    if value is not None:
        raise ValueError(f"applies only to {what}")
    return None


def _absolute(value: str, info: ValidationInfo) -> str:
    """Resolve a path against the recipe's folder, as synthgen.schema.resolve_path does, without
    requiring it to exist yet (the source checks that when it is about to read it)."""
    base = (info.context or {}).get("base_dir")
    path = Path(value).expanduser()
    if not path.is_absolute() and base is not None:
        path = Path(base) / path
    return str(path.resolve())
