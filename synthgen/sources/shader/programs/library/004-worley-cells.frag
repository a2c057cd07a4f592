// name: worley-cells
// tags: starter, voronoi, worley, palette
// licence: MIT, written for synthgen
// description: Animated Worley cells with per-cell palette colours, shaded by F1 and outlined by F2-F1.

vec2 hash22(vec2 p)
{
    vec3 q = fract(vec3(p.xyx) * vec3(0.1031, 0.1030, 0.0973));
    q += dot(q, q.yzx + 33.33);
    return fract((q.xx + q.yz) * q.zy);
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    p = p * 3.5 + vec2(iTime * 0.2, iTime * 0.1);
    vec2 cell = floor(p);
    vec2 f = fract(p);

    float d1 = 8.0;
    float d2 = 8.0;
    vec2 id1 = vec2(0.0);
    for (int j = -1; j <= 1; j++)
    {
        for (int i = -1; i <= 1; i++)
        {
            vec2 g = vec2(float(i), float(j));
            vec2 h = hash22(cell + g);
            vec2 o = 0.5 + 0.45 * sin(iTime * 0.9 + 6.28318 * h);
            float d = length(g + o - f);
            if (d < d1)
            {
                d2 = d1;
                d1 = d;
                id1 = cell + g;
            }
            else if (d < d2)
            {
                d2 = d;
            }
        }
    }

    float k = hash22(id1 + 17.0).x;
    vec3 base = vec3(0.5) + vec3(0.5) * cos(6.28318 * (k + iTime * 0.05 + vec3(0.0, 0.3, 0.6)));
    vec3 col = base * (1.1 - 0.7 * d1);
    col += 0.15 * sin(d1 * 30.0 - iTime * 3.0);
    float edge = smoothstep(0.0, 0.08, d2 - d1);
    col = mix(vec3(0.1, 0.08, 0.15), col, edge);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
