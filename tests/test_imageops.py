"""The image operations the sources share (synthgen.sources.imageops) and the torch-source base."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from synthgen.sources.gan.config import UntrainedGan
from synthgen.sources.imageops import RejectConfig, cover_resize, pad_batch, to_uint8
from synthgen.sources.shader.config import ShaderRejectConfig, ShaderSourceConfig
from synthgen.sources.torch import TorchSource


def test_cover_resize_keeps_the_aspect_ratio_and_the_centre():
    # A 10x10 bright square in the middle of a 20x40 frame: covering 16x16 scales by 0.8 (to
    # 16x32) and crops the middle 16 columns, so the square comes out 8x8 and centred.
    image = torch.zeros(1, 3, 20, 40)
    image[..., 5:15, 15:25] = 1.0
    out = cover_resize(image, (16, 16))
    assert out.shape == (1, 3, 16, 16)
    rows, cols = np.nonzero(out[0, 0].numpy() > 0.5)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (4, 11, 4, 11)


def test_cover_resize_takes_height_then_width_and_leaves_a_fitting_image_alone():
    square = torch.rand(1, 3, 32, 32)
    assert cover_resize(square, (32, 32)) is square
    assert cover_resize(square, (8, 16)).shape == (1, 3, 8, 16)
    assert cover_resize(torch.rand(2, 3, 20, 40), (16, 16)).shape == (2, 3, 16, 16)


def test_to_uint8_rounds_by_the_rule_asked_and_clips():
    # 128.5 / 255 in float32 times 255 is exactly 128.5: the one value where the rules part.
    values = torch.tensor([0.0, 0.5, 128.5 / 255, 1.0, -0.3, 1.7, 0.2]).view(1, 1, 1, 7)
    images = values.expand(1, 3, 1, 7)
    half_up = to_uint8(images, rounding="half_up")
    half_even = to_uint8(images, rounding="half_even")
    assert half_up.dtype == torch.uint8 and half_up.shape == (1, 1, 7, 3)  # channels last
    assert half_up[0, 0, :, 0].tolist() == [0, 128, 129, 255, 0, 255, 51]
    assert half_even[0, 0, :, 0].tolist() == [0, 128, 128, 255, 0, 255, 51]


def test_pad_batch_repeats_the_last_item_up_to_the_size():
    assert pad_batch([1, 2, 3], 5) == [1, 2, 3, 3, 3]
    assert pad_batch([1, 2], 2) == [1, 2]
    with pytest.raises(ValueError, match="nothing to pad"):
        pad_batch([], 4)


def test_near_constant_catches_a_flat_frame_and_passes_a_textured_one():
    reject = RejectConfig(min_std=2.0)
    flat = np.full((32, 32, 3), 200, np.uint8)
    assert reject.near_constant(flat) == 0.0
    textured = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    assert reject.near_constant(textured) is None
    # Stripes every 4th column: the stride-4 subsample sees one flat column of them.
    stripes = np.zeros((32, 32, 3), np.uint8)
    stripes[:, 1::4] = 255
    assert reject.near_constant(stripes) == 0.0
    assert reject.near_constant(stripes, stride=1) is None


def test_each_family_keeps_its_reject_defaults_even_when_a_recipe_sets_other_keys():
    gan_default = UntrainedGan.model_fields["reject"].default
    assert type(gan_default) is RejectConfig and gan_default.model_dump() == {"min_std": 1.0}
    shader = ShaderSourceConfig.model_validate({"kind": "shader", "reject": {"max_nan_fraction": 0.05}})
    assert shader.reject.model_dump() == {"min_std": 2.0, "max_nan_fraction": 0.05}
    assert ShaderRejectConfig().near_constant(np.full((8, 8, 3), 7, np.uint8)) == 0.0


class _Probe(TorchSource):
    kind = "probe"

    def render(self, specs):  # pragma: no cover (never rendered)
        return []


def test_torch_source_runs_with_one_cpu_thread_and_no_autograd():
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        source = _Probe(recipe=None)  # type: ignore[arg-type] (the base reads nothing of it)
        assert source.torch_device == torch.device("cpu") and source.threads == 1
        with source.run():
            assert torch.get_num_threads() == 1 and torch.is_inference_mode_enabled()
        assert torch.get_num_threads() == 2 and not torch.is_inference_mode_enabled()
        # On a GPU the process setting is left alone.
        assert _Probe(recipe=None, device="cuda:1").threads is None  # type: ignore[arg-type]
    finally:
        torch.set_num_threads(previous)
