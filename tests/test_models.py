"""Backbones: torchvision-compatible ResNet keys and parameter counts, timm-sized ViTs, the small
AlexNet, output shapes (channels_last included), gradients, determinism and the registry."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn

from synthgen.train.models import (
    BACKBONES,
    ResNet,
    VisionTransformer,
    build_backbone,
    resnet18,
    resnet50,
    vit_b16,
    vit_s16,
)
from synthgen.train.models.alexnet import SmallAlexNet
from synthgen.train.models.resnet import BasicBlock, Bottleneck

# Small inputs keep the whole file fast on a 2-core CPU; the AlexNet is the paper's 64 px design.
SMALL_SIZE = {"resnet18": 32, "resnet50": 32, "vit_s16": 32, "vit_b16": 32, "alexnet_small": 64}
BN_KEYS = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")


def torchvision_resnet_keys(layers: list[int], bottleneck: bool) -> set[str]:
    """torchvision's `resnet{18,50}().state_dict()` keys, written out from its architecture: a stem
    conv1/bn1, four stages of blocks whose first block of stages 2-4 (and of stage 1 for the
    bottleneck, which widens 64 -> 256) has a `downsample` conv + BN, and the classifier `fc`."""

    def bn(prefix: str) -> list[str]:
        return [f"{prefix}.{k}" for k in BN_KEYS]

    keys = ["conv1.weight", *bn("bn1"), "fc.weight", "fc.bias"]
    convs = 3 if bottleneck else 2
    for stage, n_blocks in enumerate(layers, start=1):
        for b in range(n_blocks):
            prefix = f"layer{stage}.{b}"
            for c in range(1, convs + 1):
                keys += [f"{prefix}.conv{c}.weight", *bn(f"{prefix}.bn{c}")]
            if b == 0 and (stage > 1 or bottleneck):
                keys += [f"{prefix}.downsample.0.weight", *bn(f"{prefix}.downsample.1")]
    return set(keys)


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def on_meta(build: Callable[[], nn.Module]) -> nn.Module:
    """Build a model with shape-only tensors: counting and naming parameters then costs nothing."""
    with torch.device("meta"):
        return build()


def tiny_vit() -> VisionTransformer:
    """The ViT code path at a fraction of the cost, for behaviour that does not depend on width or depth."""
    return VisionTransformer(image_size=32, patch_size=8, dim=64, depth=2, num_heads=4)


def vit_params(dim: int, depth: int, patch: int, tokens: int) -> int:
    """ViT parameters without head, counted layer by layer (qkv with bias, MLP ratio 4)."""
    block = (
        2 * (2 * dim)
        + (dim * 3 * dim + 3 * dim)
        + (dim * dim + dim)
        + (dim * 4 * dim + 4 * dim)
        + (4 * dim * dim + dim)
    )
    return (3 * patch * patch * dim + dim) + dim + tokens * dim + depth * block + 2 * dim


# --- ResNet: torchvision compatibility --------------------------------------------------------


@pytest.mark.parametrize(
    ("factory", "layers", "bottleneck", "expected", "n_keys"),
    [(resnet18, [2, 2, 2, 2], False, 11_689_512, 122), (resnet50, [3, 4, 6, 3], True, 25_557_032, 320)],
)
def test_resnet_classifier_matches_torchvision(factory, layers, bottleneck, expected, n_keys) -> None:
    model = on_meta(lambda: factory(num_classes=1000))
    assert n_params(model) == expected
    expected_keys = torchvision_resnet_keys(layers, bottleneck)
    # len(torchvision.models.resnet18().state_dict()) is 122, resnet50's 320: checks the generator itself.
    assert len(expected_keys) == n_keys
    assert set(model.state_dict()) == expected_keys


def test_resnet_backbone_has_no_fc_and_loads_into_classifier() -> None:
    backbone = resnet18()
    keys = set(backbone.state_dict())
    assert not any(k.startswith("fc.") for k in keys)
    assert keys == torchvision_resnet_keys([2, 2, 2, 2], False) - {"fc.weight", "fc.bias"}
    # What a user does with the exported backbone: load it into the classifier, only fc missing.
    result = resnet18(num_classes=1000).load_state_dict(backbone.state_dict(), strict=False)
    assert set(result.missing_keys) == {"fc.weight", "fc.bias"} and not result.unexpected_keys


def test_resnet_init_like_torchvision() -> None:
    model = ResNet(Bottleneck, [1, 1, 1, 1], zero_init_residual=True)
    conv = model.layer1[0].conv2
    fan_out = conv.out_channels * conv.kernel_size[0] * conv.kernel_size[1]
    assert conv.weight.std().item() == pytest.approx((2 / fan_out) ** 0.5, rel=0.1)
    assert torch.all(model.bn1.weight == 1) and torch.all(model.bn1.bias == 0)
    assert torch.all(model.layer1[0].bn3.weight == 0)
    assert torch.all(ResNet(BasicBlock, [1, 1, 1, 1], zero_init_residual=True).layer1[0].bn2.weight == 0)
    # torchvision v1.5: the bottleneck strides on its 3x3 conv, not on the first 1x1.
    assert model.layer2[0].conv2.stride == (2, 2) and model.layer2[0].conv1.stride == (1, 1)


# --- ViT: timm's sizes and names --------------------------------------------------------------


def test_vit_parameter_counts_match_timm_without_head() -> None:
    # timm's vit_small_patch16_224 / vit_base_patch16_224 have 22,050,664 / 86,567,656 parameters
    # with their 1000-class head (384*1000+1000 / 768*1000+1000); these are the counts without it.
    assert vit_params(384, 12, 16, 197) == 21_665_664
    assert vit_params(768, 12, 16, 197) == 85_798_656
    assert n_params(on_meta(vit_s16)) == 21_665_664
    assert n_params(on_meta(vit_b16)) == 85_798_656


def test_vit_names_and_patch_grid() -> None:
    model = on_meta(lambda: vit_s16(32, patch_size=8))
    keys = set(model.state_dict())
    for name in ("patch_embed.proj.weight", "cls_token", "pos_embed", "norm.weight"):
        assert name in keys
    for part in ("norm1", "attn.qkv", "attn.proj", "norm2", "mlp.fc1", "mlp.fc2"):
        assert f"blocks.11.{part}.weight" in keys and f"blocks.11.{part}.bias" in keys
    assert model.pos_embed.shape == (1, 4 * 4 + 1, 384)
    assert not any(k.startswith("head") for k in keys)
    with pytest.raises(ValueError, match="multiple of patch_size"):
        vit_s16(30)
    with pytest.raises(ValueError, match="built for 32x32"):
        model(torch.zeros(1, 3, 64, 64, device="meta"))


def test_vit_output_is_normed_cls_token() -> None:
    torch.manual_seed(0)
    model = tiny_vit().eval()
    x = torch.randn(2, 3, 32, 32)
    # Changing one image changes only its own features (no batch mixing in attention).
    y = x.clone()
    y[1] = torch.randn(3, 32, 32)
    a, b = model(x), model(y)
    torch.testing.assert_close(a[0], b[0])
    assert not torch.allclose(a[1], b[1])
    # LayerNorm with unit weight and zero bias: each feature vector has mean 0 and variance 1.
    torch.testing.assert_close(a.mean(dim=1), torch.zeros(2), atol=1e-5, rtol=0)


# --- Small AlexNet ----------------------------------------------------------------------------


def test_alexnet_small_structure() -> None:
    full = on_meta(lambda: SmallAlexNet(64))
    assert full.feature_dim == 4096
    shapes = {k: tuple(v.shape) for k, v in full.state_dict().items()}
    # Wang & Isola's names and shapes: blocks.0-4 conv (no bias) + BN, blocks.5/6 Linear + BN1d.
    assert shapes["blocks.0.0.weight"] == (96, 3, 3, 3)
    assert shapes["blocks.4.0.weight"] == (192, 384, 3, 3)
    assert shapes["blocks.5.1.weight"] == (4096, 192 * 7 * 7)
    assert shapes["blocks.6.0.weight"] == (4096, 4096)
    assert "blocks.6.1.running_var" in shapes and not any(k.startswith("blocks.7") for k in shapes)
    assert all(m.bias is None for m in full.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))
    # Forward behaviour on a narrow copy (fc width 256) to stay fast.
    model = SmallAlexNet(64, hidden=256).eval()
    x = torch.randn(2, 3, 64, 64)
    assert model(x, until="fc6").shape == (2, 256)
    assert model(x, until="conv5").shape == (2, 192)
    # Adaptive pooling: other sizes run with the same weights; too small is refused up front.
    assert model(torch.randn(2, 3, 96, 96)).shape == (2, 256)
    assert model(torch.randn(2, 3, 15, 15)).shape == (2, 256)
    with pytest.raises(ValueError, match="at least 15 px"):
        SmallAlexNet(14)
    with pytest.raises(ValueError, match="unknown layer"):
        model(x, until="fc8")


# --- Every backbone ---------------------------------------------------------------------------


# The two largest networks take 7-10 s on a 2-core CPU.
@pytest.mark.parametrize(
    "arch", [pytest.param(a, marks=pytest.mark.slow) if a in ("resnet50", "vit_b16") else a for a in SMALL_SIZE]
)
def test_backbone_outputs_and_gradients(arch: str) -> None:
    size = SMALL_SIZE[arch]
    torch.manual_seed(0)
    model = build_backbone(arch, size)
    assert isinstance(model.feature_dim, int)
    assert not any(k.startswith("fc.") for k in model.state_dict())
    torch.manual_seed(1)
    x = torch.randn(2, 3, size, size)
    x_cl = x.to(memory_format=torch.channels_last)
    # Compared in eval mode: train-mode BatchNorm over a 2-sample batch amplifies rounding differences.
    model.eval()
    with torch.no_grad():
        dense = model(x)
        model.to(memory_format=torch.channels_last)  # the training loop's layout: model and input
        cl = model(x_cl)
    assert dense.shape == cl.shape == (2, model.feature_dim) and dense.dtype == torch.float32
    torch.testing.assert_close(cl, dense, atol=1e-4, rtol=1e-4)

    model.train()
    model(x_cl).square().mean().backward()
    missing = [name for name, p in model.named_parameters() if p.grad is None]
    assert not missing, f"no gradient for {missing[:5]}"


@pytest.mark.parametrize(
    "factory",
    [lambda: build_backbone("resnet18", 32), tiny_vit, lambda: SmallAlexNet(64, 256)],
    ids=["resnet18", "vit", "alexnet_small"],
)
def test_backbones_deterministic_under_seed(factory: Callable[[], nn.Module]) -> None:
    def build() -> dict[str, torch.Tensor]:
        torch.manual_seed(123)
        return factory().state_dict()

    a, b = build(), build()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_registry_names() -> None:
    assert set(BACKBONES) == {"resnet18", "resnet50", "vit_s16", "vit_b16", "alexnet_small"} == set(SMALL_SIZE)


def test_unknown_arch() -> None:
    with pytest.raises(ValueError) as err:
        build_backbone("resnet1000", 64)
    message = str(err.value)
    assert "\n" not in message and "resnet1000" in message
    for name in ("resnet18", "resnet50", "vit_s16", "vit_b16", "alexnet_small"):
        assert name in message


def test_vit_attention_matches_explicit_formula() -> None:
    from synthgen.train.models.vit import Attention

    torch.manual_seed(0)
    attn = Attention(dim=8, num_heads=2)
    x = torch.randn(2, 5, 8)
    # timm's layout: qkv output is [q | k | v], each split into heads of dim/heads channels.
    q, k, v = (t.reshape(2, 5, 2, 4).transpose(1, 2) for t in attn.qkv(x).chunk(3, dim=-1))
    weights = torch.softmax(q @ k.transpose(-2, -1) / 4**0.5, dim=-1)
    expected = attn.proj((weights @ v).transpose(1, 2).reshape(2, 5, 8))
    torch.testing.assert_close(attn(x), expected)


def _spatial_after_stem(model: ResNet, side: int) -> tuple[int, int]:
    x = torch.zeros(1, 3, side, side)
    return tuple(model.maxpool(model.relu(model.bn1(model.conv1(x)))).shape[-2:])


def test_the_cifar_stem_keeps_the_spatial_size_into_the_first_block() -> None:
    cifar, imagenet = resnet18(stem="cifar"), resnet18()
    assert _spatial_after_stem(cifar, 32) == (32, 32) and _spatial_after_stem(imagenet, 32) == (8, 8)
    assert tuple(cifar.layer4(cifar.layer3(cifar.layer2(cifar.layer1(torch.zeros(1, 64, 32, 32))))).shape[-2:]) == (4, 4)
    assert cifar.conv1.weight.shape == (64, 3, 3, 3) and isinstance(cifar.maxpool, nn.Identity)
    # torchvision's keys either way: the max-pool holds no parameters.
    assert set(cifar.state_dict()) == set(imagenet.state_dict())


@pytest.mark.parametrize(("factory", "expansion"), [(resnet18, 1), (resnet50, 4)])
def test_width_scales_every_stage(factory: Callable[..., ResNet], expansion: int) -> None:
    narrow = factory(stem="cifar", width=16)
    assert narrow.feature_dim == 8 * 16 * expansion
    assert narrow(torch.randn(2, 3, 16, 16)).shape == (2, 8 * 16 * expansion)
    assert narrow.layer1[0].conv1.in_channels == 16 and narrow.layer4[-1].conv1.in_channels == 128 * expansion
    # Compute grows with the square of the width: a quarter of the channels, about 1/16 of the weights.
    full = sum(p.numel() for p in factory().parameters())
    assert sum(p.numel() for p in narrow.parameters()) < full / 12


def test_auto_picks_the_cifar_stem_below_64_pixels_and_other_archs_take_no_stem() -> None:
    from synthgen.train.models import resolve_stem

    assert resolve_stem("resnet18", 32, "auto") == "cifar" and resolve_stem("resnet50", 64, "auto") == "imagenet"
    assert resolve_stem("resnet18", 32, None) == "imagenet"  # torchvision's, for callers that name none
    assert resolve_stem("vit_s16", 32, "auto") is None
    with pytest.raises(ValueError, match="applies to ResNets only"):
        build_backbone("vit_s16", 32, stem="cifar")
    with pytest.raises(ValueError, match="applies to ResNets only"):
        build_backbone("alexnet_small", 64, width=16)
    with pytest.raises(ValueError, match="unknown stem 'tiny'"):
        build_backbone("resnet18", 32, stem="tiny")
