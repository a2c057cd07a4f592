"""The `visualatom` source: classes (deterministic, distinct, the released renderer's rules),
instances that resemble their class, exact strokes whatever the batch, bad input, and a corpus
round trip with `cls` (the contract every family keeps: tests/test_source_contract.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from synthgen.errors import RecipeError
from synthgen.recipe import load_recipe, parse_recipe
from synthgen.render import render_corpus
from synthgen.shipped import SHIPPED_ROOT
from synthgen.sources import build_source
from synthgen.sources.visualatom import render as render_module
from synthgen.sources.visualatom.atoms import AtomClasses, draw_class, perlin_at_random
from synthgen.sources.visualatom.render import stencil

from .helpers import read_back, read_fields, rendered, specs

RECIPES = SHIPPED_ROOT / "recipes"
# Small classes: few contours and vertices, so that a test renders in milliseconds.
SMALL = {"contours": {"min": 5, "max": 40}, "quantization": {"min": 200, "max": 400}}


def atom_recipe(source: dict[str, Any] | None = None, size: int | list[int] = 32, views: int = 1, **top: Any):
    document = {"name": "va-test", "count": 64, "views": views, "image": {"size": size, "format": "png"}}
    return parse_recipe({**document, **top, "source": {"kind": "visualatom", **SMALL, **(source or {})}})


def error_of(source: dict[str, Any]) -> str:
    with pytest.raises(RecipeError) as caught:
        atom_recipe(source)
    return str(caught.value)


# --- classes -------------------------------------------------------------------------------


def test_classes_are_deterministic_distinct_and_follow_the_recipe_seed():
    config = atom_recipe({"classes": 60}).source
    classes = AtomClasses(config, recipe_seed=3)
    again = AtomClasses(config, recipe_seed=3)
    assert [classes[k] for k in range(60)] == [again[k] for k in range(60)]
    assert len({classes[k].key() for k in range(60)}) == 60
    # Class k depends on (seed, k) only: drawing it first, alone, gives the same class.
    assert AtomClasses(config, recipe_seed=3)[41] == classes[41]
    other = AtomClasses(config, recipe_seed=4)
    assert all(other[k].key() != classes[k].key() for k in range(60))
    # The released renderer's ranges and its rule for the second frequency.
    for k in range(60):
        atom = classes[k]
        n1, n2 = atom.frequencies
        assert 0 <= n1 <= 20 and 0 <= n2 <= 20 and (n1 != n2 or n1 == 0)
        assert 200 <= atom.vertices <= 400 and 5 <= atom.contours <= 40 and 10 <= atom.radius <= 60
        assert 0 <= atom.noise <= 4 and 0 <= atom.spacing <= 0.1 and all(1 <= o <= 2 for o in atom.oval)
        assert atom.amplitudes == (0.5, 0.5) and atom.line_width == 1


def test_a_finite_parameter_space_gives_distinct_classes_up_to_its_size():
    fixed = {
        "frequency": {"min": 0, "max": 3},  # pairs {0,0} and 6 with n1 != n2
        "quantization": {"min": 200, "max": 200},
        "contours": {"min": 4, "max": 5},
        "noise": {"min": 1.0, "max": 1.0},
        "spacing": {"min": 0.0, "max": 0.0},
        "radius": {"min": 10, "max": 10},
        "oval": {"min": 1.0, "max": 1.0},
    }
    config = atom_recipe({**fixed, "classes": 14}).source
    assert config.distinct_classes() == 14
    classes = AtomClasses(config, recipe_seed=0)
    keys = {classes[k].key() for k in range(14)}
    assert len(keys) == 14
    # Frequencies that only swap (sin a + sin b = sin b + sin a) are the same class.
    assert len({tuple(sorted(classes[k].frequencies)) + (classes[k].contours,) for k in range(14)}) == 14
    assert "source.classes: 15 classes, but the ranges hold only 14 distinct parameter sets" in error_of(
        {**fixed, "classes": 15}
    )


def test_perlin_noise_matches_the_noise_package_formula():
    # pnoise1 at fraction t between lattice hashes h0, h1 (grad1: (h & 7) + 1, or -1 when h & 8).
    t = np.array([0.0, 0.25, 0.5, 0.75])
    hashes = np.array([0x00, 0x93, 0x8F, 0x7A], dtype=np.uint8)  # low nibble h0, high nibble h1
    expected = []
    for frac, h in zip(t, hashes, strict=True):
        g0 = (h & 7) + 1 if not h & 8 else -1
        g1 = ((h >> 4) & 7) + 1 if not (h >> 4) & 8 else -1
        fade = frac**3 * (frac * (frac * 6 - 15) + 10)
        expected.append(0.4 * (g0 * frac + fade * (g1 * (frac - 1) - g0 * frac)))
    np.testing.assert_allclose(perlin_at_random(t, hashes), expected, rtol=1e-12)
    assert perlin_at_random(np.array([0.0]), np.array([0xFF], np.uint8))[0] == 0.0  # zero at lattice points


# --- instances -----------------------------------------------------------------------------


def ink(image: np.ndarray, cells: int = 12) -> np.ndarray:
    """Where the contours are, at low resolution: the share of inked pixels per cell."""
    mask = (image.max(axis=2) > 0).astype(np.float64)
    h, w = mask.shape
    return mask[: h - h % cells, : w - w % cells].reshape(cells, h // cells, cells, w // cells).mean(axis=(1, 3))


def test_instances_of_a_class_are_closer_to_each_other_than_to_other_classes(one_torch_thread):
    # Centred (the paper moves the centre anywhere, which only translates the atom): what is
    # left to vary per instance is the noise and the contour levels.
    classes, per_class = 6, 4
    recipe = atom_recipe({"classes": classes, "center": {"min": 0.0, "max": 0.0}, "reject": {"min_std": 0.0}}, size=48)
    source = build_source(recipe)
    results = rendered(source, specs(range(classes * per_class), seed=recipe.seed))
    features = np.stack([ink(result.images[0]).ravel() for result in results])
    labels = np.array([result.cls for result in results])
    assert labels.tolist() == [i % classes for i in range(classes * per_class)]
    distances = np.linalg.norm(features[:, None] - features[None], axis=2)
    same = labels[:, None] == labels[None]
    np.fill_diagonal(distances, np.inf)
    # Every image's nearest neighbour is an instance of its own class ...
    assert (same[np.arange(len(labels)), distances.argmin(axis=1)]).all()
    # ... and instances differ (they are not one image repeated).
    images = [result.images[0].tobytes() for result in results]
    assert len(set(images)) == len(images)


def test_views_are_instances_of_the_sample_class_and_the_json_records_them(one_torch_thread):
    recipe = atom_recipe({"classes": 5}, views=3)
    source = build_source(recipe)
    (result,) = rendered(source, specs([7], views=3, seed=recipe.seed))
    assert result.cls == 2
    meta = result.meta
    assert meta["class"] == 2 and meta["instance"] == 1 and meta["color"] == "grey"
    assert meta["atom"] == source.classes[2].meta()
    assert set(meta["atom"]) >= {"frequencies", "vertices", "contours", "noise", "spacing", "radius", "line_width"}
    assert len(meta["views"]) == 3 and len({view["seed"] for view in meta["views"]}) == 3
    assert not np.array_equal(result.images[0], result.images[1])
    # Grey: every pixel has equal channels. View 0 is the same whatever `views` is.
    assert all((image[..., 0] == image[..., 2]).all() for image in result.images)
    (alone,) = rendered(build_source(atom_recipe({"classes": 5})), specs([7], seed=recipe.seed))
    assert np.array_equal(alone.images[0], result.images[0])


def test_color_gives_each_contour_an_rgb_level(one_torch_thread):
    source = build_source(atom_recipe({"classes": 3, "color": "color"}))
    images = [result.images[0] for result in rendered(source, specs(range(3)))]
    assert any((image[..., 0] != image[..., 1]).any() for image in images)


def test_stroke_width_inks_a_disc_around_each_point():
    assert stencil(1).tolist() == [[0, 0]]
    assert sorted(map(tuple, stencil(2).tolist())) == [(-1, 0), (0, -1), (0, 0), (0, 1), (1, 0)]
    assert len(stencil(3)) == 9 and len(stencil(4)) == 13


def test_batch_layout_chunking_and_order_do_not_change_bytes(one_torch_thread, monkeypatch: pytest.MonkeyPatch):
    # A non-square canvas, mixed stroke widths: every per-view choice meets in one batch.
    recipe = atom_recipe({"classes": 7, "line_width": {"min": 1, "max": 3}}, size=[40, 28], views=2)
    batch = specs(range(10), views=2, seed=recipe.seed)
    together = rendered(build_source(recipe), batch)
    alone = [rendered(build_source(recipe), [spec])[0] for spec in reversed(batch)][::-1]
    monkeypatch.setattr(render_module, "CHUNK_POINTS", 300)
    chunked = rendered(build_source(recipe), batch)
    for a, b, c in zip(together, alone, chunked, strict=True):
        assert a.meta == b.meta == c.meta
        for x, y, z in zip(a.images, b.images, c.images, strict=True):
            assert x.shape == (28, 40, 3) and x.tobytes() == y.tobytes() == z.tobytes()


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            {"frequency": {"min": 5, "max": 5}},
            "source.frequency: min = max = 5 leaves no pair n1 != n2; widen the range or use 0",
        ),
        ({"quantization": {"min": 500, "max": 300}}, "source.quantization.max: must be >= min (500)"),
        ({"contours": {"min": 0, "max": 3}}, "source.contours.min: must be >= 1"),
        ({"line_width": {"min": 1, "max": 64}}, "source.line_width.max: must be <= 32"),
        ({"color": "rainbow"}, "source.color: must be one of grey or color"),
        ({"waves": 3}, "source.waves: unknown key"),
    ],
)
def test_bad_input_is_one_line_naming_the_field(source: dict[str, Any], expected: str):
    message = error_of(source)
    assert expected in message and "\n" not in message


# --- recipes and a corpus ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["visualatom-1k.yaml", "demo-visualatom.yaml"])
def test_shipped_recipes(name: str):
    recipe = load_recipe(RECIPES / name)
    assert recipe.source.kind == "visualatom"
    if name == "visualatom-1k.yaml":  # the paper's VisualAtom-1k
        assert recipe.count == 1_000_000 and recipe.source.classes == 1000 and recipe.image.size == (512, 512)
        assert recipe.source.frequency.max == 20 and recipe.source.contours.max == 200


def test_corpus_round_trip_with_cls_and_counted_redraws(tmp_path: Path, one_torch_thread):
    # A threshold that single faint contours miss: those samples are redrawn as new instances of
    # the same class, counted in the stats.
    recipe = atom_recipe(
        {"classes": 3, "contours": {"min": 1, "max": 3}, "reject": {"min_std": 12.0}},
        count=12, shard={"samples": 5}, views=2,
    )  # fmt: skip
    summary = render_corpus(recipe, str(tmp_path / "a"))
    assert summary.failures["near_constant"] > 0
    samples = read_back(tmp_path / "a")
    assert [int(sample["cls"]) for sample in samples] == [i % 3 for i in range(12)]
    for i, sample in enumerate(samples):
        meta = sample["json"]
        assert meta["kind"] == "visualatom" and meta["class"] == i % 3 and meta["index"] == i
        assert sample["png"].shape == (32, 32, 3) and sample["view1.png"].shape == (32, 32, 3)
    redrawn = [sample["json"] for sample in samples if sample["json"]["attempt"] > 0]
    assert redrawn and all(meta["class"] == meta["index"] % 3 for meta in redrawn)
    # Rendered again with two workers: the same bytes.
    render_corpus(recipe, str(tmp_path / "b"), workers=2)
    assert read_fields(tmp_path / "a") == read_fields(tmp_path / "b")
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["recipe"]["source"]["classes"] == 3


def test_draw_class_depends_on_its_seed_and_attempt_only():
    config = atom_recipe().source
    assert draw_class(config, 0, 5) == draw_class(config, 0, 5)
    assert draw_class(config, 0, 5, attempt=1).key() != draw_class(config, 0, 5).key()
