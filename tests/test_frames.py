"""synthgen.frames.judge_frame: the one rule that says a frame is flat or broken by NaN pixels,
shared by the reject filters, `shaders check` and `inspect`."""

from __future__ import annotations

import numpy as np
import pytest

from synthgen.frames import NAN, NEAR_CONSTANT, channel_std, judge_frame
from synthgen.sources.imageops import RejectConfig
from synthgen.sources.shader.config import MAX_NAN_FRACTION, ShaderRejectConfig


def flat(rgb: tuple[int, int, int], size: int = 32) -> np.ndarray:
    return np.broadcast_to(np.array(rgb, np.uint8), (size, size, 3)).copy()


def pattern(size: int = 32) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)


@pytest.mark.parametrize("rgb", [(51, 76, 102), (255, 0, 0), (0, 0, 0), (128, 128, 128)])
def test_a_flat_frame_of_any_colour_is_near_constant(rgb):
    image = flat(rgb)
    verdict = judge_frame(image, min_std=2.0)
    assert verdict is not None and verdict.reason == NEAR_CONSTANT and "pixel std 0.00" in verdict.detail
    assert RejectConfig(min_std=1.0).judge(image) == RejectConfig(min_std=1.0).judge(image, stride=1) is not None
    assert RejectConfig(min_std=1.0).near_constant(image) == 0.0


def test_the_all_values_std_of_a_flat_colour_is_not_small_but_its_channel_std_is():
    """The bug: the std of all values at once measures how far apart the channel means are."""
    image = flat((51, 76, 102))  # vec4(0.2, 0.3, 0.4, 1.0)
    assert image.std() > 20 and channel_std(image) == 0.0


def test_one_textured_channel_is_enough_to_pass():
    """The largest channel std, not the mean: a red gradient on black is an image."""
    image = np.zeros((32, 32, 3), np.uint8)
    image[..., 0] = np.linspace(0, 20, 32, dtype=np.uint8)[None, :]  # std about 6 in red alone
    assert float(image.std(axis=(0, 1)).mean()) < 2.0 < channel_std(image)
    assert judge_frame(image, min_std=2.0) is None


def test_grey_frames_are_judged_as_before():
    grey = np.repeat(np.random.default_rng(1).integers(0, 3, (32, 32, 1), dtype=np.uint8), 3, axis=2)
    assert channel_std(grey) == pytest.approx(float(grey.std()))
    assert channel_std(grey[..., 0]) == pytest.approx(float(grey.std()))  # HxW works too


def test_a_few_nan_pixels_pass_and_a_large_share_is_refused():
    image = pattern()
    few = np.zeros((32, 32), bool)
    few.flat[:10] = True  # 1% of the pixels
    assert judge_frame(image, 2.0, MAX_NAN_FRACTION, nan=few) is None
    assert judge_frame(image, 2.0, MAX_NAN_FRACTION, nan=0.01) is None
    many = np.zeros((32, 32), bool)
    many[:8] = True  # a quarter of the frame
    verdict = judge_frame(image, 2.0, MAX_NAN_FRACTION, nan=many)
    assert verdict is not None and verdict.reason == NAN and verdict.detail.startswith("25.0% NaN pixels")
    # The family without a share (gan): any NaN pixel is a broken output.
    assert RejectConfig().judge(image, nan=few) is not None
    assert ShaderRejectConfig().judge(image, nan=few) is None


def test_nan_pixels_count_as_black_in_the_flatness_test():
    """Judged as the user gets it: a flat white frame with a black NaN quarter is not flat."""
    image = flat((255, 255, 255))
    mask = np.zeros((32, 32), bool)
    mask[:, :8] = True
    assert judge_frame(image, 2.0, 0.3, nan=mask) is None
    assert judge_frame(image, 2.0, 0.3, nan=0.25) is not None  # a share alone: the pixels are as given


def test_a_float_frame_brings_its_own_nan_mask():
    image = np.full((16, 16, 3), 0.5, np.float32)
    image[0, :, 1] = np.nan  # one row, one channel: the whole pixel is NaN
    verdict = judge_frame(image, 2.0, 0.05)
    assert verdict is not None and verdict.reason == NAN and verdict.detail.startswith("6.2% NaN pixels")
    # Below the limit it is judged with the row black: 0.5 grey with a black row is not flat.
    assert judge_frame(image, 2.0, 0.1) is None
    assert judge_frame(np.full((16, 16, 3), 0.5, np.float32), 2.0).reason == NEAR_CONSTANT  # type: ignore[union-attr]
