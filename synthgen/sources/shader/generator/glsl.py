"""GLSL text: the helper functions a program may call, and the number formatting of every literal.

The helpers are emitted only when a program uses them, always in the order of `HELPERS`, so a
program's text depends only on which helpers it uses, never on the order they were first asked for.
"""

from __future__ import annotations

# 2 pi to the digits the GLSL text writes it with (`6.2831853` in the shaders): angles are drawn in
# [0, TAU), so another value would change every program that draws one.
TAU = 6.2831853


def _f(x: float) -> str:
    """A GLSL float literal; negatives in parentheses so it fits after any operator."""
    s = f"{x:.3f}"
    if s == "-0.000":
        s = "0.000"
    return f"({s})" if s[0] == "-" else s


def _v2(x: float, y: float) -> str:
    return f"vec2({_f(x)}, {_f(y)})"


def _v3(x: float, y: float, z: float) -> str:
    return f"vec3({_f(x)}, {_f(y)}, {_f(z)})"


# --------------------------------------------------------------------------------------------
# GLSL helpers: name -> (dependencies, code). Emitted in this (insertion) order, only if used.

_WORLEY_TEMPLATE = """vec3 {name}(vec2 p, float jit, float ph)
{{
    vec2 i = floor(p);
    vec2 f = fract(p);
    float d1 = 8.0;
    float d2 = 8.0;
    float id = 0.0;
    for (int y = -1; y <= 1; y++)
    {{
        for (int x = -1; x <= 1; x++)
        {{
            vec2 g = vec2(float(x), float(y));
            vec2 h = hash22(i + g);
            vec2 r = g + 0.5 + jit * (abs(fract(h + ph) * 2.0 - 1.0) - 0.5) - f;
            float d = {metric};
            if (d < d1)
            {{
                d2 = d1;
                d1 = d;
                id = h.x;
            }}
            else if (d < d2)
            {{
                d2 = d;
            }}
        }}
    }}
    return vec3(d1, d2, id);
}}
"""

HELPERS: dict[str, tuple[tuple[str, ...], str]] = {
    "rot": (
        (),
        """mat2 rot(float a)
{
    float c = cos(a);
    float s = sin(a);
    return mat2(c, s, -s, c);
}
""",
    ),
    "ang": (
        (),
        """float ang(vec2 p)
{
    return (abs(p.x) + abs(p.y) < 1e-6) ? 0.0 : atan(p.y, p.x);
}
""",
    ),
    "hash21": (
        (),
        """float hash21(vec2 p)
{
    vec3 q = fract(vec3(p.xyx) * 0.1031);
    q += dot(q, q.yzx + 33.33);
    return fract((q.x + q.y) * q.z);
}
""",
    ),
    "hash22": (
        (),
        """vec2 hash22(vec2 p)
{
    vec3 q = fract(vec3(p.xyx) * vec3(0.1031, 0.1030, 0.0973));
    q += dot(q, q.yzx + 33.33);
    return fract((q.xx + q.yz) * q.zy);
}
""",
    ),
    "vnoise": (
        ("hash21",),
        """float vnoise(vec2 p)
{
    vec2 i = floor(p);
    vec2 f = fract(p);
    vec2 u = f * f * (3.0 - 2.0 * f);
    float a = hash21(i);
    float b = hash21(i + vec2(1.0, 0.0));
    float c = hash21(i + vec2(0.0, 1.0));
    float d = hash21(i + vec2(1.0, 1.0));
    return mix(mix(a, b, u.x), mix(c, d, u.x), u.y);
}
""",
    ),
    "gnoise": (
        ("hash22",),
        """float gnoise(vec2 p)
{
    vec2 i = floor(p);
    vec2 f = fract(p);
    vec2 u = f * f * (3.0 - 2.0 * f);
    float a = dot(hash22(i) * 2.0 - 1.0, f);
    float b = dot(hash22(i + vec2(1.0, 0.0)) * 2.0 - 1.0, f - vec2(1.0, 0.0));
    float c = dot(hash22(i + vec2(0.0, 1.0)) * 2.0 - 1.0, f - vec2(0.0, 1.0));
    float d = dot(hash22(i + vec2(1.0, 1.0)) * 2.0 - 1.0, f - vec2(1.0, 1.0));
    return clamp(0.5 + 0.8 * mix(mix(a, b, u.x), mix(c, d, u.x), u.y), 0.0, 1.0);
}
""",
    ),
    "snoise": (
        ("hash22",),
        """float snoise(vec2 p)
{
    const float K1 = 0.366025404;
    const float K2 = 0.211324865;
    vec2 i = floor(p + (p.x + p.y) * K1);
    vec2 a = p - i + (i.x + i.y) * K2;
    float m = step(a.y, a.x);
    vec2 o = vec2(m, 1.0 - m);
    vec2 b = a - o + K2;
    vec2 c = a - 1.0 + 2.0 * K2;
    vec3 h = max(0.5 - vec3(dot(a, a), dot(b, b), dot(c, c)), 0.0);
    vec3 n = h * h * h * h * vec3(dot(a, hash22(i) * 2.0 - 1.0), dot(b, hash22(i + o) * 2.0 - 1.0),
                                  dot(c, hash22(i + 1.0) * 2.0 - 1.0));
    return clamp(0.5 + 0.5 * dot(n, vec3(70.0)), 0.0, 1.0);
}
""",
    ),
    "worley_e": (("hash22",), _WORLEY_TEMPLATE.format(name="worley_e", metric="length(r)")),
    "worley_m": (("hash22",), _WORLEY_TEMPLATE.format(name="worley_m", metric="0.7 * (abs(r.x) + abs(r.y))")),
    "worley_c": (("hash22",), _WORLEY_TEMPLATE.format(name="worley_c", metric="max(abs(r.x), abs(r.y))")),
    "hexcell": (
        (),
        """vec4 hexcell(vec2 p)
{
    const vec2 s = vec2(1.0, 1.7320508);
    vec4 c = floor(vec4(p, p - vec2(0.5, 1.0)) / s.xyxy) + 0.5;
    vec4 h = vec4(p - c.xy * s, p - (c.zw + 0.5) * s);
    return dot(h.xy, h.xy) < dot(h.zw, h.zw) ? vec4(h.xy, c.xy) : vec4(h.zw, c.zw + 0.5);
}
""",
    ),
    "sdbox": (
        (),
        """float sdbox(vec2 p, vec2 b)
{
    vec2 d = abs(p) - b;
    return length(max(d, 0.0)) + min(max(d.x, d.y), 0.0);
}
""",
    ),
    "sdseg": (
        (),
        """float sdseg(vec2 p, vec2 a, vec2 b)
{
    vec2 pa = p - a;
    vec2 ba = b - a;
    float h = clamp(dot(pa, ba) / max(dot(ba, ba), 1e-6), 0.0, 1.0);
    return length(pa - ba * h);
}
""",
    ),
    "sdtri": (
        (),
        """float sdtri(vec2 p, float r)
{
    const float k = 1.7320508;
    p.x = abs(p.x) - r;
    p.y = p.y + r / k;
    if (p.x + k * p.y > 0.0)
    {
        p = vec2(p.x - k * p.y, -k * p.x - p.y) / 2.0;
    }
    p.x -= clamp(p.x, -2.0 * r, 0.0);
    return -length(p) * sign(p.y);
}
""",
    ),
    "sdstar": (
        ("ang",),
        """float sdstar(vec2 p, float r, float n, float m)
{
    return (length(p) - r * (1.0 + m * cos(n * ang(p)))) / (1.0 + m * n * 0.5);
}
""",
    ),
    "smin": (
        (),
        """float smin(float a, float b, float k)
{
    float h = clamp(0.5 + 0.5 * (b - a) / k, 0.0, 1.0);
    return mix(b, a, h) - k * h * (1.0 - h);
}
""",
    ),
    "hsv2rgb": (
        (),
        """vec3 hsv2rgb(vec3 c)
{
    vec3 k = clamp(abs(mod(c.x * 6.0 + vec3(0.0, 4.0, 2.0), 6.0) - 3.0) - 1.0, 0.0, 1.0);
    return c.z * mix(vec3(1.0), k, c.y);
}
""",
    ),
}
