// name: truchet-quadtree
// tags: truchet, tiling, pattern, palette
// licence: MIT, written for synthgen
// description: Multi-scale quarter-arc Truchet tiles on a randomly subdivided quadtree that reshuffles every few seconds.

float hash21(vec2 p)
{
    p = fract(p * vec2(263.71, 419.33));
    p += dot(p, p + 29.53);
    return fract(p.x * p.y);
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float epoch = floor(t * 0.4);
    vec2 q = p * 1.6 + vec2(t * 0.07, 0.0);
    float size = 1.0;
    vec2 id = floor(q);
    float lvl = 0.0;
    for (int i = 0; i < 3; i++)
    {
        id = floor(q / size);
        float h = hash21(id * size + epoch * 7.31 + float(i) * 3.7);
        if (h < 0.55 && i < 2)
        {
            size *= 0.5;
            lvl += 1.0;
        }
        else
        {
            break;
        }
    }
    id = floor(q / size);
    vec2 f = (q - id * size) / size - 0.5;
    float h = hash21(id * size + 17.3 + epoch * 1.1);
    if (h > 0.5) f.x = -f.x;
    vec2 c1 = f - vec2(0.5, 0.5);
    vec2 c2 = f + vec2(0.5, 0.5);
    float r1 = length(c1);
    float r2 = length(c2);
    float d = min(abs(r1 - 0.5), abs(r2 - 0.5));
    float bandW = 0.17;
    float band = smoothstep(bandW, bandW - 0.04, d);
    float phase = (r1 < r2) ? atan(c1.y, c1.x + 1e-9) : atan(c2.y, c2.x + 1e-9);
    float stripes = 0.5 + 0.5 * sin(phase * 12.0 - t * 3.0);
    vec3 bg = vec3(0.5) + vec3(0.4) * cos(6.28318 * (lvl * 0.22 + 0.55 + vec3(0.0, 0.2, 0.4)));
    bg *= 0.6 + 0.08 * step(0.5, fract((id.x + id.y) * 0.5));
    vec3 fg = vec3(0.5) + vec3(0.47) * cos(6.28318 * (lvl * 0.22 + t * 0.05 + vec3(0.6, 0.8, 0.0)));
    fg *= 0.7 + 0.3 * stripes;
    fg *= 0.75 + 0.25 * (1.0 - d / bandW);
    vec3 col = mix(bg, fg, band);
    vec2 e = abs(f);
    col *= 0.8 + 0.2 * smoothstep(0.5, 0.47, max(e.x, e.y));
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
