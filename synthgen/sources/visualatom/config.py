"""Recipe section of the `visualatom` source (light: pydantic only, no torch or numpy here).

Every default is the value of VisualAtom's released renderer ("Visual Atoms: Pre-training Vision
Transformers with Sinusoidal Waves", Takashima et al., CVPR 2023; github
masora1030/CVPR2023-FDSL-on-VisualAtom, `visual_atomic_renderer/render_VisualAtom.py` as run by
its `make_VisualAtom.sh`, the "best practice VisualAtom-1k" settings). Lengths are in pixels of
the paper's 512-pixel canvas and scale with the image's shorter side; `line_width` is in pixels
of the output image.

A class is one draw of every range below (as the released renderer draws a category); an
instance draws its centre, the level of each contour and the noise of each vertex. Names that
differ from the released script's arguments: `quantization` (its `vertex_num`), `contours`
(`line_num`), `noise` (`perlin` coefficient), `spacing` (its `--line_width`, which is the radial
step between contours, not a stroke width: the script strokes 1-pixel lines), `radius`
(`radius_min` .. `radius_min + 50`), `oval` (`oval_rate`), `center` (`start_pos`).
"""

from __future__ import annotations

from math import comb, prod
from typing import Literal

from pydantic import Field, model_validator

from synthgen.schema import Range, StrictModel, key_error
from synthgen.sources.imageops import RejectConfig

# The canvas side of the released renderer (its `--image_size`): lengths are in its pixels.
REFERENCE_SIZE = 512


class FrequencyRange(Range):
    """Orbit frequencies n1, n2 of a class, integers uniform in [min, max] (the paper: 0..20).
    As in the released renderer, n2 is redrawn until it differs from n1, unless n1 is 0."""

    max_may_equal_min = True
    min: int = Field(0, ge=0, le=1000)
    max: int = Field(20, ge=0, le=1000, validate_default=True)


class AmplitudeRange(Range):
    """Amplitude of each of the two sinusoids, per class, uniform in [min, max] reference pixels
    per contour (the released renderer: 0.5 for both, fixed)."""

    max_may_equal_min = True
    min: float = Field(0.5, ge=0.0, le=64.0)
    max: float = Field(0.5, ge=0.0, le=64.0, validate_default=True)


class QuantizationRange(Range):
    """Vertices of a class's contours (the polygon that quantises the wave), integers uniform in
    [min, max] (the paper: 200..1000)."""

    max_may_equal_min = True
    min: int = Field(200, ge=3, le=100_000)
    max: int = Field(1000, ge=3, le=100_000, validate_default=True)


class ContourRange(Range):
    """Contours (orbits) per image of a class, integers uniform in [min, max] (the paper: 1..200)."""

    max_may_equal_min = True
    min: int = Field(1, ge=1, le=10_000)
    max: int = Field(200, ge=1, le=10_000, validate_default=True)


class NoiseRange(Range):
    """Perlin-noise coefficient of a class, uniform in [min, max] (the paper: perlin_min 0, so
    U(0, 4)): each vertex of each contour moves by coefficient x (1 - pnoise1(u)), u random."""

    max_may_equal_min = True
    min: float = Field(0.0, ge=0.0, le=64.0)
    max: float = Field(4.0, ge=0.0, le=64.0, validate_default=True)


class SpacingRange(Range):
    """Radial step added per contour, per class, uniform in [min, max] reference pixels (the
    released script's `--line_width`: U(0, 0.1))."""

    max_may_equal_min = True
    min: float = Field(0.0, ge=0.0, le=64.0)
    max: float = Field(0.1, ge=0.0, le=64.0, validate_default=True)


class RadiusRange(Range):
    """Radius of a class's first contour before its step, integers uniform in [min, max]
    reference pixels (the paper: radius_min 10, so 10..60)."""

    max_may_equal_min = True
    min: int = Field(10, ge=0, le=4096)
    max: int = Field(60, ge=0, le=4096, validate_default=True)


class OvalRange(Range):
    """Stretch of a class's contours along x and along y, each uniform in [min, max] (the
    paper: oval_rate 2, so U(1, 2))."""

    max_may_equal_min = True
    min: float = Field(1.0, gt=0.0, le=16.0)
    max: float = Field(2.0, gt=0.0, le=16.0, validate_default=True)


class LineWidthRange(Range):
    """Stroke width of a class's lines, integers uniform in [min, max] pixels of the output
    image (the paper: 1, PIL's `width=1`). A pixel is inked when its centre lies within
    width / 2 of a point of the line, or when it is the line's nearest pixel."""

    max_may_equal_min = True
    min: int = Field(1, ge=1, le=32)
    max: int = Field(1, ge=1, le=32, validate_default=True)


class CenterRange(Range):
    """Offset of an instance's centre from the middle of the image, along x and along y, each
    uniform in [min, max] times the image side (the paper: (512 + randint(-512, 512)) / 2, so
    [-0.5, 0.5]: anywhere on the canvas)."""

    max_may_equal_min = True
    min: float = Field(-0.5, ge=-1.0, le=1.0)
    max: float = Field(0.5, ge=-1.0, le=1.0, validate_default=True)


def frequency_pairs(frequency: FrequencyRange) -> int:
    """Distinct frequency pairs {n1, n2} a class can draw: n1 != n2 (sin(a) + sin(b) is
    symmetric, so an unordered pair), plus {0, 0} where 0 is in the range."""
    values = frequency.max - frequency.min + 1
    return comb(values, 2) + (1 if frequency.min == 0 else 0)


class VisualAtomSourceConfig(StrictModel):
    """The `visualatom` source section: see the module docstring and docs/families/visualatom.md."""

    kind: Literal["visualatom"]
    # Classes (the paper: 1,000). Sample i is instance i // classes of class i % classes.
    classes: int = Field(1000, ge=1, le=1_000_000)
    frequency: FrequencyRange = FrequencyRange()
    amplitude: AmplitudeRange = AmplitudeRange()
    quantization: QuantizationRange = QuantizationRange()
    contours: ContourRange = ContourRange()
    noise: NoiseRange = NoiseRange()
    spacing: SpacingRange = SpacingRange()
    radius: RadiusRange = RadiusRange()
    oval: OvalRange = OvalRange()
    line_width: LineWidthRange = LineWidthRange()
    center: CenterRange = CenterRange()
    # `grey`: one grey level per contour, uniform in 0..255 (the paper); `color`: one uniform RGB
    # colour per contour (not in the paper).
    color: Literal["grey", "color"] = "grey"
    # A view whose pixel std is below min_std (e.g. one contour at level 0) is redrawn.
    reject: RejectConfig = RejectConfig()

    @model_validator(mode="after")
    def _classes_can_be_drawn(self) -> VisualAtomSourceConfig:
        frequency = self.frequency
        if frequency.min == frequency.max != 0:
            # The released renderer's rule (n2 != n1 unless n1 is 0) has no pair to draw here.
            raise key_error(
                "frequency", f"min = max = {frequency.min} leaves no pair n1 != n2; widen the range or use 0"
            )
        if self.distinct_classes() < self.classes:
            raise key_error(
                "classes",
                f"{self.classes} classes, but the ranges hold only {self.distinct_classes()} distinct "
                "parameter sets (widen frequency, quantization, contours, radius or line_width, "
                "or give a float range some width)",
            )
        return self

    def distinct_classes(self) -> int | float:
        """How many distinct classes the ranges hold: infinite (float("inf")) when any float
        range has width, else the product of the integer ranges' sizes and the frequency pairs."""
        floats = (self.amplitude, self.noise, self.spacing, self.oval)
        if any(section.max > section.min for section in floats):
            return float("inf")
        integers = (self.quantization, self.contours, self.radius, self.line_width)
        return frequency_pairs(self.frequency) * prod(section.max - section.min + 1 for section in integers)
