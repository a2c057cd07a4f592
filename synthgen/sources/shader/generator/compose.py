"""Composing a program: layers of combined fields, the composite of two layers, and the finish.

`build` is one draw of a whole program: the coordinate frame, a chain of global transforms
(transforms.py), one or two layers, each of 1-3 fields (fields.py) combined, shaped by an optional
unary op and coloured (colour.py), then the composite and the finishing touches.
"""

from __future__ import annotations

from synthgen.sources.shader.generator.builder import COST_BUDGET, Builder, block
from synthgen.sources.shader.generator.colour import LAYER_COLOUR_COST, colour
from synthgen.sources.shader.generator.draws import Rand
from synthgen.sources.shader.generator.fields import draw_field
from synthgen.sources.shader.generator.glsl import TAU, _f, _v2, _v3
from synthgen.sources.shader.generator.transforms import TRANSFORMS

# The frame every program has: pixel to plane, and the clamped colour out.
BASE = block("base", tag="generated", cost=1.45)
# One field's value displacing the next field's coordinates.
FIELDWARP = block("fieldwarp", tag="field-warp", cost=0.33)
# The finishing touches that cost anything: contour lines over the image, and bump lighting.
LINES = block("lines", tag="contour-lines", cost=0.05)
BUMP = block("bump", tag="bump", cost=0.05, label="bump")


def _combine(b: Builder, x: str, y: str, z: str | None) -> str:
    """x and y combined; with z, x and y mixed by a threshold of z."""
    r = b.r
    ops = [("add", 3), ("mul", 2), ("min", 1.5), ("max", 1.5), ("smin", 1.5), ("absdiff", 1.5), ("screen", 1.5)]
    op = "mix" if z is not None else r.weighted(ops)
    if op == "add":
        w = r.uniform(0.3, 0.7)
        return f"{_f(w)} * {x} + {_f(1 - w)} * {y}"
    if op == "mul":
        return f"clamp({x} * {y} * {_f(r.uniform(1.2, 2.0))}, 0.0, 1.0)"
    if op == "min":
        return f"min({x}, {y})"
    if op == "max":
        return f"max({x}, {y})"
    if op == "smin":
        b.need("smin")
        return f"smin({x}, {y}, {_f(r.uniform(0.05, 0.4))})"
    if op == "absdiff":
        return f"min(abs({x} - {y}) * {_f(r.uniform(1.5, 2.5))}, 1.0)"
    if op == "screen":
        return f"1.0 - (1.0 - {x}) * (1.0 - {y})"
    th, e = r.uniform(0.35, 0.65), r.uniform(0.02, 0.25)
    return f"mix({x}, {y}, smoothstep({_f(th - e)}, {_f(th + e)}, {z}))"


def _unary(b: Builder, v: str) -> None:
    r = b.r
    op = r.weighted((("none", 5), ("contour", 2), ("threshold", 1.2), ("posterize", 1), ("bands", 1), ("contrast", 1)))
    if op == "contour":
        b.line(f"{v} = 0.5 + 0.5 * sin({v} * {_f(r.uniform(3.0, 9.0))} - t * {_f(r.speed(0.5, 3.0))});")
        b.tag("contours")
    elif op == "threshold":
        th, e = r.uniform(0.35, 0.65), r.uniform(0.01, 0.15)
        b.line(f"{v} = mix({v} * 0.35, 0.65 + 0.35 * {v}, smoothstep({_f(th - e)}, {_f(th + e)}, {v}));")
        b.tag("threshold")
    elif op == "posterize":
        n = r.integer(3, 8)
        b.line(f"{v} = floor({v} * {n}.0 + 0.5) / {n}.0;")
        b.tag("posterize")
    elif op == "bands":
        b.line(f"{v} = abs(fract({v} * {_f(r.uniform(1.0, 2.2))} + t * {_f(r.speed(0.05, 0.3))}) * 2.0 - 1.0);")
        b.tag("bands")
    elif op == "contrast":
        b.line(f"{v} = smoothstep(0.0, 1.0, {v});")


def _layer(b: Builder, li: int, budget_share: float) -> tuple[str, str]:
    """Appends one layer; returns (colour variable, value variable)."""
    r = b.r
    q = f"q{li}"
    zoom = b.zoom
    b.line(f"vec2 {q} = p;")
    for _ in range(r.weighted(((0, 4), (1, 4), (2, 2)))):
        op = r.weighted((("scale", 3), ("rotate", 3), ("translate", 2), ("sinewarp", 2), ("mirror", 1)))
        if op == "scale":
            s = r.uniform(0.5, 1.6)
            b.line(f"{q} *= {_f(s)};")
            b.zoom *= s
        elif op == "rotate":
            b.need("rot")
            b.line(f"{q} = rot({_f(r.uniform(0.0, TAU))} + t * {_f(r.speed(0.05, 0.5))}) * {q};")
        elif op == "translate":
            b.line(
                f"{q} += {_v2(r.uniform(-1, 1), r.uniform(-1, 1))} + t * {_v2(r.speed(0.05, 0.3), r.speed(0.05, 0.3))};"
            )
        elif op == "sinewarp":
            b.line(
                f"{q} += {_f(r.uniform(0.05, 0.3))} * sin({q}.yx * "
                f"{_v2(r.uniform(1.0, 5.0), r.uniform(1.0, 5.0))} + t * {_f(r.speed(0.2, 1.5))});"
            )
            b.tag("warp")
        else:
            b.line(f"{q} = abs({q}) - {_v2(r.uniform(0.0, 0.5), r.uniform(0.0, 0.5))};")
            b.tag("mirror")
    stop = COST_BUDGET - b.left() * (1.0 - budget_share)  # cost this layer's fields may reach
    nf = r.weighted(((1, 3), (2, 5), (3, 2.5)))
    fields: list[str] = []
    scalars: list[str] = []
    for k in range(nf):
        if k > 0 and b.cost + 0.15 > stop:
            break
        arg = q
        scale = 1.0
        if k > 0 and r.chance(0.3):
            # field-driven domain warp: the previous field displaces this one's coordinates
            prev = scalars[-1]
            arg = f"{q} + {_f(r.uniform(0.15, 0.7))} * vec2(cos(6.2831853 * {prev}), sin(6.2831853 * {prev}))"
            b.use(FIELDWARP)
        elif k > 0 and r.chance(0.4):
            scale = r.uniform(0.5, 1.6)
            arg = f"{q} * {_f(scale)} + {_v2(r.uniform(-2, 2), r.uniform(-2, 2))}"
        before, saved, spent = b.cost, b.zoom, dict(b.spent)
        b.zoom *= scale
        fn = draw_field(b)
        b.zoom = saved
        b.field_cost[fn] = b.cost - before
        # Its uses of each block, in the order the program first spent them: `colour` may spend
        # them again in this order, and the order of the float additions is part of the draw.
        b.field_use[fn] = {u: n - spent.get(u, 0) for u, n in b.spent.items() if n != spent.get(u, 0)}
        fields.append(fn)
        var = f"a{li}{k}"
        b.line(f"float {var} = {fn}({arg});")
        scalars.append(var)
    nf = len(scalars)
    v = f"v{li}"
    if nf == 1:
        expr = scalars[0]
    elif nf == 2:
        expr = _combine(b, scalars[0], scalars[1], None)
    elif r.chance(0.5):
        expr = _combine(b, scalars[0], scalars[1], scalars[2])
    else:
        expr = _combine(b, f"({_combine(b, scalars[0], scalars[1], None)})", scalars[2], None)
    b.line(f"float {v} = {expr};")
    _unary(b, v)
    c = colour(b, li, v, scalars, q, fields)
    if nf >= 2 and r.chance(0.35):
        b.line(f"{c} *= {_f(r.uniform(0.45, 0.7))} + {_f(r.uniform(0.3, 0.5))} * {r.choice(scalars)};")
        b.tag("shading")
    b.zoom = zoom
    return c, v


def build(seed: int, index: int, attempt: int) -> Builder:
    """Draw attempt `attempt` of program (seed, index); raises OverBudget if it costs too much."""
    b = Builder(Rand(seed, index, attempt))
    r = b.r
    b.line("vec2 uv = (2.0 * fragCoord - iResolution.xy) / iResolution.y;")
    b.line("float t = iTime;")
    b.line("vec2 p = uv;")
    b.use(BASE)
    n = r.weighted(((1, 3), (2, 4), (3, 3), (4, 1.5)))
    exclusive_used = False
    for _ in range(n):
        table = [(tr, tr.weight) for tr in TRANSFORMS if not (tr.exclusive and exclusive_used)]
        chosen = r.weighted(table)
        chosen.build(b)
        exclusive_used = exclusive_used or chosen.exclusive
    two = r.chance(0.45)
    b.reserve = (2 if two else 1) * LAYER_COLOUR_COST + LINES.cost + BUMP.cost
    c0, v0 = _layer(b, 0, 0.55 if two else 1.0)
    if two:
        c1, v1 = _layer(b, 1, 1.0)
        mode = r.weighted((("mask", 5), ("screen", 1.5), ("multiply", 1.5), ("difference", 1), ("average", 1)))
        if mode == "mask":
            th, e = r.uniform(0.3, 0.7), r.uniform(0.01, 0.2)
            b.line(f"vec3 col = mix({c0}, {c1}, smoothstep({_f(th - e)}, {_f(th + e)}, {v1}));")
        elif mode == "screen":
            b.line(f"vec3 col = 1.0 - (1.0 - {c0}) * (1.0 - {c1} * {_f(r.uniform(0.5, 0.8))});")
        elif mode == "multiply":
            b.line(f"vec3 col = {c0} * ({_f(r.uniform(0.3, 0.5))} + {_f(r.uniform(0.6, 0.9))} * {c1});")
        elif mode == "difference":
            b.line(f"vec3 col = abs({c0} - {c1}) * 1.2 + 0.05;")
        else:
            b.line(f"vec3 col = 0.5 * ({c0} + {c1});")
        b.tag("layers")
    else:
        b.line(f"vec3 col = {c0};")
    if r.chance(0.25):
        lx, ly = r.sym(0.3, 1.0), r.sym(0.3, 1.0)
        b.line(f"vec2 gr = vec2(dFdx({v0}), dFdy({v0})) * iResolution.y * {_f(r.uniform(0.02, 0.12))};")
        b.line(f"float dif = clamp(dot(normalize(vec3(-gr, 1.0)), {_v3(lx / 1.5, ly / 1.5, 0.6)}), 0.0, 1.0);")
        b.line(f"col *= {_f(r.uniform(0.35, 0.55))} + {_f(r.uniform(0.5, 0.8))} * dif;")
        b.use(BUMP)
    if r.chance(0.2):
        k = r.uniform(3.0, 8.0)
        b.line(f"float cl = abs(fract({v0} * {_f(k)}) - 0.5);")
        lc = _v3(*([r.uniform(0.02, 0.15)] * 3 if r.chance(0.7) else [r.uniform(0.85, 0.98)] * 3))
        b.line(f"col = mix(col, {lc}, {_f(r.uniform(0.4, 0.8))} * smoothstep({_f(r.uniform(0.4, 0.47))}, 0.5, cl));")
        b.use(LINES)
    if r.chance(0.3):
        b.line(f"col = mix(vec3(dot(col, vec3(0.333))), col, {_f(r.uniform(0.8, 1.5))});")
    if r.chance(0.3):
        b.line(f"col = pow(clamp(col, 0.0, 1.0), vec3({_f(r.uniform(0.7, 1.4))}));")
    if r.chance(0.2):
        b.line(f"col *= 1.0 - {_f(r.uniform(0.05, 0.2))} * dot(uv, uv);")
    b.line("fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);")
    return b
