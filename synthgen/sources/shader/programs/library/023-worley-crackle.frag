// name: worley-crackle
// tags: worley, voronoi, texture
// licence: MIT, written for synthgen
// description: Dried-mud plates from two scales of Worley F2-F1 cracks that widen over time, with domed plate shading.

vec2 hash22(vec2 p)
{
    vec3 a = fract(p.xyx * vec3(331.17, 191.53, 277.41));
    a += dot(a, a + 21.93);
    return fract(vec2(a.x * a.y, a.y * a.z));
}

vec4 worley(vec2 p)
{
    vec2 c = floor(p);
    vec2 f = fract(p);
    float d1 = 9.0;
    float d2 = 9.0;
    vec2 id = vec2(0.0);
    for (int j = -1; j <= 1; j++)
    {
        for (int i = -1; i <= 1; i++)
        {
            vec2 g = vec2(float(i), float(j));
            vec2 o = 0.1 + 0.8 * hash22(c + g);
            vec2 r = g + o - f;
            float d = dot(r, r);
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
    d1 = sqrt(d1);
    d2 = sqrt(d2);
    return vec4(d1, d2, id);
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 q = p * 3.2 + vec2(t * 0.18, t * 0.07);
    vec4 w = worley(q);
    float k = hash22(w.zw + 3.1).x;
    float width = 0.02 + 0.05 * (0.5 + 0.5 * sin(t * 0.5));
    float crack = smoothstep(width, width + 0.05, w.y - w.x);
    vec4 w2 = worley(q * 2.7 + 11.0);
    float crack2 = smoothstep(0.0, 0.04, w2.y - w2.x);

    vec3 clay = mix(vec3(0.72, 0.52, 0.34), vec3(0.88, 0.74, 0.52), k);
    clay = mix(clay, vec3(0.60, 0.36, 0.24), hash22(w.zw).y * 0.5);
    float dome = 1.0 - 0.55 * w.x * w.x;
    vec3 col = clay * dome;
    col *= 0.8 + 0.2 * crack2;
    col *= 0.9 + 0.1 * smoothstep(0.0, 0.25, w.y - w.x);
    col = mix(vec3(0.13, 0.08, 0.06), col, crack);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
