// name: voronoi-smooth
// tags: voronoi, worley, palette, noise
// licence: MIT, written for synthgen
// description: Smooth Voronoi with exponentially blended seed colours, soft pillowy cells and terraced distance bands.

vec3 hash32(vec2 p)
{
    vec3 a = fract(p.xyx * vec3(181.71, 311.13, 227.37));
    a += dot(a, a.yzx + 27.27);
    return fract(vec3(a.x * a.y, a.y * a.z, a.z * a.x));
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 q = p * 2.3 + vec2(0.0, t * 0.12);
    vec2 c = floor(q);
    vec2 f = fract(q);
    float k = 9.0 + 3.5 * sin(t * 0.4);
    float wsum = 0.0;
    vec3 csum = vec3(0.0);
    for (int j = -1; j <= 1; j++)
    {
        for (int i = -1; i <= 1; i++)
        {
            vec2 g = vec2(float(i), float(j));
            vec3 h = hash32(c + g);
            vec2 o = 0.5 + 0.4 * sin(t * 0.6 + 6.28318 * h.xy);
            vec2 r = g + o - f;
            float w = exp(-k * length(r));
            wsum += w;
            csum += w * (vec3(0.5) + vec3(0.48) * cos(6.28318 * (h.z + vec3(0.0, 0.33, 0.67))));
        }
    }
    wsum = max(wsum, 1e-6);
    float sd = -log(wsum) / k;
    vec3 col = csum / wsum;
    float bands = fract(sd * 6.0 + 2.0);
    col *= 0.6 + 0.5 * smoothstep(-0.1, 0.6, sd + 0.3);
    col *= 0.65 + 0.35 * smoothstep(0.0, 0.12, bands);
    col += 0.12 * smoothstep(0.85, 1.0, bands);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
