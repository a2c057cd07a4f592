"""The small AlexNet of the small-scale experiments of "Learning to See by Looking at Noise" (Baradad et
al., NeurIPS 2021), trained there with the Alignment & Uniformity objective (Wang & Isola, ICML 2020)
on 64x64 images.

What this follows: `SmallAlexNet` of Wang & Isola's align_uniform repository
(github.com/ssnl/align_uniform, examples/stl10/encoder.py), itself adapted from CMC's AlexNet, which
Baradad et al. reuse in their code (github.com/mbaradad/learning_with_noise, align_uniform/encoder.py)
with the same layers, only adding spatial averaging of conv outputs to forward. Written anew here from that description:

    conv1  3x3 conv 3->96,    BN, ReLU, max-pool 3 stride 2     64 -> 31 px
    conv2  3x3 conv 96->192,  BN, ReLU, max-pool 3 stride 2     31 -> 15 px
    conv3  3x3 conv 192->384, BN, ReLU
    conv4  3x3 conv 384->384, BN, ReLU
    conv5  3x3 conv 384->192, BN, ReLU, max-pool 3 stride 2     15 -> 7 px
    fc6    flatten 192*7*7 -> 4096 linear, BN1d, ReLU
    fc7    4096 -> 4096 linear, BN1d, ReLU
   (fc8    4096 -> 128 linear, L2 normalisation: the embedding the A&U loss sees)

Convolutions and linear layers have no bias (each is followed by BatchNorm); weights are initialised
normal(0, 0.02), BatchNorm to weight 1 and bias 0, as there. Module names are theirs too
(`blocks.{0..6}.{i}`), so one of their released small-scale encoders loads with `strict=False`
(its `blocks.7.*` keys, fc8, are left over).

Differences:
- fc8 is not part of the backbone: the projection head is built by the training method. The backbone
  output is fc7, the last hidden fc layer, so `feature_dim` is 4096. Baradad et al.'s linear
  evaluation reads fc6 by default (`layer_index=5`) and Wang & Isola's reads fc7 (`layer_index=-2`);
  `forward(x, until="fc6")` gives the former, also 4096-d.
- An adaptive average pool to 7x7 sits between conv5 and fc6 (no parameters). At 64 px conv5 already
  gives 7x7 and the pool is the identity, so the network is exactly theirs; at other sizes it lets the
  same weights run (any side of at least 15 px, the least that survives the three max-pools).
"""

from __future__ import annotations

from torch import Tensor, nn

# The outputs `forward(x, until=...)` can stop at, in order (Wang & Isola's blocks 0..6).
LAYERS = ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7")
# conv5's output side at 64 px, which fc6 is sized for.
GRID = 7
# The least input side for which conv5 still has a 3x3 map for its max-pool (15 -> 7 -> 3 -> 1).
MIN_IMAGE_SIZE = 15


def _conv_block(in_ch: int, out_ch: int, pool: bool) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(in_ch, out_ch, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(out_ch),
        nn.ReLU(inplace=True),
    ]
    if pool:
        layers.append(nn.MaxPool2d(kernel_size=3, stride=2))
    return nn.Sequential(*layers)


def _fc_block(in_features: int, out_features: int, flatten: bool) -> nn.Sequential:
    # The leading Flatten keeps fc6's Linear at index 1 (`blocks.5.1`), as in the original.
    layers: list[nn.Module] = [nn.Flatten()] if flatten else []
    layers += [nn.Linear(in_features, out_features, bias=False), nn.BatchNorm1d(out_features), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)


class SmallAlexNet(nn.Module):
    """Small AlexNet backbone: x [N, 3, H, W] (64x64 as in the paper) -> fc7 features [N, hidden].

    `hidden` is the width of fc6 and fc7 (4096 in the paper; smaller only for tests). The fc layers use
    BatchNorm1d, so training needs batches of more than one sample.
    """

    def __init__(self, image_size: int = 64, hidden: int = 4096) -> None:
        super().__init__()
        if image_size < MIN_IMAGE_SIZE:
            raise ValueError(f"alexnet_small needs images of at least {MIN_IMAGE_SIZE} px, got {image_size}")
        self.image_size = image_size
        self.feature_dim: int = hidden
        self.blocks = nn.ModuleList(
            [
                _conv_block(3, 96, pool=True),
                _conv_block(96, 192, pool=True),
                _conv_block(192, 384, pool=False),
                _conv_block(384, 384, pool=False),
                _conv_block(384, 192, pool=True),
                _fc_block(192 * GRID * GRID, hidden, flatten=True),
                _fc_block(hidden, hidden, flatten=False),
            ]
        )
        self.pool = nn.AdaptiveAvgPool2d(GRID)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.normal_(m.weight, 0.0, 0.02)
            elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor, until: str = "fc7") -> Tensor:
        """Features at layer `until` (one of LAYERS): [N, hidden] for fc6/fc7; conv outputs are averaged
        over space to [N, C], as Baradad et al.'s evaluation does."""
        if until not in LAYERS:
            raise ValueError(f"unknown layer {until!r}; expected one of {', '.join(LAYERS)}")
        last = LAYERS.index(until)
        for i, block in enumerate(self.blocks[: last + 1]):
            if i == 5:
                x = self.pool(x)
            x = block(x)
        return x.mean(dim=(2, 3)) if x.ndim == 4 else x
