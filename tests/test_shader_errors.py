"""Shader compile errors in the user's terms (issue 21): the program's file and line rather than the
driver's `0:5(2)` and synthgen's wrapper, a hint for a plain GLSL program that defines main(), and
every distinct error when no program of a recipe renders."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from synthgen.cli import cli
from synthgen.sources.base import SampleFailure, describe_failures
from synthgen.sources.shader.diagnostics import WRAPPER_LINE, compile_log, locate
from synthgen.sources.shader.gl import ShaderCompileError, ShaderRenderer
from synthgen.sources.shader.programs import program_from_twigl

# Its syntax error is on line 5 (Mesa reports the unexpected `;` there).
TYPO = """// name: typo
// a comment, then a blank line

void mainImage(out vec4 fragColor, in vec2 fragCoord) {
    fragColor = vec4(fragCoord, 0.0, 1.0) +;
}
"""
# A program from The Book of Shaders / glslCanvas: plain GLSL, `void main()` on line 5.
PLAIN_MAIN = """#ifdef GL_ES
precision mediump float;
#endif
uniform vec2 u_resolution;
void main() {
    gl_FragColor = vec4(gl_FragCoord.xy / u_resolution, 0.0, 1.0);
}
"""
MAINIMAGE = "void mainImage(out vec4 fragColor, in vec2 fragCoord)"


@pytest.fixture(scope="module")
def renderer():
    gl = ShaderRenderer(width=16, height=16)
    yield gl
    gl.close()


def _compile_error(renderer: ShaderRenderer, code: str) -> str:
    with pytest.raises(ShaderCompileError) as caught:
        renderer.compile(code, code)
    return str(caught.value)


@pytest.mark.gl
def test_a_compile_error_is_reported_at_the_line_of_the_programs_file(renderer):
    message = locate(_compile_error(renderer, TYPO), "shaders/typo.frag")
    assert message.startswith("shaders/typo.frag:5:") and "syntax error" in message
    # A TwiGL body keeps its lines too, with a `precision` line after blank lines taken out.
    body = "\n\nprecision highp float;\nvec2 p = FC.xy;\no = vec4(p, nothing, 1);"
    twigl = program_from_twigl("t", body, "twigl-geeker")
    assert locate(_compile_error(renderer, twigl.code), "t.glsl").startswith("t.glsl:5:")


@pytest.mark.gl
def test_a_program_that_defines_main_is_told_to_define_mainImage(renderer):
    message = locate(_compile_error(renderer, PLAIN_MAIN), "book/gradient.frag")
    assert message.startswith("book/gradient.frag:5:1: error: the program defines its own main()")
    assert MAINIMAGE in message and "synthgen adds main() itself" in message
    # Nothing of synthgen's wrapper: its output variable, the lines of its epilogue.
    assert "synthgen_" not in message and str(WRAPPER_LINE)[:4] not in message
    # The check reads code, not comments: a `void main(` in one gets no hint, nor does a program
    # that defines main() where the compiler never sees it.
    commented = _compile_error(renderer, "// void main() {}\nvoid mainImage(out vec4 c, in vec2 p) { c = oops; }")
    assert "oops" in commented and "main()" not in commented
    renderer.compile("if0", "#if 0\nvoid main() {}\n#endif\nvoid mainImage(out vec4 c, in vec2 p) { c = vec4(1); }")


@pytest.mark.gl
def test_errors_in_synthgens_wrapper_are_said_in_shadertoy_terms(renderer):
    missing = _compile_error(renderer, "vec3 palette(float t) { return vec3(t); }")
    assert missing == f"error: the program defines no mainImage: a Shadertoy program defines `{MAINIMAGE}`"
    other = _compile_error(renderer, "void mainImage(out vec4 c, in vec2 p, float t) { c = vec4(t); }")
    assert other == f"error: the program's mainImage is not `{MAINIMAGE}`"
    written = _compile_error(renderer, "void mainImage(out vec4 c, in vec2 p) { gl_FragColor = vec4(1.0); }")
    assert "writes gl_FragColor" in written and "synthgen_" not in written
    assert locate(missing, "p.frag") == f"p.frag: {missing}"  # no line, still the file


def test_nvidia_locations_map_too_and_unknown_text_is_kept():
    nvidia = (
        "GLSL Compiler failed\n\nfragment_shader\n===============\n"
        '0(7) : warning C7050: "x" might be used before being initialized\n'
        '0(12) : error C1503: undefined variable "oops"\n'
        f'0({WRAPPER_LINE + 2}) : error C1008: undefined variable "mainImage"\n'
    )
    log = compile_log(nvidia, "void helper() {}")
    assert locate(log, "a.frag") == (
        'a.frag:12: error C1503: undefined variable "oops"; '
        f"a.frag: error: the program defines no mainImage: a Shadertoy program defines `{MAINIMAGE}`"
    )
    # A format not known is the driver's text, named by the program's file but otherwise untouched.
    assert locate(compile_log("ERROR: 5:3: 'x' : undeclared identifier", ""), "a.frag") == (
        "a.frag: ERROR: 5:3: 'x' : undeclared identifier"
    )


def test_distinct_failures_are_counted_most_frequent_first():
    failures = [
        SampleFailure("compile_error", "set/a", "set/a.frag:5:2: error: x"),
        SampleFailure("timeout", "set/b", "no result after 35 s"),
        SampleFailure("timeout", "set/c", "no result after 35 s"),
    ]
    assert describe_failures(failures, noun="programs") == (
        "timeout: no result after 35 s (2 programs); compile_error: set/a.frag:5:2: error: x"
    )
    one = describe_failures(failures[1:2], noun="programs")
    assert one == "timeout: no result after 35 s (set/b)"  # the message does not name its program
    many = [SampleFailure("crash", f"p{k}", f"died {k}") for k in range(7)]
    assert describe_failures(many, limit=2) == "crash: died 0 (p0); crash: died 1 (p1); and 5 other errors"


def _render(*args: str):
    return CliRunner().invoke(cli, ["render", *args])


def test_render_warns_with_the_programs_file_and_line(make_recipe, program_dir: Path, tmp_path: Path):
    (program_dir / "typo.frag").write_text(TYPO)
    result = _render(str(make_recipe(image={"size": 16})), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    [warning] = [line for line in result.stderr.splitlines() if "programs/typo" in line]
    assert f"compile_error: {program_dir / 'typo.frag'}:5:" in warning and "syntax error" in warning
    assert "0:5(" not in warning


def test_when_no_program_renders_the_error_lists_each_distinct_error(make_recipe, tmp_path: Path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "typo.frag").write_text(TYPO)
    (broken / "book.frag").write_text(PLAIN_MAIN)
    # Two programs over the length limit, of one length: one message, counted twice.
    for name in ("long1.frag", "long2.frag"):
        (broken / name).write_text(long := f"// {name}\n" + "//" * 300 + "\n")
    recipe = make_recipe(
        image={"size": 16},
        source={"kind": "shader", "programs": [str(broken)], "watchdog": {"max_source_bytes": 500}},
    )
    result = _render(str(recipe), "--out", str(tmp_path / "out"))
    assert result.exit_code != 0
    [line] = [line for line in result.output.splitlines() if "none of the 4 programs renders" in line]
    assert f"too_large: {len(long)} bytes of code, over watchdog.max_source_bytes (500) (2 programs)" in line
    assert f"compile_error: {broken / 'typo.frag'}:5:" in line
    assert f"compile_error: {broken / 'book.frag'}:5:1: error: the program defines its own main()" in line
