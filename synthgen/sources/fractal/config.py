"""Recipe section of the `fractal` source (light: no torch import here).

Formula-driven supervised learning with iterated function systems (IFS). `mode` chooses the
variant of the section:

- `fractaldb`: "Pre-training without Natural Images" (Kataoka et al., ACCV 2020 / IJCV 2022).
  Category c is an IFS of N affine maps, N uniform in `maps` (inclusive), each map's six
  coefficients a..f uniform in `coefficients`, map probabilities |ad - bc| / sum. It is kept
  only if its filling rate (the share of non-zero pixels of a `search.render` rendering of
  `search.points` points on a `search.size` square canvas) is at least `filling_rate`;
  otherwise it is redrawn. Instances: each coefficient in turn multiplied by each of
  `variations.weights` (plus the unchanged IFS), times the four flips, times random 3x3 patches.
- `1p-frac`: "Scaling Backwards: Minimal Synthetic Pre-training?" (Nakamura et al., ECCV 2024,
  arXiv 2408.00677). One base IFS of `maps` contractive maps drawn with the sigma-factor method
  of "Improving Fractal Pre-training" (Anderson & Farrell, WACV 2022): the singular values of the
  maps sum (s1 + 2 s2 over maps) to sigma ~ U(`sigma.min`, `sigma.max`). Category c is that IFS
  with every coefficient multiplied by its own factor ~ U(1 - `perturbation`, 1 + `perturbation`),
  kept if its patch rendering fills at least `filling_rate`. The base IFS itself is redrawn
  (deterministically) until its own rendering passes: 1p-frac's code does not check it, and a
  sparse base would make every copy fail.

Defaults are the values of the authors' released code, where the papers and code differ:
FractalDB (github hirokatsukataoka16/FractalDB-Pretrained-ResNet-PyTorch): `exe.sh` renders
362x362 images of 200,000 points as 3x3 random patches in grey, weights `weights_0.4.csv`
(factors 0.2, 0.6, 1.4, 1.8 on one coefficient at a time: 25 variations) x 4 flips x 10 patch
draws = 1,000 instances; `ifs_search.py` keeps a category when 100,000 points on a 512x512
canvas (pad 6) fill at least 0.2 of it. The search code draws N with `randint(2, 8)`, i.e. 2..7;
the papers (and this default) say 2..8. 1p-frac (github SUPER-TADORY/1p-frac): N = 2, sigma
3.5 +- 0.1 (the script's default and the paper's best; its `generate.sh` uses 4.0), delta 0.1,
1,000 categories of one image each, 512x512, 100,000 points, 3x3 patches, filling rate 0.05 of
the patch image.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from synthgen.schema import Range, StrictModel, key_error
from synthgen.sources.imageops import RejectConfig

MODES = ("fractaldb", "1p-frac")
Render = Literal["point", "patch"]
Color = Literal["grey", "color"]
# The most points a point (patch) rendering can light: one (nine) pixels per point.
PIXELS_PER_POINT = {"point": 1, "patch": 9}


class MapCountRange(Range):
    """Affine maps per IFS, uniform in [min, max] (inclusive); one map alone is a fixed point."""

    max_may_equal_min = True
    min: int = Field(2, ge=2, le=32)
    max: int = Field(8, ge=2, le=32, validate_default=True)


class CoefficientRange(Range):
    """Each coefficient a..f of each map, uniform in [min, max]."""

    min: float = Field(-1.0, ge=-100.0)
    max: float = Field(1.0, le=100.0, validate_default=True)


class SigmaRange(Range):
    """1p-frac's sigma factor, uniform in [min, max]: the sum over maps of s1 + 2 s2 (s1 >= s2,
    the singular values of the map's linear part, each in [0, 1]); at most 3 x maps."""

    min: float = Field(3.4, gt=0.0)
    max: float = Field(3.6, le=96.0, validate_default=True)


class SearchConfig(StrictModel):
    """How a category's filling rate is measured: `points` points of the unchanged IFS drawn as
    `render` on a `size` x `size` canvas (pad as the images). A category is redrawn up to
    `attempts` times; a recipe whose category 0 needs more is refused before rendering."""

    size: int = Field(512, ge=16, le=2048)
    points: int = Field(100_000, ge=100, le=10_000_000)
    render: Render = "point"
    attempts: int = Field(1000, ge=1, le=100_000)


class VariationConfig(StrictModel):
    """FractalDB's instances: the IFS unchanged, then each coefficient a..f in turn multiplied
    by each of `weights` (1 + 6 x len(weights) variations), each under the four flips (none,
    top-bottom, left-right, both) when `flips`."""

    weights: tuple[Annotated[float, Field(gt=0.0, le=10.0)], ...] = (0.2, 0.6, 1.4, 1.8)
    flips: bool = True


class _FractalBase(StrictModel):
    kind: Literal["fractal"]
    # Images drawn from each category: sample i shows category i % categories (its `cls`).
    categories: int = Field(1000, ge=1, le=1_000_000)
    # Points per image (the chaos game's length).
    points: int = Field(200_000, ge=100, le=10_000_000)
    render: Render = "patch"
    color: Color = "grey"
    # Margin of the canvas, in pixels, around the fractal's bounding box (FractalDB: 6).
    pad: int = Field(6, ge=0, le=512)
    filling_rate: float = Field(0.2, ge=0.0, le=1.0)
    search: SearchConfig = SearchConfig()
    variations: VariationConfig = VariationConfig()
    reject: RejectConfig = RejectConfig()

    @model_validator(mode="after")
    def _reachable_filling_rate(self) -> _FractalBase:
        # A threshold that no IFS can reach would make the search redraw forever: refuse it here.
        most = min(1.0, self.search.points * PIXELS_PER_POINT[self.search.render] / self.search.size**2)
        if self.filling_rate > most:
            raise key_error(
                "filling_rate",
                f"{self.filling_rate} cannot be reached: {self.search.points} points drawn as "
                f"{self.search.render}s fill at most {most:.3g} of a {self.search.size}x{self.search.size} "
                "canvas (raise source.search.points or lower source.filling_rate)",
            )
        return self


class FractalDBFractal(_FractalBase):
    """FractalDB: every category its own random IFS (see the module docstring)."""

    mode: Literal["fractaldb"]
    maps: MapCountRange = MapCountRange()
    coefficients: CoefficientRange = CoefficientRange()


class OnePFracFractal(_FractalBase):
    """1p-frac: one base IFS; category c is its perturbed copy (see the module docstring)."""

    mode: Literal["1p-frac"]
    maps: int = Field(2, ge=2, le=32)
    sigma: SigmaRange = SigmaRange()
    perturbation: float = Field(0.1, ge=0.0, lt=1.0)
    filling_rate: float = Field(0.05, ge=0.0, le=1.0)
    search: SearchConfig = SearchConfig(render="patch")
    variations: VariationConfig = VariationConfig(weights=(), flips=False)

    @model_validator(mode="after")
    def _sigma_fits_maps(self) -> OnePFracFractal:
        if self.sigma.max > 3 * self.maps:
            raise key_error(
                "sigma", f"max {self.sigma.max} is above 3 x maps ({3 * self.maps}): no such singular values"
            )
        return self


# The `fractal` source section: the variant that its `mode` names.
FractalSourceConfig = Annotated[FractalDBFractal | OnePFracFractal, Field(discriminator="mode")]
