// name: flow-advect
// tags: flow, value-noise, texture, stripes
// licence: MIT, written for synthgen
// description: Dye stripes advected through a steady noise velocity field with two cross-faded phases, like paint in a slow river.

float hash21(vec2 p)
{
    p = fract(p * vec2(157.79, 331.31));
    p += dot(p, p + 11.93);
    return fract(p.x * p.y);
}

float vnoise(vec2 p)
{
    vec2 i = floor(p);
    vec2 f = fract(p);
    vec2 u = f * f * (3.0 - 2.0 * f);
    return mix(mix(hash21(i), hash21(i + vec2(1.0, 0.0)), u.x),
               mix(hash21(i + vec2(0.0, 1.0)), hash21(i + vec2(1.0, 1.0)), u.x), u.y);
}

vec2 velocity(vec2 p)
{
    float e = 0.05;
    float n = vnoise(p) + 0.5 * vnoise(p * 2.0 + 3.0);
    float nx = vnoise(p + vec2(e, 0.0)) + 0.5 * vnoise((p + vec2(e, 0.0)) * 2.0 + 3.0);
    float ny = vnoise(p + vec2(0.0, e)) + 0.5 * vnoise((p + vec2(0.0, e)) * 2.0 + 3.0);
    vec2 g = vec2(nx - n, ny - n) / e;
    return vec2(g.y, -g.x) * 0.6 + vec2(0.5, 0.0);
}

vec3 dye(vec2 uv)
{
    float s = uv.y * 6.0 + 0.8 * vnoise(uv * 3.0);
    float band = floor(s);
    float fr = fract(s);
    vec3 c = vec3(0.5) + vec3(0.45) * cos(6.28318 * (band * 0.17 + vec3(0.0, 0.33, 0.67)));
    c *= 0.7 + 0.3 * smoothstep(0.0, 0.5, fr) * smoothstep(1.0, 0.5, fr);
    float speck = smoothstep(0.75, 0.9, vnoise(uv * 18.0));
    return mix(c, vec3(0.95, 0.92, 0.85), speck * 0.5);
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime * 0.5;
    vec2 q = p * 1.5;
    vec2 v = velocity(q);
    float ph1 = fract(t);
    float ph2 = fract(t + 0.5);
    vec3 c1 = dye(q - v * ph1 * 0.9 + floor(t) * 0.37);
    vec3 c2 = dye(q - v * ph2 * 0.9 + floor(t + 0.5) * 0.37 + 0.2);
    float w = abs(2.0 * ph1 - 1.0);
    vec3 col = mix(c1, c2, w);
    col *= 0.85 + 0.25 * clamp(length(v) - 0.3, 0.0, 1.0);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
