"""ResNet-18 and ResNet-50 in plain torch (He et al., "Deep Residual Learning for Image Recognition",
CVPR 2016), built exactly as torchvision's `torchvision.models.resnet` builds them.

Module names, and so state-dict keys, are torchvision's (`conv1`, `bn1`, `layer1.0.conv1`,
`layer2.0.downsample.0`, ..., `fc`): a backbone trained here loads into torchvision's model with
`load_state_dict(state_dict, strict=False)` (only `fc` is missing). The bottleneck strides on its 3x3
convolution (torchvision's "v1.5"), and initialisation follows torchvision: Kaiming-normal (fan_out)
convolutions, BatchNorm weight 1 and bias 0, optionally zeroed last BatchNorm of each residual branch.

As a backbone (`num_classes=0`, the default) there is no `fc` at all and `forward` returns the
globally average-pooled features [N, feature_dim]; with `num_classes > 0` it is torchvision's
classifier and `forward` returns logits.

Two departures for small images, both off by default (the defaults build torchvision's model):
- `stem="cifar"`: a 3x3 stride-1 `conv1` and no max-pool, as ResNets for CIFAR-sized inputs are
  built (He et al. 2016, section 4.2; solo-learn's CIFAR setting). The ImageNet stem (7x7 stride 2,
  then a stride-2 max-pool) divides the side by 4 before the first block, so a 32x32 image is 8x8
  there and 1x1 at the end; the CIFAR stem keeps 32x32 into `layer1` and ends at 4x4. Keys stay
  torchvision's (`maxpool` simply has no parameters), though `conv1.weight` is 3x3, not 7x7.
- `width`: channels of the first stage (torchvision: 64), doubled at each stage as usual. A
  CIFAR stem costs about 16 times the compute of the ImageNet stem at the same input size;
  `width=16` pays that back (compute scales with the square of the width), which is what makes a
  32-pixel ResNet-18 with a CIFAR stem trainable on a laptop CPU.
"""

from __future__ import annotations

from typing import Literal

from torch import Tensor, nn

STEMS = ("imagenet", "cifar")
Stem = Literal["imagenet", "cifar"]


def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions (ResNet-18/34)."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (carrying the stride, as in torchvision), 1x1 expand by 4 (ResNet-50/101/152)."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """A torchvision-compatible ResNet.

    `block` is `BasicBlock` or `Bottleneck`, `layers` the number of blocks per stage ([2, 2, 2, 2]
    for ResNet-18, [3, 4, 6, 3] for ResNet-50). `num_classes=0` builds the backbone without `fc`.
    `stem` and `width`: see the module docstring.
    """

    def __init__(
        self,
        block: type[BasicBlock | Bottleneck],
        layers: list[int],
        num_classes: int = 0,
        zero_init_residual: bool = False,
        stem: Stem = "imagenet",
        width: int = 64,
    ) -> None:
        super().__init__()
        if len(layers) != 4:
            raise ValueError(f"a ResNet has 4 stages, got layers={layers}")
        if stem not in STEMS:
            raise ValueError(f"unknown stem {stem!r}; known stems: {', '.join(STEMS)}")
        if width < 1:
            raise ValueError(f"width must be at least 1, got {width}")
        self.stem, self.width = stem, width
        self.inplanes = width
        if stem == "cifar":
            self.conv1 = nn.Conv2d(3, width, kernel_size=3, stride=1, padding=1, bias=False)
            self.maxpool: nn.Module = nn.Identity()
        else:
            self.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(block, width, layers[0])
        self.layer2 = self._make_layer(block, 2 * width, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 4 * width, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 8 * width, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.feature_dim: int = 8 * width * block.expansion
        # No `fc` module at all for a backbone (rather than nn.Identity) so that the state dict has no
        # `fc.` keys and loads into torchvision's model with strict=False and nothing unexpected.
        self.fc = nn.Linear(self.feature_dim, num_classes) if num_classes > 0 else None

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        # Each residual branch then starts at zero and every block as the identity (Goyal et al. 2017).
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock):
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(
        self, block: type[BasicBlock | Bottleneck], planes: int, blocks: int, stride: int = 1
    ) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """x [N, 3, H, W] -> pooled features [N, feature_dim] (logits [N, num_classes] with an `fc`)."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        # flatten rather than view: the pooled tensor of a channels_last input is not contiguous.
        x = self.avgpool(x).flatten(1)
        return x if self.fc is None else self.fc(x)


def resnet18(
    num_classes: int = 0, zero_init_residual: bool = False, stem: Stem = "imagenet", width: int = 64
) -> ResNet:
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes, zero_init_residual, stem, width)


def resnet50(
    num_classes: int = 0, zero_init_residual: bool = False, stem: Stem = "imagenet", width: int = 64
) -> ResNet:
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes, zero_init_residual, stem, width)
