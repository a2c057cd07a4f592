"""Batched view augmentation and Shaders21k-style mixup."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from pydantic import ValidationError

from synthgen.train.augment import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    AugmentConfig,
    GPUAugment,
    blur_kernel_size,
    mixup,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def images(batch: int = 4, views: int = 2, side: int = 40, seed: int = 0) -> torch.Tensor:
    """Random uint8 views (B, V, 3, side, side) with some structure, so crops and flips show."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.randint(0, 256, (batch, views, 3, 5, 5), generator=generator, dtype=torch.uint8)
    return (
        F.interpolate(coarse.float().flatten(0, 1), size=(side, side), mode="nearest")
        .to(torch.uint8)
        .reshape(batch, views, 3, side, side)
    )


def normalise(x: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(3, 1, 1)
    return (x - mean) / std


# ---------------------------------------------------------------------------------------------
# Config
# ---------------------------------------------------------------------------------------------


def test_presets_and_overrides():
    simclr = AugmentConfig().resolved()
    assert (simclr.scale, simclr.flip, simclr.jitter_strength, simclr.jitter) == ((0.08, 1.0), 0.5, 1.0, 0.8)
    assert (simclr.grayscale, simclr.blur, simclr.solarize) == (0.2, 0.5, 0.0)
    moco = AugmentConfig(preset="mocov2").resolved()
    assert (moco.scale, moco.jitter_strength, moco.jitter, moco.grayscale, moco.blur) == (
        (0.2, 1.0),
        0.5,
        0.8,
        0.2,
        0.5,
    )
    custom = AugmentConfig(preset="mocov2", scale=(0.5, 1.0), color_jitter={"p": 0.3}, solarize=0.1).resolved()
    assert (custom.scale, custom.jitter_strength, custom.jitter, custom.solarize) == ((0.5, 1.0), 0.5, 0.3, 0.1)
    none = AugmentConfig(preset="none", flip=1.0).resolved()
    assert (none.scale, none.flip, none.jitter, none.blur) == (None, 1.0, 0.0, 0.0)


@pytest.mark.parametrize(
    "bad",
    [
        {"preset": "byol"},
        {"scale": (0.5, 0.2)},
        {"scale": (0.0, 1.0)},
        {"flip": 1.5},
        {"std": (0.2, 0.0, 0.2)},
        {"mean": (0.5,), "std": (0.2, 0.2, 0.2)},
        {"mixup": {"k": 1}},
        {"color_jitter": {"strength": -1}},
        {"sizee": 32},
    ],
)
def test_config_errors(bad):
    with pytest.raises(ValidationError):
        AugmentConfig(**bad)


def test_blur_kernel_is_simclr_ten_percent():
    assert blur_kernel_size(224) == 23
    assert blur_kernel_size(96) == 9
    assert blur_kernel_size(32) == 3


# ---------------------------------------------------------------------------------------------
# GPUAugment
# ---------------------------------------------------------------------------------------------


def test_output_shape_dtype_range():
    augment = GPUAugment(AugmentConfig(size=32, solarize=0.5))
    out = augment(images())
    assert out.shape == (4, 2, 3, 32, 32)
    assert out.dtype == torch.float32
    low = normalise(torch.zeros(3, 1, 1)).min()
    high = normalise(torch.ones(3, 1, 1)).max()
    assert out.min() >= low - 1e-5 and out.max() <= high + 1e-5


def test_seeded_runs_repeat_and_seeds_differ():
    augment = GPUAugment(AugmentConfig(preset="simclr", size=32))
    views = images()
    torch.manual_seed(7)
    first = augment(views)
    torch.manual_seed(7)
    again = augment(views)
    torch.manual_seed(8)
    other = augment(views)
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


def test_views_of_a_sample_differ():
    # Every view the same image: whatever differs between the outputs comes from per-image parameters.
    same = images(batch=3, views=1).expand(3, 4, 3, 40, 40)
    torch.manual_seed(0)
    out = GPUAugment(AugmentConfig(preset="mocov2", size=32))(same)
    for b in range(3):
        for v in range(1, 4):
            assert not torch.allclose(out[b, 0], out[b, v])


def test_preset_none_is_resize_and_normalise():
    views = images(side=40)
    out = GPUAugment(AugmentConfig(preset="none", size=32))(views)
    resized = F.interpolate(
        views.float().flatten(0, 1) / 255, size=(32, 32), mode="bilinear", align_corners=False, antialias=True
    )
    assert torch.allclose(out, normalise(resized).reshape(4, 2, 3, 32, 32), atol=1e-5)
    # Without a size, the input size is kept and nothing but normalisation happens.
    plain = GPUAugment(AugmentConfig(preset="none"))(views)
    assert torch.allclose(plain, normalise(views.float() / 255), atol=1e-5)


def test_float_input_of_odd_size():
    generator = torch.Generator().manual_seed(1)
    views = torch.rand(2, 3, 3, 41, 37, generator=generator)
    out = GPUAugment(AugmentConfig(size=32))(views)
    assert out.shape == (2, 3, 3, 32, 32)
    assert torch.isfinite(out).all()
    # Float input is taken as [0, 1]: the same images as uint8 give (about) the same result.
    as_uint8 = (views * 255).round().to(torch.uint8)
    config = AugmentConfig(preset="none", size=32)
    assert torch.allclose(GPUAugment(config)(views), GPUAugment(config)(as_uint8), atol=0.02)


def test_channel_mismatch_is_an_error():
    with pytest.raises(ValueError, match="channels"):
        GPUAugment(AugmentConfig())(torch.zeros(2, 2, 1, 8, 8, dtype=torch.uint8))


def test_mixup_in_config_is_applied_first():
    views = images(batch=6)
    torch.manual_seed(3)
    out = GPUAugment(AugmentConfig(preset="none", mixup={"k": 3}))(views)
    torch.manual_seed(3)
    expected = normalise(mixup(views.float() / 255, 3))
    assert torch.allclose(out, expected, atol=1e-5)


# ---------------------------------------------------------------------------------------------
# mixup
# ---------------------------------------------------------------------------------------------


def one_hot_batch(batch: int, views: int) -> torch.Tensor:
    """Sample b's view v is (v + 1) * e_b: a (1 x B) image whose pixels read out the mixing weights."""
    eye = torch.eye(batch).view(batch, 1, 1, 1, batch)
    return eye * torch.arange(1, views + 1, dtype=torch.float32).view(1, views, 1, 1, 1)


@pytest.mark.parametrize("k", [2, 6])
def test_mixup_weights_partners_and_views(k):
    batch, views = 8, 3
    torch.manual_seed(k)
    out = mixup(one_hot_batch(batch, views), k)
    weights = out[:, 0, 0, 0, :]  # (B, B): weights[b, s] = weight of sample s in mixture b
    assert torch.allclose(weights.sum(dim=1), torch.ones(batch))
    assert ((weights > 0).sum(dim=1) == k).all()  # k distinct sources, all weights positive
    assert (weights.diagonal() > 0).all()  # each mixture contains its own sample
    for v in range(views):  # every view mixed with the same partners and weights
        assert torch.allclose(out[:, v, 0, 0, :], (v + 1) * weights)

    # Constant images of value c_s mix to the weighted mean of the c_s (same seed, same draws).
    values = torch.linspace(0, 255, batch)
    constant = values.view(batch, 1, 1, 1, 1).expand(batch, views, 3, 4, 4).to(torch.uint8)
    torch.manual_seed(k)
    mixed = mixup(constant, k)
    assert mixed.dtype == torch.float32
    expected = weights @ constant[:, 0, 0, 0, 0].float()
    assert torch.allclose(mixed, expected.view(batch, 1, 1, 1, 1).expand_as(mixed), atol=1e-3)


def test_mixup_is_seeded_and_varies():
    x = one_hot_batch(8, 2)
    torch.manual_seed(0)
    a = mixup(x, 4)
    torch.manual_seed(0)
    b = mixup(x, 4)
    c = mixup(x, 4)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_mixup_needs_batch_of_k():
    with pytest.raises(ValueError, match="at least 6 samples"):
        mixup(torch.zeros(5, 2, 3, 4, 4), 6)
    with pytest.raises(ValueError, match="k >= 2"):
        mixup(torch.zeros(5, 2, 3, 4, 4), 1)
