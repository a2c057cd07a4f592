"""The documentation is part of the product: the site builds with `mkdocs build --strict` (a broken
link, a missing anchor or a page left out of the nav fails), every `synthgen` command shown in
README.md and docs/ names commands and options that exist, and the README's quickstart runs as
written from a folder outside the repository."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from synthgen.cli import cli

REPO = Path(__file__).resolve().parent.parent
PAGES = sorted([REPO / "README.md", *(REPO / "docs").rglob("*.md")])


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs", reason="the docs extra (mkdocs, mkdocs-material) is part of the test extra")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "site" / "families" / "shader" / "index.html").is_file()


def test_the_readmes_links_point_at_files_that_exist() -> None:
    text = (REPO / "README.md").read_text()
    targets = re.findall(r"\]\(([^)#]+)\)", text)
    local = [t for t in targets if "://" not in t]
    assert local, "the README should link the documentation pages"
    missing = [t for t in local if not (REPO / t).exists()]
    assert missing == []


def shell_blocks(text: str) -> list[str]:
    """The ```bash blocks of a page, continuation lines joined."""
    blocks = re.findall(r"```(?:bash|sh|console)\n(.*?)```", text, re.S)
    return [block.replace("\\\n", " ") for block in blocks]


def synthgen_commands(block: str) -> list[list[str]]:
    """Every `synthgen ...` invocation in a shell block, as argv without the program name."""
    commands = []
    for line in block.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        for part in re.split(r"&&|\|\||;|\|", line):
            try:
                words = shlex.split(part, comments=True)
            except ValueError:  # an unbalanced quote across `|` or `;`: not a command of ours
                continue
            while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):  # VAR=value synthgen ...
                words = words[1:]
            if words[:1] == ["synthgen"]:
                commands.append(words[1:])
    return commands


def inline_commands(text: str) -> list[str]:
    """`synthgen ...` written in the prose, as a code span."""
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    return [span for span in re.findall(r"`(synthgen [^`]+)`", prose) if "..." not in span and "…" not in span]


DOCUMENTED = [
    pytest.param(argv, id=f"{page.relative_to(REPO)}: synthgen {' '.join(argv)[:60]}")
    for page in PAGES
    for block in [*shell_blocks(page.read_text()), *inline_commands(page.read_text())]
    for argv in synthgen_commands(block)
]


def test_the_docs_show_commands() -> None:
    assert len(DOCUMENTED) > 30


@pytest.mark.parametrize("argv", DOCUMENTED)
def test_every_documented_command_and_option_exists(argv: list[str]) -> None:
    # `--help` is eager: click parses the whole line first (an unknown command or option is an
    # error, exit 2), then prints the innermost command's help and exits 0 without running it.
    with pytest.raises(SystemExit) as ended:
        cli.main(args=[*argv, "--help"], prog_name="synthgen", standalone_mode=True)
    assert ended.value.code == 0, f"synthgen {shlex.join(argv)}"


def quickstart_command() -> str:
    section = (REPO / "README.md").read_text().split("\n## Quickstart\n", 1)[1].split("\n## ", 1)[0]
    return shell_blocks(section)[0]


@pytest.mark.slow
@pytest.mark.gl
def test_the_quickstart_runs_from_a_folder_outside_the_repository(tmp_path: Path) -> None:
    command = quickstart_command()
    setup, _, rest = command.partition("pip install -e . && ")
    rest = rest.strip()
    assert setup.startswith("pip install torch==2.13.0"), "the quickstart should begin by installing torch's CPU pin"
    assert rest.startswith("synthgen "), "after the install, the quickstart should be synthgen commands only"
    if not Path("/usr/share/datasets/fashion-mnist").is_dir():
        pytest.skip("the quickstart evaluates on Debian's dataset-fashion-mnist package")
    # The package is installed (the test extra is installed editable); the commands run in a fresh
    # folder, so nothing they need may come from the repository's working directory.
    bin_dir = Path(sys.executable).parent
    synthgen = shutil.which("synthgen", path=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    assert synthgen, "the synthgen command should be on PATH after pip install"
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", rest],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": f"{Path(synthgen).parent}{os.pathsep}{os.environ.get('PATH', '')}"},
        timeout=900,
    )
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-3000:])
    assert (tmp_path / "out" / "demo-shaders" / "manifest.json").is_file()
    assert (tmp_path / "out" / "demo-shaders.png").stat().st_size > 1000
    assert (tmp_path / "out" / "runs" / "demo" / "backbone.safetensors").is_file()
    assert re.search(r"linear\D+\d", done.stdout), done.stdout[-2000:]
    # The corpus format page's loading snippet runs on the quickstart's corpus, and a user sees
    # no warning from it (Python's default warning filters, as in a user's script).
    snippet = re.findall(r"```python\n(.*?)```", (REPO / "docs" / "corpus-format.md").read_text(), re.S)[0]
    snippet += "\nassert sum(1 for _ in ds) == 256 and len(ix) == 256\n"
    env = {key: value for key, value in os.environ.items() if key != "PYTHONWARNINGS"}
    loaded = subprocess.run([sys.executable, "-c", snippet], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert "Warning" not in loaded.stderr, loaded.stderr[-2000:]
