// name: voronoi-neon
// tags: voronoi, palette, pattern
// licence: MIT, written for synthgen
// description: Exact Voronoi border distances drawn as glowing neon tubes over dim cells tinted by their seeds.

vec2 hash22(vec2 p)
{
    vec3 a = fract(p.xyx * vec3(271.13, 103.91, 337.57));
    a += dot(a, a + 33.71);
    return fract(vec2(a.x * a.y, a.y * a.z));
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 q = p * 2.6 + vec2(t * 0.1, -t * 0.05);
    vec2 c = floor(q);
    vec2 f = fract(q);
    vec2 mr = vec2(0.0);
    vec2 mg = vec2(0.0);
    float md = 9.0;
    for (int j = -1; j <= 1; j++)
    {
        for (int i = -1; i <= 1; i++)
        {
            vec2 g = vec2(float(i), float(j));
            vec2 o = 0.5 + 0.45 * sin(t * 0.7 + 6.28318 * hash22(c + g));
            vec2 r = g + o - f;
            float d = dot(r, r);
            if (d < md)
            {
                md = d;
                mr = r;
                mg = g;
            }
        }
    }
    float bd = 9.0;
    for (int j = -2; j <= 2; j++)
    {
        for (int i = -2; i <= 2; i++)
        {
            vec2 g = mg + vec2(float(i), float(j));
            vec2 o = 0.5 + 0.45 * sin(t * 0.7 + 6.28318 * hash22(c + g));
            vec2 r = g + o - f;
            vec2 dr = r - mr;
            float l2 = dot(dr, dr);
            if (l2 > 1e-5)
            {
                bd = min(bd, dot(0.5 * (mr + r), dr / sqrt(l2)));
            }
        }
    }
    vec2 cid = c + mg;
    float k = hash22(cid + 5.0).x;
    vec3 cellc = vec3(0.5) + vec3(0.4) * cos(6.28318 * (k + vec3(0.0, 0.33, 0.67)));
    vec3 neon = vec3(0.5) + vec3(0.5) * cos(6.28318 * (p.x * 0.15 + p.y * 0.1 + t * 0.08 + vec3(0.55, 0.75, 0.0)));
    vec3 col = cellc * (0.12 + 0.18 * sqrt(md));
    col += neon * exp(-bd * 14.0) * 0.9;
    col = mix(col, vec3(0.97, 0.95, 1.0), smoothstep(0.025, 0.0, bd));
    col += cellc * 0.25 * smoothstep(0.06, 0.0, sqrt(md));
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
