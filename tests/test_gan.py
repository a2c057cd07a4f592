"""The `gan` source: the StyleGAN2 generator, the untrained variants, checkpoints, factories,
latent views, determinism, recipes (the corpus each writes: tests/test_source_contract.py).
Networks are tiny (a few channels) to stay fast."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from synthgen.errors import NotAllowedError, RecipeError, SourceError
from synthgen.permissions import Permissions
from synthgen.recipe import load_recipe, parse_recipe
from synthgen.render import render_corpus
from synthgen.shipped import SHIPPED_ROOT
from synthgen.sources import build_source, source_class
from synthgen.sources.base import SampleFailure
from synthgen.sources.gan import stylegan2, untrained
from synthgen.sources.gan.latents import truncated_normal
from synthgen.sources.gan.source import GanSource
from synthgen.sources.gan.stylegan2 import (
    Architecture,
    StyleGAN2Generator,
    init_weights,
    modulated_conv2d,
    modulated_rank_one_conv2d,
    resample_filter,
)

from .helpers import rendered, specs

RECIPES = SHIPPED_ROOT / "recipes"
# Untrained variants read the synthesis network's keys; trained networks a mapping network too.
TINY_SYNTHESIS = {"resolution": 32, "channel_base": 128, "channel_max": 8, "w_dim": 8}
TINY = {**TINY_SYNTHESIS, "z_dim": 8, "mapping_layers": 2}
FACTORY = "tests.gan_factories:tiny_conditional"
# A recipe naming a factory runs only where the user allows its module (tests/test_permissions.py).
TESTS_CODE = Permissions.allowing(allow_code=["tests"])


@pytest.fixture(autouse=True)
def small_noise_banks(monkeypatch):
    """Banks of 8 maps, and oriented maps drawn at 64 pixels: seconds saved per source."""
    monkeypatch.setattr(untrained, "NOISE_BANK_SIZE", 8)
    monkeypatch.setattr(untrained, "ORIENTED_MAP_SIZE", 64)


def gan_recipe(source: dict[str, Any], size: int = 32, views: int = 1, **top: Any):
    document = {"name": "gan-test", "count": 16, "views": views, "image": {"size": size, "format": "png"}}
    return parse_recipe({**document, **top, "source": {"kind": "gan", **source}})


def untrained_recipe(init: str = "sparse", views: int = 1, **source: Any):
    return gan_recipe({"init": init, "network": TINY_SYNTHESIS, "batch_size": 4, **source}, views=views)


def save_checkpoint(tmp_path: Path, arch: Architecture, name: str, fmt: str) -> tuple[Path, StyleGAN2Generator]:
    net = StyleGAN2Generator(arch)
    init_weights(net, torch.Generator().manual_seed(3))
    with torch.no_grad():
        for layer in net.synthesis.layers():
            layer.noise_strength.fill_(0.1)
    path = tmp_path / name
    state = {key: value.contiguous() for key, value in net.state_dict().items()}
    if fmt == "safetensors":
        from safetensors.torch import save_file

        save_file(state, str(path))
    elif fmt == "state_dict":
        torch.save({"G_ema": state}, path)
    else:  # a whole pickled module: only full unpickling reads it
        torch.save(net, path)
    return path, net


# --- the generator --------------------------------------------------------------------------


@pytest.mark.parametrize("resolution", [32, 64, 128, 256, 512])
def test_the_generator_runs_at_each_resolution(resolution: int):
    arch = Architecture(
        resolution, z_dim=8, w_dim=8, mapping_layers=2, channel_base=4 * resolution, channel_max=4, classes=3
    )
    net = StyleGAN2Generator(arch).eval()
    init_weights(net, torch.Generator().manual_seed(0))
    assert net.num_ws == 2 * int(np.log2(resolution)) - 2
    with torch.inference_mode():
        images = net(torch.randn(2, 8), torch.tensor([0, 2]))
    assert images.shape == (2, 3, resolution, resolution) and torch.isfinite(images).all()


@pytest.mark.parametrize("up", [1, 2])
def test_the_rank_one_convolution_equals_the_full_modulated_one(up: int):
    x, styles = torch.randn(3, 6, 8, 8), torch.randn(3, 6)
    filters, gains = torch.randn(3, 6, 3, 3), torch.randn(3, 5)
    single, scale = modulated_rank_one_conv2d(x, filters, gains, styles, up=up, kernel=resample_filter())
    weight = gains[:, :, None, None, None] * filters[:, None]  # [N, O, I, 3, 3], one per sample
    full = modulated_conv2d(x, weight, styles, up=up, kernel=resample_filter())
    assert full.shape == (3, 5, 8 * up, 8 * up)
    assert torch.allclose(single * scale[:, :, None, None], full, atol=1e-5)
    # The shared-weight path (one batched convolution) gives the per-sample path's numbers.
    shared = modulated_conv2d(x, weight[0], styles, up=up, kernel=resample_filter())
    assert torch.allclose(
        shared, modulated_conv2d(x, weight[0].expand_as(weight), styles, up=up, kernel=resample_filter()), atol=1e-5
    )


@pytest.mark.parametrize("up", [1, 2])
def test_the_grouped_convolution_used_on_cuda_equals_the_per_sample_one(up: int):
    x, weights = torch.randn(3, 4, 8, 8), torch.randn(3, 5, 4, 3, 3)
    per_sample = stylegan2._grouped_conv(x, weights, up, resample_filter())  # the CPU path
    grouped = stylegan2._conv(x.reshape(1, 12, 8, 8), weights.reshape(15, 4, 3, 3), up, resample_filter(), groups=3)
    assert torch.allclose(grouped.reshape(per_sample.shape), per_sample, atol=1e-5)


def test_truncated_normal_stays_within_its_bound():
    values = truncated_normal((20000,), 2.0, torch.Generator().manual_seed(0))
    assert values.abs().max() <= 2.0 and 0.85 < values.std() < 0.9  # the std of N(0,1) cut at +-2 is 0.880
    assert truncated_normal((5,), None, torch.Generator().manual_seed(0)).abs().max() < 10


def test_filter_dictionaries_are_the_papers():
    highfreq, sparse = untrained.highfreq_filters(), untrained.sparse_filters()
    assert highfreq.shape == sparse.shape == (40, 3, 3)
    assert set(highfreq.unique().tolist()) <= {-1.0, 0.0, 1.0}  # sign patterns
    assert torch.equal(sparse[20:], -sparse[:20])  # the sparse dictionary holds its negatives
    assert torch.allclose(sparse[:16].sum(dim=(1, 2)), torch.zeros(16), atol=1e-5)  # edges and lines: zero mean


def test_noise_maps_are_unit_std_and_pink():
    maps = untrained.pink_noise(4, 64, torch.Generator().manual_seed(0), envelope=False)
    assert torch.allclose(maps.std(dim=(1, 2)), torch.ones(4), atol=1e-4)
    power = torch.fft.fft2(maps).abs().square().mean(dim=0)
    assert power[1, 1] > 10 * power[16, 16]  # power falls with frequency


# --- determinism and views ------------------------------------------------------------------
# (Each untrained variant's samples, the same bytes alone, out of order or in another process:
# tests/test_source_contract.py.)


def test_a_trained_network_is_deterministic_across_batches_too(tmp_path: Path):
    path, _ = save_checkpoint(tmp_path, Architecture(32, **_arch_kwargs()), "g.safetensors", "safetensors")
    recipe = gan_recipe({"checkpoint": str(path), "network": TINY, "batch_size": 3}, views=2)
    batch = specs(range(5), views=2)
    together = rendered(build_source(recipe), batch)
    alone = [rendered(build_source(recipe), [spec])[0] for spec in batch[::-1]][::-1]
    for first, second in zip(together, alone, strict=True):
        assert all(np.array_equal(a, b) for a, b in zip(first.images, second.images, strict=True))


def test_views_record_their_latent_seed_and_std_and_view_0_does_not_depend_on_views():
    three = rendered(build_source(untrained_recipe("highfreq", views=3)), specs(range(2), views=3))
    one = rendered(build_source(untrained_recipe("highfreq", views=1)), specs(range(2), views=1))
    for many, single in zip(three, one, strict=True):
        views = many.meta["views"]
        assert [view["std"] for view in views] == [0.0, 0.2, 0.2]
        assert len({view["latent_seed"] for view in views}) == 3
        assert many.meta["network"] == {"init": "highfreq", "weights_seed": 0, "network": 0}
        assert np.array_equal(many.images[0], single.images[0])
        assert not np.array_equal(many.images[0], many.images[1])


def test_neighbours_are_closer_than_independent_samples_and_drift_with_std():
    def distance(method: str, std: float | None = None) -> float:
        extra = {"std": std} if std is not None else {}
        source = build_source(untrained_recipe("random", views=2, views_method=method, **extra))
        samples = rendered(source, specs(range(12), views=2))
        return float(np.mean([np.abs(s.images[0].astype(float) - s.images[1]).mean() for s in samples]))

    near, middle, far = distance("gaussian", 0.05), distance("gaussian", 0.3), distance("gaussian", 1.0)
    independent = distance("independent")
    assert near < middle < far < independent


def test_networks_change_every_samples_per_network():
    source = build_source(untrained_recipe("random", samples_per_network=2))
    samples = rendered(source, specs([0, 1, 2, 5]))
    assert [s.meta["network"]["network"] for s in samples] == [0, 0, 1, 2]
    # Sample 2 rendered alone (network 1 first) is the same: networks are a function of (seed, k).
    alone = rendered(build_source(untrained_recipe("random", samples_per_network=2)), specs([2]))[0]
    assert np.array_equal(alone.images[0], samples[2].images[0])


def test_a_non_finite_output_is_redrawn_as_nan(monkeypatch):
    source = build_source(untrained_recipe("sparse"))
    monkeypatch.setattr(
        source.model, "generate", lambda latents, *args: torch.full((len(latents), 3, 32, 32), float("nan"))
    )
    [result] = source.render(specs([0]))
    assert isinstance(result, SampleFailure) and result.reason == "nan" and result.subject == "sparse network 0"


def test_one_nan_pixel_is_a_broken_output_and_a_flat_colour_is_near_constant(monkeypatch):
    """The shared judgement (synthgen.frames) at the gan family's settings: no NaN share allowed;
    flat in every channel, whatever the colour (all-values std ~21 here), is near_constant."""
    source = build_source(gan_recipe({"generator": FACTORY}), permissions=TESTS_CODE)
    speck = torch.rand(1, 3, 32, 32) * 2 - 1
    speck[0, 1, 5, 5] = float("inf")
    monkeypatch.setattr(source.model, "generate", lambda latents, *args: speck.expand(len(latents), -1, -1, -1))
    [broken] = source.render(specs([0]))
    assert isinstance(broken, SampleFailure) and broken.reason == "nan"
    assert broken.message == "view 0: under 0.1% NaN pixels"
    colour = torch.tensor([-0.6, -0.4, -0.2]).reshape(1, 3, 1, 1)  # (51, 77, 102) after clipping
    monkeypatch.setattr(source.model, "generate", lambda latents, *args: colour.expand(len(latents), 3, 32, 32))
    [flat] = source.render(specs([0]))
    assert isinstance(flat, SampleFailure) and flat.reason == "near_constant"


def test_a_generator_at_another_size_is_resized_and_cropped():
    recipe = gan_recipe({"init": "sparse", "network": TINY_SYNTHESIS, "batch_size": 2}, size=[48, 24])
    [sample] = rendered(build_source(recipe), specs([0]))
    assert sample.images[0].shape == (24, 48, 3)


# --- checkpoints and factories ---------------------------------------------------------------


def _arch_kwargs() -> dict:
    return {key: value for key, value in TINY.items() if key != "resolution"}


def test_checkpoints_round_trip_as_safetensors_and_state_dicts(tmp_path: Path):
    arch = Architecture(32, **_arch_kwargs())
    images = []
    for name, fmt in [("g.safetensors", "safetensors"), ("g.pt", "state_dict")]:
        path, net = save_checkpoint(tmp_path, arch, name, fmt)
        recipe = load_recipe(_write_recipe(tmp_path, {"checkpoint": name, "network": TINY, "batch_size": 2}))
        assert recipe.source.checkpoint == str(path.resolve())  # relative to the recipe's folder
        source = build_source(recipe)
        loaded = source.model.net.state_dict()
        assert all(torch.equal(loaded[key], value) for key, value in net.state_dict().items())
        batch = rendered(source, specs(range(2), views=2))
        assert batch[0].meta["network"]["checkpoint"] == str(path.resolve())
        images.append(batch[0].images[0])
    assert np.array_equal(images[0], images[1])


def _write_recipe(folder: Path, source: dict, **top: Any) -> Path:
    import yaml

    document = {"name": "gan-test", "count": 4, "image": {"size": 32, "format": "png"}, **top}
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump({**document, "source": {"kind": "gan", **source}}))
    return path


def test_a_pickle_checkpoint_needs_the_trust_flag(tmp_path: Path):
    arch = Architecture(32, **_arch_kwargs())
    path, net = save_checkpoint(tmp_path, arch, "g.pkl", "pickle")
    recipe = gan_recipe({"checkpoint": str(path), "network": TINY})
    with pytest.raises(NotAllowedError) as caught:
        build_source(recipe)
    message = str(caught.value)
    assert f"source.checkpoint: {path} is a pickle" in message and f"--trust-pickle {path}" in message
    assert "\n" not in message
    trusted = build_source(recipe, permissions=Permissions.allowing(trust_pickle=[str(path)]))
    assert torch.equal(trusted.model.net.mapping.fc0.weight, net.mapping.fc0.weight)


def test_a_checkpoint_that_does_not_fit_names_the_key(tmp_path: Path):
    path, _ = save_checkpoint(tmp_path, Architecture(32, **_arch_kwargs()), "g.safetensors", "safetensors")
    with pytest.raises(SourceError, match=r"synthesis\.b\d+\.\S+ is \[.*\] in the file, .* here.*set source\.network"):
        build_source(gan_recipe({"checkpoint": str(path), "network": {**TINY, "channel_max": 4}}))


def test_a_missing_checkpoint_passes_the_check_and_stops_the_render(tmp_path: Path):
    recipe = gan_recipe({"checkpoint": str(tmp_path / "placeholder.safetensors")})
    GanSource.check(recipe)  # validation and the pre-render check do not need the file
    with pytest.raises(SourceError, match="source.checkpoint: no such file: .*placeholder.safetensors"):
        render_corpus(recipe, str(tmp_path / "out"))


def test_a_factory_is_loaded_by_its_string_and_gives_classes():
    recipe = gan_recipe({"generator": FACTORY, "generator_kwargs": {"size": 16}, "views_method": "same_class"}, views=3)
    samples = rendered(build_source(recipe, permissions=TESTS_CODE), specs(range(6), views=3))
    for sample in samples:
        assert 0 <= sample.cls < 5
        assert [view["class"] for view in sample.meta["views"]] == [sample.cls] * 3
        assert sample.meta["network"] == {"generator": FACTORY}
        assert sample.images[0].shape == (32, 32, 3)  # upsampled from 16
    assert len({sample.cls for sample in samples}) > 1
    independent = gan_recipe({"generator": FACTORY, "views_method": "independent"}, views=4)
    classes = [
        [v["class"] for v in s.meta["views"]]
        for s in rendered(build_source(independent, permissions=TESTS_CODE), specs(range(4), views=4))
    ]
    assert any(len(set(row)) > 1 for row in classes)


@pytest.mark.parametrize(
    ("generator", "expected"),
    [
        ("tests.gan_factories:not_a_generator", "expected (module, latent_size, num_classes)"),
        ("tests.gan_factories:missing", "has no function 'missing'"),
        ("tests.no_such_module:f", "cannot import 'tests.no_such_module'"),
    ],
)
def test_factory_errors_are_clear(generator: str, expected: str):
    with pytest.raises(SourceError, match=re.escape(expected)):
        build_source(gan_recipe({"generator": generator}), permissions=TESTS_CODE)


# --- recipes and shards ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ({"init": "random", "std": -1}, "source.std: must be > 0"),
        ({"init": "random", "truncation": 0}, "source.truncation: must be > 0"),
        ({"init": "cubist"}, "source.init: must be one of random, highfreq, sparse or oriented"),
        ({}, "source: give `init` (an untrained StyleGAN2), `checkpoint`"),
        ({"init": "random", "checkpoint": "g.pt"}, "source.checkpoint: unknown key beside `init`"),
        ({"init": "random", "network": {"resolution": 100}}, "source.network.resolution: must be a power of two"),
        (
            {"init": "random", "network": {"resolution": 512, "channel_base": 256}},
            "source.network.channel_base: must be >=",
        ),
        ({"init": "random", "network": {"classes": 10}}, "source.network: `classes` do not apply to untrained"),
        ({"init": "random", "noise": "const"}, "source.noise: unknown key beside `init`"),
        ({"init": "random", "views_method": "same_class"}, "source.views_method: same_class needs a class-conditional"),
        ({"checkpoint": "g.pt", "views_method": "same_class"}, "set source.network.classes"),
        (
            {"init": "random", "views_method": "independent", "std": 0.3},
            "source.std: applies only to views_method gaussian",
        ),
        ({"generator": "no colon"}, "source.generator: expected 'package.module:function'"),
        ({"generator": FACTORY, "network": {}}, "source.network: unknown key beside `generator`"),
        ({"checkpoint": "g.pt", "weights_seed": 3}, "source.weights_seed: unknown key beside `checkpoint`"),
        (
            {"checkpoint": "g.pkl", "trust_pickle": True},
            "source.trust_pickle: trust is given on the command line now: --trust-pickle FILE_OR_SHA256",
        ),
        ({"init": "random", "dtype": "float64"}, "source.dtype: must be one of"),
        ({"init": "random", "batch_size": 0}, "source.batch_size: must be >= 1"),
        ({"init": "random", "colour": 1}, "source.colour: unknown key beside `init`"),
    ],
)
def test_recipe_errors_name_the_field_path(source: dict, expected: str):
    with pytest.raises(RecipeError) as caught:
        gan_recipe(source)
    assert expected in str(caught.value) and "\n" not in str(caught.value)


def test_the_variants_read_the_papers_defaults():
    sparse = gan_recipe({"init": "sparse"}).resolved()["source"]
    assert sparse["bias_range"] == 0.2 and sparse["weights_seed"] == 0 and sparse["output"] == "random_stats"
    assert sparse["network"]["resolution"] == 256 and "noise" not in sparse and "generator_kwargs" not in sparse
    assert gan_recipe({"init": "highfreq"}).resolved()["source"]["bias_range"] == 0.0
    trained = gan_recipe({"checkpoint": "g.pt"}).resolved()["source"]
    assert trained["noise"] == "random" and trained["output"] == "clip" and "weights_seed" not in trained


def test_half_precision_needs_a_gpu():
    with pytest.raises(SourceError, match="source.dtype: bfloat16 needs a CUDA device"):
        build_source(untrained_recipe(dtype="bfloat16"))


def test_shipped_gan_recipes_validate_and_the_demo_renders(tmp_path: Path):
    paths = sorted(RECIPES.glob("gan-*.yaml"))
    assert {path.stem for path in paths} >= {
        "gan-demo",
        "gan-genrep-checkpoint",
        "gan-stylegan-random-105k",
        "gan-stylegan-highfreq-105k",
        "gan-stylegan-sparse-105k",
        "gan-stylegan-oriented-105k",
        "gan-stylegan-oriented-1.3m",
    }
    for path in paths:
        recipe = load_recipe(path)
        source_class(recipe.source.kind).check(recipe)
        assert recipe.name == path.stem
    demo = load_recipe(RECIPES / "gan-demo.yaml", count=4)
    summary = render_corpus(demo, str(tmp_path / "demo"))
    assert summary.nsamples == 4 and not summary.failures
