from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from synthgen.errors import SourceError
from synthgen.recipe import parse_recipe
from synthgen.seeds import sample_seed
from synthgen.sources import build_source
from synthgen.sources.base import RenderedSample, SampleFailure, SampleSpec
from synthgen.sources.shader.config import ProgramSetEntry
from synthgen.sources.shader.gl import ShaderCompileError, ShaderRenderer
from synthgen.sources.shader.programs import load_program_set
from synthgen.sources.shader.source import ProgramSampler

pytestmark = pytest.mark.gl


@pytest.fixture(scope="module")
def renderer():
    gl = ShaderRenderer(width=48, height=32)
    yield gl
    gl.close()


def render(renderer: ShaderRenderer, code: str, time: float = 1.0) -> np.ndarray:
    return renderer.render(renderer.compile(code, code), time)


def test_rows_are_flipped_to_top_left_origin(renderer):
    image = render(
        renderer,
        "void mainImage(out vec4 c, in vec2 p) { c = p.y > iResolution.y * 0.5 ? vec4(1,0,0,1) : vec4(0,0,1,1); }",
    )
    assert image.shape == (32, 48, 3) and image.dtype == np.uint8
    assert tuple(image[0, 0]) == (255, 0, 0)  # GL's top half is the image's first rows
    assert tuple(image[-1, 0]) == (0, 0, 255)


def test_shadertoy_uniforms_are_set(renderer):
    code = """void mainImage(out vec4 c, in vec2 p) {
        c = vec4(iResolution.x / 255.0, iResolution.y / 255.0, fract(iTime), 1.0);
        if (p.x < 1.0) c = vec4(float(iFrame) / 255.0, iTimeDelta * 60.0 / 255.0 * 100.0, iChannelTime[0] / 10.0, 1.0);
    }"""
    image = render(renderer, code, time=2.25)
    assert tuple(image[5, 10]) == (48, 32, 64)  # 0.25 * 255 rounds to 64
    assert tuple(image[5, 0]) == (135, 100, 57)  # iFrame = 2.25 * 60; iChannelTime = iTime


def test_channels_are_bound_to_the_noise_texture(renderer):
    image = render(
        renderer, "void mainImage(out vec4 c, in vec2 p) { c = texture(iChannel2, p / iChannelResolution[2].xy); }"
    )
    assert image.std() > 40  # uniform noise, not a constant


def test_compile_errors_carry_the_driver_log(renderer):
    with pytest.raises(ShaderCompileError, match="undeclared|undefined"):
        render(renderer, "void mainImage(out vec4 c, in vec2 p) { c = nothing; }")


def test_every_library_program_compiles_and_fills_the_canvas(renderer):
    programs = load_program_set([ProgramSetEntry(builtin="library")]).programs
    assert len(programs) >= 100
    for program in programs:
        assert program.name and program.tags and program.licence.startswith("MIT"), program.id
        for itime in (0.1, 5.0, 9.9):
            image = renderer.render(renderer.compile(program.id, program.code), itime)
            assert image.std() > 15, (program.id, itime)


def test_builtin_subsets_and_tag_selection():
    starter = load_program_set([ProgramSetEntry(builtin="starter")]).programs
    assert len(starter) == 16 and all("starter" in p.tags for p in starter)
    fractals = load_program_set([ProgramSetEntry(builtin="library", tags=["Fractal", "julia"])]).programs
    assert fractals and all({"fractal", "julia"} & set(p.tags) for p in fractals)
    with pytest.raises(SourceError, match="no usable programs found in library with tags no-such-tag"):
        load_program_set([ProgramSetEntry(builtin="library", tags=["no-such-tag"])])


def test_program_sets_from_folders_and_shadertoy_json(tmp_path: Path):
    folder = tmp_path / "mine"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.frag").write_text(
        "// name: Alpha\n// tags: Noise, warp\nvoid mainImage(out vec4 c, in vec2 p) { c = vec4(1); }\n"
    )
    (folder / "sub" / "b.glsl").write_text("void mainImage(out vec4 c, in vec2 p) { c = vec4(0); }\n")
    (folder / "notes.txt").write_text("ignored")
    single = {
        "Shader": {
            "info": {"id": "XsX3zn", "name": "One", "tags": ["Fractal"]},
            "renderpass": [
                {"type": "common", "code": "float k() { return 1.0; }"},
                {"type": "image", "code": "void mainImage(out vec4 c, in vec2 p) { c = vec4(k()); }"},
            ],
        }
    }
    multipass = {
        "Shader": {
            "info": {"id": "multi"},
            "renderpass": [
                {"type": "buffer", "code": "void mainImage(out vec4 c, in vec2 p) { c = vec4(1); }"},
                {"type": "image", "code": "void mainImage(out vec4 c, in vec2 p) { c = texture(iChannel0, p); }"},
            ],
        }
    }
    (folder / "one.json").write_text(json.dumps(single))
    (tmp_path / "export.json").write_text(json.dumps([single["Shader"], multipass["Shader"]]))

    result = load_program_set([ProgramSetEntry(path=str(folder)), ProgramSetEntry(path=str(tmp_path / "export.json"))])
    ids = [p.id for p in result.programs]
    assert ids == ["mine/a", "mine/one", "mine/sub/b", "export/XsX3zn"]
    alpha = result.programs[0]
    assert alpha.name == "Alpha" and alpha.tags == ("noise", "warp")
    assert result.programs[1].code.startswith("float k()")  # common pass prepended
    assert result.programs[1].tags == ("fractal",)
    assert result.skipped == {"multipass": 1}


def test_an_empty_program_set_is_an_error(tmp_path: Path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="no usable programs found"):
        load_program_set([ProgramSetEntry(path=str(tmp_path / "empty"))])


def _recipe(programs: list[str], **changes):
    document = {
        "name": "t",
        "count": 4,
        "views": 3,
        "image": {"size": 16},
        "source": {"kind": "shader", "programs": programs},
    }
    document["source"].update(changes)
    return parse_recipe(document)


def test_samples_are_a_function_of_their_seed(program_dir: Path):
    recipe = _recipe([str(program_dir)], view_time_spread=0.5)
    source = build_source(recipe)
    spec = SampleSpec(index=3, seed=sample_seed(0, 3), attempt=0, views=3)
    first, again = source.render([spec, spec])
    assert isinstance(first, RenderedSample) and isinstance(again, RenderedSample)
    assert all(np.array_equal(a, b) for a, b in zip(first.images, again.images, strict=True))
    times = [view["time"] for view in first.meta["views"]]
    assert len(times) == 3 and all(abs(t - times[0]) <= 0.5 for t in times)
    assert first.cls == first.meta["program"]["index"]
    source.close()


def test_broken_programs_fail_samples_and_all_broken_is_an_error(tmp_path: Path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "x.frag").write_text("void mainImage(out vec4 c, in vec2 p) { c = oops; }")
    source = build_source(_recipe([str(folder)]))
    with pytest.raises(SourceError, match=r"none of the 1 programs renders: compile_error: .*x\.frag:1:\d+: error"):
        source.render([SampleSpec(0, 1, 0, 1)])


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("c = vec4(0.5);", "near_constant"),
        ("c = vec4(0.0);", "near_constant"),
        # NaN on the left half (0/0 at run time): stored black, counted as NaN.
        ("float z = iTime - iTime; c = p.x < iResolution.x * 0.5 ? vec4(z / z) : vec4(p.y / 16.0);", "nan"),
    ],
)
def test_degenerate_images_are_failures(tmp_path: Path, code: str, reason: str):
    folder = tmp_path / "flat"
    folder.mkdir()
    (folder / "bad.frag").write_text(f"void mainImage(out vec4 c, in vec2 p) {{ {code} }}")
    source = build_source(_recipe([str(folder)]))
    [result] = source.render([SampleSpec(0, 1, 0, 1)])
    assert isinstance(result, SampleFailure) and result.reason == reason and result.subject == "flat/bad"
    source.close()


def test_the_reject_filter_is_configurable(tmp_path: Path):
    folder = tmp_path / "flat"
    folder.mkdir()
    (folder / "grey.frag").write_text("void mainImage(out vec4 c, in vec2 p) { c = vec4(0.5); }")
    source = build_source(_recipe([str(folder)], reject={"min_std": 0.0}))
    [result] = source.render([SampleSpec(0, 1, 0, 1)])
    assert isinstance(result, RenderedSample) and int(result.images[0][0, 0, 0]) in (127, 128)
    source.close()


def test_the_watchdog_turns_a_hang_or_a_crash_into_one_failed_sample(program_dir: Path):
    """A stopped render process is a hang as seen from the parent; a killed one, a crash.

    (Mesa's llvmpipe caps loop iterations, so no GLSL program reliably hangs it; GPU drivers
    without a display have no such cap.)
    """
    source = build_source(_recipe([str(program_dir)], watchdog={"frame_seconds": 0.5, "compile_seconds": 0.5}))
    # Three samples that draw three different programs.
    by_program: dict[int, SampleSpec] = {}
    for i in range(100):
        spec = SampleSpec(i, sample_seed(0, i), 0, 2)
        by_program.setdefault(source.sampler.draw(spec)[0], spec)
    ok, hangs, crashes = (by_program[k] for k in sorted(by_program))

    assert isinstance(source.render([ok])[0], RenderedSample)
    os.kill(source.renderer._process.pid, signal.SIGSTOP)
    [hung] = source.render([hangs])
    assert isinstance(hung, SampleFailure) and hung.reason == "timeout" and "after 1.5 s" in hung.message

    source.render([ok])  # a fresh render process
    os.kill(source.renderer._process.pid, signal.SIGKILL)
    [crashed] = source.render([crashes])
    assert isinstance(crashed, SampleFailure) and crashed.reason == "crash"

    # The render goes on in a fresh process; the two culprits stay excluded in this worker.
    again = source.render([ok, hangs, crashes])
    assert isinstance(again[0], RenderedSample)
    assert [(r.reason, r.subject) for r in again[1:]] == [("timeout", hung.subject), ("crash", crashed.subject)]
    source.close()


# A huge loop count with a heavy body: minutes per frame on llvmpipe (which caps each loop at
# 65,535 iterations, so a literally endless loop ends there).
LOOPING = """void mainImage(out vec4 c, in vec2 p) {
    float x = p.x / iResolution.x;
    for (int i = 0; i < 65000; i++) {
        x = fract(sin(x * 12.9898 + float(i)) * 43758.5453);
        x = fract(sin(x * 78.233 + x) * 12345.678);
        x = fract(cos(x * 3.7 + sin(x * 9.1)) * 9876.5);
    }
    c = vec4(x, 1.0 - x, 0.5, 1.0);
}
"""


def test_the_watchdog_survives_a_deliberately_looping_program(program_dir: Path):
    (program_dir / "zz-loop.frag").write_text(LOOPING)
    recipe = _recipe([str(program_dir)], watchdog={"frame_seconds": 1.0, "compile_seconds": 2.0})
    recipe = recipe.model_copy(update={"image": recipe.image.model_copy(update={"size": (128, 128)})})
    source = build_source(recipe)
    looping = source.programs.index(next(p for p in source.programs if p.id.endswith("zz-loop")))
    specs = [SampleSpec(i, sample_seed(0, i), 0, 1) for i in range(60)]
    specs = [s for s in specs if source.sampler.draw(s)[0] == looping][:1] + [
        s for s in specs if source.sampler.draw(s)[0] != looping
    ][:3]
    started = time.monotonic()
    results = source.render(specs)
    assert time.monotonic() - started < 20
    assert isinstance(results[0], SampleFailure) and results[0].reason == "timeout"
    assert all(isinstance(r, RenderedSample) for r in results[1:])
    source.close()


def test_blocked_sampling_gives_every_program_its_share(program_dir: Path):
    (program_dir / "extra.frag").write_text(
        "void mainImage(out vec4 c, in vec2 p) { c = vec4(p.x / 16.0, 0.3, 0.6, 1.0); }"
    )
    config = _recipe([str(program_dir)], sampling={"mode": "blocked", "block": 2}).source
    sampler = ProgramSampler(config, nprograms=4, recipe_seed=5, count=40)
    draws = [sampler.draw(SampleSpec(i, sample_seed(5, i), 0, 1))[0] for i in range(40)]
    assert sorted(Counter(draws).values()) == [10, 10, 10, 10]
    # Blocks of 2 programs x 10 samples, interleaved: samples 0..19 use two programs only.
    assert len(set(draws[:20])) == 2 and set(draws[:20]).isdisjoint(draws[20:])
    assert draws[0] != draws[1]
    # A redraw picks a program of the same block; the same spec always gives the same draw.
    redraw = sampler.draw(SampleSpec(3, sample_seed(5, 3, 1), 1, 1))[0]
    assert redraw in set(draws[:20])
    assert draws == [sampler.draw(SampleSpec(i, sample_seed(5, i), 0, 1))[0] for i in range(40)]


def test_program_lists_and_twigl_files(tmp_path: Path):
    folder = tmp_path / "collection"
    folder.mkdir()
    (folder / "a.frag").write_text(
        "void mainImage(out vec4 c, in vec2 p) { c = vec4(p.x / iResolution.x, 0.2, 0.7, 1.0); }"
    )
    (folder / "b.frag").write_text(
        "void mainImage(out vec4 c, in vec2 p) { c = vec4(0.9, p.y / iResolution.y, 0.1, 1.0); }"
    )
    shaders = [
        {
            "info": {"id": f"s{k}"},
            "renderpass": [{"type": "image", "code": "void mainImage(out vec4 c, in vec2 p) { c = vec4(0.5); }"}],
        }
        for k in (1, 2)
    ]
    (folder / "export.json").write_text(json.dumps(shaders))
    (folder / "good.txt").write_text("# checked\nb.frag\n\nexport.json#s2\n")
    listed = load_program_set([ProgramSetEntry(path=str(folder / "good.txt"))]).programs
    assert [p.id for p in listed] == ["good/b", "good/export/s2"]
    (folder / "bad.txt").write_text("missing.frag\n")
    with pytest.raises(SourceError, match="bad.txt:1: no such program file 'missing.frag'"):
        load_program_set([ProgramSetEntry(path=str(folder / "bad.txt"))])
    (folder / "loop.txt").write_text("loop.txt\n")
    with pytest.raises(SourceError, match="loop.txt:1: a program list cannot name another list"):
        load_program_set([ProgramSetEntry(path=str(folder / "loop.txt"))])

    twigl = tmp_path / "twigl"
    twigl.mkdir()
    (twigl / "geeker.glsl").write_text("vec2 p=(FC.xy*2.-r)/r.y;o=vec4(abs(sin(p*9.+t)),.5,1);")
    (twigl / "geek.glsl").write_text("precision highp float;vec2 p=FC.xy/r;gl_FragColor=vec4(p,fract(t),1);")
    gl = ShaderRenderer(32, 32)
    for fmt, name in (("twigl-geeker", "geeker"), ("twigl-geek", "geek")):
        [program] = load_program_set([ProgramSetEntry(path=str(twigl / f"{name}.glsl"), format=fmt)]).programs
        assert fmt in program.tags
        image = gl.render(gl.compile(program.id, program.code), 1.5)
        assert image.std() > 10, fmt
    gl.close()
