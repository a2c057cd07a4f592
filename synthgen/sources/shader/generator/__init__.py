"""Procedural Shadertoy-style programs: N distinct, valid, deterministic GLSL image programs.

Shaders21k's programs can no longer be downloaded, so synthgen composes its own from a grammar
of building blocks. A program is

    coordinates   aspect-correct p in [-aspect, aspect] x [-1, 1]
    -> transforms a chain of 1-4: scale, rotation, translation, polar, log-polar, kaleidoscope
                  fold with N sectors, mirror, tile/repeat with a cell id (per-cell rotation or
                  offset), swirl, iterated abs-fold, sine or noise domain warp; most parameters
                  move with iTime
    -> layers     1 or 2; each has its own small transform, 1-3 scalar fields and a colour map
       fields     value / gradient / simplex noise, fbm / ridged / turbulence (2-6 octaves),
                  Worley (three metrics; F1, F2, edges, cells), plane-wave interference, rings,
                  spirals, plasma, grid, checker, truchet, hex cells, repeated 2D SDF shapes
                  (circle, box, star, segment, ring, triangle, cross), Julia-like maps and the
                  Kali set (<= 16 iterations), noise-texture fbm
       combine    add, multiply, min, max, smooth min, mix by a third field, abs difference,
                  screen, field-driven domain warp (one field displaces the next); then optional
                  contours (sin), threshold (smoothstep), posterise, bands
       colour     cosine palette (random a, b, c, d), HSV from the field, ramp through 2-4 random
                  colours, glow on a dark ground, or one field per channel; palette cycling and
                  shading by another field
    -> composite  the second layer over the first by a field mask, screen, multiply, difference
    -> finish     optional bump lighting from screen-space derivatives, contour lines,
                  saturation, gamma, vignette; colours clamped to 0.02..0.98

How a program is built: `generate_program` asks `compose.build` for one draw of a whole program.
Every choice comes from one `draws.Rand`, seeded by `SeedSequence([seed, index, salt, attempt])`,
in a fixed order, so a program is a pure function of (seed, index) and this package's code. The
draw appends GLSL to a `builder.Builder`: a chain of global transforms drawn from
`transforms.TRANSFORMS`, then one or two layers (compose.py), each of fields drawn from
`fields.FIELDS`, combined and coloured (colour.py), then the composite and the finish. Each
building block is declared once, as a `builder.Block` with its cost, tag and name part; the
registries of transforms and fields are filled by their decorators, in declaration order (which
is drawing order). Only the GLSL helpers a program uses are emitted, in a fixed order (glsl.py).
Loops have constant bounds (<= 8 for fbm, <= 16 for iterated maps); sqrt/log/pow/normalize/atan/
division are guarded. The blocks' costs (milliseconds per 256x256 frame on a 2-core llvmpipe,
fitted to measured frame times) adapt octave and iteration counts to the budget left, and a draw
that still exceeds COST_BUDGET is abandoned and redrawn with the next attempt number (`_draw`).
Spatial frequencies are divided by the magnification of the transforms before them, so fields
stay above a few pixels per feature at 64x64.
"""

from __future__ import annotations

from synthgen.sources.shader.generator.builder import COST_BUDGET, LICENCE, Builder, OverBudget
from synthgen.sources.shader.generator.compose import build as _build
from synthgen.sources.shader.generator.glsl import HELPERS as _HELPERS  # noqa: F401 (the tests read it)

# Recorded in each recipe's `generate` entry (so in its hash): bump it, in generator_version.py,
# whenever the source of any generated program changes.
from synthgen.sources.shader.generator_version import GENERATOR_VERSION
from synthgen.sources.shader.program import ShaderProgram

__all__ = ["COST_BUDGET", "GENERATOR_VERSION", "LICENCE", "generate_program", "generate_programs"]

# Attempts tried for one program before giving up.
_MAX_ATTEMPTS = 1000


def generate_program(seed: int, index: int) -> ShaderProgram:
    """Program `index` of the generated set `seed`: a pure function of (seed, index)."""
    return _program(seed, index, *_draw(seed, index, 0))


def _draw(seed: int, index: int, start: int) -> tuple[int, Builder]:
    """The first attempt from `start` whose draw is within the cost budget, and its draw."""
    if seed < 0 or index < 0:
        raise ValueError(f"seed and index must be >= 0 (got {seed}, {index})")
    for attempt in range(start, start + _MAX_ATTEMPTS):
        try:
            # `_build` is looked up in this module at each call, so a test can stand in for it.
            return attempt, _build(seed, index, attempt)
        except OverBudget:
            continue
    raise RuntimeError(f"no program within budget for seed {seed}, index {index}")  # pragma: no cover


def _program(seed: int, index: int, attempt: int, b: Builder) -> ShaderProgram:
    return ShaderProgram(
        id=f"generated/{seed}/{index:06d}",
        code=b.code(),
        name="+".join(b.names),
        tags=tuple(b.tags),
        licence=LICENCE,
    )


def generate_programs(count: int, seed: int) -> list[ShaderProgram]:
    """`count` programs with pairwise distinct code: program i is `generate_program(seed, i)`,
    unless its code equals an earlier one's; then later attempts are drawn until it differs."""
    programs: list[ShaderProgram] = []
    seen: set[str] = set()
    for index in range(count):
        attempt, b = _draw(seed, index, 0)
        program = _program(seed, index, attempt, b)
        while program.code in seen:
            attempt, b = _draw(seed, index, attempt + 1)
            program = _program(seed, index, attempt, b)
        seen.add(program.code)
        programs.append(program)
    return programs
