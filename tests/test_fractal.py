"""The `fractal` source: FractalDB categories and 1p-frac perturbations, the batched renderer
against FractalDB's loop, determinism, and bad input."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from synthgen.errors import RecipeError, SourceError
from synthgen.recipe import parse_recipe
from synthgen.render.samples import render_samples

from .helpers import read_back, read_fields, rendered, specs

# Small and fast: 64 px, 20,000 points, the filling-rate search on 128 px.
SMALL = {
    "kind": "fractal",
    "mode": "fractaldb",
    "categories": 4,
    "points": 20_000,
    "pad": 2,
    "search": {"size": 128, "points": 20_000},
}


def small_recipe(count: int = 16, views: int = 1, seed: int = 0, **source):
    return parse_recipe(
        {
            "name": "fractal-test",
            "count": count,
            "seed": seed,
            "views": views,
            "image": {"size": 64, "format": "png"},
            "shard": {"samples": 8},
            "source": {**SMALL, **source},
        }
    )


@pytest.fixture(scope="module")
def torch_one_thread():
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(threads)


def categories_of(recipe):
    import torch

    from synthgen.sources.fractal.ifs import Categories

    with torch.inference_mode():
        return Categories(recipe.source, recipe.seed, torch.device("cpu"))


def test_categories_are_deterministic_and_distinct(torch_one_thread):
    first = categories_of(small_recipe()).get(range(4))
    again = categories_of(small_recipe()).get([3, 1, 0, 2])  # another order, another batch
    other_seed = categories_of(small_recipe(seed=1)).get([0])
    for c in range(4):
        assert np.array_equal(first[c].ifs.coefficients, again[c].ifs.coefficients)
        assert first[c].rejected == again[c].rejected
    for a, b in itertools.combinations(range(4), 2):
        assert first[a].ifs.coefficients.shape != first[b].ifs.coefficients.shape or not np.allclose(
            first[a].ifs.coefficients, first[b].ifs.coefficients
        )
    assert not np.array_equal(other_seed[0].ifs.coefficients, first[0].ifs.coefficients)
    # FractalDB's draws: 2..8 maps, coefficients in [-1, 1], probabilities |det| normalised.
    for category in first.values():
        coefficients, probabilities = category.ifs.coefficients, category.ifs.probabilities
        assert 2 <= len(coefficients) <= 8 and np.abs(coefficients).max() <= 1
        det = np.abs(coefficients[:, 0] * coefficients[:, 3] - coefficients[:, 1] * coefficients[:, 2])
        assert np.allclose(probabilities, det / det.sum())


def test_the_filling_rate_filter_redraws_sparse_ifs_and_counts_them(torch_one_thread):
    from synthgen.sources.fractal.ifs import IFS

    recipe = small_recipe()
    cats = categories_of(recipe)
    found = cats.get(range(4))
    assert sum(category.rejected for category in found.values()) > 0  # FractalDB keeps ~3% of draws
    threshold = recipe.source.filling_rate
    for c, category in found.items():
        rejected = [cats.draw(c, attempt) for attempt in range(category.rejected)]
        assert all(filling < threshold for filling in cats._fillings(rejected))
        assert category.filling >= threshold
    # A degenerate IFS (two maps onto points: no linear part) fills almost nothing.
    dots = np.array([[0, 0, 0, 0, 0.5, 0.5], [0, 0, 0, 0, -0.5, 0.2]])
    assert cats._fillings([(IFS(dots, np.array([0.5, 0.5])), 1)])[0] < 0.001
    # The count reaches the samples' json.
    source = build(recipe)
    sample = rendered(source, specs([1]))[0]
    assert sample.cls == 1 and sample.meta["search"]["rejected"] == found[1].rejected


def build(recipe):
    from synthgen.sources import build_source

    return build_source(recipe)


@pytest.mark.parametrize(
    ("weights", "closer", "nearest"),
    # FractalDB's exe.sh weights (0.2..1.8 on one coefficient: instances vary a lot) and those of
    # its make_fractaldb.py default (0.8..1.2).
    [((0.2, 0.6, 1.4, 1.8), 0.9, 0.5), ((0.8, 0.9, 1.1, 1.2), 0.75, 0.8)],
)
def test_instances_of_a_category_are_closer_than_other_categories(weights, closer, nearest, torch_one_thread):
    recipe = small_recipe(count=32, variations={"weights": list(weights)})
    results = rendered(build(recipe), specs(range(32)))
    labels = np.array([r.cls for r in results])
    assert labels.tolist() == [i % 4 for i in range(32)]
    # Point density at 8x8, and the mean absolute difference between two images' densities.
    small = np.stack([r.images[0][..., 0].reshape(8, 8, 8, 8).mean(axis=(1, 3)) / 127 for r in results])
    distance = np.abs(small[:, None] - small[None]).mean(axis=(2, 3))
    same = np.equal.outer(labels, labels)
    off_diagonal = ~np.eye(32, dtype=bool)
    assert distance[same & off_diagonal].mean() < closer * distance[~same].mean()
    # The nearest other image is mostly of the same category (chance: 1 in 4).
    np.fill_diagonal(distance, np.inf)
    assert (labels[distance.argmin(axis=1)] == labels).mean() >= nearest


def test_batch_layout_does_not_change_bytes(torch_one_thread):
    recipe = small_recipe(count=8, views=2, render="patch", color="color")
    together = rendered(build(recipe), specs(range(6), views=2))
    alone = [rendered(build(recipe), specs([i], views=2))[0] for i in (5, 2, 0, 1, 4, 3)]
    alone.sort(key=lambda sample: sample.meta["instance"] * 4 + sample.meta["category"])
    for a, b in zip(together, alone, strict=True):
        assert a.meta == b.meta
        assert all(np.array_equal(x, y) for x, y in zip(a.images, b.images, strict=True))
    # The views of a sample: the same category, another variation, other pixels.
    first = together[0]
    assert first.meta["views"][0]["variation"] == 0
    assert not np.array_equal(first.images[0], first.images[1])


def test_the_torch_renderer_draws_the_category_fractaldb_draws(torch_one_thread):
    """Same IFS, FractalDB's single-chain loop vs the batched chains: the same point density."""
    from synthgen.sources.fractal.reference import fractaldb_image
    from synthgen.sources.fractal.render import Job, render

    cats = categories_of(small_recipe()).get(range(3))
    for category in cats.values():
        ifs = category.ifs
        ours = render(
            [Job(ifs.coefficients, ifs.probabilities, 7)],
            64,
            64,
            20_000,
            "point",
            "grey",
            2,
            torch_one_thread.device("cpu"),
        )
        theirs = fractaldb_image(ifs.coefficients, ifs.probabilities, 20_000, 64, 2, "point", np.random.default_rng(7))
        a = ours.images[0][..., 0].reshape(16, 4, 16, 4).mean(axis=(1, 3)).ravel()
        b = theirs[..., 0].reshape(16, 4, 16, 4).mean(axis=(1, 3)).ravel()
        assert np.corrcoef(a, b)[0, 1] > 0.9
        assert abs((ours.images[0] > 0).mean() - (theirs > 0).mean()) < 0.05


def test_1p_frac_categories_are_small_perturbations_of_one_ifs(torch_one_thread):
    recipe = small_recipe(mode="1p-frac", categories=3, filling_rate=0.05, search={"size": 128, "points": 20_000})
    cats = categories_of(recipe)
    found = cats.get(range(3))
    base = cats.base.ifs.coefficients
    assert base.shape == (2, 6)
    # The maps are contractions: singular values <= 1 summing (s1 + 2 s2) to sigma in [3.4, 3.6].
    s = np.linalg.svd(base[:, [0, 1, 2, 3]].reshape(2, 2, 2), compute_uv=False)
    assert s.max() <= 1 + 1e-9 and 3.4 <= (s[:, 0] + 2 * s[:, 1]).sum() <= 3.6
    for category in found.values():
        ratio = category.ifs.coefficients / base
        assert np.all(np.abs(ratio - 1) <= 0.1 + 1e-12) and not np.allclose(ratio, 1)
        assert np.array_equal(category.ifs.probabilities, cats.base.ifs.probabilities)
    sample = rendered(build(recipe), specs([2]))[0]
    assert sample.cls == 2 and sample.meta["mode"] == "1p-frac" and sample.meta["views"][0]["weights"] == [1.0] * 6


@pytest.mark.parametrize(
    ("source", "field"),
    [
        (
            {"filling_rate": 1.0, "search": {"size": 512, "points": 100_000}},
            "source.filling_rate: 1.0 cannot be reached",
        ),
        ({"coefficients": {"min": 0, "max": 0}}, "source.coefficients.max: must be > min"),
        ({"maps": {"min": 1, "max": 3}}, "source.maps.min"),
        ({"mode": "1p-frac", "maps": 2, "sigma": {"min": 3, "max": 7}}, "source.sigma: max 7.0 is above 3 x maps"),
        (
            {"mode": "1p-frac", "coefficients": {"min": -1, "max": 1}},
            "source.coefficients: unknown key for mode 1p-frac",
        ),
        ({"mode": "fractal"}, "source.mode: unknown mode 'fractal'"),
    ],
)
def test_bad_input_is_one_line_naming_the_field(source: dict, field: str):
    with pytest.raises(RecipeError) as err:
        small_recipe(**source)
    assert field in str(err.value) and "\n" not in str(err.value)


def test_an_ifs_range_with_no_valid_category_is_refused_before_rendering(torch_one_thread):
    from synthgen.sources.fractal.source import FractalSource

    # Maps that shrink everything to dust: no draw fills 0.2; a bounded search, not an endless one.
    recipe = small_recipe(
        coefficients={"min": -0.01, "max": 0.01}, search={"size": 128, "points": 20_000, "attempts": 8}
    )
    with pytest.raises(SourceError) as err:
        FractalSource.check(recipe)
    message = str(err.value)
    assert message.startswith("source.filling_rate: none of 8 IFS") and "source.coefficients" in message
    assert "\n" not in message


def test_a_tiny_corpus_round_trip(tmp_path: Path, torch_one_thread):
    from synthgen.render import render_corpus

    recipe = small_recipe(count=12)
    render_corpus(recipe, str(tmp_path / "one"))
    render_corpus(recipe, str(tmp_path / "two"), workers=2)
    samples = read_back(tmp_path / "one", decode="rgb8")
    assert [int(s["cls"]) for s in samples] == [i % 4 for i in range(12)]
    meta = samples[5]["json"]
    assert meta["kind"] == "fractal" and meta["category"] == 1 and meta["instance"] == 1
    assert set(meta["ifs"]) == {"maps", "coefficients", "probabilities"} and meta["views"][0]["variation"] == 1
    assert samples[0]["png"].shape == (64, 64, 3)
    # Worker count does not change bytes.
    assert read_fields(tmp_path / "one") == read_fields(tmp_path / "two")
    # And the corpus re-renders from its recipe alone.
    again = render_samples(recipe, build(recipe), [5])[0][1]
    assert np.array_equal(again.images[0], samples[5]["png"])
    assert json.loads(json.dumps(again.meta))["ifs"] == meta["ifs"]
