"""The `noise` source: the statistics that define each model, determinism, views, recipes (the
corpus each model writes: tests/test_source_contract.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from synthgen.errors import RecipeError, SourceError
from synthgen.recipe import load_recipe, parse_recipe
from synthgen.seeds import sample_seed
from synthgen.shipped import SHIPPED_ROOT
from synthgen.sources import build_source
from synthgen.sources.base import SampleFailure
from synthgen.sources.noise import dead_leaves, statistical
from synthgen.sources.noise.matching import match_rows, quantile_table
from synthgen.sources.noise.pyramid import SteerablePyramid
from synthgen.sources.noise.source import NoiseSource

from .helpers import rendered, specs

RECIPES = SHIPPED_ROOT / "recipes"

# Small and quick variants of every family (the statistical models with fewer rounds).
FAMILIES: dict[str, dict[str, Any]] = {
    "squares": {"model": "dead_leaves", "dead_leaves": {"shape": "squares"}},
    "oriented": {"model": "dead_leaves", "dead_leaves": {"shape": "oriented"}},
    "mixed": {"model": "dead_leaves", "dead_leaves": {"shape": "mixed"}},
    "textured": {
        "model": "dead_leaves",
        "dead_leaves": {"shape": "textured"},
        "texture": {"model": "spectrum_color_wmm", "bank": 2},
        "iterations": 2,
    },
    "spectrum": {"model": "spectrum"},
    "spectrum_color": {"model": "spectrum_color", "iterations": 3},
    "wmm": {"model": "wmm", "iterations": 3},
    "spectrum_color_wmm": {"model": "spectrum_color_wmm", "iterations": 3},
}


def noise_recipe(source: dict[str, Any], size: int | list[int] = 48, views: int = 1, **top: Any):
    document = {"name": "noise-test", "count": 16, "views": views, "image": {"size": size, "format": "png"}}
    return parse_recipe({**document, **top, "source": {"kind": "noise", **source}})


# --- recipes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ({"model": "spectrum", "slope": {"min": 0.5, "max": 0.5}}, "source.slope.max: must be > min (0.5)"),
        (
            {"model": "dead_leaves", "dead_leaves": {"rmin": 0.5, "rmax": 0.2}},
            "source.dead_leaves.rmax: must be > rmin",
        ),
        ({"model": "wmm", "wmm": {"rho": {"min": 0.9}}}, "source.wmm.rho.max: must be > min (0.9)"),
        ({"model": "spectrum_color", "color": {"colors": {"min": 9, "max": 4}}}, "source.color.colors.max: must be >="),
        ({"model": "spectrum", "wmm": {}}, "source.wmm: unknown key for model spectrum"),
        ({"model": "spectrum", "iterations": 3}, "source.iterations: unknown key for model spectrum"),
        ({"model": "dead_leaves", "slope": {}}, "source.slope: unknown key for model dead_leaves with shape mixed"),
        ({"model": "dead_leaves", "texture": {}}, "source.texture: unknown key for model dead_leaves with shape mixed"),
        ({"model": "dead_leaves", "dead_leaves": {"shape": "circles"}}, "source.dead_leaves.shape: must be one of"),
        ({"model": "spectrum", "slope": {"steepness": 2}}, "source.slope.steepness: unknown key"),
        ({"model": "perlin"}, "source.model: unknown model 'perlin'; known models: dead_leaves, spectrum,"),
        ({}, "source.model: missing `model` (one of dead_leaves, spectrum,"),
    ],
)
def test_recipe_errors_name_the_field(source: dict, expected: str):
    with pytest.raises(RecipeError, match="recipe: " + expected.replace("(", r"\(").replace(")", r"\)")):
        noise_recipe(source)


@pytest.mark.parametrize(
    ("source", "sections"),
    [
        ({"model": "dead_leaves"}, {"dead_leaves"}),
        ({"model": "dead_leaves", "dead_leaves": {"shape": "textured"}}, {"dead_leaves", "texture", "slope", "color"}),
        ({"model": "spectrum"}, {"slope"}),
        ({"model": "spectrum_color"}, {"slope", "color", "iterations"}),
        ({"model": "wmm"}, {"wmm", "iterations"}),
        ({"model": "spectrum_color_wmm"}, {"slope", "color", "wmm", "iterations"}),
    ],
)
def test_the_sections_a_model_reads_get_the_papers_defaults(source: dict, sections: set):
    resolved = noise_recipe(source).resolved()["source"]
    if source.get("dead_leaves", {}).get("shape") == "textured":
        sections |= {"wmm", "iterations"}  # the default texture model is spectrum_color_wmm
    assert set(resolved) - {"kind", "model"} == sections
    defaults = {
        "slope": {"min": 0.5, "max": 3.5, "anisotropy": 0.05},
        "dead_leaves": {"shape": "mixed", "rmin": 0.03, "rmax": 1.0, "alpha": 3.0, "max_shapes": 5000},
        "color": {"colors": {"min": 3, "max": 22}, "blur": {"min": 1, "max": 10}, "noise": 10.0},
        "wmm": {"rho": {"min": 0.4, "max": 0.8}, "orientations": 4, "scale_base": 4.0, "range": 200.0},
        "iterations": 10,
    }
    for name in sections & set(defaults):
        if name != "dead_leaves" or "dead_leaves" not in source:
            assert resolved[name] == defaults[name]


def test_a_pyramid_deeper_than_the_image_is_refused():
    recipe = noise_recipe({"model": "wmm", "wmm": {"scales": 4}}, size=32)
    with pytest.raises(SourceError, match=r"source.wmm.scales: 4 pyramid levels need images of at least 64"):
        NoiseSource.check(recipe)
    NoiseSource.check(noise_recipe({"model": "wmm"}, size=32))  # auto: one level at 32 pixels


def test_shipped_noise_recipes_validate_and_render():
    paths = sorted(RECIPES.glob("noise-*.yaml"))
    assert len(paths) >= 14
    for path in paths:
        recipe = load_recipe(path)
        assert recipe.name == path.stem and recipe.source.kind == "noise"
        NoiseSource.check(recipe)
    for path in sorted(RECIPES.glob("noise-demo-*.yaml")):
        recipe = load_recipe(path)
        assert recipe.count <= 512 and recipe.image.size == (64, 64)
        source = build_source(recipe)
        results = rendered(source, specs(range(2), views=recipe.views))
        assert all(image.shape == (64, 64, 3) for result in results for image in result.images)


# --- dead leaves ----------------------------------------------------------------------------


def test_dead_leaves_cover_the_canvas():
    source = build_source(noise_recipe(FAMILIES["mixed"], size=64))
    for result in rendered(source, specs(range(6))):
        view = result.meta["views"][0]
        assert view["coverage"] == 1.0 and 0 < view["shapes"] < 5000
        assert result.meta["shape"] == "mixed" and result.meta["model"] == "dead_leaves"


def truncated_power_law_exponent(radii: np.ndarray, low: float, high: float) -> float:
    """Maximum-likelihood exponent of a density r^-alpha on [low, high] (grid search)."""
    alphas = np.linspace(1.05, 6.0, 2000)
    norm = (low ** (1 - alphas) - high ** (1 - alphas)) / (alphas - 1)
    loglik = -len(radii) * np.log(norm) - alphas * np.log(radii).sum()
    return float(alphas[np.argmax(loglik)])


@pytest.mark.parametrize("alpha", [3.0, 2.0])
def test_dead_leaves_radii_follow_the_power_law(alpha: float):
    recipe = noise_recipe({"model": "dead_leaves", "dead_leaves": {"alpha": alpha}}, size=128)
    stream = dead_leaves.ShapeStream(sample_seed(0, 1), recipe.source.dead_leaves, 128, 128)
    radii = np.concatenate([stream.next_chunk(1000).radii for _ in range(6)])
    assert radii.min() >= 0.03 * 128 and radii.max() <= 128
    assert truncated_power_law_exponent(radii, 0.03 * 128, 128.0) == pytest.approx(alpha, abs=0.12)


def brute_force_paint(chunks: list[dead_leaves.ShapeChunk], height: int, width: int) -> tuple[np.ndarray, int]:
    """The paper's loop on the same shapes: paint each shape over the whole canvas, stop when covered."""
    shapes = dead_leaves._gather_shapes(chunks, [0] * len(chunks), torch.device("cpu"))
    normals, offsets = (t.numpy() for t in dead_leaves._half_planes(dead_leaves._vertices(shapes)))
    kinds, radii, centres = shapes["kinds"].numpy(), shapes["radii"].numpy(), shapes["centres"].numpy()
    y, x = np.mgrid[0:height, 0:width] + 0.5
    label = np.full((height, width), -1)
    for k in range(len(kinds)):
        dx, dy = x - centres[k, 0], y - centres[k, 1]
        if kinds[k] == 0:
            inside = dx**2 + dy**2 <= radii[k] ** 2
        else:
            inside = np.all(
                normals[k, :, 0, None, None] * dx + normals[k, :, 1, None, None] * dy <= offsets[k, :, None, None],
                axis=0,
            )
        label[inside] = k
        if (label >= 0).all():
            return label.reshape(-1), k + 1
    return label.reshape(-1), len(kinds)


@pytest.mark.parametrize("shape", ["squares", "oriented", "mixed"])
def test_dead_leaves_painting_matches_the_shape_by_shape_loop(shape: str):
    config = noise_recipe({"model": "dead_leaves", "dead_leaves": {"shape": shape}}).source.dead_leaves
    streams = [dead_leaves.ShapeStream(sample_seed(3, i), config, 40, 56) for i in range(3)]
    canvas = dead_leaves.paint(streams, 5000, 40, 56, torch.device("cpu"))
    for view in range(3):
        expected, used = brute_force_paint(canvas.chunks[view], 40, 56)
        assert canvas.used[view] == used
        assert np.array_equal(canvas.labels[view].numpy(), expected)


def test_max_shapes_stops_early_and_leaves_bare_pixels_black():
    source = build_source(noise_recipe({"model": "dead_leaves", "dead_leaves": {"max_shapes": 5, "rmax": 0.2}}))
    [result] = rendered(source, specs([0]))
    view = result.meta["views"][0]
    assert view["shapes"] == 5 and 0 < view["coverage"] < 1
    black = (result.images[0] == 0).all(axis=2).mean()
    assert black == pytest.approx(1 - view["coverage"], abs=0.02)


def test_textured_dead_leaves_fill_shapes_with_textures():
    source = build_source(noise_recipe(FAMILIES["textured"], size=64))
    [result] = rendered(source, specs([0]))
    texture = result.meta["texture"]
    assert texture["model"] == "spectrum_color_wmm" and len(texture["bank"]) == 2
    assert set(texture["bank"][0]) == {"seed", "slope", "colors"}
    colors = np.unique(result.images[0].reshape(-1, 3), axis=0)
    assert len(colors) > 4 * result.meta["views"][0]["shapes"] ** 0.5  # textures, not flat fills


# --- statistical models ---------------------------------------------------------------------


def radial_power_slope(image: np.ndarray, low: float, high: float) -> float:
    """Slope of log power against log frequency, radially averaged over [low, high] cycles/pixel."""
    pixels = image.astype(np.float64)
    power = (np.abs(np.fft.fft2(pixels - pixels.mean(axis=(0, 1)), axes=(0, 1))) ** 2).mean(axis=2)
    radius = np.hypot(*np.meshgrid(np.fft.fftfreq(image.shape[0]), np.fft.fftfreq(image.shape[1]), indexing="ij"))
    edges = np.geomspace(low, high, 11)
    rings = [(radius >= a) & (radius < b) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    centres = np.sqrt(edges[:-1] * edges[1:])
    return float(np.polyfit(np.log(centres), np.log([power[ring].mean() for ring in rings]), 1)[0])


def test_spectrum_slope_matches_the_drawn_one():
    source = build_source(noise_recipe({"model": "spectrum"}, size=128))
    results = rendered(source, specs(range(12)))
    slopes = []
    for result in results:
        slope = result.meta["slope"]
        assert 0.5 - 0.3 < slope["x"] < 3.5 + 0.3 and abs(slope["x"] - slope["y"]) < 0.4
        # Power falls as f^-(sx + sy) for amplitude 1 / (|fx|^sx + |fy|^sy).
        fitted = radial_power_slope(result.images[0], 1 / 128, 1 / 8)
        assert fitted == pytest.approx(-(slope["x"] + slope["y"]), abs=0.25)
        slopes.append(slope["x"])
    assert max(slopes) - min(slopes) > 1.5  # drawn across the range, not fixed


def subband_kurtosis(images: list[np.ndarray]) -> np.ndarray:
    """Kurtosis of the finest oriented sub-bands of each image (mean over channels and orientations)."""
    batch = torch.as_tensor(np.stack(images)).permute(0, 3, 1, 2).double()
    height, width = batch.shape[-2:]
    bands = SteerablePyramid(height, width, 2, 4, torch.device("cpu")).analyze(batch.float()).levels[0].double()
    centred = bands.flatten(-2) - bands.flatten(-2).mean(dim=-1, keepdim=True)
    kurtosis = (centred**4).mean(dim=-1) / (centred**2).mean(dim=-1) ** 2
    return kurtosis.mean(dim=(1, 2)).numpy()


def test_wmm_subbands_are_heavier_tailed_than_gaussian():
    wmm = build_source(noise_recipe({"model": "wmm", "iterations": 5}, size=64))
    results = rendered(wmm, specs(range(4)))
    assert (subband_kurtosis([r.images[0] for r in results]) > 4.0).all()
    rho = np.array(results[0].meta["wmm"]["rho"])
    assert rho.shape == (3, 1 + 2 * 4) and ((0.4 <= rho) & (rho <= 0.8)).all()
    # The control: spectrum noise has Gaussian sub-bands.
    spectrum = build_source(noise_recipe({"model": "spectrum"}, size=64))
    assert (subband_kurtosis([r.images[0] for r in rendered(spectrum, specs(range(4)))]) < 3.5).all()


def dominant_colors(image: np.ndarray, radius: float = 40.0, min_share: float = 0.02) -> int:
    """Greedy count of colour clusters: take the most common coarse colour, remove every pixel
    within `radius` of it, and repeat while a cluster holds at least `min_share` of the pixels."""
    pixels = image.reshape(-1, 3).astype(np.float64)
    left = np.ones(len(pixels), dtype=bool)
    count = 0
    while left.mean() > 0.05:
        coarse = (pixels[left] // 16).astype(int) @ np.array([256, 16, 1])
        values, counts = np.unique(coarse, return_counts=True)
        top = values[np.argmax(counts)]
        centre = (np.array([top // 256, top // 16 % 16, top % 16]) + 0.5) * 16
        near = left & (np.linalg.norm(pixels - centre, axis=1) < radius)
        if near.mean() < min_share:
            break
        left &= ~near
        count += 1
    return count


def test_the_number_of_dominant_colors_follows_the_palette():
    def counts(colors: dict) -> list[int]:
        source = build_source(noise_recipe({"model": "spectrum_color", "color": {"colors": colors}}, size=64))
        return [dominant_colors(result.images[0]) for result in rendered(source, specs(range(6)))]

    few, many = counts({"min": 3, "max": 3}), counts({"min": 20, "max": 22})
    # Matching the three principal marginals separately (the paper) adds a few mixtures: with
    # numpy 2.4 / torch 2.13 one 3-colour image of these six counts 9 clusters (radius 40 splits a
    # mixture; radius 45 counts 7), so the bound leaves room for them. The claim is the contrast below.
    assert all(2 <= n <= 10 for n in few) and all(n <= 22 for n in many), (few, many)
    assert np.mean(many) > np.mean(few) + 3, (few, many)
    default = rendered(build_source(noise_recipe({"model": "spectrum_color"}, size=64)), specs(range(6)))
    for result in default:
        palette = result.meta["color"]
        assert (
            3 <= palette["colors"] <= 22 and len(palette["palette"]) == len(palette["proportions"]) == palette["colors"]
        )
        assert 2 <= dominant_colors(result.images[0]) <= 22


def test_pyramid_is_a_tight_frame():
    pyramid = SteerablePyramid(64, 48, 3, 4, torch.device("cpu"))
    images = torch.rand(2, 3, 64, 48, generator=torch.Generator().manual_seed(0))
    bands = pyramid.analyze(images)
    assert [tuple(level.shape[-3:]) for level in bands.levels] == [(4, 64, 48), (4, 32, 24), (4, 16, 12)]
    assert torch.allclose(pyramid.synthesize(bands), images, atol=1e-4)
    energy = sum(float((band**2).sum()) for band in [bands.high, bands.low, *bands.levels])
    assert energy == pytest.approx(float((images**2).sum()), rel=1e-4)


@pytest.mark.parametrize("source", ["normal", "laplace"])
def test_histogram_matching_gives_the_target_distribution(source: str):
    rng = np.random.default_rng(0)
    values = torch.as_tensor(getattr(rng, source)(size=(3, 20000)), dtype=torch.float32)
    target = rng.laplace(0.0, 2.0, size=(3, 50000))
    matched = match_rows(values, torch.as_tensor(quantile_table(target), dtype=torch.float32)).numpy()
    for row in range(3):
        assert np.all(np.diff(matched[row][np.argsort(values[row].numpy())]) >= 0)  # order kept
        assert matched[row].std() == pytest.approx(target[row].std(), rel=0.03)
        levels = [0.01, 0.1, 0.5, 0.9, 0.99]
        spread = np.quantile(target[row], 0.99) - np.quantile(target[row], 0.01)
        assert np.quantile(matched[row], levels) == pytest.approx(np.quantile(target[row], levels), abs=0.01 * spread)


# --- determinism and views ------------------------------------------------------------------


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_the_same_spec_gives_the_same_pixels_whatever_the_batch(family: str, monkeypatch):
    recipe = noise_recipe(FAMILIES[family], size=[40, 32], views=2)
    batch = specs(range(5), views=2)
    together = rendered(build_source(recipe), batch)
    # A second source, each sample alone, in reverse order, and views sent through in small chunks.
    monkeypatch.setattr(statistical, "CHUNK_PIXELS_CPU", 3 * 40 * 32)
    monkeypatch.setattr(dead_leaves, "CHUNK_SHAPES", 100)
    other = build_source(recipe)
    alone = [rendered(other, [spec])[0] for spec in reversed(batch)][::-1]
    for first, second in zip(together, alone, strict=True):
        assert first.meta == second.meta
        assert all(np.array_equal(a, b) for a, b in zip(first.images, second.images, strict=True))


@pytest.mark.parametrize("family", ["mixed", "spectrum", "spectrum_color_wmm"])
def test_views_share_the_sample_parameters_and_differ_in_their_draws(family: str):
    three = rendered(build_source(noise_recipe(FAMILIES[family], views=3)), specs(range(2), views=3))
    one = rendered(build_source(noise_recipe(FAMILIES[family], views=1)), specs(range(2), views=1))
    for many, single in zip(three, one, strict=True):
        assert len(many.images) == len(many.meta["views"]) == 3
        assert len({view["seed"] for view in many.meta["views"]}) == 3
        assert not np.array_equal(many.images[0], many.images[1])
        # Parameters are drawn per sample, before the views: view 0 does not depend on `views`.
        assert {k: v for k, v in many.meta.items() if k != "views"} == {
            k: v for k, v in single.meta.items() if k != "views"
        }
        assert np.array_equal(many.images[0], single.images[0])


def test_a_numerically_broken_sample_is_a_degenerate_failure(monkeypatch):
    source = build_source(noise_recipe({"model": "spectrum"}))
    monkeypatch.setattr(
        source.generator, "_render_views", lambda seeds, targets: torch.full((len(seeds), 3, 48, 48), float("nan"))
    )
    [result] = source.render(specs([0]))
    assert isinstance(result, SampleFailure) and result.reason == "degenerate" and result.subject == "spectrum"
