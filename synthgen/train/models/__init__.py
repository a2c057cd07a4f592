"""Backbones for pretraining, in plain torch: ResNet-18/50 (torchvision's state-dict keys), ViT-S/16 and
ViT-B/16 (timm's parameter names) and the small AlexNet of "Learning to See by Looking at Noise".

Every backbone maps x [N, 3, H, W] (float, contiguous or channels_last) to pooled features
[N, feature_dim] and has no classifier; heads and projectors belong to the training methods.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from .alexnet import SmallAlexNet
from .resnet import STEMS, BasicBlock, Bottleneck, ResNet, resnet18, resnet50
from .vit import VisionTransformer, vit_b16, vit_s16

# name -> constructor taking the square input side. ResNets ignore it (global pooling makes them
# size-agnostic); ViTs size their patch grid and position embedding from it; the small AlexNet checks
# it is large enough.
BACKBONES: dict[str, Callable[[int], nn.Module]] = {
    "resnet18": lambda image_size: resnet18(),
    "resnet50": lambda image_size: resnet50(),
    "vit_s16": lambda image_size: vit_s16(image_size),
    "vit_b16": lambda image_size: vit_b16(image_size),
    "alexnet_small": lambda image_size: SmallAlexNet(image_size),
}
RESNETS = {"resnet18": resnet18, "resnet50": resnet50}
# Below this input side, `stem: auto` gives a ResNet the CIFAR stem (see resnet.py): the ImageNet
# stem would leave a 32x32 image 8x8 before the first residual block.
CIFAR_STEM_BELOW = 64


def resolve_stem(arch: str, image_size: int, stem: str | None = "auto") -> str | None:
    """The stem a ResNet `arch` gets at `image_size` (`auto`: CIFAR below 64 px, else ImageNet;
    None: torchvision's, ImageNet); None for architectures without a choice of stem, which accept
    only `auto` or None."""
    if arch not in RESNETS:
        if stem not in (None, "auto"):
            raise ValueError(f"a stem ({stem!r}) applies to ResNets only, not to {arch!r}")
        return None
    if stem is None:
        return "imagenet"
    if stem == "auto":
        return "cifar" if image_size < CIFAR_STEM_BELOW else "imagenet"
    if stem not in STEMS:
        raise ValueError(f"unknown stem {stem!r}; known stems: auto, {', '.join(STEMS)}")
    return stem


def build_backbone(arch: str, image_size: int, *, stem: str | None = None, width: int | None = None) -> nn.Module:
    """The backbone `arch` (a key of BACKBONES) for square inputs of side `image_size`, freshly
    initialised (deterministic under `torch.manual_seed`). It has an int attribute `feature_dim`.

    ResNets take a `stem` (`imagenet`, `cifar`, or `auto`: see resolve_stem) and a `width` (channels
    of the first stage, torchvision's 64 by default); other architectures take neither. The default
    stem is torchvision's, so a caller that names none gets the model it always got; training
    configs say `auto`.
    """
    if arch not in BACKBONES:
        raise ValueError(f"unknown backbone {arch!r}; known backbones: {', '.join(BACKBONES)}")
    resolved = resolve_stem(arch, image_size, stem)
    if arch in RESNETS:
        return RESNETS[arch](stem=resolved, width=64 if width is None else width)  # type: ignore[arg-type]
    if width is not None:
        raise ValueError(f"a width ({width}) applies to ResNets only, not to {arch!r}")
    return BACKBONES[arch](image_size)


__all__ = [
    "BACKBONES",
    "CIFAR_STEM_BELOW",
    "RESNETS",
    "STEMS",
    "BasicBlock",
    "Bottleneck",
    "ResNet",
    "SmallAlexNet",
    "VisionTransformer",
    "build_backbone",
    "resolve_stem",
    "resnet18",
    "resnet50",
    "vit_b16",
    "vit_s16",
]
