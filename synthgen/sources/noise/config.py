"""Recipe section of the `noise` source (light: no torch import here).

Every parameter defaults to the value of "Learning to See by Looking at Noise" (Baradad et al.,
NeurIPS 2021) and its released generation code. Sections that the chosen `model` does not read
are errors, so a recipe says only what it uses; the sections it reads are filled in with their
defaults, so the resolved recipe (and its hash) lists exactly the parameters of the corpus.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from synthgen.schema import StrictModel

STATISTICAL_MODELS = ("spectrum", "spectrum_color", "wmm", "spectrum_color_wmm")
MODELS = ("dead_leaves", *STATISTICAL_MODELS)
SHAPES = ("squares", "oriented", "mixed", "textured")
# Rounds of alternating projections in the paper's image_model.m.
ITERATIONS = 10

# The sections each statistical model reads (besides `model`).
STATISTICAL_SECTIONS: dict[str, frozenset[str]] = {
    "spectrum": frozenset({"slope"}),
    "spectrum_color": frozenset({"slope", "color", "iterations"}),
    "wmm": frozenset({"wmm", "iterations"}),
    "spectrum_color_wmm": frozenset({"slope", "color", "wmm", "iterations"}),
}


def _above(value: float, info: ValidationInfo, low_name: str, *, strict: bool = True) -> float:
    """Check `value` against the sibling field `low_name` (already validated, when it was valid).

    The upper fields set `validate_default`, so that a recipe raising only the lower bound past
    the default upper one is caught too."""
    low = info.data.get(low_name)
    if low is not None and (value <= low if strict else value < low):
        raise ValueError(f"must be {'>' if strict else '>='} {low_name} ({low})")
    return value


class DeadLeavesConfig(StrictModel):
    """Shapes dropped on the canvas, each new one on top, until every pixel is covered.

    Radii follow a density proportional to r^-alpha between `rmin` and `rmax` (fractions of the
    image's shorter side); colours are uniform RGB. `squares`: axis-aligned squares; `oriented`:
    squares at a uniform angle; `mixed`: circles, squares, oriented squares, rectangles, triangles
    and quadrilaterals in equal proportion; `textured`: `mixed` shapes, each filled with a
    statistical-noise texture (see `texture`).
    """

    shape: Literal[SHAPES] = "mixed"  # type: ignore[valid-type]
    rmin: float = Field(0.03, gt=0.0, le=4.0)
    rmax: float = Field(1.0, le=4.0, validate_default=True)
    alpha: float = Field(3.0, ge=0.0, le=10.0)
    # Drawing stops here even if some pixels are still uncovered (they stay black).
    max_shapes: int = Field(5000, ge=1, le=100_000)

    @field_validator("rmax")
    @classmethod
    def _rmax_above_rmin(cls, value: float, info: ValidationInfo) -> float:
        return _above(value, info, "rmin")


class TextureConfig(StrictModel):
    """Textures of `shape: textured`: each sample draws a bank of `bank` textures from the
    statistical `model` (its parameters are this recipe's `slope`, `color`, `wmm`, `iterations`),
    and each shape shows one of them, picked at random, at a random circular shift."""

    model: Literal[STATISTICAL_MODELS] = "spectrum_color_wmm"  # type: ignore[valid-type]
    bank: int = Field(4, ge=1, le=64)


class SlopeConfig(StrictModel):
    """Spectrum amplitude 1 / (|fx|^sx + |fy|^sy): s ~ U(min, max), sx = s + d, sy = s - d with
    d ~ N(0, anisotropy) (the paper: (max - min) / 60)."""

    min: float = Field(0.5, ge=0.0)
    max: float = Field(3.5, le=10.0, validate_default=True)
    anisotropy: float = Field(0.05, ge=0.0, le=1.0)

    @field_validator("max")
    @classmethod
    def _max_above_min(cls, value: float, info: ValidationInfo) -> float:
        return _above(value, info, "min")


class ColorCountRange(StrictModel):
    """Number of colours of a sample's palette, uniform in [min, max]."""

    min: int = Field(3, ge=2, le=256)
    max: int = Field(22, ge=2, le=256, validate_default=True)

    @field_validator("max")
    @classmethod
    def _max_not_below_min(cls, value: int, info: ValidationInfo) -> int:
        return int(_above(value, info, "min", strict=False))


class BlurRange(StrictModel):
    """Side m of the box blur of the reference colour image, uniform in [min, max] pixels."""

    min: int = Field(1, ge=1, le=64)
    max: int = Field(10, ge=1, le=64, validate_default=True)

    @field_validator("max")
    @classmethod
    def _max_not_below_min(cls, value: int, info: ValidationInfo) -> int:
        return int(_above(value, info, "min", strict=False))


class ColorConfig(StrictModel):
    """The colour model: a reference image of N colours in random proportions (vertical bands,
    box-blurred, plus uniform noise), whose principal colour axes and marginals along them the
    samples take on."""

    colors: ColorCountRange = ColorCountRange()
    blur: BlurRange = BlurRange()
    # Amplitude of the uniform noise added to the reference image, on the model's 0-256 scale.
    noise: float = Field(10.0, ge=0.0, le=256.0)


class RhoRange(StrictModel):
    """Shape exponent of the sub-band marginals exp(-|x/s|^rho), uniform in [min, max]."""

    min: float = Field(0.4, gt=0.0)
    max: float = Field(0.8, le=4.0, validate_default=True)

    @field_validator("max")
    @classmethod
    def _max_above_min(cls, value: float, info: ValidationInfo) -> float:
        return _above(value, info, "min")


class WmmConfig(StrictModel):
    """Wavelet marginal model: the sub-bands of a steerable pyramid follow exp(-|x/s|^rho) on
    [-range, range], with s = scale_base^f (f: the band's downsampling factor) and rho drawn per
    band and channel."""

    rho: RhoRange = RhoRange()
    orientations: int = Field(4, ge=1, le=8)
    # None: log2(shorter side) - 4, at least 1 (the paper: 3 at 128 pixels, 4 at 256).
    scales: int | None = Field(None, ge=1, le=10)
    scale_base: float = Field(4.0, ge=1.0, le=16.0)
    range: float = Field(200.0, gt=0.0)


Iterations = Annotated[int, Field(ge=1, le=100)]


class NoiseSourceConfig(StrictModel):
    kind: Literal["noise"]
    model: Literal[MODELS]  # type: ignore[valid-type]
    # Field order matters: each section's check reads the fields validated before it.
    dead_leaves: DeadLeavesConfig | None = Field(None, validate_default=True)
    texture: TextureConfig | None = Field(None, validate_default=True)
    slope: SlopeConfig | None = Field(None, validate_default=True)
    color: ColorConfig | None = Field(None, validate_default=True)
    wmm: WmmConfig | None = Field(None, validate_default=True)
    # Rounds of alternating projections onto the model's constraints (spectrum, wavelet
    # marginals, colours), as in the paper.
    iterations: Iterations | None = Field(None, validate_default=True)

    @property
    def statistical_model(self) -> str | None:
        """The statistical model this recipe runs: `model` itself, or the texture model of
        textured dead leaves; None for plain dead leaves."""
        return _statistical_model(self.model, self.dead_leaves, self.texture)

    @field_validator("dead_leaves")
    @classmethod
    def _dead_leaves_applies(cls, value: DeadLeavesConfig | None, info: ValidationInfo) -> Any:
        model = info.data.get("model")
        return _section_in_use(value, model == "dead_leaves" if model else None, DeadLeavesConfig, info)

    @field_validator("texture")
    @classmethod
    def _texture_applies(cls, value: TextureConfig | None, info: ValidationInfo) -> Any:
        model, dead_leaves = info.data.get("model"), info.data.get("dead_leaves")
        if model == "dead_leaves" and dead_leaves is None:
            return value  # dead_leaves is invalid: that error says enough
        used = model == "dead_leaves" and dead_leaves.shape == "textured" if model else None
        return _section_in_use(value, used, TextureConfig, info)

    @field_validator("slope")
    @classmethod
    def _slope_applies(cls, value: SlopeConfig | None, info: ValidationInfo) -> Any:
        return _section_in_use(value, _reads(info, "slope"), SlopeConfig, info)

    @field_validator("color")
    @classmethod
    def _color_applies(cls, value: ColorConfig | None, info: ValidationInfo) -> Any:
        return _section_in_use(value, _reads(info, "color"), ColorConfig, info)

    @field_validator("wmm")
    @classmethod
    def _wmm_applies(cls, value: WmmConfig | None, info: ValidationInfo) -> Any:
        return _section_in_use(value, _reads(info, "wmm"), WmmConfig, info)

    @field_validator("iterations")
    @classmethod
    def _iterations_apply(cls, value: int | None, info: ValidationInfo) -> Any:
        return _section_in_use(value, _reads(info, "iterations"), lambda: ITERATIONS, info)


def _statistical_model(model: str | None, dead_leaves: Any, texture: Any) -> str | None:
    if model in STATISTICAL_MODELS:
        return model
    if model == "dead_leaves" and dead_leaves is not None and dead_leaves.shape == "textured" and texture is not None:
        return texture.model
    return None


def _reads(info: ValidationInfo, section: str) -> bool | None:
    """Whether the recipe's model reads `section`; None when an earlier field is invalid."""
    model = info.data.get("model")
    if model is None or (model == "dead_leaves" and "dead_leaves" not in info.data):
        return None
    dead_leaves = info.data.get("dead_leaves")
    if dead_leaves is not None and dead_leaves.shape == "textured" and "texture" not in info.data:
        return None  # the texture section is invalid: that error says enough
    statistical = _statistical_model(model, dead_leaves, info.data.get("texture"))
    return statistical is not None and section in STATISTICAL_SECTIONS[statistical]


def _section_in_use(value: Any, used: bool | None, default: Any, info: ValidationInfo) -> Any:
    """A section the model reads gets its defaults; one it does not read is an error."""
    if used is None:
        return value
    if used:
        return default() if value is None else value
    if value is not None:
        raise ValueError(f"does not apply to {_describe(info)}")
    return None


def _describe(info: ValidationInfo) -> str:
    model = info.data.get("model")
    dead_leaves = info.data.get("dead_leaves")
    if model == "dead_leaves" and dead_leaves is not None:
        return f"model dead_leaves with shape {dead_leaves.shape}"
    return f"model {model}"
