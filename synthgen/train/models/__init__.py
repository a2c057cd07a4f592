"""Backbones for pretraining, in plain torch: ResNet-18/50 (torchvision's state-dict keys), ViT-S/16 and
ViT-B/16 (timm's parameter names) and the small AlexNet of "Learning to See by Looking at Noise".

Every backbone maps x [N, 3, H, W] (float, contiguous or channels_last) to pooled features
[N, feature_dim] and has no classifier; heads and projectors belong to the training methods.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from .alexnet import SmallAlexNet
from .resnet import BasicBlock, Bottleneck, ResNet, resnet18, resnet50
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


def build_backbone(arch: str, image_size: int) -> nn.Module:
    """The backbone `arch` (a key of BACKBONES) for square inputs of side `image_size`, freshly
    initialised (deterministic under `torch.manual_seed`). It has an int attribute `feature_dim`."""
    if arch not in BACKBONES:
        raise ValueError(f"unknown backbone {arch!r}; known backbones: {', '.join(BACKBONES)}")
    return BACKBONES[arch](image_size)


__all__ = [
    "BACKBONES",
    "BasicBlock",
    "Bottleneck",
    "ResNet",
    "SmallAlexNet",
    "VisionTransformer",
    "build_backbone",
    "resnet18",
    "resnet50",
    "vit_b16",
    "vit_s16",
]
