"""Recipe section of the `noise` source (light: no torch import here).

Every parameter defaults to the value of "Learning to See by Looking at Noise" (Baradad et al.,
NeurIPS 2021) and its released generation code. `model` chooses the variant of the section:
sections that the model does not read are unknown keys, so a recipe says only what it uses; the
sections it reads are filled in with their defaults, so the resolved recipe (and its hash) lists
exactly the parameters of the corpus.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field, ValidationInfo, field_validator, model_validator

from synthgen.schema import Range, StrictModel, check_above, key_error

StatisticalModelName = Literal["spectrum", "spectrum_color", "wmm", "spectrum_color_wmm"]
STATISTICAL_MODELS: tuple[str, ...] = get_args(StatisticalModelName)
MODELS = ("dead_leaves", *STATISTICAL_MODELS)
Shape = Literal["squares", "oriented", "mixed", "textured"]
SHAPES: tuple[str, ...] = get_args(Shape)
# Rounds of alternating projections in the paper's image_model.m.
ITERATIONS = 10


class DeadLeavesConfig(StrictModel):
    """Shapes dropped on the canvas, each new one on top, until every pixel is covered.

    Radii follow a density proportional to r^-alpha between `rmin` and `rmax` (fractions of the
    image's shorter side); colours are uniform RGB. `squares`: axis-aligned squares; `oriented`:
    squares at a uniform angle; `mixed`: circles, squares, oriented squares, rectangles, triangles
    and quadrilaterals in equal proportion; `textured`: `mixed` shapes, each filled with a
    statistical-noise texture (see `texture`).
    """

    shape: Shape = "mixed"
    rmin: float = Field(0.03, gt=0.0, le=4.0)
    rmax: float = Field(1.0, le=4.0, validate_default=True)
    alpha: float = Field(3.0, ge=0.0, le=10.0)
    # Drawing stops here even if some pixels are still uncovered (they stay black).
    max_shapes: int = Field(5000, ge=1, le=100_000)

    @field_validator("rmax")
    @classmethod
    def _rmax_above_rmin(cls, value: float, info: ValidationInfo) -> float:
        return check_above(value, info, "rmin")


class TextureConfig(StrictModel):
    """Textures of `shape: textured`: each sample draws a bank of `bank` textures from the
    statistical `model` (its parameters are this recipe's `slope`, `color`, `wmm`, `iterations`),
    and each shape shows one of them, picked at random, at a random circular shift."""

    model: StatisticalModelName = "spectrum_color_wmm"
    bank: int = Field(4, ge=1, le=64)


class SlopeConfig(Range):
    """Spectrum amplitude 1 / (|fx|^sx + |fy|^sy): s ~ U(min, max), sx = s + d, sy = s - d with
    d ~ N(0, anisotropy) (the paper: (max - min) / 60)."""

    min: float = Field(0.5, ge=0.0)
    max: float = Field(3.5, le=10.0, validate_default=True)
    anisotropy: float = Field(0.05, ge=0.0, le=1.0)


class ColorCountRange(Range):
    """Number of colours of a sample's palette, uniform in [min, max]."""

    max_may_equal_min = True
    min: int = Field(3, ge=2, le=256)
    max: int = Field(22, ge=2, le=256, validate_default=True)


class BlurRange(Range):
    """Side m of the box blur of the reference colour image, uniform in [min, max] pixels."""

    max_may_equal_min = True
    min: int = Field(1, ge=1, le=64)
    max: int = Field(10, ge=1, le=64, validate_default=True)


class ColorConfig(StrictModel):
    """The colour model: a reference image of N colours in random proportions (vertical bands,
    box-blurred, plus uniform noise), whose principal colour axes and marginals along them the
    samples take on."""

    colors: ColorCountRange = ColorCountRange()
    blur: BlurRange = BlurRange()
    # Amplitude of the uniform noise added to the reference image, on the model's 0-256 scale.
    noise: float = Field(10.0, ge=0.0, le=256.0)


class RhoRange(Range):
    """Shape exponent of the sub-band marginals exp(-|x/s|^rho), uniform in [min, max]."""

    min: float = Field(0.4, gt=0.0)
    max: float = Field(0.8, le=4.0, validate_default=True)


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


# Rounds of alternating projections onto the model's constraints (spectrum, wavelet marginals,
# colours), as in the paper.
Iterations = Annotated[int, Field(ge=1, le=100)]


# The source section is one of the variants below, chosen by `model`. Each declares exactly the
# sections its model reads, with their defaults, so a section it does not read is an unknown key.


class SpectrumNoise(StrictModel):
    """Gaussian noise with a random-phase 1/f^s amplitude spectrum (`slope`), in grey."""

    kind: Literal["noise"]
    model: Literal["spectrum"]
    slope: SlopeConfig = SlopeConfig()

    @property
    def statistical_model(self) -> str:
        return self.model


class SpectrumColorNoise(StrictModel):
    """The 1/f^s spectrum, with the colours of a random reference image (`color`)."""

    kind: Literal["noise"]
    model: Literal["spectrum_color"]
    slope: SlopeConfig = SlopeConfig()
    color: ColorConfig = ColorConfig()
    iterations: Iterations = ITERATIONS

    @property
    def statistical_model(self) -> str:
        return self.model


class WmmNoise(StrictModel):
    """The wavelet marginal model (`wmm`), per colour channel."""

    kind: Literal["noise"]
    model: Literal["wmm"]
    wmm: WmmConfig = WmmConfig()
    iterations: Iterations = ITERATIONS

    @property
    def statistical_model(self) -> str:
        return self.model


class SpectrumColorWmmNoise(StrictModel):
    """All three constraints: the spectrum, the colour model and the wavelet marginals."""

    kind: Literal["noise"]
    model: Literal["spectrum_color_wmm"]
    slope: SlopeConfig = SlopeConfig()
    color: ColorConfig = ColorConfig()
    wmm: WmmConfig = WmmConfig()
    iterations: Iterations = ITERATIONS

    @property
    def statistical_model(self) -> str:
        return self.model


STATISTICAL_VARIANTS: dict[str, type[StrictModel]] = {
    get_args(variant.model_fields["model"].annotation)[0]: variant
    for variant in (SpectrumNoise, SpectrumColorNoise, WmmNoise, SpectrumColorWmmNoise)
}
# The sections each statistical model reads (besides `kind` and `model`), as its variant declares.
STATISTICAL_SECTIONS: dict[str, frozenset[str]] = {
    model: frozenset(variant.model_fields) - {"kind", "model"} for model, variant in STATISTICAL_VARIANTS.items()
}


class DeadLeavesNoise(StrictModel):
    """Dead leaves (DeadLeavesConfig). With `shape: textured`, also `texture` and the sections
    that its statistical model reads (filled in with their defaults); otherwise none of them."""

    kind: Literal["noise"]
    model: Literal["dead_leaves"]
    dead_leaves: DeadLeavesConfig = DeadLeavesConfig()
    texture: TextureConfig | None = None
    slope: SlopeConfig | None = None
    color: ColorConfig | None = None
    wmm: WmmConfig | None = None
    iterations: Iterations | None = None

    @property
    def statistical_model(self) -> str | None:
        """The texture model of textured dead leaves; None for plain ones."""
        return self.texture.model if self.texture is not None else None

    @model_validator(mode="after")
    def _texture_sections(self) -> DeadLeavesNoise:
        # Which sections apply depends on a value inside another section (texture.model), which
        # no tag can select: the one cross-section rule of this family.
        texture = (self.texture or TextureConfig()) if self.dead_leaves.shape == "textured" else None
        reads = {"texture", *STATISTICAL_SECTIONS[texture.model]} if texture else set()
        for key in ("texture", "slope", "color", "wmm", "iterations"):
            if getattr(self, key) is not None and key not in reads:
                raise key_error(key, f"unknown key for model dead_leaves with shape {self.dead_leaves.shape}")
        if texture is None:
            return self
        sections = STATISTICAL_VARIANTS[texture.model].model_fields
        defaults = {
            key: sections[key].get_default(call_default_factory=True)
            for key in STATISTICAL_SECTIONS[texture.model]
            if getattr(self, key) is None
        }
        return self.model_copy(update={"texture": texture, **defaults})


# The `noise` source section: the variant that its `model` names.
NoiseSourceConfig = Annotated[
    DeadLeavesNoise | SpectrumNoise | SpectrumColorNoise | WmmNoise | SpectrumColorWmmNoise,
    Field(discriminator="model"),
]
