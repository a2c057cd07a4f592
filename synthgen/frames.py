"""Judging a frame: is it an image a user would want, or a degenerate one to redraw?

    verdict = judge_frame(image, min_std=2.0, max_nan_fraction=0.05, nan=0.003)
    if verdict is not None: ...   # verdict.reason is "near_constant" or "nan"

One rule for every place that judges frames: the sources' reject filters
(synthgen.sources.imageops.RejectConfig), `synthgen shaders check` and `synthgen inspect`.
It lives here, below both synthgen.sources and synthgen.corpus, because the sources already
import the corpus format: the corpus's inspect cannot import the sources without a cycle.
Only numpy: validating a recipe imports it (through RejectConfig) and must stay light.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The counter names of the shard stats (`failures` in a sidecar).
NEAR_CONSTANT = "near_constant"
NAN = "nan"


@dataclass(frozen=True)
class FrameVerdict:
    """Why a frame is refused: `reason` (NEAR_CONSTANT or NAN) and a short `detail` for people."""

    reason: str
    detail: str


def channel_std(image: np.ndarray, stride: int = 1) -> float:
    """The largest of the per-channel spatial standard deviations of `image` (HxWxC or HxW).

    Per channel, because the std of all values at once also measures how far apart the channel
    means are: a flat blue frame (0.2, 0.3, 0.4) has an all-values std of about 25 and none in
    any channel. The largest, not the mean, because a frame is flat only when no channel
    carries a pattern: a red gradient on black has structure in one channel of three, which a
    mean over channels would dilute below the limit. For a grey frame (equal channels) this is
    the all-values std, so grey verdicts are what they always were. `stride`: every stride-th
    pixel in each direction, the same verdict at 1/stride^2 the cost.
    """
    pixels = image[::stride, ::stride]
    pixels = pixels.reshape(-1, pixels.shape[-1] if pixels.ndim == 3 else 1)
    return float(pixels.std(axis=0, dtype=np.float64).max()) if pixels.size else 0.0


def judge_frame(
    image: np.ndarray,
    min_std: float,
    max_nan_fraction: float = 0.0,
    nan: np.ndarray | float | None = None,
    stride: int = 1,
) -> FrameVerdict | None:
    """None for a usable frame; else why it is degenerate.

    `image`: uint8 (0..255) or float (0..1, scaled by 255 here), HxWxC or HxW. Its NaN pixels
    are `nan`, either a boolean HxW mask or their share already measured (the shader renderer
    counts them on the GPU), together with a float image's own non-finite pixels. The frame is
    judged as a user would get it, NaN pixels stored black:
    - `nan` when NaN pixels cover more than `max_nan_fraction` of it (0: any NaN pixel);
    - `near_constant` when the largest per-channel pixel std (0..255, channel_std) is below
      `min_std`: all black, all white, or flat in any colour.
    """
    share = 0.0
    mask: np.ndarray | None = None
    if isinstance(nan, np.ndarray):
        mask = nan.astype(bool)
    elif nan is not None:
        share = float(nan)
    if image.dtype.kind == "f":
        broken = ~np.isfinite(image)
        broken = broken.any(axis=-1) if image.ndim == 3 else broken
        if broken.any():
            mask = broken if mask is None else mask | broken
        image = image * 255.0
    if mask is not None and mask.any():
        share = max(share, float(mask.mean()))
        # Stored black (the whole pixel), as a GPU shows them: the std below sees what the user gets.
        image = np.where(mask[..., None] if image.ndim == 3 else mask, 0, image)
    if share > max_nan_fraction:
        limit = f" (more than {max_nan_fraction:.1%})" if max_nan_fraction > 0 else ""
        return FrameVerdict(NAN, f"{_percent(share)} NaN pixels{limit}")
    std = channel_std(image, stride)
    if std < min_std:
        return FrameVerdict(NEAR_CONSTANT, f"pixel std {std:.2f} (the largest channel's; below {min_std:g})")
    return None


def _percent(share: float) -> str:
    # A few NaN pixels of a large frame are not "0.0%".
    return f"{share:.1%}" if share >= 0.001 else "under 0.1%"
