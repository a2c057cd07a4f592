from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from synthgen import __version__
from synthgen.cli import cli
from synthgen.errors import SynthgenError

from .helpers import BROKEN_PROGRAM

COMMANDS = ["render", "validate", "preview", "inspect"]


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_version_and_help_with_an_example():
    assert __version__ in invoke("--version").output
    top = invoke("--help")
    assert top.exit_code == 0 and all(name in top.output for name in COMMANDS)
    for name in COMMANDS:
        result = invoke(name, "--help")
        assert result.exit_code == 0
        assert "Example" in result.output and f"synthgen {name}" in result.output
    # The destination the descriptions call DEST is the --out option's value.
    assert "--out DEST" in invoke("render", "--help").output


def test_validate_prints_the_resolved_recipe_and_hash(make_recipe):
    result = invoke("validate", str(make_recipe()), "--set", "views=4")
    assert result.exit_code == 0
    resolved_text, _, hash_line = result.output.rpartition("recipe sha256: ")
    assert json.loads(resolved_text)["views"] == 4
    assert len(hash_line.strip()) == 64


def test_errors_are_one_line_and_exit_nonzero(make_recipe, tmp_path: Path):
    bad = make_recipe("bad.yaml", source={"time": {"min": 2, "max": 1}})
    process = subprocess.run(
        [sys.executable, "-m", "synthgen", "render", str(bad), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
    )
    assert process.returncode == 2
    assert process.stderr.strip().count("\n") == 0
    assert "source.time.max: must be > min (2.0)" in process.stderr and "Traceback" not in process.stderr
    assert not (tmp_path / "o").exists()
    # --debug shows the traceback.
    debug = subprocess.run(
        [sys.executable, "-m", "synthgen", "--debug", "validate", str(bad)], capture_output=True, text=True
    )
    assert debug.returncode != 0 and "Traceback" in debug.stderr


@pytest.fixture
def corpus(make_recipe, tmp_path: Path) -> Path:
    out = tmp_path / "corpus"
    result = invoke("render", str(make_recipe(views=3)), "--out", str(out), "--quiet")
    assert result.exit_code == 0, result.output
    assert "wrote 20 samples (60 images) in 3 shards" in result.output
    return out


def test_quiet_and_verbose_before_or_after_the_command(make_recipe, program_dir: Path, tmp_path: Path):
    (program_dir / "zz-broken.frag").write_text(BROKEN_PROGRAM)
    recipe = str(make_recipe(count=40))
    shown = invoke("render", recipe, "--out", str(tmp_path / "a"))
    assert shown.exit_code == 0, shown.output
    # A warning of the library is one `warning:` line beside the bar, on stderr; the result on stdout.
    assert "warning: programs/zz-broken: compile_error" in shown.stderr and "40/40" in shown.stderr
    assert shown.stdout.startswith("wrote 40 samples")
    for args in (["render", recipe, "--out", str(tmp_path / "b"), "--quiet"],
                 ["--quiet", "render", recipe, "--out", str(tmp_path / "c")]):  # fmt: skip
        quiet = invoke(*args)
        assert quiet.exit_code == 0 and quiet.stderr == "", quiet.stderr  # no bar, no warning
        assert quiet.stdout.startswith("wrote 40 samples")
    verbose = invoke("--verbose", "render", recipe, "--out", str(tmp_path / "d"), "--count", "4")
    assert verbose.exit_code == 0
    assert f"debug: synthgen.render.driver: {tmp_path / 'd'}: 0 of 1 shards committed already" in verbose.stderr
    assert "debug:" not in shown.stderr
    # An error is still its one line, whatever the verbosity.
    failed = invoke("render", str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "e"), "--quiet")
    assert failed.exit_code == 2 and failed.stderr.startswith("error: ") and failed.stderr.count("\n") == 1
    both = invoke("--quiet", "render", recipe, "--out", str(tmp_path / "f"), "--verbose")
    assert both.exit_code == 2 and "--quiet and --verbose exclude each other" in both.stderr
    assert "--quiet" in invoke("validate", "--help").output  # every command has them


def test_verify_reports_to_its_callback_and_the_command_draws_the_bar(corpus: Path):
    from synthgen.corpus.verify import verify_corpus

    updates = []
    report = verify_corpus(str(corpus), on_progress=updates.append)
    assert report.ok and (report.shards, report.samples, report.problems) == (3, 20, [])
    assert [u.advance for u in updates] == [0, 1, 1, 1] and updates[-1].done == updates[0].total == 3
    shown = invoke("verify", str(corpus))
    assert shown.stdout == f"{corpus}: whole: 3 shards, 20 samples verified\n" and "3/3" in shown.stderr
    assert invoke("verify", str(corpus), "--quiet").stderr == ""
    (corpus / "manifest.json").unlink()  # the render did not finish: one problem, nothing read
    incomplete = verify_corpus(str(corpus))
    assert not incomplete.ok and incomplete.bad_files == 1 and incomplete.shards == incomplete.samples == 0


def test_preview_writes_a_contact_sheet(corpus: Path, tmp_path: Path):
    target = tmp_path / "grid.png"
    result = invoke("preview", str(corpus), "--out", str(target), "--count", "9", "--no-labels")
    assert result.exit_code == 0 and "9 samples" in result.output
    with Image.open(target) as sheet:
        # sqrt(9 / 3 views) ~ 2 groups of 3 views per row, 5 rows of 32-pixel tiles.
        width, height = sheet.size
        assert width == 2 * (3 * 32 + 2 * 2) + 3 * 10
        assert height == 5 * 32 + 6 * 10
        assert len(np.unique(np.asarray(sheet).reshape(-1, 3), axis=0)) > 100


def test_preview_writes_the_format_its_name_says_into_a_folder_it_makes(corpus: Path, tmp_path: Path):
    for name, magic in (("sheet.jpg", b"\xff\xd8\xff"), ("sheet.webp", b"RIFF"), ("sheet.png", b"\x89PNG")):
        target = tmp_path / "not-yet" / "there" / name
        result = invoke("preview", str(corpus), "--out", str(target), "--count", "3")
        assert result.exit_code == 0, result.output
        assert target.read_bytes().startswith(magic)
    refused = invoke("preview", str(corpus), "--out", str(tmp_path / "sheet.gif"))
    assert refused.exit_code == 2 and "--out" in refused.output and ".png, .jpg, .jpeg, .webp" in refused.output
    assert not (tmp_path / "sheet.gif").exists()
    (tmp_path / "a-file").write_text("")
    blocked = invoke("preview", str(corpus), "--out", str(tmp_path / "a-file" / "sheet.png"))
    assert blocked.exit_code == 2 and blocked.output.startswith(
        f"error: {tmp_path / 'a-file' / 'sheet.png'}: cannot write"
    )


def test_inspect_reports_counts_failures_and_image_statistics(corpus: Path):
    result = invoke("inspect", str(corpus), "--json", "--count", "0")
    assert result.exit_code == 0
    report = json.loads(result.output)
    assert report["complete"] and report["nsamples"] == 20 and report["nshards"] == 3 and report["views"] == 3
    assert report["filesize"] == sum(p.stat().st_size for p in corpus.glob("*.tar"))
    stats = report["images"]
    assert stats["decoded"] == 60 and (stats["width"], stats["height"]) == (32, 32)
    assert all(0 < m < 255 for m in stats["mean"]) and all(s > 10 for s in stats["std"])
    assert stats["near_constant_fraction"] == 0.0
    text = invoke("inspect", str(corpus)).output
    assert "20 in 3 shards" in text and "failures   none" in text


def test_inspect_of_a_partial_corpus_and_of_nothing(corpus: Path, tmp_path: Path):
    (corpus / "manifest.json").unlink()
    (corpus / "shard-000002.json").unlink()
    report = json.loads(invoke("inspect", str(corpus), "--json").output)
    assert not report["complete"] and report["nsamples"] == 16
    empty = invoke("inspect", str(tmp_path / "nothing"))
    assert empty.exit_code == 2 and "no corpus here" in empty.output


def test_an_empty_program_set_fails_before_anything_is_written(tmp_path: Path):
    (tmp_path / "programs").mkdir()
    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: r\ncount: 4\nsource: {kind: shader, programs: [programs]}\n")
    process = subprocess.run(
        [sys.executable, "-m", "synthgen", "render", str(recipe), "--out", str(tmp_path / "out"), "--workers", "2"],
        capture_output=True,
        text=True,
    )
    assert process.returncode == 2
    assert process.stderr == f"error: source.programs: no usable programs found in {tmp_path / 'programs'}\n"
    assert not (tmp_path / "out").exists()


def test_shaders_list_prints_programs_with_tags():
    result = invoke("shaders", "list", "--program-set", "starter")
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 17 and lines[-1].startswith("16 programs; tags: starter 16")
    assert lines[0].startswith("library/001-cosine-plasma") and "palette" in lines[0]
    fractal = invoke("shaders", "list", "--tags", "fractal").output.strip().splitlines()
    assert all("fractal" in line for line in fractal[:-1])


@pytest.mark.gl
def test_shaders_check_reports_errors_with_their_line_and_writes_the_good_list(tmp_path: Path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "good.frag").write_text(
        "void mainImage(out vec4 c, in vec2 p) { c = vec4(p.x / 64.0, p.y / 64.0, 0.5, 1.0); }\n"
    )
    (folder / "broken.frag").write_text(
        "void mainImage(out vec4 c, in vec2 p) {\n    float a = 1.0;\n    c = vec4(nothing);\n}\n"
    )
    (folder / "flat.frag").write_text("void mainImage(out vec4 c, in vec2 p) { c = vec4(0.3); }\n")
    good = tmp_path / "good.txt"
    result = invoke("shaders", "check", str(folder), "--size", "64", "--good", str(good))
    assert result.exit_code == 1
    assert f"compile_error  {folder / 'broken.frag'}: line 3: error: `nothing' undeclared" in result.output
    assert f"near_constant  {folder / 'flat.frag'}: pixel std 0.00" in result.output
    assert "1 of 3 programs pass" in result.output
    assert good.read_text().splitlines()[1:] == ["mine/good.frag"]

    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("name: checked\ncount: 4\nimage: {size: 16}\nsource: {kind: shader, programs: [good.txt]}\n")
    rendered = invoke("render", str(recipe), "--out", str(tmp_path / "out"), "--quiet")
    assert rendered.exit_code == 0, rendered.output
    report = json.loads(invoke("inspect", str(tmp_path / "out"), "--json").output)
    assert report["nsamples"] == 4


def test_shaders_generate_writes_the_programs_a_recipe_generates(tmp_path: Path):
    from synthgen.sources.shader.config import ProgramSetEntry
    from synthgen.sources.shader.programs import load_program_set

    result = invoke("shaders", "generate", "--count", "5", "--seed", "3", "--out", str(tmp_path / "gen"))
    assert result.exit_code == 0 and "wrote 5 programs (seed 3)" in result.output
    files = sorted((tmp_path / "gen").glob("*.frag"))
    assert [f.name for f in files] == [f"generated-3-{i:06d}.frag" for i in range(5)]
    from_files = load_program_set([ProgramSetEntry(path=str(tmp_path / "gen"))]).programs
    in_memory = load_program_set([ProgramSetEntry(generate=5, seed=3)]).programs
    assert [p.code for p in from_files] == [p.code for p in in_memory]
    assert [p.tags for p in from_files] == [p.tags for p in in_memory]


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_shows_the_traceback_before_or_after_the_command(tmp_path: Path, where: str):
    missing = str(tmp_path / "no-such-recipe.yaml")
    args = ["--debug", "validate", missing] if where == "before" else ["validate", missing, "--debug"]
    result = invoke(*args)
    assert isinstance(result.exception, SynthgenError) and "recipe file not found" in str(result.exception)
    plain = invoke("validate", missing)
    assert plain.exit_code == 2 and plain.output.startswith("error: ") and len(plain.output.splitlines()) == 1
