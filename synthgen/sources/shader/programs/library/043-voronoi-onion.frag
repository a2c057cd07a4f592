// name: voronoi-onion
// tags: voronoi, worley, rings, palette
// licence: MIT, written for synthgen
// description: Contours of the Worley F2-F1 field give each Voronoi cell concentric polygonal onion rings that slide inward.

vec2 hash22(vec2 p)
{
    vec3 a = fract(p.xyx * vec3(149.31, 263.17, 383.53));
    a += dot(a, a + 19.73);
    return fract(vec2(a.x * a.y, a.y * a.z));
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 q = p * 2.0 + vec2(t * 0.06, t * 0.03);
    vec2 c = floor(q);
    vec2 f = fract(q);
    float d1 = 9.0;
    float d2 = 9.0;
    vec2 id = vec2(0.0);
    for (int j = -1; j <= 1; j++)
    {
        for (int i = -1; i <= 1; i++)
        {
            vec2 g = vec2(float(i), float(j));
            vec2 o = 0.5 + 0.42 * sin(t * 0.3 + 6.28318 * hash22(c + g));
            float d = length(g + o - f);
            if (d < d1)
            {
                d2 = d1;
                d1 = d;
                id = c + g;
            }
            else if (d < d2)
            {
                d2 = d;
            }
        }
    }
    float e = d2 - d1;
    float k = hash22(id + 9.0).x;
    float v = e * 9.0 + t * 0.8;
    float ring = floor(v);
    vec3 col = vec3(0.5) + vec3(0.45) * cos(6.28318 * (k + ring * 0.09 + vec3(0.0, 0.33, 0.67)));
    float fr = fract(v);
    col *= 0.7 + 0.3 * fr;
    col *= 0.55 + 0.45 * smoothstep(0.0, 0.12, fr);
    col = mix(vec3(0.1, 0.08, 0.12), col, smoothstep(0.0, 0.04, e));
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
