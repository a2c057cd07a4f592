"""Lives and deaths of a render's processes: a kill at any moment orphans nothing, and SIGINT or
SIGTERM end a render with one line and the shell's exit status, leaving a corpus that resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from synthgen import faults

RECIPE = """
name: lifecycle-noise
count: {count}
seed: 0
image: {{size: 16, format: png}}
shard: {{samples: {per_shard}}}
source: {{kind: noise, model: spectrum}}
"""


def _recipe(tmp_path: Path, count: int, per_shard: int) -> Path:
    path = tmp_path / "recipe.yaml"
    path.write_text(RECIPE.format(count=count, per_shard=per_shard))
    return path


def _command(recipe: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "synthgen", "render", str(recipe), "--out", str(out), "--quiet", *extra]


def _env(failpoint: str | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != faults.ENV}
    if failpoint:
        env[faults.ENV] = failpoint
    return env


def test_a_render_killed_while_its_workers_start_leaves_no_process_behind(tmp_path: Path):
    """The parent is killed (SIGKILL) while its pool workers are still importing: each worker,
    once started, sees that its parent is gone and ends. Pipes close only when every process
    holding them is gone (workers, and the resource tracker they keep alive), so a caller
    reading the output returns instead of hanging."""
    recipe, out = _recipe(tmp_path, 8, 2), tmp_path / "out"
    result = subprocess.run(
        _command(recipe, out, "--workers", "2"), env=_env("pool.start:1"), capture_output=True, timeout=60
    )
    assert result.returncode == -signal.SIGKILL
    assert not (out / "manifest.json").exists()
    again = subprocess.run(_command(recipe, out, "--workers", "2"), env=_env(), capture_output=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert (out / "manifest.json").exists()


@pytest.mark.parametrize(
    ("signum", "status", "word"), [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")]
)
def test_a_signal_mid_render_is_one_line_and_the_shells_status(tmp_path: Path, signum: int, status: int, word: str):
    recipe, out = _recipe(tmp_path, 4000, 20), tmp_path / "out"
    process = subprocess.Popen(_command(recipe, out), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (out / "shard-000000.json").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None, "the render ended before it could be signalled"
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    lines = stderr.decode().strip().splitlines()
    assert process.returncode == status
    assert lines == [f"{word}: run the same command again to resume"]
    assert not (out / "manifest.json").exists()
    assert not [path.name for path in out.iterdir() if path.name.startswith(".synthgen-tmp")]


SHADER_RECIPE = """
name: lifecycle-shader
count: 4
image: {size: 16, format: png}
shard: {samples: 2}
source: {kind: shader, programs: [starter]}
"""


@pytest.mark.gl
def test_a_render_killed_while_its_gl_process_starts_leaves_no_process_behind(tmp_path: Path):
    recipe, out = tmp_path / "recipe.yaml", tmp_path / "out"
    recipe.write_text(SHADER_RECIPE)
    result = subprocess.run(_command(recipe, out), env=_env("gl.start:1"), capture_output=True, timeout=60)
    assert result.returncode == -signal.SIGKILL
    again = subprocess.run(_command(recipe, out), env=_env(), capture_output=True, timeout=300)
    assert again.returncode == 0, again.stderr
