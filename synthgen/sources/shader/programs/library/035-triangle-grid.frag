// name: triangle-grid
// tags: tiling, pattern, palette
// licence: MIT, written for synthgen
// description: An equilateral triangle tiling with inset tiles lit by travelling colour waves and randomly flipping fills.

float hash21(vec2 p)
{
    p = fract(p * vec2(389.17, 211.53));
    p += dot(p, p + 17.37);
    return fract(p.x * p.y);
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 q = p * 3.5 + vec2(t * 0.15, -t * 0.1);
    vec2 s = vec2(q.x - q.y * 0.57735027, q.y * 1.15470054);
    vec2 cell = floor(s);
    vec2 f = fract(s);
    float up = step(1.0, f.x + f.y);
    vec2 id = vec2(cell.x * 2.0 + up, cell.y);
    float d1 = f.x;
    float d2 = f.y;
    float d3 = 1.0 - f.x - f.y;
    if (up > 0.5)
    {
        d1 = 1.0 - f.x;
        d2 = 1.0 - f.y;
        d3 = f.x + f.y - 1.0;
    }
    float edge = min(min(d1, d2), d3);
    vec2 cen = vec2(cell.x + (up > 0.5 ? 0.6667 : 0.3333), cell.y + (up > 0.5 ? 0.6667 : 0.3333));
    vec2 world = vec2(cen.x + cen.y * 0.5, cen.y * 0.8660254);
    float h = hash21(id);
    float wave = sin(length(world - vec2(2.0, 1.0)) * 0.9 - t * 1.6 + h * 1.5);
    vec3 col = vec3(0.5) + vec3(0.45) * cos(6.28318 * (0.12 * wave + h * 0.3 + t * 0.03 + vec3(0.0, 0.33, 0.67)));
    float on = step(0.6, fract(h * 13.0 + t * 0.12));
    col = mix(col, col.yzx * 0.5, on);
    col *= 0.65 + 0.35 * smoothstep(0.05, 0.3, edge);
    float inset = smoothstep(0.035, 0.06, edge);
    col = mix(vec3(0.12, 0.1, 0.16), col, inset);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
