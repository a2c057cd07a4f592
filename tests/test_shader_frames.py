"""Degenerate shader frames (issue 21): a flat frame of any colour is `near_constant`, a few NaN
pixels are kept (stored black) and a large share is `nan`, alike in a render and in
`synthgen shaders check`, whose output names the test times."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from synthgen.cli import cli
from synthgen.frames import channel_std
from synthgen.recipe import parse_recipe
from synthgen.render import render_corpus
from synthgen.sources import build_source
from synthgen.sources.base import RenderedSample, SampleFailure, SampleSpec
from synthgen.sources.shader.check import check_programs

from .helpers import PROGRAMS, read_back

pytestmark = pytest.mark.gl

FLAT_BLUE = "void mainImage(out vec4 c, in vec2 p) { c = vec4(0.2, 0.3, 0.4, 1.0); }\n"
# A textured frame with NaN pixels (0/0 at run time: iTime - iTime is not folded) in a centred
# disc of `share` of the frame's area.
NAN_DISC = """void mainImage(out vec4 c, in vec2 p) {{
    vec2 u = p / iResolution.xy;
    c = vec4(0.5 + 0.5 * sin(u.x * 17.0 + iTime), 0.5 + 0.5 * cos(u.y * 13.0), u.x * u.y, 1.0);
    float z = iTime - iTime;
    if (length((p - 0.5 * iResolution.xy) / iResolution.y) < sqrt({share} / 3.14159265)) c = vec4(z / z);
}}
"""
# Black until iTime 1, then a pattern: flat at the check's first default time only.
LATE_START = """void mainImage(out vec4 c, in vec2 p) {
    c = iTime < 1.0 ? vec4(0.0, 0.0, 0.0, 1.0) : vec4(p.x / iResolution.x, p.y / iResolution.y, 0.5, 1.0);
}
"""


def _folder(tmp_path: Path, programs: dict[str, str]) -> Path:
    folder = tmp_path / "programs"
    folder.mkdir(exist_ok=True)
    for name, code in programs.items():
        (folder / name).write_text(code)
    return folder


def _recipe(folder: Path, size: int = 16, count: int = 4, **source):
    document = {
        "name": "frames",
        "count": count,
        "image": {"size": size, "format": "png"},
        "shard": {"samples": 4},
        "source": {"kind": "shader", "programs": [str(folder)], **source},
    }
    return parse_recipe(document)


def test_a_flat_non_grey_program_is_refused_by_check(tmp_path: Path):
    folder = _folder(tmp_path, {"blue.frag": FLAT_BLUE})
    [result] = check_programs([str(folder)], size=32)
    assert result.status == "near_constant" and result.detail.startswith("pixel std 0.00")


def test_a_flat_non_grey_program_is_redrawn_in_a_render(tmp_path: Path):
    folder = _folder(tmp_path, {"blue.frag": FLAT_BLUE, "gradient.frag": PROGRAMS["gradient.frag"]})
    summary = render_corpus(_recipe(folder, count=8), str(tmp_path / "out"))
    assert summary.failures.get("near_constant", 0) > 0  # counted in the shard stats
    samples = read_back(tmp_path / "out", decode="rgb8")
    assert len(samples) == 8 and all(channel_std(s["png"]) >= 2.0 for s in samples)
    assert {s["json"]["program"]["name"] for s in samples} == {"gradient"}


def test_a_program_with_a_few_nan_pixels_passes_check_and_renders_them_black(tmp_path: Path):
    folder = _folder(tmp_path, {"speck.frag": NAN_DISC.format(share=0.01)})
    [result] = check_programs([str(folder)], size=64)
    assert result.ok, result.detail
    source = build_source(_recipe(folder, size=64))
    [sample] = source.render([SampleSpec(0, 1, 0, 1)])
    source.close()
    assert isinstance(sample, RenderedSample)
    image = sample.images[0]
    assert tuple(image[32, 32]) == (0, 0, 0)  # the disc: NaN, stored black
    assert 0.005 < float(np.mean(image.max(axis=2) == 0)) < 0.02


def test_a_program_with_a_large_nan_share_is_refused(tmp_path: Path):
    folder = _folder(tmp_path, {"hole.frag": NAN_DISC.format(share=0.2)})
    [result] = check_programs([str(folder)], size=64)
    assert result.status == "nan" and result.detail.startswith("20.")  # "20.x% NaN pixels (more than 5.0%)"
    assert "more than 5.0%" in result.detail
    source = build_source(_recipe(folder, size=64))
    [failure] = source.render([SampleSpec(0, 1, 0, 1)])
    source.close()
    assert isinstance(failure, SampleFailure) and failure.reason == "nan"


def test_check_output_names_the_times_tried_and_where_a_program_passes(tmp_path: Path):
    folder = _folder(tmp_path, {"late.frag": LATE_START, "hole.frag": NAN_DISC.format(share=0.2)})
    result = CliRunner().invoke(cli, ["shaders", "check", str(folder), "--size", "32"])
    assert result.exit_code == 1, result.output
    assert "0 of 2 programs pass (frames at iTime 0.5, 5 s, 32x32 px)" in result.output
    assert f"near_constant  {folder / 'late.frag'}: pixel std 0.00" in result.output
    assert "at iTime 0.5; passes at iTime 5" in result.output
    # Other times, and the share as a recipe would set it (source.reject.max_nan_fraction).
    tried = CliRunner().invoke(
        cli, ["shaders", "check", str(folder), "--size", "32", "--times", "2,3", "--max-nan-fraction", "0.3"]
    )
    assert tried.exit_code == 0, tried.output
    assert "2 of 2 programs pass (frames at iTime 2, 3 s, 32x32 px)" in tried.output


def test_inspect_counts_flat_colour_frames_as_near_constant(tmp_path: Path):
    """Kept (min_std 0), flat blue frames are what `inspect` must flag: per-channel std 0."""
    folder = _folder(tmp_path, {"blue.frag": FLAT_BLUE})
    render_corpus(_recipe(folder, reject={"min_std": 0.0}), str(tmp_path / "out"))
    result = CliRunner().invoke(cli, ["inspect", str(tmp_path / "out"), "--json"])
    stats = json.loads(result.output)["images"]
    assert stats["decoded"] == 4 and stats["near_constant_fraction"] == 1.0
    assert stats["mean"] == [51.0, 76.0, 102.0]  # flat, but not grey
