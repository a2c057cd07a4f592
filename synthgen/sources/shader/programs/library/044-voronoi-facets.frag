// name: voronoi-facets
// tags: voronoi, worley, pattern
// licence: MIT, written for synthgen
// description: Voronoi under a morphing Manhattan-to-Chebyshev metric, each cell lit as a faceted pyramid like cut gems.

vec3 hash32(vec2 p)
{
    vec3 a = fract(p.xyx * vec3(293.71, 137.19, 211.43));
    a += dot(a, a.yzx + 23.23);
    return fract(vec3(a.x * a.y, a.y * a.z, a.z * a.x));
}

float metric(vec2 r, float m)
{
    vec2 a = abs(r);
    return mix(a.x + a.y, max(a.x, a.y) * 1.4, m);
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float m = 0.5 + 0.5 * sin(t * 0.5);
    vec2 q = p * 3.0 + vec2(t * 0.1, 0.0);
    vec2 c = floor(q);
    vec2 f = fract(q);
    float d1 = 9.0;
    float d2 = 9.0;
    vec2 rel = vec2(0.0);
    vec3 hid = vec3(0.0);
    for (int j = -2; j <= 2; j++)
    {
        for (int i = -2; i <= 2; i++)
        {
            vec2 g = vec2(float(i), float(j));
            vec3 h = hash32(c + g);
            vec2 o = 0.5 + 0.4 * sin(t * 0.5 + 6.28318 * h.xy);
            vec2 r = g + o - f;
            float d = metric(r, m);
            if (d < d1)
            {
                d2 = d1;
                d1 = d;
                rel = r;
                hid = h;
            }
            else if (d < d2)
            {
                d2 = d;
            }
        }
    }
    vec2 sgn = vec2(rel.x >= 0.0 ? 1.0 : -1.0, rel.y >= 0.0 ? 1.0 : -1.0);
    vec2 a = abs(rel);
    vec2 facet = mix(sgn, (a.x > a.y) ? vec2(sgn.x, 0.0) : vec2(0.0, sgn.y), m);
    vec3 n = normalize(vec3(-facet, 1.2));
    vec3 lig = normalize(vec3(cos(t * 0.4), sin(t * 0.4), 0.9));
    float dif = clamp(dot(n, lig), 0.0, 1.0);
    vec3 base = vec3(0.5) + vec3(0.45) * cos(6.28318 * (hid.z * 0.7 + vec3(0.0, 0.33, 0.67)));
    vec3 col = base * (0.25 + 0.85 * dif);
    col = mix(vec3(0.08, 0.07, 0.1), col, smoothstep(0.0, 0.05, d2 - d1));
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
