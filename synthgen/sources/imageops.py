"""Image operations the sources share: cover-resize, float -> uint8, batch padding, and the
reject filter's recipe section (`RejectConfig`, over synthgen.frames.judge_frame).

torch is imported inside the tensor functions, not here: the recipe configs import RejectConfig
from this module, and validating a recipe must not load torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, TypeVar

import numpy as np
from pydantic import Field

from synthgen.frames import FrameVerdict, channel_std, judge_frame
from synthgen.schema import StrictModel

if TYPE_CHECKING:
    from torch import Tensor

T = TypeVar("T")

# How to_uint8 rounds x * 255. Two rules, because corpora must stay byte-identical: the gan
# source has always rounded halves up (floor(x + 0.5)), the diffusion source as diffusers rounds
# its own outputs (torch.round: halves to even). They differ on exact halves (128.5) and where
# x * 255 + 0.5 rounds up in float32, so no single rule keeps both families' bytes.
Rounding = Literal["half_up", "half_even"]


def cover_resize(images: Tensor, size: tuple[int, int]) -> Tensor:
    """Resize (N, C, h, w) images to cover `size` (height, width), keeping their aspect ratio,
    then crop the centre to exactly that size.

    Bicubic with antialiasing, on the images' device: a plain downscale when the aspect ratios
    agree. Images already at `size` come back as they are. Values may overshoot [0, 1] a little;
    to_uint8 clamps.
    """
    import torch.nn.functional as F

    height, width = size
    h, w = images.shape[-2:]
    if (h, w) == (height, width):
        return images
    scale = max(height / h, width / w)
    target = (max(height, round(h * scale)), max(width, round(w * scale)))
    images = F.interpolate(images, size=target, mode="bicubic", antialias=True, align_corners=False)
    top, left = (target[0] - height) // 2, (target[1] - width) // 2
    return images[..., top : top + height, left : left + width]


def to_uint8(images: Tensor, rounding: Rounding) -> Tensor:
    """(N, C, H, W) floats in [0, 1] (clamped) -> (N, H, W, C) uint8, on the images' device."""
    import torch

    scaled = images.clamp(0, 1) * 255
    rounded = scaled.round() if rounding == "half_even" else (scaled + 0.5).floor()
    return rounded.to(torch.uint8).permute(0, 2, 3, 1).contiguous()


def pad_batch(items: Sequence[T], size: int) -> list[T]:
    """`items` padded to `size` with copies of the last one.

    Sources run every batch at its full size, so that a sample's pixels never depend on how full
    its batch was (kernels may pick another algorithm for another shape); the padding's output
    is thrown away.
    """
    if not items:
        raise ValueError("pad_batch: nothing to pad")
    return [*items, *[items[-1]] * (size - len(items))]


class RejectConfig(StrictModel):
    """Degenerate images are redrawn, each reason counted in the shard stats: `near_constant`
    when the largest per-channel pixel standard deviation (0..255) of a view is below `min_std`
    (all black, all white, flat in any colour); `nan` when it has NaN pixels (any, here; a
    share past `max_nan_fraction` in the shader family). The default is the gan family's; a
    family with another default or more keys subclasses this model
    (shader.config.ShaderRejectConfig), so that a recipe that sets only some keys still gets its
    family's defaults for the others. The rule itself is synthgen.frames.judge_frame."""

    min_std: float = Field(1.0, ge=0.0)

    def nan_limit(self) -> float:
        """The share of NaN pixels a frame may have: none. A network's NaN is a broken output,
        not a few stray pixels; the shader family allows a share (its `max_nan_fraction`)."""
        return 0.0

    def judge(self, image: np.ndarray, nan: np.ndarray | float | None = None, stride: int = 4) -> FrameVerdict | None:
        """judge_frame with this section's settings: None for a usable frame (uint8 or float,
        HxWxC; `nan` its NaN mask or share), else why it is redrawn. `stride`: the std of every
        stride-th pixel in each direction, the same verdict at 1/stride^2 the cost."""
        return judge_frame(image, self.min_std, self.nan_limit(), nan=nan, stride=stride)

    def near_constant(self, image: np.ndarray, stride: int = 4) -> float | None:
        """The largest per-channel pixel std of a flat `image` (uint8 HxWxC), None when it is not
        flat: the near-constant half of `judge`, for sources whose frames cannot hold NaN."""
        std = channel_std(image, stride)
        return std if std < self.min_std else None
