"""The global transforms: each appends lines to mainImage that remap `p`, the plane every layer reads.

A program's chain is 1-4 transforms drawn by weight from `TRANSFORMS`, in the order they are
declared here (the order is part of every draw: do not reorder). An exclusive transform (polar,
log-polar, tile, fold) remaps the whole plane, so at most one is drawn per chain. Each transform
multiplies `Builder.zoom` by how much it magnifies the plane, so the fields after it keep their
features a few pixels wide.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from synthgen.sources.shader.generator.builder import NOISES, Builder, block
from synthgen.sources.shader.generator.glsl import TAU, _f, _v2

# Appends its lines to the program; draws from `Builder.r`.
TransformBuild = Callable[[Builder], None]


@dataclass(frozen=True)
class Transform:
    """A global transform as the chain draws it."""

    name: str
    weight: float
    build: TransformBuild
    # Remaps the whole plane: at most one exclusive transform per chain.
    exclusive: bool = False


# In declaration order, which is drawing order.
TRANSFORMS: list[Transform] = []


def transform(name: str, weight: float, exclusive: bool = False) -> Callable[[TransformBuild], TransformBuild]:
    """Register a global transform under `name` (unique), drawn with relative `weight`."""

    def register(build: TransformBuild) -> TransformBuild:
        if any(t.name == name for t in TRANSFORMS):
            raise ValueError(f"generator transform {name!r} is declared twice")
        TRANSFORMS.append(Transform(name, weight, build, exclusive))
        return build

    return register


# Scale, translation and mirror are each one line of GLSL; the fit gave them one cost.
_CHEAP = 0.05


SCALE = block("scale", tag="scale", cost=_CHEAP)


@transform("scale", weight=3)
def _t_scale(b: Builder) -> None:
    r = b.r
    if r.chance(0.3):
        sx, sy = r.uniform(0.6, 2.0), r.uniform(0.6, 2.0)
        b.line(f"p *= {_v2(sx, sy)};")
        b.zoom *= max(sx, sy)
    elif r.chance(0.35):
        s, a = r.uniform(0.7, 1.8), r.uniform(0.1, 0.4)
        b.line(f"p *= {_f(s)} + {_f(a)} * sin(t * {_f(r.uniform(0.2, 0.8))});")
        b.zoom *= s + a
    else:
        s = r.uniform(0.6, 2.2)
        b.line(f"p *= {_f(s)};")
        b.zoom *= s
    b.use(SCALE)


ROTATE = block("rotate", tag="rotate", cost=0.04)


@transform("rotate", weight=4)
def _t_rotate(b: Builder) -> None:
    r = b.r
    b.need("rot")
    b.line(f"p = rot({_f(r.uniform(0.0, TAU))} + t * {_f(r.speed(0.05, 0.5))}) * p;")
    b.use(ROTATE)


TRANSLATE = block("translate", tag="translate", cost=_CHEAP)


@transform("translate", weight=3)
def _t_translate(b: Builder) -> None:
    r = b.r
    b.line(f"p += {_v2(r.uniform(-1.0, 1.0), r.uniform(-1.0, 1.0))} + t * {_v2(r.sym(0.05, 0.4), r.sym(0.05, 0.4))};")
    b.use(TRANSLATE)


POLAR = block("polar", tag="polar", cost=0.2, label="polar")


@transform("polar", weight=2, exclusive=True)
def _t_polar(b: Builder) -> None:
    r = b.r
    b.need("ang")
    n, s = r.integer(1, 6), r.uniform(0.8, 2.5)
    b.line(
        f"p = vec2(abs(ang(p)) * {_f(n / math.pi)} + t * {_f(r.speed(0.02, 0.1))}, "
        f"length(p) * {_f(s)} - t * {_f(r.speed(0.1, 0.5))});"
    )
    b.zoom *= max(s, n / 3.0)
    b.use(POLAR)


LOGPOLAR = block("logpolar", tag="log-polar", cost=0.28, label="logpolar")


@transform("logpolar", weight=1.5, exclusive=True)
def _t_logpolar(b: Builder) -> None:
    r = b.r
    b.need("ang")
    n, k = r.integer(1, 5), r.uniform(0.5, 1.5)
    b.line(
        f"p = vec2(abs(ang(p)) * {_f(n / math.pi)} + t * {_f(r.speed(0.02, 0.1))}, "
        f"log(max(length(p), 1e-3)) * {_f(k)} - t * {_f(r.speed(0.1, 0.5, 0.05))});"
    )
    b.zoom *= max(2.0 * k, 0.6 * n)
    b.use(LOGPOLAR)


KALEIDO = block("kaleido", tag="kaleidoscope", cost=0.5, label="kaleido")  # + its sector count


@transform("kaleido", weight=3)
def _t_kaleido(b: Builder) -> None:
    r = b.r
    b.need("ang")
    n = r.integer(3, 12)
    sector = TAU / n
    b.line("{")
    b.line(f"    float ka = ang(p) + t * {_f(r.speed(0.03, 0.3))};")
    b.line(f"    ka = abs(mod(ka + {_f(sector / 2)}, {_f(sector)}) - {_f(sector / 2)});")
    b.line("    p = length(p) * vec2(cos(ka), sin(ka));")
    b.line("}")
    if r.chance(0.5):
        b.line(f"p -= {_v2(r.uniform(0.0, 0.6), 0.0)};")
    b.use(KALEIDO, label=f"{KALEIDO.label}{n}")


MIRROR = block("mirror", tag="mirror", cost=_CHEAP, label="mirror")


@transform("mirror", weight=2)
def _t_mirror(b: Builder) -> None:
    r = b.r
    if r.chance(0.5):
        b.line(f"p = abs(p) - {_v2(r.uniform(0.0, 0.6), r.uniform(0.0, 0.6))};")
    else:
        b.line(f"p.x = abs(p.x) - {_f(r.uniform(0.0, 0.5))};")
    b.use(MIRROR)


TILE = block("tile", tag="tile", cost=0.2, label="tile")


@transform("tile", weight=2.5, exclusive=True)
def _t_tile(b: Builder) -> None:
    r = b.r
    k, inner = r.uniform(0.8, 2.0), r.uniform(1.4, 2.2)
    if not b.has_cid:
        b.lines.insert(2, "    vec2 cid = vec2(0.0);")
        b.has_cid = True
    b.line(f"cid = floor(p * {_f(k)} + 0.5);")
    b.line(f"p = (fract(p * {_f(k)} + 0.5) - 0.5) * {_f(inner)};")
    b.zoom *= k * inner
    mode = r.weighted((("rot", 3), ("offset", 3), ("quarter", 2), ("plain", 2)))
    if mode == "rot":
        b.need("rot")
        b.need("hash21")
        b.line(f"p = rot(hash21(cid) * 6.2831853 + t * {_f(r.speed(0.1, 0.8))}) * p;")
    elif mode == "quarter":
        b.need("rot")
        b.need("hash21")
        b.line("p = rot(floor(hash21(cid) * 4.0) * 1.5707963) * p;")
    elif mode == "offset":
        b.line(f"p += (cid - floor(cid / 7.0) * 7.0) * {_f(r.uniform(1.3, 3.7))};")
    b.use(TILE)


SWIRL = block("swirl", tag="swirl", cost=0.3, label="swirl")


@transform("swirl", weight=2)
def _t_swirl(b: Builder) -> None:
    r = b.r
    b.need("rot")
    if r.chance(0.5):
        b.line(f"p = rot({_f(r.sym(0.5, 2.5))} * length(p) + t * {_f(r.speed(0.1, 0.6))}) * p;")
    else:
        b.line(
            f"p = rot({_f(r.sym(1.5, 4.0))} * exp(-dot(p, p) * {_f(r.uniform(0.5, 2.5))}) * "
            f"sin(t * {_f(r.uniform(0.2, 0.8))} + {_f(r.uniform(0.5, 2.5))})) * p;"
        )
    b.zoom *= 1.3
    b.use(SWIRL)


SINEWARP = block("sinewarp", tag="warp", cost=0.2, label="sinewarp")  # per warp


@transform("sinewarp", weight=3)
def _t_sinewarp(b: Builder) -> None:
    r = b.r
    for _ in range(r.integer(1, 2)):
        a, fx, fy = r.uniform(0.05, 0.35), r.uniform(1.0, 4.0), r.uniform(1.0, 4.0)
        b.line(
            f"p += {_f(a)} * sin(p.yx * {_v2(fx, fy)} "
            f"+ {_v2(r.uniform(0, TAU), r.uniform(0, TAU))} + t * {_f(r.speed(0.2, 1.5))});"
        )
        b.zoom *= 1.0 + 0.3 * a * max(fx, fy)
        # one addition per warp, as drawn: `spend(SINEWARP, n)` would round differently
        b.spend(SINEWARP)
    b.mark(SINEWARP)


# Costs nothing of its own: what it costs is its two evaluations of a noise, spent as that noise.
NOISEWARP = block("noisewarp", tag="warp", cost=0.0, label="noisewarp")


@transform("noisewarp", weight=2.5)
def _t_noisewarp(b: Builder) -> None:
    r = b.r
    noise = r.choice(NOISES)
    b.need(noise.name)
    f, a = r.uniform(0.8, 3.0), r.uniform(0.2, 0.8)
    s = r.speed(0.1, 0.5)
    b.line(
        f"p += {_f(a)} * (vec2({noise.name}(p * {_f(f)} + t * {_f(s)}), "
        f"{noise.name}(p * {_f(f)} + {_v2(r.uniform(3, 9), r.uniform(3, 9))} - t * {_f(s)})) - 0.5);"
    )
    b.zoom *= 1.0 + 0.3 * a * f
    b.mark(NOISEWARP)
    b.use(noise, 2, label="")


FOLD = block("fold", tag="fold", cost=0.05, label="fold")  # per fold; + the fold count


@transform("fold", weight=1.5, exclusive=True)
def _t_fold(b: Builder) -> None:
    r = b.r
    b.need("rot")
    n = r.integer(2, 5)
    s = r.uniform(1.05, 1.45)
    b.line(f"for (int k = 0; k < {n}; k++)")
    b.line("{")
    b.line(f"    p = abs(p) - {_v2(r.uniform(0.1, 0.7), r.uniform(0.1, 0.7))};")
    b.line(f"    p = rot({_f(r.uniform(0.2, 2.5))} + t * {_f(r.speed(0.02, 0.2))}) * p * {_f(s)};")
    b.line("}")
    b.zoom *= s**n
    b.use(FOLD, n, label=f"{FOLD.label}{n}")
