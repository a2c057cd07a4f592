"""Batched view augmentation on the training device, with kornia.

`GPUAugment` turns a batch of views (B, V, C, H, W), uint8 as the loader delivers them, into normalised
float views (B, V, C, size, size): every view of every sample gets its own random parameters, and all
B*V images go through each kornia op as one batch.

Randomness: every draw comes from torch's global generator of the device the pipeline samples on (the
input's), through kornia's samplers and `torch.rand`/`exponential_` here; nothing from numpy or
Python's `random`. The training loop seeds the global generator at every step, so a resumed run
augments exactly as the uninterrupted one (on the same device and software).

Presets follow the papers' recipes (image side = output side):
- `simclr` (SimCLR, Chen et al. 2020): random resized crop of scale 0.08-1 (aspect 3/4-4/3), horizontal
  flip 0.5, colour jitter of strength 1 (brightness, contrast, saturation 0.8, hue 0.2) with p 0.8,
  grayscale 0.2, Gaussian blur 0.5.
- `mocov2` (MoCo v2, Chen et al. 2020): crop scale 0.2-1, jitter (0.4, 0.4, 0.4, 0.1) = strength 0.5
  with p 0.8, grayscale 0.2, blur 0.5, flip 0.5.
- `none`: resize to `size` (when it differs from the input's) and normalise, nothing random.
Any field set in the config overrides its preset's value (on `none` too, which then adds that op).

Differences from the torchvision pipelines of the papers, for batching: the crop is a bilinear warp
(kornia's `resample` mode: one batched call, where `slice` mode loops over images) without
antialiasing; and kornia draws the order of the four colour-jitter operations once per batch rather
than per image (their strengths are per image).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import kornia.augmentation as K
import torch
import torch.nn.functional as F
from pydantic import Field, field_validator, model_validator
from torch import Tensor, nn

from synthgen.schema import StrictModel

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# Aspect ratio range of the random resized crop, as in torchvision and every paper here.
CROP_RATIO = (3 / 4, 4 / 3)
BLUR_SIGMA = (0.1, 2.0)


class ColorJitterConfig(StrictModel):
    """SimCLR's colour distortion: brightness, contrast and saturation factors in 1 +- 0.8 * strength,
    hue shift in +- 0.2 * strength, applied with probability `p`. Unset fields take the preset's value."""

    strength: float | None = Field(None, ge=0.0, le=2.5)
    p: float | None = Field(None, ge=0.0, le=1.0)


class MixupConfig(StrictModel):
    """Shaders21k's mixing: each sample becomes a Dirichlet(1)-weighted sum of `k` distinct samples."""

    k: int = Field(6, ge=2)


@dataclass(frozen=True)
class AugmentParams:
    """The concrete values of an `AugmentConfig` (preset merged with overrides)."""

    # Random resized crop scale range; None: no crop, only a resize to the output size.
    scale: tuple[float, float] | None
    flip: float
    jitter_strength: float
    jitter: float
    grayscale: float
    blur: float
    solarize: float


PRESETS: dict[str, AugmentParams] = {
    "simclr": AugmentParams(
        scale=(0.08, 1.0), flip=0.5, jitter_strength=1.0, jitter=0.8, grayscale=0.2, blur=0.5, solarize=0.0
    ),
    "mocov2": AugmentParams(
        scale=(0.2, 1.0), flip=0.5, jitter_strength=0.5, jitter=0.8, grayscale=0.2, blur=0.5, solarize=0.0
    ),
    "none": AugmentParams(scale=None, flip=0.0, jitter_strength=0.0, jitter=0.0, grayscale=0.0, blur=0.0, solarize=0.0),
}


class AugmentConfig(StrictModel):
    """Augmentation of the training views: a preset, and overrides of its values (probabilities are per image).

    `size`: output side in pixels (default: the input's height and width, unchanged). `blur`: Gaussian
    blur with a kernel of about 10% of the side (odd; SimCLR's 2 * (side // 20) + 1, at least 3) and sigma
    uniform in 0.1-2.0. `solarize`: BYOL's solarisation (pixels >= 0.5 become 1 - value). `mean`/`std`:
    per-channel normalisation of [0, 1] images (default ImageNet's). `mixup`: Shaders21k's mixing of k
    samples, applied before everything else.
    """

    preset: Literal["simclr", "mocov2", "none"] = "simclr"
    size: int | None = Field(None, ge=1)
    scale: tuple[float, float] | None = None
    flip: float | None = Field(None, ge=0.0, le=1.0)
    color_jitter: ColorJitterConfig | None = None
    grayscale: float | None = Field(None, ge=0.0, le=1.0)
    blur: float | None = Field(None, ge=0.0, le=1.0)
    solarize: float | None = Field(None, ge=0.0, le=1.0)
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    mixup: MixupConfig | None = None

    @field_validator("scale")
    @classmethod
    def _scale_range(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and not 0.0 < value[0] <= value[1] <= 1.0:
            raise ValueError(f"must be (min, max) with 0 < min <= max <= 1, got {value}")
        return value

    @field_validator("std")
    @classmethod
    def _std_positive(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value or any(s <= 0 for s in value):
            raise ValueError(f"must be positive values, one per channel, got {value}")
        return value

    @model_validator(mode="after")
    def _mean_matches_std(self) -> AugmentConfig:
        if len(self.mean) != len(self.std):
            raise ValueError(f"mean and std must have one value per channel each, got {self.mean} and {self.std}")
        return self

    def resolved(self) -> AugmentParams:
        """The preset's values with this config's overrides applied."""
        base = PRESETS[self.preset]
        jitter = self.color_jitter or ColorJitterConfig()
        return AugmentParams(
            scale=self.scale if self.scale is not None else base.scale,
            flip=_first(self.flip, base.flip),
            jitter_strength=_first(jitter.strength, base.jitter_strength),
            jitter=_first(jitter.p, base.jitter),
            grayscale=_first(self.grayscale, base.grayscale),
            blur=_first(self.blur, base.blur),
            solarize=_first(self.solarize, base.solarize),
        )


def _first(value: float | None, default: float) -> float:
    return default if value is None else value


def blur_kernel_size(side: int) -> int:
    """SimCLR's blur kernel: about 10% of the image side, odd (radius side // 20), at least 3."""
    return max(3, 2 * (side // 20) + 1)


def mixup(views: Tensor, k: int) -> Tensor:
    """Shaders21k's MixUp of k images (their best variant: k = 6), on views (B, V, C, H, W).

    Output sample b = sum_j w_bj * input sample s_bj, where s_b0 = b and s_b1..s_b(k-1) are k - 1 other
    samples, all distinct, and w_b ~ Dirichlet(1, ..., 1). All V views of b use the same partners and
    weights, so they stay views of one (mixed) image and remain positives of each other. Returns float
    in the input's value scale (uint8 input gives floats in [0, 255]). Needs B >= k. Randomness comes
    from torch's global generator on the input's device.
    """
    if views.ndim != 5:
        raise ValueError(f"mixup expects views of shape (B, V, C, H, W), got {tuple(views.shape)}")
    batch = views.shape[0]
    if k < 2:
        raise ValueError(f"mixup needs k >= 2 images per mixture, got k={k}")
    if batch < k:
        raise ValueError(f"mixup of k={k} distinct images needs a batch of at least {k} samples, got {batch}")
    x = views.float()
    device = x.device
    # k - 1 distinct partners other than b: the k - 1 largest of B uniform scores, b's own pushed last.
    scores = torch.rand(batch, batch, device=device)
    scores.fill_diagonal_(-1.0)
    partners = scores.topk(k - 1, dim=1).indices
    sources = torch.cat([torch.arange(batch, device=device)[:, None], partners], dim=1)  # (B, k)
    # Dirichlet(1, ..., 1) is k i.i.d. Exp(1) (= Gamma(1)) draws normalised by their sum.
    weights = torch.empty(batch, k, device=device).exponential_()
    weights = weights / weights.sum(dim=1, keepdim=True)
    out = torch.zeros_like(x)
    for j in range(k):  # k gathers of the batch: memory stays at two batches, not k.
        out += weights[:, j].view(batch, 1, 1, 1, 1) * x[sources[:, j]]
    return out


class GPUAugment(nn.Module):
    """Augment views (B, V, C, H, W) into normalised float views (B, V, C, size, size) on their device.

    Input: uint8 in [0, 255], or float in [0, 1], on any device. Every view of every sample is
    augmented independently (its own crop, flip, jitter, ...), in one batched kornia call per op over
    the B*V images. With `mixup` set, samples are mixed first (see `mixup`).
    """

    def __init__(self, config: AugmentConfig) -> None:
        super().__init__()
        self.config = config
        self.params = config.resolved()
        # One kornia pipeline per (output size, device): the crop and the blur kernel depend on the
        # size, and kornia samples its random parameters on the device the pipeline was moved to.
        self._pipelines: dict[tuple[tuple[int, int], torch.device], nn.Sequential] = {}

    def _build(self, size: tuple[int, int]) -> nn.Sequential:
        p = self.params
        ops: list[nn.Module] = []
        if p.scale is not None:
            ops.append(K.RandomResizedCrop(size, scale=p.scale, ratio=CROP_RATIO, cropping_mode="resample"))
        if p.flip > 0:
            ops.append(K.RandomHorizontalFlip(p=p.flip))
        if p.jitter > 0 and p.jitter_strength > 0:
            s = p.jitter_strength
            # ColorJitter, not ColorJiggle: it follows torchvision's formulas, which the papers used.
            ops.append(K.ColorJitter(0.8 * s, 0.8 * s, 0.8 * s, 0.2 * s, p=p.jitter))
        if p.grayscale > 0:
            ops.append(K.RandomGrayscale(p=p.grayscale))
        if p.blur > 0:
            kernel = blur_kernel_size(min(size))
            ops.append(K.RandomGaussianBlur((kernel, kernel), BLUR_SIGMA, p=p.blur))
        if p.solarize > 0:
            # Zero-width ranges: threshold exactly 0.5 and no added brightness, as BYOL.
            ops.append(K.RandomSolarize(thresholds=0.0, additions=0.0, p=p.solarize))
        ops.append(K.Normalize(mean=torch.tensor(self.config.mean), std=torch.tensor(self.config.std)))
        return nn.Sequential(*ops)

    def _pipeline(self, size: tuple[int, int], device: torch.device) -> nn.Sequential:
        key = (size, device)
        if key not in self._pipelines:
            self._pipelines[key] = self._build(size).to(device)
        return self._pipelines[key]

    def forward(self, views: Tensor) -> Tensor:
        if views.ndim != 5:
            raise ValueError(f"augment expects views of shape (B, V, C, H, W), got {tuple(views.shape)}")
        b, v, c, h, w = views.shape
        if c != len(self.config.mean):
            raise ValueError(f"augment: images have {c} channels but mean/std have {len(self.config.mean)} values")
        x = views.float() / 255.0 if views.dtype == torch.uint8 else views.float()
        if self.config.mixup is not None:
            x = mixup(x, self.config.mixup.k)
        size = (self.config.size, self.config.size) if self.config.size is not None else (h, w)
        x = x.flatten(0, 1)
        if self.params.scale is None and size != (h, w):
            x = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
        x = self._pipeline(size, x.device)(x)
        return x.reshape(b, v, c, *size)
