"""Recipe section of the `gan` source (light: no torch import here).

A recipe names exactly one network:
- `init: random | highfreq | sparse | oriented`: an untrained StyleGAN2 of "Learning to See by
  Looking at Noise" (Baradad et al., NeurIPS 2021), its weights a pure function of `weights_seed`;
- `checkpoint: PATH`: trained weights (safetensors, or a torch state dict read with
  `weights_only=True`) loaded into the built-in StyleGAN2 described by `network`;
- `generator: "package.module:factory"`: any torch generator (a BigGAN or BigBiGAN port, ...),
  optionally with `checkpoint` loaded into the module it returns.
A factory runs code, and so does a checkpoint that only full unpickling reads: neither is allowed
by the recipe, only by the user (`--allow-code`, `--trust-pickle`: synthgen/permissions.py).
Samples are groups of latent views as in GenRep (Jahanian et al., ICLR 2022).

The key that names the network chooses the variant of the section: keys that the network does
not read are unknown keys, and the keys it reads are filled in with their defaults, so the
resolved recipe (and its hash) lists exactly the parameters of the corpus.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import Field, Tag, field_validator, model_validator

from synthgen.schema import DocumentPath, StrictModel, key_error, variant_by_presence
from synthgen.sources.base import Dtype
from synthgen.sources.imageops import RejectConfig


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

    @model_validator(mode="after")
    def _channels_at_full_size(self) -> NetworkConfig:
        if self.channel_base < self.resolution:
            raise key_error(
                "channel_base",
                f"must be >= resolution ({self.resolution}): the last block has channel_base / resolution channels",
            )
        return self


Init = Literal["random", "highfreq", "sparse", "oriented"]
INITS: tuple[str, ...] = get_args(Init)
ViewMethod = Literal["gaussian", "independent", "same_class"]
NoiseMode = Literal["random", "const", "none"]
Output = Literal["random_stats", "clip"]
_FACTORY = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")
# The paper's Sparse and Oriented variants draw every conv bias from U(-0.2, 0.2).
PAPER_BIAS_RANGE = {"random": 0.0, "highfreq": 0.0, "sparse": 0.2, "oriented": 0.2}


class _GanCommon(StrictModel):
    """What every network variant reads: the latents, the views, the output checks, the batches."""

    kind: Literal["gan"]
    truncation: float = 1.0
    # Latents are truncation * truncnorm(-latent_bound, latent_bound); "none" (or null in YAML):
    # an untruncated normal. Not None itself: a resolved recipe leaves None out ("not given"), and
    # the default 2.0 would come back when the manifest's recipe is read again.
    latent_bound: float | Literal["none"] = 2.0
    views_method: ViewMethod = "gaussian"
    # `gaussian` views: neighbour = anchor + truncation * truncnorm * std (default 0.2).
    std: float | None = None
    # `near_constant` (imageops.RejectConfig, min_std 1.0); `nan` when the output is not finite.
    reject: RejectConfig = RejectConfig()
    # Images per forward pass; every pass runs at exactly this size (see source.py).
    batch_size: int = Field(32, ge=1, le=4096)
    # auto: float32 on the CPU, bfloat16 on CUDA. Half precision needs a CUDA device.
    dtype: Dtype = "auto"

    @model_validator(mode="before")
    @classmethod
    def _no_trust_in_the_recipe(cls, data: Any) -> Any:
        # Trust in a pickle was a recipe key once; the file an attacker ships cannot grant it.
        # An error rather than an unknown key, so an old recipe says where the setting went.
        if isinstance(data, dict) and "trust_pickle" in data:
            raise key_error("trust_pickle", "trust is given on the command line now: --trust-pickle FILE_OR_SHA256")
        return data

    @model_validator(mode="before")
    @classmethod
    def _gaussian_std(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("views_method", "gaussian") == "gaussian" and data.get("std") is None:
            return {**data, "std": 0.2}
        return data

    @field_validator("truncation")
    @classmethod
    def _truncation_positive(cls, value: float) -> float:
        if not 0.0 < value <= 10.0:
            raise ValueError(f"must be > 0 and <= 10, got {value}")
        return value

    @field_validator("latent_bound", mode="before", json_schema_input_type=float | Literal["none"] | None)
    @classmethod
    def _null_is_untruncated(cls, value: Any) -> Any:
        if value is None:
            return "none"
        if isinstance(value, str) and value != "none":
            raise ValueError(f"must be a number > 0, or none (an untruncated normal), got {value!r}")
        return value

    @field_validator("latent_bound")
    @classmethod
    def _bound_positive(cls, value: float | str) -> float | str:
        if value != "none" and not value > 0.0:
            raise ValueError(f"must be > 0 (or none: an untruncated normal), got {value}")
        return value

    @property
    def bound(self) -> float | None:
        """The truncation bound of the latents, None for an untruncated normal."""
        return None if self.latent_bound == "none" else float(self.latent_bound)

    @field_validator("std")
    @classmethod
    def _std_positive(cls, value: float | None) -> float | None:
        if value is not None and not value > 0.0:
            raise ValueError(f"must be > 0, got {value}")
        return value

    @model_validator(mode="after")
    def _keys_that_go_together(self) -> _GanCommon:
        if self.views_method != "gaussian" and self.std is not None:
            raise key_error("std", "applies only to views_method gaussian")
        return self


class UntrainedGan(_GanCommon):
    """`init`: an untrained StyleGAN2, its weights a pure function of `weights_seed`."""

    mode: ClassVar[str] = "untrained"
    init: Init
    network: NetworkConfig = NetworkConfig()
    # Network k's weights are a pure function of (weights_seed, k).
    weights_seed: int = Field(0, ge=0, lt=2**63)
    # Sample i uses network i // samples_per_network (the paper: a fresh network every 400
    # images); None: one network for the whole corpus.
    samples_per_network: int | None = Field(None, ge=1)
    # Every conv bias is drawn per sample from U(-bias_range, bias_range) (default: the paper's
    # value for `init`).
    bias_range: float | None = Field(None, ge=0.0, le=10.0)
    output: Output = "random_stats"

    @model_validator(mode="before")
    @classmethod
    def _paper_bias_range(cls, data: Any) -> Any:
        init = data.get("init") if isinstance(data, dict) else None
        # `init` is not validated yet: it may be a list, which no dict lookup takes.
        if isinstance(init, str) and init in PAPER_BIAS_RANGE and data.get("bias_range") is None:
            return {**data, "bias_range": PAPER_BIAS_RANGE[init]}
        return data

    @field_validator("network")
    @classmethod
    def _one_latent_per_layer(cls, value: NetworkConfig) -> NetworkConfig:
        # Their defaults are in every resolved recipe (the manifest's), which must parse again.
        defaults = NetworkConfig()
        unread = sorted(
            key
            for key in {"z_dim", "mapping_layers", "classes"} & value.model_fields_set
            if getattr(value, key) != getattr(defaults, key)
        )
        if unread:
            raise ValueError(
                f"{', '.join(f'`{key}`' for key in unread)} do not apply to untrained variants "
                "(they take one w_dim latent per layer, no mapping network, no class)"
            )
        return value

    @field_validator("views_method")
    @classmethod
    def _no_classes(cls, value: str) -> str:
        if value == "same_class":
            raise ValueError("same_class needs a class-conditional generator; untrained variants have no classes")
        return value


class CheckpointGan(_GanCommon):
    """`checkpoint`: trained weights loaded into the built-in StyleGAN2 that `network` describes."""

    mode: ClassVar[str] = "checkpoint"
    # Its existence is checked when a render builds the source, not here, so a shared recipe
    # with a placeholder path still validates.
    checkpoint: DocumentPath
    network: NetworkConfig = NetworkConfig()
    # Per-sample noise inputs (`random`), the learned constant maps (`const`) or none.
    noise: NoiseMode = "random"
    output: Output = "clip"

    @model_validator(mode="after")
    def _classes_for_same_class(self) -> CheckpointGan:
        if self.views_method == "same_class" and not self.network.classes:
            raise key_error(
                "views_method", "same_class needs a class-conditional generator: set source.network.classes"
            )
        return self


class FactoryGan(_GanCommon):
    """`generator: "package.module:function"`: any torch generator the function returns,
    optionally with `checkpoint` loaded into it."""

    mode: ClassVar[str] = "factory"
    generator: str
    generator_kwargs: dict[str, Any] = Field(default_factory=dict)
    checkpoint: DocumentPath | None = None
    output: Output = "clip"

    @field_validator("generator")
    @classmethod
    def _factory_string(cls, value: str) -> str:
        if not _FACTORY.match(value):
            raise ValueError(f"expected 'package.module:function', got {value!r}")
        return value

    @field_validator("generator_kwargs")
    @classmethod
    def _json_values(cls, value: dict[str, Any]) -> dict[str, Any]:
        # The resolved recipe records them as JSON, and its hash names the corpus: a value JSON cannot
        # hold exactly (NaN, bytes, a date) would be recorded, and hashed, as something else.
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            raise ValueError(
                "must hold JSON values only: finite numbers, strings, booleans, null, lists and mappings"
            ) from None
        return value


# The `gan` source section: the variant that the key it gives names (`init` first, then
# `generator`, then `checkpoint`, which a factory may also take).
GanSourceConfig = Annotated[
    Annotated[UntrainedGan, Tag("init")]
    | Annotated[FactoryGan, Tag("generator")]
    | Annotated[CheckpointGan, Tag("checkpoint")],
    variant_by_presence(
        ("init", "generator", "checkpoint"),
        "give `init` (an untrained StyleGAN2), `checkpoint` (trained StyleGAN2 weights) "
        "or `generator` (a factory, 'package.module:function')",
    ),
]
