"""The fields: each emits `float fN(vec2 p)`, returning roughly 0..1, and returns the function's name.

A layer draws 1-3 fields by weight from `FIELDS`, in the order they are declared here (the order is
part of every draw: do not reorder), among those whose least cost fits the budget left. Fields with
octaves or iterations take as many as the budget allows, and scale their frequencies by the zoom
of the transforms before them (`Builder.fr`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from synthgen.sources.shader.generator.builder import GNOISE, NOISES, SNOISE, VNOISE, Builder, block
from synthgen.sources.shader.generator.draws import Rand
from synthgen.sources.shader.generator.glsl import TAU, _f, _v2

# Emits the field's function and returns its name; draws from `Builder.r`.
FieldBuild = Callable[[Builder], str]


@dataclass(frozen=True)
class Field:
    """A field as a layer draws it."""

    name: str
    weight: float
    build: FieldBuild
    # The least one draw of it costs (its fewest octaves or iterations): drawn only if this is left.
    least: float


# In declaration order, which is drawing order.
FIELDS: list[Field] = []


def field(name: str, weight: float, least: float) -> Callable[[FieldBuild], FieldBuild]:
    """Register a field under `name` (unique), drawn with relative `weight` when `least` fits."""

    def register(build: FieldBuild) -> FieldBuild:
        if any(f.name == name for f in FIELDS):
            raise ValueError(f"generator field {name!r} is declared twice")
        FIELDS.append(Field(name, weight, build, least))
        return build

    return register


def _drift(r: Rand, speed: float = 0.3) -> str:
    """`vec2(o) + iTime * vec2(v)`: a random origin drifting at a random velocity."""
    vx, vy = r.speed(0.05, speed), r.speed(0.05, speed)
    return f"{_v2(r.uniform(-9, 9), r.uniform(-9, 9))} + iTime * {_v2(vx, vy)}"


# One evaluation of a noise basis: its cost, tag and name are the noise's.
@field("noise", weight=5, least=VNOISE.cost)
def _fd_noise(b: Builder) -> str:
    r = b.r
    noise = r.choice(NOISES)
    b.need(noise.name)
    b.use(noise)
    body = [
        f"float n = {noise.name}(p * {_f(b.fr(1.0, 3.5))} + {_drift(r)});",
        f"return smoothstep({_f(r.uniform(0.1, 0.25))}, {_f(r.uniform(0.75, 0.9))}, n);",
    ]
    return b.func(noise.label, body)


# Per octave, on top of its noise. The ridged and turbulence kinds are variants, tagged by kind.
FBM = block("fbm", tag="fbm", cost=0.02)
# kind -> the range its normalised sum mostly falls in, stretched to 0..1
_FBM_KINDS = {"fbm": (0.22, 0.78), "ridged": (0.15, 0.85), "turbulence": (0.0, 0.55)}


@field("fbm", weight=14, least=2 * (VNOISE.cost + FBM.cost))
def _fd_fbm(b: Builder) -> str:
    r = b.r
    noise = r.weighted(((VNOISE, 1), (GNOISE, 1.3), (SNOISE, 1.3)))
    kind = r.weighted((("fbm", 3), ("ridged", 1.5), ("turbulence", 1.5)))
    per_octave = noise.cost + FBM.cost
    octaves = max(2, min(r.integer(3, 6), int(b.left() / per_octave)))
    b.need(noise.name)
    b.use(noise, octaves, label="")
    b.use(FBM, octaves, label=f"{kind}{octaves}-{noise.label}", tag=kind)
    lac = r.uniform(1.8, 2.4)
    a = r.uniform(0.3, 1.2)
    gain = r.uniform(0.42, 0.62)
    lo, hi = _FBM_KINDS[kind]
    shaping = {
        "fbm": "",
        "ridged": "v = 1.0 - abs(2.0 * v - 1.0); v *= v; ",
        "turbulence": "v = abs(2.0 * v - 1.0); ",
    }[kind]
    body = [
        f"p = p * {_f(b.fr(0.8, 2.5))} + {_drift(r)};",
        f"mat2 m = mat2({_f(lac * math.cos(a))}, {_f(lac * math.sin(a))}, "
        f"{_f(-lac * math.sin(a))}, {_f(lac * math.cos(a))});",
        "float s = 0.0;",
        "float w = 1.0;",
        "float n = 0.0;",
        f"for (int i = 0; i < {octaves}; i++)",
        "{",
        f"    float v = {noise.name}(p); {shaping}s += w * v; n += w; w *= {_f(gain)};",
        f"    p = m * p + {_v2(r.uniform(1, 9), r.uniform(1, 9))} "
        f"+ iTime * {_v2(r.speed(0.02, 0.3), r.speed(0.02, 0.3))};",
        "}",
        f"return clamp((s / n - {_f(lo)}) * {_f(1.0 / (hi - lo))}, 0.0, 1.0);",
    ]
    return b.func(f"{kind}{octaves}-{noise.label}", body)


WORLEY = block("worley", tag="worley", cost=0.8, label="worley")  # + its mode


@field("worley", weight=10, least=WORLEY.cost)
def _fd_worley(b: Builder) -> str:
    r = b.r
    metric = r.weighted((("worley_e", 3), ("worley_m", 1), ("worley_c", 1)))
    b.need(metric)
    mode = r.weighted((("f1", 2), ("edges", 2), ("f2f1", 1.5), ("cells", 1.5), ("f2", 1), ("crack", 1), ("f1f2", 1)))
    b.use(WORLEY, label=f"{WORLEY.label}-{mode}")
    ret = {
        "f1": f"clamp(d.x * {_f(r.uniform(1.0, 1.4))}, 0.0, 1.0)",
        "edges": f"smoothstep(0.0, {_f(r.uniform(0.05, 0.3))}, d.y - d.x)",
        "f2f1": "clamp((d.y - d.x) * 2.0, 0.0, 1.0)",
        "cells": f"(0.2 + 0.8 * d.z) * smoothstep(0.0, {_f(r.uniform(0.04, 0.12))}, d.y - d.x)",
        "f2": "clamp(d.y * 0.9 - 0.1, 0.0, 1.0)",
        "crack": f"1.0 - exp(-{_f(r.uniform(4.0, 12.0))} * (d.y - d.x))",
        "f1f2": "clamp(sqrt(max(d.x * d.y, 0.0)) * 1.3, 0.0, 1.0)",
    }[mode]
    body = [
        f"p = p * {_f(b.fr(1.2, 3.2))} + {_drift(r, 0.4)};",
        f"vec3 d = {metric}(p, {_f(r.uniform(0.5, 1.0))}, iTime * {_f(r.speed(0.03, 0.25, 0.1))});",
        f"return {ret};",
    ]
    return b.func(f"worley {mode}", body)


WAVES = block("waves", tag="waves", cost=0.05, label="waves")  # per wave; + the count


@field("waves", weight=6, least=WAVES.cost)
def _fd_waves(b: Builder) -> str:
    r = b.r
    k = max(1, min(r.integer(2, 6), int(b.left() / WAVES.cost)))
    b.use(WAVES, k, label=f"{WAVES.label}{k}")
    body = ["float s = 0.0;"]
    for _ in range(k):
        a = r.uniform(0, TAU)
        fr = b.fr(3.0, 11.0)
        body.append(
            f"s += sin(dot(p, {_v2(math.cos(a) * fr, math.sin(a) * fr)}) + "
            f"iTime * {_f(r.speed(0.3, 2.5, 0.1))} + {_f(r.uniform(0, TAU))});"
        )
    body.append(f"return clamp(0.5 + s * {_f(0.55 / math.sqrt(k))}, 0.0, 1.0);")
    return b.func(f"waves x{k}", body)


RINGS = block("rings", tag="rings", cost=0.14, label="rings")  # per ring; + the count


@field("rings", weight=5, least=RINGS.cost)
def _fd_rings(b: Builder) -> str:
    r = b.r
    k = max(1, min(r.integer(1, 3), int(b.left() / RINGS.cost)))
    b.use(RINGS, k, label=f"{RINGS.label}{k}")
    body = ["float s = 0.0;"]
    for _ in range(k):
        c = _v2(r.uniform(-1.2, 1.2), r.uniform(-1.0, 1.0))
        move = (
            f"{_f(r.uniform(0.0, 0.5))} * vec2(sin(iTime * "
            f"{_f(r.uniform(0.2, 0.9))}), cos(iTime * {_f(r.uniform(0.2, 0.9))}))"
        )
        body.append(
            f"s += sin(length(p - {c} - {move}) * {_f(b.fr(5.0, 16.0))} - iTime * {_f(r.speed(0.5, 4.0, 0.1))});"
        )
    body.append(f"return clamp(0.5 + s * {_f(0.55 / math.sqrt(k))}, 0.0, 1.0);")
    return b.func(f"rings x{k}", body)


SPIRAL = block("spiral", tag="spiral", cost=0.18, label="spiral")


@field("spiral", weight=3, least=SPIRAL.cost)
def _fd_spiral(b: Builder) -> str:
    r = b.r
    b.need("ang")
    b.use(SPIRAL)
    arms = r.integer(1, 5)
    c = _v2(r.uniform(-0.5, 0.5), r.uniform(-0.5, 0.5))
    radial = (
        f"log(max(length(q), 1e-3)) * {_f(r.sym(1.5, 4.5))}"
        if r.chance(0.5)
        else f"length(q) * {_f(r.sym(1.0, 2.5) * b.fr(2.5, 4.5))}"
    )
    body = [
        f"vec2 q = p - {c};",
        f"return 0.5 + 0.5 * sin(ang(q) * {arms}.0 + {radial} - iTime * {_f(r.speed(0.5, 3.0, 0.05))});",
    ]
    return b.func("spiral", body)


PLASMA = block("plasma", tag="plasma", cost=0.2, label="plasma")


@field("plasma", weight=4, least=PLASMA.cost)
def _fd_plasma(b: Builder) -> str:
    r = b.r
    b.use(PLASMA)

    def sp() -> str:
        return _f(r.speed(0.3, 1.8, 0.05))

    body = [
        f"float s = sin(p.x * {_f(b.fr(2, 8))} + iTime * {sp()});",
        f"s += sin(p.y * {_f(b.fr(2, 8))} + iTime * {sp()});",
        f"s += sin((p.x + p.y) * {_f(b.fr(2, 8))} + iTime * {sp()});",
        f"s += sin(length(p - {_v2(r.uniform(-1, 1), r.uniform(-1, 1))}) * {_f(b.fr(3, 10))} + iTime * {sp()});",
        "return 0.5 + 0.25 * s;",
    ]
    return b.func("plasma", body)


GRID = block("grid", tag="grid", cost=0.05, label="grid")
CHECKER = block("checker", tag="checker", cost=0.08, label="checker")


@field("grid", weight=5, least=GRID.cost)
def _fd_grid(b: Builder) -> str:
    r = b.r
    f = b.fr(1.5, 4.5)
    if r.chance(0.5):
        b.use(GRID)
        w = r.uniform(0.02, 0.2)
        body = [
            f"vec2 g = abs(fract(p * {_f(f)} + iTime * {_v2(r.speed(0.05, 0.4), r.speed(0.05, 0.4))}) - 0.5);",
            "float d = 0.5 - max(g.x, g.y);" if r.chance(0.5) else "float d = min(g.x, g.y);",
            f"return smoothstep({_f(w)}, {_f(w + r.uniform(0.02, 0.2))}, d);",
        ]
        return b.func("grid", body)
    b.use(CHECKER)
    e = r.uniform(0.05, 0.5)
    body = [
        f"vec2 s = sin(p * {_f(f * 3.14159)} + iTime * {_v2(r.speed(0.2, 1.5), r.speed(0.2, 1.5))});",
        f"return smoothstep({_f(-e)}, {_f(e)}, s.x * s.y);",
    ]
    return b.func("checker", body)


TRUCHET = block("truchet", tag="truchet", cost=0.2, label="truchet")


@field("truchet", weight=5, least=TRUCHET.cost)
def _fd_truchet(b: Builder) -> str:
    r = b.r
    b.need("hash21")
    b.use(TRUCHET)
    arcs = r.chance(0.7)
    out = r.weighted((("band", 2), ("stripes", 2), ("dist", 1)))
    body = [
        f"p = p * {_f(b.fr(1.2, 3.5))} + iTime * {_v2(r.speed(0.05, 0.4), r.speed(0.05, 0.4))};",
        "vec2 i = floor(p);",
        "vec2 f = fract(p) - 0.5;",
        f"if (hash21(i + {_f(r.uniform(0, 50))}) < 0.5) f.x = -f.x;",
    ]
    if arcs:
        body += ["vec2 q = (f.x + f.y > 0.0) ? f - 0.5 : f + 0.5;", "float d = abs(length(q) - 0.5);"]
    else:
        body += ["float d = min(abs(f.x + f.y), abs(f.x + f.y - sign(f.x + f.y))) * 0.7071;"]
    w = r.uniform(0.06, 0.2)
    body.append(
        {
            "band": f"return 1.0 - smoothstep({_f(w)}, {_f(w + 0.05)}, d);",
            "stripes": f"return 0.5 + 0.5 * cos(d * {_f(r.uniform(12.0, 30.0))} - iTime * {_f(r.speed(1.0, 4.0))});",
            "dist": "return clamp(d * 2.2, 0.0, 1.0);",
        }[out]
    )
    return b.func(f"truchet {'arcs' if arcs else 'lines'} {out}", body)


HEX = block("hex", tag="hex", cost=0.1, label="hex")


@field("hex", weight=4, least=HEX.cost)
def _fd_hex(b: Builder) -> str:
    r = b.r
    b.need("hexcell")
    b.use(HEX)
    out = r.weighted((("edge", 2), ("cells", 2), ("rings", 1)))
    if out != "edge":
        b.need("hash21")
    body = [
        f"vec4 h = hexcell(p * {_f(b.fr(1.2, 3.5))} + iTime * {_v2(r.speed(0.05, 0.4), r.speed(0.05, 0.4))});",
        "vec2 q = abs(h.xy);",
        "float e = 0.5 - max(dot(q, vec2(0.8660254, 0.5)), q.y);",
    ]
    body.append(
        {
            "edge": f"return smoothstep(0.0, {_f(r.uniform(0.04, 0.25))}, e);",
            "cells": (
                f"return (0.25 + 0.75 * hash21(h.zw + {_f(r.uniform(0, 50))})) "
                f"* smoothstep(0.0, {_f(r.uniform(0.03, 0.08))}, e);"
            ),
            "rings": (
                f"return 0.5 + 0.5 * cos(e * {_f(r.uniform(10.0, 30.0))} - "
                f"iTime * {_f(r.speed(1.0, 4.0))} + hash21(h.zw) * 6.2831853);"
            ),
        }[out]
    )
    return b.func(f"hex {out}", body)


SDF = block("sdf", tag="sdf", cost=0.38, label="sdf")  # + its shape


@field("sdf", weight=10, least=SDF.cost)
def _fd_sdf(b: Builder) -> str:
    r = b.r
    shape = r.weighted(
        (("circle", 2), ("box", 2), ("star", 1.5), ("segment", 1.5), ("ring", 1), ("triangle", 1.5), ("cross", 1))
    )
    b.use(SDF, label=f"{SDF.label}-{shape}")
    size = r.uniform(0.15, 0.4)
    pulse = f"{_f(size)} * (1.0 + {_f(r.uniform(0.0, 0.3))} * sin(iTime * {_f(r.uniform(0.3, 2.0))} + s * 6.2831853))"
    rep = r.chance(0.85)
    if rep:
        b.need("hash21")
        body = [f"p *= {_f(b.fr(1.2, 3.0))};", "vec2 id = floor(p + 0.5);", "p -= id;", "float s = hash21(id);"]
    else:
        body = [f"p *= {_f(r.uniform(0.3, 0.8))};", "float s = 0.3;"]
    if r.chance(0.6):
        b.need("rot")
        body.append(f"p = rot(s * {_f(r.uniform(0, TAU))} + iTime * {_f(r.speed(0.2, 1.5))}) * p;")
    if shape == "circle":
        body.append(f"float d = length(p) - {pulse};")
    elif shape == "box":
        b.need("sdbox")
        body.append(f"float d = sdbox(p, vec2({pulse}, {_f(r.uniform(0.08, 0.35))})) - {_f(r.uniform(0.0, 0.08))};")
    elif shape == "star":
        b.need("sdstar")
        body.append(f"float d = sdstar(p, {pulse}, {r.integer(3, 8)}.0, {_f(r.uniform(0.15, 0.45))});")
    elif shape == "segment":
        b.need("sdseg")
        ax, ay = r.uniform(-0.4, 0.4), r.uniform(-0.4, 0.4)
        body.append(f"float d = sdseg(p, {_v2(ax, ay)}, {_v2(-ay, ax)}) - {_f(r.uniform(0.03, 0.12))};")
    elif shape == "ring":
        body.append(f"float d = abs(length(p) - {pulse}) - {_f(r.uniform(0.02, 0.08))};")
    elif shape == "triangle":
        b.need("sdtri")
        body.append(f"float d = sdtri(p, {pulse});")
    else:
        b.need("sdbox")
        w = r.uniform(0.05, 0.14)
        body.append(f"float d = min(sdbox(p, vec2({pulse}, {_f(w)})), sdbox(p, vec2({_f(w)}, {pulse})));")
    if r.chance(0.3):
        body.append(
            f"d = min(d, length(p - {_v2(r.uniform(-0.4, 0.4), r.uniform(-0.4, 0.4))}) - {_f(r.uniform(0.04, 0.15))});"
        )
    # a lone shape fills the plane only through its distance field
    out = r.weighted((("fill", 2), ("bands", 2), ("glow", 1.5), ("dist", 1)) if rep else (("bands", 2), ("dist", 1)))
    body.append(
        {
            "fill": f"return 1.0 - smoothstep(0.0, {_f(r.uniform(0.01, 0.06))}, d);",
            "bands": f"return 0.5 + 0.5 * cos(d * {_f(r.uniform(8.0, 30.0))} - iTime * {_f(r.speed(1.0, 4.0))});",
            "glow": f"return exp(-{_f(r.uniform(5.0, 20.0))} * abs(d));",
            "dist": f"return clamp(0.5 - d * {_f(r.uniform(1.5, 4.0))}, 0.0, 1.0);",
        }[out]
    )
    return b.func(f"sdf {shape} {out}{' repeated' if rep else ''}", body)


_JULIA_C = (
    (-0.8, 0.156),
    (-0.4, 0.6),
    (0.285, 0.01),
    (-0.70176, -0.3842),
    (-0.835, -0.2321),
    (0.355, 0.355),
    (-0.54, 0.54),
    (0.37, 0.1),
    (-0.1, 0.651),
    (-0.75, 0.11),
    (0.3, -0.5),
    (-0.12, 0.75),
)


JULIA = block("julia", tag="julia", cost=0.045, label="julia")  # per iteration; + a variant


@field("julia", weight=5, least=6 * JULIA.cost)
def _fd_julia(b: Builder) -> str:
    r = b.r
    it = max(6, min(r.integer(8, 16), int(b.left() / JULIA.cost)))
    variant = r.weighted((("quadratic", 3), ("burning", 1), ("cubic", 1)))
    b.use(JULIA, it, label=None if variant == "quadratic" else f"{JULIA.label}-{variant}")
    cx, cy = r.choice(_JULIA_C)
    if variant == "cubic":
        cx, cy = r.uniform(-0.6, 0.6), r.uniform(-0.8, 0.8)
    amp = r.uniform(0.0, 0.06)
    step = {
        "quadratic": "z = vec2(z.x * z.x - z.y * z.y, 2.0 * z.x * z.y) + c;",
        "burning": "z = abs(z); z = vec2(z.x * z.x - z.y * z.y, 2.0 * z.x * z.y) + c;",
        "cubic": "z = vec2(z.x * z.x * z.x - 3.0 * z.x * z.y * z.y, 3.0 * z.x * z.x * z.y - z.y * z.y * z.y) + c;",
    }[variant]
    trap = r.weighted(
        (
            (f"length(z - {_v2(r.uniform(-0.5, 0.5), r.uniform(-0.5, 0.5))})", 2),
            ("min(abs(z.x), abs(z.y))", 2),
            (f"abs(length(z) - {_f(r.uniform(0.3, 1.0))})", 1),
        )
    )
    out = r.weighted((("iter", 2), ("trap", 2), ("mix", 2)))
    body = [
        f"vec2 z = p * {_f(b.fr(0.7, 1.5))};",
        f"vec2 c = {_v2(cx + r.uniform(-0.02, 0.02), cy + r.uniform(-0.02, 0.02))} + {_f(amp)} * "
        f"vec2(cos(iTime * {_f(r.uniform(0.2, 0.9))}), sin(iTime * {_f(r.uniform(0.2, 0.9))}));",
        "float n = 0.0;",
        "float tr = 1e3;",
        f"for (int i = 0; i < {it}; i++)",
        "{",
        f"    {step}",
        "    if (dot(z, z) > 16.0) break;",
        f"    tr = min(tr, {trap});",
        "    n += 1.0;",
        "}",
    ]
    body.append(
        {
            "iter": f"return n / {it}.0;",
            "trap": f"return clamp(1.0 - tr * {_f(r.uniform(1.0, 3.0))}, 0.0, 1.0);",
            "mix": f"return clamp(0.5 * n / {it}.0 + 0.5 * exp(-tr * {_f(r.uniform(2.0, 6.0))}), 0.0, 1.0);",
        }[out]
    )
    return b.func(f"julia {variant} {out}", body)


KALISET = block("kaliset", tag="kaliset", cost=0.08, label="kaliset")  # per iteration


@field("kaliset", weight=4, least=4 * KALISET.cost)
def _fd_kaliset(b: Builder) -> str:
    r = b.r
    it = max(4, min(r.integer(5, 12), int(b.left() / KALISET.cost)))
    b.use(KALISET, it)
    out = r.weighted((("acc", 2), ("trap", 1)))
    body = [
        f"vec2 z = p * {_f(b.fr(0.3, 0.8))} + {_v2(r.uniform(-0.5, 0.5), r.uniform(-0.5, 0.5))};",
        f"vec2 c = {_v2(r.uniform(0.4, 1.0), r.uniform(0.3, 0.9))} + {_f(r.uniform(0.0, 0.05))} "
        f"* sin(iTime * {_f(r.uniform(0.2, 0.8))} + vec2(0.0, 1.6));",
        "float acc = 0.0;",
        "float tr = 1e3;",
        f"for (int i = 0; i < {it}; i++)",
        "{",
        "    z = abs(z) / max(dot(z, z), 1e-3) - c;",
        f"    acc += exp(-{_f(r.uniform(1.5, 5.0))} * abs(dot(z, z) - {_f(r.uniform(0.2, 1.0))}));",
        "    tr = min(tr, abs(z.y));",
        "}",
    ]
    body.append(
        {
            "acc": f"return clamp(acc * {_f(r.uniform(1.5, 3.0) / it)}, 0.0, 1.0);",
            "trap": f"return clamp(1.0 - tr * {_f(r.uniform(2.0, 6.0))}, 0.0, 1.0);",
        }[out]
    )
    return b.func(f"kaliset {out}", body)


TEXTURE = block("texture", tag="texture", cost=0.43, label="texfbm")  # per octave; + the count


@field("texture", weight=3, least=TEXTURE.cost)
def _fd_texture(b: Builder) -> str:
    r = b.r
    octaves = max(1, min(r.integer(2, 4), int(b.left() / TEXTURE.cost)))
    b.use(TEXTURE, octaves, label=f"{TEXTURE.label}{octaves}")
    ch = r.choice(("r", "g", "b", "a"))
    body = [
        f"p = p * {_f(b.fr(0.004, 0.012))} + {_v2(r.uniform(0, 1), r.uniform(0, 1))} "
        f"+ iTime * {_v2(r.speed(0.001, 0.006), r.speed(0.001, 0.006))};",
        "float s = 0.0;",
        "float w = 0.5;",
        f"for (int i = 0; i < {octaves}; i++)",
        "{",
        f"    s += w * texture(iChannel0, p).{ch};",
        "    w *= 0.5;",
        f"    p = p * {_f(r.uniform(1.9, 2.3))} + {_v2(r.uniform(0, 1), r.uniform(0, 1))};",
        "}",
        f"return clamp((s / {_f(1.0 - 0.5**octaves)} - 0.3) * 2.5, 0.0, 1.0);",
    ]
    return b.func(f"texture fbm{octaves}", body)


def draw_field(b: Builder) -> str:
    """Draw one field whose least cost fits the budget left (a grid when none does) and emit it."""
    left = b.left()
    table = [(f.build, f.weight) for f in FIELDS if f.least <= left] or [(_fd_grid, 1)]
    return b.r.weighted(table)(b)
