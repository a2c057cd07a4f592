"""Degenerate frames: how many programs each NaN-share limit refuses, and the flat-colour rule.

    python bench/measure_nan_share.py --generated 300 --size 128

Renders, under the watchdog as `synthgen shaders check` does, at `--size` x `--size`:
- every program of the bundled library (`builtin: library`);
- `--generated` programs of the program generator (seed `--seed`);
- probes written here: a textured pattern with NaN pixels (0/0 at run time) on a one-pixel
  cross through the centre, and over a known share of the frame, 0.5%, 1%, 2%, 5%, 10%, 50%,
  once as one region (a disc) and once scattered (a hash of the pixel), as third-party
  programs produce them (a singular axis or region, speckles where a formula leaves its domain).
Each at the check's test times (0.5 and 5 s) and at more times over the recipes' default
range (0.1 to 10 s). Reported, as markdown: for each limit on the NaN share, how many programs
would be refused as `nan` (a frame past it at any tried time); every NaN share seen in the real
programs; the probes' measured shares and verdicts; and how many frames are flat by the old
rule (std of all values at once) and by the new one (largest per-channel std,
synthgen.frames.channel_std), both at the shader default min_std 2.0.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Sequence

from synthgen.frames import channel_std
from synthgen.sources.shader.config import ProgramSetEntry, ShaderRejectConfig
from synthgen.sources.shader.generator import generate_programs
from synthgen.sources.shader.gl import Frame
from synthgen.sources.shader.programs import load_program_set
from synthgen.sources.shader.watchdog import GuardedRenderer

CHECK_TIMES = (0.5, 5.0)
MORE_TIMES = (0.1, 1.0, 2.5, 7.5, 10.0)
LIMITS = (0.0, 0.005, 0.01, 0.02, 0.05, 0.10, 0.25)
PROBE_SHARES = (0.005, 0.01, 0.02, 0.05, 0.10, 0.50)
MIN_STD = 2.0

# A textured frame (never flat) whose pixels are NaN where `broken` holds. `iTime - iTime` keeps
# the compiler from folding 0/0 away.
_PROBE = """void mainImage(out vec4 c, in vec2 p) {{
    vec2 u = p / iResolution.xy;
    c = vec4(0.5 + 0.5 * sin(u.x * 17.0 + iTime), 0.5 + 0.5 * cos(u.y * 13.0), u.x * u.y, 1.0);
    float z = iTime - iTime;
    bool broken = {condition};
    if (broken) c = vec4(z / z);
}}
"""


def probe_programs() -> list[tuple[str, str]]:
    """(name, code) of the probes: a one-pixel NaN cross through the centre (a singular axis, as
    `atan(p.y, p.x)` or `1.0 / p.x` in centred coordinates gives), then a disc and a scatter of
    each share in PROBE_SHARES."""
    cross = "abs(p.x - floor(iResolution.x * 0.5) - 0.5) < 0.5 || abs(p.y - floor(iResolution.y * 0.5) - 0.5) < 0.5"
    probes = [("cross, 1 px", _PROBE.format(condition=cross))]
    for share in PROBE_SHARES:
        disc = f"length((p - 0.5 * iResolution.xy) / iResolution.y) < {(share / 3.14159265) ** 0.5:.5f}"
        probes.append((f"disc {share:.1%}", _PROBE.format(condition=disc)))
        scatter = f"fract(sin(dot(floor(p), vec2(12.9898, 78.233))) * 43758.5453) < {share:.4f}"
        probes.append((f"scatter {share:.1%}", _PROBE.format(condition=scatter)))
    return probes


def render(codes: Sequence[tuple[str, str]], size: int, times: Sequence[float]) -> list[list[Frame] | Exception]:
    renderer = GuardedRenderer(size, size, max_views=len(times))
    try:
        jobs = [(str(k), code, list(times)) for k, (_, code) in enumerate(codes)]
        outcomes: list[list[Frame] | Exception] = []
        for start in range(0, len(jobs), 32):
            outcomes += renderer.render_many(jobs[start : start + 32])
        return outcomes
    finally:
        renderer.close()


def summarise(name: str, ids: list[str], outcomes: list[list[Frame] | Exception], ncheck: int) -> dict[str, object]:
    rendered = [frames for frames in outcomes if not isinstance(frames, Exception)]
    # Flat in every channel, yet not by the all-values std: the flat colours the old rule let by.
    colour_flat = [
        f"{program} at iTime {time:g}"
        for program, frames in zip(ids, outcomes, strict=True)
        if not isinstance(frames, Exception)
        for time, f in zip(CHECK_TIMES, frames, strict=False)
        if channel_std(f.image) < MIN_STD <= float(f.image.std())
    ]
    worst_check = [max(f.nan_fraction for f in frames[:ncheck]) for frames in rendered]
    worst_any = [max(f.nan_fraction for f in frames) for frames in rendered]
    check_frames = [f for frames in rendered for f in frames[:ncheck]]
    return {
        "set": name,
        "programs": len(outcomes),
        "rendered": len(rendered),
        "with_nan": sum(w > 0 for w in worst_any),
        "shares": sorted(w for w in worst_any if w > 0),
        "refused_check": {limit: sum(w > limit for w in worst_check) for limit in LIMITS},
        "refused_any": {limit: sum(w > limit for w in worst_any) for limit in LIMITS},
        "flat_old": sum(float(f.image.std()) < MIN_STD for f in check_frames),
        "flat_new": sum(channel_std(f.image) < MIN_STD for f in check_frames),
        "frames": len(check_frames),
        "colour_flat": colour_flat,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generated", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=128)
    args = parser.parse_args()
    times = CHECK_TIMES + MORE_TIMES
    started = time.perf_counter()
    library = load_program_set([ProgramSetEntry(builtin="library")]).programs
    generated = generate_programs(args.generated, args.seed)
    sets = {
        "library": [(p.id, p.code) for p in library],
        f"generated ({args.generated}, seed {args.seed})": [(p.id, p.code) for p in generated],
    }
    rows = [
        summarise(name, [i for i, _ in codes], render(codes, args.size, times), len(CHECK_TIMES))
        for name, codes in sets.items()
    ]
    probes = probe_programs()
    probe_outcomes = render(probes, args.size, CHECK_TIMES)
    default = ShaderRejectConfig().max_nan_fraction

    print(f"machine: {platform.node()} ({platform.machine()}), size {args.size}x{args.size}")
    listed = [", ".join(f"{t:g}" for t in group) for group in (CHECK_TIMES, MORE_TIMES)]
    print(f"check times {listed[0]} s; more times {listed[1]} s\n")
    print(
        "| set | programs | rendered | with any NaN pixel | " + " | ".join(f"refused > {x:.1%}" for x in LIMITS) + " |"
    )
    print("|---|---|---|---|" + "---|" * len(LIMITS))
    for row in rows:
        refused = " | ".join(f"{row['refused_check'][x]} / {row['refused_any'][x]}" for x in LIMITS)  # type: ignore[index]
        print(f"| {row['set']} | {row['programs']} | {row['rendered']} | {row['with_nan']} | {refused} |")
    print("\n(refused: at the check's 2 times / at any of the 7 times)\n")
    for row in rows:
        shares = ", ".join(f"{s:.2%}" for s in row["shares"]) or "none"  # type: ignore[union-attr]
        print(f"- {row['set']}: NaN shares seen (worst frame per program): {shares}")
        print(
            f"- {row['set']}: flat frames at the check's times, of {row['frames']}: "
            f"{row['flat_old']} by the all-values std, {row['flat_new']} by the largest per-channel std"
            f" (flat colours: {', '.join(row['colour_flat']) or 'none'})"  # type: ignore[arg-type]
        )
    print("\n| probe | measured share (iTime 0.5 / 5) | " + " | ".join(f"> {x:.1%}" for x in LIMITS) + " |")
    print("|---|---|" + "---|" * len(LIMITS))
    for (name, _), outcome in zip(probes, probe_outcomes, strict=True):
        if isinstance(outcome, Exception):
            print(f"| {name} | {type(outcome).__name__} |" + " |" * len(LIMITS))
            continue
        worst = max(f.nan_fraction for f in outcome)
        verdicts = " | ".join("refused" if worst > x else "passes" for x in LIMITS)
        shares = " / ".join(f"{f.nan_fraction:.2%}" for f in outcome)
        print(f"| {name} | {shares} | {verdicts} |")
    print(f"\nthe default max_nan_fraction here: {default:.1%}; {time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
