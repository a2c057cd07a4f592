"""Shader programs from someone else: bounded in memory and length, their names printed safely,
malformed or non-UTF-8 files one skipped program rather than a traceback or an unusable folder,
and a corpus rendered inside a program folder never read as programs (issue 19: S4, S6, C4, C8,
D11, non-UTF-8 programs)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from synthgen.cli import cli
from synthgen.errors import RecipeError, SourceError
from synthgen.recipe import canonical_json, load_recipe, parse_recipe
from synthgen.render import render_corpus
from synthgen.seeds import sample_seed
from synthgen.shipped import SHIPPED_ROOT
from synthgen.sources import build_source
from synthgen.sources.base import RenderedSample, SampleFailure, SampleSpec
from synthgen.sources.shader.check import check_programs
from synthgen.sources.shader.config import DEFAULT_MAX_SOURCE_BYTES, ProgramSetEntry, WatchdogConfig
from synthgen.sources.shader.programs import load_program_set
from synthgen.text import printable

from .helpers import PROGRAMS

GOOD = "void mainImage(out vec4 c, in vec2 p) { c = vec4(p.x / iResolution.x, p.y / iResolution.y, 0.5, 1.0); }\n"
# 216 bytes of GLSL that ask the compiler for 800 MB (issue 19, S4): under a 512 MB limit it ends
# the GL process within a second or two, where without one it took it past 3 GB.
ARRAY_BOMB = """// name: array bomb
void mainImage(out vec4 fragColor, in vec2 fragCoord) {
    float a[200000000];
    a[int(fragCoord.x)] = 1.0;
    fragColor = vec4(a[int(fragCoord.y)], 0.0, 0.0, 1.0);
}
"""
TITLE = "\x1b]0;pwned\x07"  # sets the terminal's title
CLEAR = "\x1b[2J"  # clears the screen


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def _folder(root: Path, files: dict[str, str | bytes], name: str = "programs") -> Path:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    for file, content in files.items():
        path = folder / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return folder


def _recipe(programs: list[str], count: int = 8, **source):
    document = {
        "name": "limits",
        "count": count,
        "image": {"size": 16, "format": "png"},
        "shard": {"samples": 4},
        "source": {"kind": "shader", "programs": programs, **source},
    }
    return parse_recipe(document)


def _child_limits(source) -> str:
    return Path(f"/proc/{source.renderer._process.pid}/limits").read_text()


def _spec_drawing(source, program_id: str) -> SampleSpec:
    wanted = next(k for k, p in enumerate(source.programs) if p.id == program_id)
    for i in range(200):
        spec = SampleSpec(i, sample_seed(0, i), 0, 1)
        if source.sampler.draw(spec)[0] == wanted:
            return spec
    raise AssertionError(f"no sample draws {program_id}")


# -- S4: memory and length --------------------------------------------------------------------------


def test_new_watchdog_keys_leave_every_shipped_shader_recipe_hash_alone():
    """memory_mb and max_source_bytes are None unless a recipe sets them, so the resolved recipe,
    and so the corpus name, of every recipe written before they existed is unchanged.

    (Issue 21 moved a default on purpose, source.reject.max_nan_fraction 0.01 -> 0.05, which
    renames every shader corpus that leaves it out: the pins hold with the old value set.)"""
    old_reject = ["source.reject.max_nan_fraction=0.01"]
    pinned = {  # computed with the code before these keys existed
        "demo-shaders-generated": "d44a75ba099c90a46631dd78e8afec301d6fe07bf6b07491339c46f54174a0bf",
        "demo-shaders-library": "57e371c34d78d1a33172034802a49d3807b56c6949b67ccaf5bc71589112d313",
        "demo-shaders": "46c18f199cf4a62478a482ceb4db5bb606914a0f4a8ec06b9a9f02104365a786",
        "shaders-bundled": "e109384c83229505450b8277240d7795827a80749cab0447f73c5312d84a8d97",
        "shaders-generated-21k": "727ddb3baee11c2792a970c0c5869d921b19cc28c5b269e70b32047973982039",
        "starter-shaders-256": "29bd17efb4f4ba33098bf5fdfb70a34c58646b6da886e67e4f666e236c850764",
    }
    for name, sha256 in pinned.items():
        recipe = load_recipe(SHIPPED_ROOT / "recipes" / f"{name}.yaml", overrides=old_reject)
        # The pins are of the whole resolved recipe (the hash before issue 21 left `count` out of it).
        assert hashlib.sha256(canonical_json(recipe.resolved())).hexdigest() == sha256, name
        assert sorted(recipe.resolved()["source"]["watchdog"]) == ["compile_seconds", "frame_seconds"]
        assert recipe.source.watchdog.memory_limit_mb == 2048  # type: ignore[union-attr]
    # Set, they are the recipe's own choice, and part of its hash.
    assert _recipe(["starter"], watchdog={"memory_mb": 512}).resolved()["source"]["watchdog"]["memory_mb"] == 512
    with pytest.raises(RecipeError, match="memory_mb"):
        _recipe(["starter"], watchdog={"memory_mb": 1})


@pytest.mark.gl
def test_a_memory_bomb_is_one_crash_under_the_memory_limit_and_the_render_goes_on(tmp_path: Path):
    folder = _folder(tmp_path, {"bomb.frag": ARRAY_BOMB, **PROGRAMS})
    source = build_source(_recipe([str(folder)], watchdog={"memory_mb": 512, "compile_seconds": 20}))
    # The GL process has a data limit: what it held once started plus 512 MB.
    [limit_line] = [line for line in _child_limits(source).splitlines() if line.startswith("Max data size")]
    soft = limit_line.split()[3]
    assert soft != "unlimited" and 512 << 20 < int(soft) < 2048 << 20, limit_line

    bomb, good = _spec_drawing(source, "programs/bomb"), _spec_drawing(source, "programs/gradient")
    [failed] = source.render([bomb])
    assert isinstance(failed, SampleFailure) and failed.reason == "crash" and failed.subject == "programs/bomb"
    assert "memory_mb 512" in failed.message
    # Excluded from now on, without running again; the others render in a fresh GL process.
    again = source.render([bomb, good])
    assert isinstance(again[0], SampleFailure) and again[0].reason == "crash"
    assert isinstance(again[1], RenderedSample)
    source.close()


@pytest.mark.gl
def test_a_full_program_cache_gives_way_before_the_memory_limit():
    """200 generated programs hold some 350 MB compiled: past a 128 MB limit, had the cache kept
    them all, some innocent program (which one depends on what the worker rendered before) would
    crash (programs 81 and 163 did). The cache is emptied first, so none does."""
    from synthgen.sources.shader.generator import generate_programs
    from synthgen.sources.shader.watchdog import GuardedRenderer

    renderer = GuardedRenderer(16, 16, max_views=1, memory_mb=128)
    try:
        outcomes = renderer.render_many([(p.id, p.code, [1.0]) for p in generate_programs(200, 0)])
    finally:
        renderer.close()
    assert [o for o in outcomes if isinstance(o, Exception)] == []


@pytest.mark.gl
def test_a_program_over_max_source_bytes_is_one_too_large_failure(tmp_path: Path):
    long_program = "// " + "x" * 5000 + "\n" + GOOD
    folder = _folder(tmp_path, {"long.frag": long_program, **PROGRAMS})
    source = build_source(_recipe([str(folder)], watchdog={"max_source_bytes": 4096}))
    [failed] = source.render([_spec_drawing(source, "programs/long")])
    assert isinstance(failed, SampleFailure) and failed.reason == "too_large"
    assert failed.message == f"{len(long_program):,} bytes of code, over watchdog.max_source_bytes (4,096)"
    assert isinstance(source.render([_spec_drawing(source, "programs/rings")])[0], RenderedSample)
    source.close()
    # The built-in limit: 1 MiB, 300 times the largest shipped program.
    assert WatchdogConfig().source_limit_bytes == DEFAULT_MAX_SOURCE_BYTES == 1 << 20
    library = load_program_set([ProgramSetEntry(builtin="library")]).programs
    assert max(len(p.code.encode()) for p in library) * 300 < DEFAULT_MAX_SOURCE_BYTES


@pytest.mark.gl
def test_shaders_check_applies_the_same_limits(tmp_path: Path):
    folder = _folder(
        tmp_path, {"bomb.frag": ARRAY_BOMB, "long.frag": "// " + "x" * 5000 + "\n" + GOOD, "good.frag": GOOD}
    )
    result = invoke("shaders", "check", str(folder), "--size", "16", "--memory-mb", "512", "--max-source-bytes", "4096")
    assert result.exit_code == 1, result.output
    # (The progress bar goes to the same stream in the test runner: a line may follow it.)
    assert re.search(
        rf"crash +{re.escape(str(folder / 'bomb.frag'))}: the GL render process died .*memory_mb 512", result.output
    )
    assert re.search(rf"too_large +{re.escape(str(folder / 'long.frag'))}: 5,108 bytes", result.output)
    assert "1 of 3 programs pass" in result.output


# -- S6: names printed escaped ----------------------------------------------------------------------


def test_printable_escapes_control_characters_and_nothing_else():
    assert printable("library/001-plasma é ✓ \\x1b") == "library/001-plasma é ✓ \\x1b"
    assert printable(TITLE + CLEAR) == "\\x1b]0;pwned\\x07\\x1b[2J"
    assert printable("a\nb\tc\x7f\x9b\u202e\udcff") == "a\\nb\\tc\\x7f\\x9b\\u202e\\udcff"
    assert printable(printable(TITLE)) == printable(TITLE)


@pytest.mark.gl
def test_program_ids_and_driver_messages_reach_the_terminal_escaped(tmp_path: Path):
    hostile = [
        {"info": {"id": TITLE, "name": CLEAR}, "renderpass": [{"type": "image", "code": f"#error {CLEAR}\n{GOOD}"}]},
        {"info": {"id": "fine\nok 1 of 1 programs pass"}, "renderpass": [{"type": "image", "code": GOOD}]},
    ]
    folder = _folder(tmp_path, {"export.json": json.dumps(hostile)})
    programs = load_program_set([ProgramSetEntry(path=str(folder))]).programs
    assert [p.id for p in programs] == [
        "programs/export/\\x1b]0;pwned\\x07",
        "programs/export/fine\\nok 1 of 1 programs pass",
    ]
    assert programs[0].name == "\\x1b[2J"

    # Render: the failure's subject and message, which the sidecar keeps and `render` prints.
    source = build_source(_recipe([str(folder)], count=4))
    [failed] = source.render([_spec_drawing(source, programs[0].id)])
    assert isinstance(failed, SampleFailure) and failed.reason == "compile_error"
    assert "\x1b" not in failed.subject + failed.message and "\\x1b[2J" in failed.message
    source.close()

    # shaders check: one line per failure, no escape sequence in the output; the good list
    # written holds one program a line.
    good = tmp_path / "good.txt"
    result = invoke("shaders", "check", str(folder), "--size", "16", "--good", str(good))
    assert result.exit_code == 1
    assert "\x1b" not in result.output and "\x07" not in result.output
    [line] = [line for line in result.output.splitlines() if "compile_error" in line]
    assert "export.json#\\x1b]0;pwned\\x07: " in line and "\\x1b[2J" in line
    assert good.read_text().splitlines()[1:] == ["programs/export.json#fine\\nok 1 of 1 programs pass"]
    assert [p.id for p in load_program_set([ProgramSetEntry(path=str(good))]).programs] == [
        "good/programs/export/fine\\nok 1 of 1 programs pass"
    ]


def test_file_names_in_errors_are_escaped(tmp_path: Path):
    folder = _folder(tmp_path, {f"bad{CLEAR}.json": "[1, 2"})
    with pytest.raises(SourceError) as raised:
        load_program_set([ProgramSetEntry(path=str(folder / f"bad{CLEAR}.json"))])
    assert "\x1b" not in str(raised.value) and "bad\\x1b[2J.json: not valid JSON" in str(raised.value)


# -- C4: malformed Shadertoy JSON -------------------------------------------------------------------

MALFORMED = [
    ({"Shader": {"renderpass": [1]}}, "Shader.renderpass[0]: expected an object, got a number"),
    ({"Shader": {"renderpass": [{"type": "common", "code": 5}, {"type": "image", "code": GOOD}]}},
     "Shader.renderpass[0].code: expected a string, got a number"),
    ({"Shader": {"renderpass": "image"}}, "Shader.renderpass: expected a list, got a string"),
    ({"Shader": []}, "Shader: expected an object, got a list"),
    ([{"renderpass": [{"code": GOOD}]}, "XsX3zn"], "[1]: expected an object, got a string"),
    ({"info": {"id": "a", "tags": [["deep"]]}, "renderpass": [{"code": GOOD}]},
     "info.tags[0]: expected a string, got a list"),
    ("[" * 100_000, "not valid JSON: nested too deeply"),
    ("[1" + "0" * 5000 + "]", "not valid JSON: Exceeds the limit"),
    (7, "expected a Shadertoy API shader (an object) or a list of them, got a number"),
]  # fmt: skip


@pytest.mark.parametrize(("document", "message"), MALFORMED, ids=[m.split(":")[0] for _, m in MALFORMED])
def test_malformed_shadertoy_json_named_directly_is_one_line_naming_the_file_and_path(tmp_path, document, message):
    text = document if isinstance(document, str) else json.dumps(document)
    path = _folder(tmp_path, {"prog.json": text}) / "prog.json"
    with pytest.raises(SourceError) as raised:
        load_program_set([ProgramSetEntry(path=str(path))])
    assert str(raised.value).startswith(f"source.programs: {path}: {message}")
    assert "\n" not in str(raised.value)


def test_malformed_shadertoy_json_in_a_folder_is_one_skipped_program(tmp_path: Path, caplog):
    files = {f"bad{k}.json": d if isinstance(d, str) else json.dumps(d) for k, (d, _) in enumerate(MALFORMED)}
    folder = _folder(tmp_path, {**files, "good.frag": GOOD})
    found = load_program_set([ProgramSetEntry(path=str(folder))])
    # The list with one good shader and one bad one keeps the good one.
    assert sorted(p.id for p in found.programs) == ["programs/bad4/bad4", "programs/good"]
    assert found.skipped == {"unreadable": len(MALFORMED)}
    assert [(Path(file).name, problem) for file, problem in found.problems][:2] == [
        ("bad0.json", MALFORMED[0][1]), ("bad1.json", MALFORMED[1][1])
    ]  # fmt: skip

    # validate: exit 0 and one warning per skipped file, naming it; no traceback.
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump({"name": "x", "count": 4, "source": {"kind": "shader", "programs": ["programs"]}}))
    with caplog.at_level("WARNING"):
        result = invoke("validate", str(recipe))
    assert result.exit_code == 0, result.output
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == len(MALFORMED)
    assert f"skipped a program: {folder / 'bad0.json'}: {MALFORMED[0][1]}" in warnings


@pytest.mark.gl
def test_shaders_check_reports_a_malformed_file_as_one_unreadable_line(tmp_path: Path):
    folder = _folder(
        tmp_path, {"prog.json": json.dumps(MALFORMED[0][0]), "deep.json": "[" * 100_000, "good.frag": GOOD}
    )
    named = invoke("shaders", "check", str(folder / "prog.json"), "--size", "16")
    assert named.exit_code == 1 and "Traceback" not in named.output
    assert f"unreadable  {folder / 'prog.json'}: {MALFORMED[0][1]}" in named.output
    scanned = invoke("shaders", "check", str(folder), "--size", "16")
    assert scanned.exit_code == 1 and "Traceback" not in scanned.output
    assert f"unreadable  {folder / 'deep.json'}: not valid JSON: nested too deeply" in scanned.output
    assert "1 of 1 programs pass" in scanned.output


# -- non-UTF-8 programs -----------------------------------------------------------------------------


def test_a_non_utf8_program_is_one_skipped_program_not_an_unreadable_folder(tmp_path: Path):
    latin1 = b"// caf\xe9: latin-1\n" + GOOD.encode()
    folder = _folder(tmp_path, {"cafe.frag": latin1, "sub/good.frag": GOOD, "good.glsl": GOOD})
    found = load_program_set([ProgramSetEntry(path=str(folder))])
    assert [p.id for p in found.programs] == ["programs/good", "programs/sub/good"]
    assert found.problems == [(str(folder / "cafe.frag"), "not UTF-8 text: byte 0xe9 at offset 6 (line 1)")]
    # Named directly (or in a list), the file is an error naming it and the byte.
    with pytest.raises(SourceError, match=r"cafe.frag: not UTF-8 text: byte 0xe9 at offset 6 \(line 1\)$"):
        load_program_set([ProgramSetEntry(path=str(folder / "cafe.frag"))])
    (folder / "list.txt").write_text("good.glsl\ncafe.frag\n")
    with pytest.raises(SourceError, match=r"list.txt:2: cafe.frag: not UTF-8 text: byte 0xe9 at offset 6"):
        load_program_set([ProgramSetEntry(path=str(folder / "list.txt"))])


# -- C8: shaders check --size -----------------------------------------------------------------------


def test_shaders_check_size_is_bounded_like_a_recipes_image_size(tmp_path: Path):
    folder = _folder(tmp_path, {"good.frag": GOOD})
    for size in ("100000", "4"):
        result = invoke("shaders", "check", str(folder), "--size", size)
        assert result.exit_code == 2 and "Traceback" not in result.output
        assert "Invalid value for '--size'" in result.output and "8<=x<=8192" in result.output
    too_many = invoke("shaders", "check", str(folder), "--times", ",".join(["1"] * 65))
    assert too_many.exit_code == 2 and "Invalid value for --times: at most 64 test frames" in too_many.output
    with pytest.raises(SourceError, match="size: must be between 8 and 8192 pixels, got 100000"):
        check_programs([str(folder)], size=100_000)


# -- D11: a corpus inside a program folder ----------------------------------------------------------


@pytest.mark.gl
def test_a_corpus_rendered_inside_the_program_folder_is_never_read_as_programs(tmp_path: Path):
    folder = _folder(tmp_path, PROGRAMS)
    recipe_path = tmp_path / "recipe.yaml"
    recipe_path.write_text(yaml.safe_dump({
        "name": "inside", "count": 6, "image": {"size": 16, "format": "png"}, "shard": {"samples": 3},
        "source": {"kind": "shader", "programs": ["programs"]},
    }))  # fmt: skip

    def program_set():
        return load_program_set(load_recipe(recipe_path).source.programs)  # type: ignore[union-attr]

    before = [p.id for p in program_set().programs]
    assert before == ["programs/checker", "programs/gradient", "programs/rings"]
    first = render_corpus(load_recipe(recipe_path), str(folder / "out"))
    assert (folder / "out" / "manifest.json").is_file() and first.rendered_samples == 6
    # The same recipe again: the corpus is complete, and nothing of it became a program.
    again = render_corpus(load_recipe(recipe_path), str(folder / "out"))
    assert again.already_complete
    assert [p.id for p in program_set().programs] == before and program_set().problems == []

    # A corpus of another render, stopped part-way: its sidecar and temporaries are corpus files
    # too. A user's own `manifest.json` (not a corpus manifest) is still read.
    _folder(folder, {"shard-000000.json": "{}", ".synthgen-tmp-0-shard-000001.json": "{"}, name="partial")
    (folder / "manifest.json").write_text(json.dumps({"Shader": {"info": {"id": "m"}, "renderpass": [{"code": GOOD}]}}))
    found = program_set()
    assert [p.id for p in found.programs] == [*before[:2], "programs/manifest", before[2]] and found.problems == []
