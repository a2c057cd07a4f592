"""bench/gpu_suite.py, the one prepared GPU run (issue 22), is known to work before any GPU time is
spent on it: its `--cpu` dry run goes through every part at tiny sizes and writes both result
files, and a part that fails is reported without stopping the others."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SUITE = REPO / "bench" / "gpu_suite.py"


def load_suite():
    import importlib.util

    spec = importlib.util.spec_from_file_location("gpu_suite", SUITE)
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_suite"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.gl
def test_the_dry_run_goes_through_every_part_and_writes_the_table(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, str(SUITE), "--cpu", "--out", str(out), "--budget", "900", "--workers", "1"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=1200,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((out / "gpu_suite.json").read_text())
    suite = load_suite()
    assert list(report["parts"]) == list(suite.PARTS)
    problems = {name: part.get("error") for name, part in report["parts"].items() if part["status"] != "ok"}
    assert problems == {}, done.stdout[-3000:]
    assert report["device"] == "cpu" and report["dry_run"] is True
    table = (out / "gpu_suite.md").read_text()
    for name, part in report["parts"].items():
        assert part["rows"], f"{name} measured nothing"
        assert f"| {name} |" in table
    # Every timed figure has its baseline measured in the same run, hence a ratio.
    timed = [r for part in report["parts"].values() for r in part["rows"] if r["unit"] == "img/s"]
    assert timed and all(r["baseline_value"] and r["ratio"] for r in timed)
    determinism = [r["value"] for r in report["parts"]["determinism"]["rows"] if "twice" in r["figure"]]
    assert determinism == ["identical"] * 3


def test_a_failing_part_is_a_result_with_its_cause(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    suite = load_suite()

    def broken(settings):
        raise RuntimeError("no EGL display")

    monkeypatch.setitem(suite.PART_FUNCTIONS, "shader", broken)
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"work": str(tmp_path), "device": "cpu", "dry_run": True, "scale": 1.0, "workers": 1}))
    suite.run_one_part("shader", settings, tmp_path / "result.json")
    outcome = json.loads((tmp_path / "result.json").read_text())
    assert outcome["status"] == "failed"
    assert outcome["error"] == "RuntimeError: no EGL display"
    suite.write_results(tmp_path, {"started": "now", "device": "cpu", "dry_run": True, "budget_s": 60,
                                   "parts": {"shader": outcome}})
    assert "| shader | **failed**" in (tmp_path / "gpu_suite.md").read_text()


def test_the_budget_scales_the_sizes_and_unknown_parts_are_refused(tmp_path: Path) -> None:
    suite = load_suite()
    full = suite.Settings(work=tmp_path, device="cuda", dry_run=False, scale=1.0, workers=8)
    half = suite.Settings(work=tmp_path, device="cuda", dry_run=False, scale=0.5, workers=8)
    assert full.count(40_000, 64) == 40_000 and half.count(40_000, 64) == 20_000
    assert half.count(100, 4, minimum=80) == 80
    done = subprocess.run([sys.executable, str(SUITE), "--out", str(tmp_path), "--parts", "shader,gpu"],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "--parts: unknown part gpu" in done.stderr
