"""Colouring a layer: its value (and its other fields) to `vec3 cN`, and the random colours it uses.

Modes, drawn by weight: a cosine palette, HSV from the value, a ramp through 2-4 random colours,
glow on a dark ground, or one field per channel (for a layer of one field, only if the budget left
pays for evaluating it twice more). Palettes may cycle with iTime, and a tiled plane may shift
them per cell.
"""

from __future__ import annotations

import colorsys

from synthgen.sources.shader.generator.builder import Builder, block
from synthgen.sources.shader.generator.draws import Rand
from synthgen.sources.shader.generator.glsl import _f, _v2, _v3

# Every colour map, whatever its mode (the mode tags and names the program).
COLOUR = block("colour", tag="", cost=0.26)
# On top of COLOUR, for the glow mode's two powers.
GLOW = block("glow", tag="glow", cost=0.1, label="glow")
# What a layer's colouring may cost at most: set aside before the layer draws its fields.
LAYER_COLOUR_COST = COLOUR.cost + GLOW.cost


def _random_colours(r: Rand, n: int) -> list[tuple[float, float, float]]:
    """n colours from dark to bright (or the reverse), random hues."""
    values = sorted(r.uniform(0.08, 0.95) for _ in range(n))
    values[0] = min(values[0], r.uniform(0.05, 0.35))
    values[-1] = max(values[-1], r.uniform(0.7, 0.97))
    if r.chance(0.4):
        values.reverse()
    base = r.u()
    colours = []
    for v in values:
        h = (base + r.uniform(-0.25, 0.25)) % 1.0 if r.chance(0.6) else r.u()
        colours.append(colorsys.hsv_to_rgb(h, r.uniform(0.4, 1.0), v))
    return colours


def _perm3(r: Rand) -> tuple[int, int, int]:
    return r.choice(((0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)))


def colour(b: Builder, li: int, v: str, scalars: list[str], q: str, fields: list[str]) -> str:
    """Appends lines defining `vec3 c{li}` from the layer's value; returns the variable."""
    r = b.r
    c = f"c{li}"
    shift = f"hash21(cid) * {_f(r.uniform(0.1, 0.6))}" if b.has_cid and r.chance(0.5) else ""
    if shift:
        b.need("hash21")
    x = f"{v} + {shift}" if shift else v
    cyc = r.speed(0.02, 0.25, 0.3)
    modes = [("palette", 5), ("hsv", 2.5), ("gradient", 3.5), ("glow", 2)]
    extra = 2.0 * b.field_cost[fields[0]] if len(scalars) == 1 else 0.0
    if extra <= b.left():
        modes.append(("channels", 2))
    mode = r.weighted(modes)
    b.reserve -= LAYER_COLOUR_COST
    b.spend(COLOUR)
    if mode == "palette":
        a = [r.uniform(0.4, 0.6) for _ in range(3)]
        amp = [r.uniform(0.3, min(ai, 1.0 - ai) + 0.08) for ai in a]
        if r.chance(0.55):
            k = r.uniform(0.4, 1.6)
            freq = [k, k, k]
        else:
            freq = [r.uniform(0.3, 1.6) for _ in range(3)]
        ph = [r.u() for _ in range(3)]
        b.line(
            f"vec3 {c} = {_v3(*a)} + {_v3(*amp)} * cos(6.2831853 * "
            f"({_v3(*freq)} * ({x}) + {_v3(*ph)} + t * {_f(cyc)}));"
        )
        b.tag("palette")
        b.name("cosine-palette")
    elif mode == "hsv":
        b.need("hsv2rgb")
        if len(scalars) >= 2:
            val = f"{_f(r.uniform(0.55, 0.75))} + {_f(r.uniform(0.2, 0.4))} * {scalars[-2]}"
        else:
            val = _f(r.uniform(0.8, 1.0))
        b.line(
            f"vec3 {c} = hsv2rgb(vec3(({x}) * {_f(r.uniform(0.3, 1.5))} + {_f(r.u())} + t * {_f(cyc)}, "
            f"{_f(r.uniform(0.55, 1.0))}, {val}));"
        )
        b.tag("hsv")
        b.name("hsv")
    elif mode == "gradient":
        n = r.integer(2, 4)
        cols = _random_colours(r, n)
        arg = f"clamp({x}, 0.0, 1.0)"
        if cyc != 0.0 or r.chance(0.3):
            arg = f"abs(fract(({x}) * {_f(r.uniform(0.5, 1.5))} + t * {_f(cyc)}) * 2.0 - 1.0)"
        b.line(f"float g{li} = {arg};")
        expr = _v3(*cols[0])
        for i in range(1, n):
            lo, hi = (i - 1) / (n - 1), i / (n - 1)
            expr = f"mix({expr}, {_v3(*cols[i])}, smoothstep({_f(lo)}, {_f(hi)}, g{li}))"
        b.line(f"vec3 {c} = {expr};")
        b.tag("gradient")
        b.name(f"gradient{n}")
    elif mode == "glow":
        k = r.uniform(0.7, 2.0)
        bg = colorsys.hsv_to_rgb(r.u(), r.uniform(0.3, 0.9), r.uniform(0.08, 0.25))
        tint = colorsys.hsv_to_rgb(r.u(), r.uniform(0.6, 1.0), r.uniform(0.6, 0.85))
        hot = colorsys.hsv_to_rgb(r.u(), r.uniform(0.0, 0.5), r.uniform(0.2, 0.35))
        b.line(f"float g{li} = clamp({x}, 0.0, 1.0);")
        b.line(
            f"vec3 {c} = {_v3(*bg)} + {_v3(*tint)} * pow(g{li}, {_f(k)}) "
            f"+ {_v3(*hot)} * pow(g{li}, {_f(k * r.uniform(2.5, 5.0))});"
        )
        b.use(GLOW)
    else:
        chans = [x, *scalars[:2]] if len(scalars) >= 2 else [x]
        for _ in range(3 - len(chans)):
            # each channel evaluates the field again, so pays for every block it used again
            for used, n in b.field_use[fields[0]].items():
                b.spend(used, n)
        while len(chans) < 3:
            var = f"e{li}{len(chans)}"
            b.line(f"float {var} = {fields[0]}({q} + {_v2(r.sym(0.03, 0.25), r.sym(0.03, 0.25))});")
            chans.append(var)
        order = [chans[i] for i in _perm3(r)]
        lo = [r.uniform(0.0, 0.2) for _ in range(3)]
        hi = [r.uniform(0.8, 1.0) for _ in range(3)]
        b.line(f"vec3 {c} = mix({_v3(*lo)}, {_v3(*hi)}, vec3({order[0]}, {order[1]}, {order[2]}));")
        b.tag("channels")
        b.name("channels")
    return c
