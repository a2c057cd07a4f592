// name: truchet-arcs
// tags: starter, tiling, truchet, palette
// licence: MIT, written for synthgen
// description: Randomly flipped quarter-circle Truchet tiles with flowing striped bands.

float hash21(vec2 p)
{
    p = fract(p * vec2(123.34, 456.21));
    p += dot(p, p + 45.32);
    return fract(p.x * p.y);
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float zoom = 4.0 + 1.5 * sin(t * 0.2);
    vec2 uv = p * zoom + vec2(t * 0.3, t * 0.17);
    vec2 id = floor(uv);
    vec2 f = fract(uv) - 0.5;

    float h = hash21(id);
    if (h < 0.5) f.x = -f.x;
    float chk = mod(id.x + id.y, 2.0) * 2.0 - 1.0;

    vec2 c = f.x > -f.y ? vec2(0.5) : vec2(-0.5);
    vec2 d = f - c;
    float rd = length(d);
    float band = abs(rd - 0.5);
    float ang = atan(d.x, d.y);
    float flow = ang * chk * (h < 0.5 ? -1.0 : 1.0);

    float width = 0.16 + 0.05 * sin(t * 0.7);
    float m = smoothstep(width + 0.02, width - 0.02, band);
    float stripes = 0.5 + 0.5 * sin(flow * 6.0 + t * 3.0);

    vec3 bg = vec3(0.5) + vec3(0.4) * cos(6.28318 * (hash21(id + 3.1) * 0.3 + t * 0.04 + vec3(0.55, 0.65, 0.85)));
    bg *= 0.6 + 0.4 * smoothstep(0.0, 0.3, band);
    vec3 tube = vec3(0.5) + vec3(0.5) * cos(6.28318 * (rd * 0.6 + t * 0.07 + vec3(0.0, 0.33, 0.67)));
    tube *= 0.55 + 0.45 * stripes;
    tube *= 1.0 - 1.5 * band * band / (width * width) * 0.4;
    vec3 col = mix(bg, tube, m);
    col *= 1.0 - 0.6 * smoothstep(width - 0.02, width + 0.01, band) * smoothstep(width + 0.06, width + 0.02, band);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
