// name: glyph-grid
// tags: sdf, tiling, pattern
// licence: MIT, written for synthgen
// description: Grid of invented glyphs made from hashed strokes between lattice nodes, re-drawn over time with outlines and cell tints.

float hash(vec2 p)
{
    p = fract(p * vec2(123.34, 456.21));
    p += dot(p, p + 45.32);
    return fract(p.x * p.y);
}

float segment(vec2 p, vec2 a, vec2 b)
{
    vec2 pa = p - a;
    vec2 ba = b - a;
    float h = clamp(dot(pa, ba) / max(dot(ba, ba), 1e-6), 0.0, 1.0);
    return length(pa - ba * h);
}

vec2 node(float k)
{
    return vec2(mod(k, 3.0), floor(k / 3.0)) * 0.5 - 0.5;
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 uv = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 g = uv * 2.6 + vec2(0.0, t * 0.2);
    vec2 cell = floor(g);
    vec2 f = fract(g) - 0.5;
    float epoch = floor(t * 0.8 + hash(cell) * 4.0);
    vec2 seed = cell + epoch * vec2(17.0, 31.0);
    vec2 q = f * 2.6;
    float d = 1e3;
    for (int s = 0; s < 5; s++)
    {
        float fs = float(s);
        float ka = floor(hash(seed + fs * 7.1) * 9.0);
        float kb = floor(hash(seed + fs * 3.7 + 11.0) * 9.0);
        if (ka == kb) kb = mod(kb + 4.0, 9.0);
        if (hash(seed + fs * 1.3 + 5.0) < 0.8)
        {
            d = min(d, segment(q, node(ka), node(kb)));
        }
    }
    if (hash(seed + 99.0) < 0.5) d = min(d, abs(length(q - node(floor(hash(seed + 77.0) * 9.0))) - 0.22));
    float stroke = d - 0.09;
    vec3 bg = vec3(0.5) + vec3(0.4) * cos(6.28318 * (hash(cell + 3.0) * 0.6 + vec3(0.0, 0.3, 0.6) + t * 0.02));
    bg *= 0.55 + 0.15 * cos(stroke * 40.0);
    vec3 ink = vec3(0.95, 0.92, 0.85) - bg * 0.6;
    vec3 col = mix(bg, ink, smoothstep(0.02, 0.0, stroke));
    col = mix(col, vec3(0.06, 0.05, 0.1), smoothstep(0.02, 0.0, abs(stroke)) * 0.8);
    float frame = max(abs(f.x), abs(f.y));
    col *= 0.75 + 0.25 * smoothstep(0.5, 0.44, frame);
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
