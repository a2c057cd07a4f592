// name: hex-tiling
// tags: starter, tiling, palette, rings
// licence: MIT, written for synthgen
// description: Scrolling hexagonal tiling with pulsing per-cell rings and palette colours.

float hash21(vec2 p)
{
    p = fract(p * vec2(234.34, 435.345));
    p += dot(p, p + 34.23);
    return fract(p.x * p.y);
}

float hexDist(vec2 p)
{
    p = abs(p);
    return max(dot(p, normalize(vec2(1.0, 1.73205))), p.x);
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 uv = p * 4.0 + vec2(t * 0.25, -t * 0.15);

    vec2 s = vec2(1.0, 1.73205);
    vec2 a = mod(uv, s) - s * 0.5;
    vec2 b = mod(uv - s * 0.5, s) - s * 0.5;
    vec2 gv = dot(a, a) < dot(b, b) ? a : b;
    vec2 id = uv - gv;

    float h = hash21(floor(id * 2.0 + 0.5));
    float d = hexDist(gv);
    float edge = 0.5 - d;

    vec3 base = vec3(0.5) + vec3(0.5) * cos(6.28318 * (h * 0.5 + id.x * 0.05 + t * 0.06 + vec3(0.0, 0.25, 0.5)));
    float rings = 0.5 + 0.5 * sin(d * 40.0 * (0.5 + h) - t * (2.0 + 3.0 * h));
    vec3 col = base * (0.55 + 0.45 * rings);
    float ang = atan(gv.y, gv.x);
    col = mix(col, col.gbr, 0.35 * (0.5 + 0.5 * sin(ang * 3.0 + t + h * 6.28)));
    col *= smoothstep(0.0, 0.05, edge) * 0.85 + 0.15;
    col += vec3(1.0, 0.9, 0.7) * 0.25 * smoothstep(0.12, 0.0, d) * (0.5 + 0.5 * sin(t * 2.0 + h * 20.0));
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
