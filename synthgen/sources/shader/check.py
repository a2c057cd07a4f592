"""Checking a program collection: compile and test-render each program under the watchdog.

    results = check_programs(["my-shaders/"], size=128, times=(0.5, 5.0))
    write_good_list(results, "good.txt")       # then `programs: [good.txt]` in a recipe

A program passes when it compiles, every test frame finishes within the watchdog's limits, and no
frame is degenerate by the shader source's reject filter (the recipe defaults unless given):
synthgen.frames.judge_frame, as a render judges its samples, on every pixel.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from synthgen.errors import SourceError
from synthgen.sources.shader.config import ProgramSetEntry, ShaderRejectConfig, WatchdogConfig
from synthgen.sources.shader.gl import Frame, ShaderCompileError
from synthgen.sources.shader.programs import ShaderProgram, load_program_set
from synthgen.sources.shader.watchdog import GuardedRenderer, ShaderCrash, ShaderHang, ShaderTooLarge
from synthgen.text import printable

_CHUNK = 32  # programs per render call, between progress reports
# Test render sides: the bound a recipe's image.size has (synthgen.recipe.ImageConfig).
MIN_SIZE, MAX_SIZE = 8, 8192
# Test frames: as many as a recipe may have views.
MAX_TIMES = 64
_COMPILER_LINE = re.compile(r"^\d+:(?P<line>\d+)\(\d+\): (?P<message>.*)$")


@dataclass(frozen=True)
class CheckResult:
    program: ShaderProgram | None
    source: str  # the file (or file#id) it came from
    status: str  # ok, compile_error, timeout, crash, too_large, near_constant, nan, unreadable, skipped
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def check_programs(
    paths: Iterable[str],
    fmt: str = "auto",
    size: int = 128,
    times: Sequence[float] = (0.5, 5.0),
    reject: ShaderRejectConfig | None = None,
    watchdog: WatchdogConfig | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[CheckResult]:
    """Check every program found in `paths` (files or folders); one result per program.

    `progress(n)` is called as programs are done. A file that cannot be read as a program is one
    `unreadable` result, whether named or found in a folder.
    """
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise SourceError(f"size: must be between {MIN_SIZE} and {MAX_SIZE} pixels, got {size}")
    if not 1 <= len(times) <= MAX_TIMES:
        raise SourceError(f"times: give 1 to {MAX_TIMES} test frames, got {len(times)}")
    reject = reject or ShaderRejectConfig()
    watchdog = watchdog or WatchdogConfig()
    results: list[CheckResult] = []
    programs: list[ShaderProgram] = []
    for path in paths:
        full = os.path.abspath(path)
        try:
            found = load_program_set([ProgramSetEntry(path=full, format=fmt)])
        except (SourceError, ValueError) as err:
            # The result names the file: the message need not say it again.
            detail = str(err).removeprefix("source.programs: ").removeprefix(f"{printable(full)}: ")
            results.append(CheckResult(None, str(path), "unreadable", detail))
            continue
        programs.extend(found.programs)
        for file, problem in found.problems:
            results.append(CheckResult(None, file, "unreadable", problem))
        for reason, n in found.skipped.items():
            if reason != "unreadable":  # each one has its result above
                results.append(CheckResult(None, str(path), "skipped", f"{n} {reason} program(s)"))
    if not programs:
        return results
    try:
        renderer = GuardedRenderer(
            size,
            size,
            max_views=len(times),
            frame_seconds=watchdog.frame_seconds,
            compile_seconds=watchdog.compile_seconds,
            memory_mb=watchdog.memory_limit_mb,
            max_source_bytes=watchdog.source_limit_bytes,
        )
    except RuntimeError as err:
        raise SourceError(f"shaders check: {err}") from None
    # Keyed by position: programs from different paths may share an id.
    jobs = [(str(k), p.code, list(times)) for k, p in enumerate(programs)]
    outcomes: list[list[Frame] | Exception] = []
    try:
        for start in range(0, len(jobs), _CHUNK):
            outcomes += renderer.render_many(jobs[start : start + _CHUNK])
            if progress is not None:
                progress(len(jobs[start : start + _CHUNK]))
    finally:
        renderer.close()
    for program, outcome in zip(programs, outcomes, strict=True):
        status, detail = _verdict(outcome, times, reject)
        results.append(CheckResult(program, program.origin or program.id, status, detail))
    return results


def _verdict(outcome: list[Frame] | Exception, times: Sequence[float], reject: ShaderRejectConfig) -> tuple[str, str]:
    if isinstance(outcome, ShaderCompileError):
        return "compile_error", compile_error_lines(str(outcome))
    if isinstance(outcome, ShaderHang):
        return "timeout", str(outcome)
    if isinstance(outcome, ShaderCrash):
        return "crash", str(outcome)
    if isinstance(outcome, ShaderTooLarge):
        return "too_large", str(outcome)
    assert not isinstance(outcome, Exception)
    # Every pixel (stride 1): a check of a few programs can afford it.
    verdicts = [reject.judge(frame.image, nan=frame.nan_fraction, stride=1) for frame in outcome]
    failed = [(time, verdict) for time, verdict in zip(times, verdicts, strict=True) if verdict is not None]
    if not failed:
        return "ok", ""
    time, verdict = failed[0]
    detail = f"{verdict.detail} at iTime {time:g}"
    passing = [f"{t:g}" for t, v in zip(times, verdicts, strict=True) if v is None]
    if passing:
        # A program flat only at some times (dark at the start, say) costs a render some redraws.
        detail += f"; passes at iTime {', '.join(passing)}"
    return verdict.reason, detail


def compile_error_lines(log: str) -> str:
    """`0:12(5): error: ...` from the driver as `line 12: error: ...` (lines of the program file)."""
    parts = []
    for part in log.split("; "):
        match = _COMPILER_LINE.match(part.strip())
        parts.append(f"line {match['line']}: {match['message']}" if match else part.strip())
    return "; ".join(parts)


def write_good_list(results: Iterable[CheckResult], path: str | os.PathLike[str]) -> int:
    """Write the programs that passed as a `.txt` program list, relative to the list's folder."""
    target = Path(path)
    folder = target.resolve().parent
    lines = []
    for result in results:
        if result.ok:
            file, _, shader_id = result.source.partition("#")
            relative = os.path.relpath(Path(file).resolve(), folder)
            lines.append(relative + (f"#{shader_id}" if shader_id else ""))
    target.write_text("# programs that passed `synthgen shaders check`\n" + "".join(f"{line}\n" for line in lines))
    return len(lines)
