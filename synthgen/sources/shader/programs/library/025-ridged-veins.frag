// name: ridged-veins
// tags: ridged, fbm, gradient-noise, palette
// licence: MIT, written for synthgen
// description: Ridged multifractal gradient noise glowing like a network of luminous veins over dark tissue.

float hash21(vec2 p)
{
    p = fract(p * vec2(317.71, 149.23));
    p += dot(p, p + 37.19);
    return fract(p.x * p.y);
}

float gnoise(vec2 p)
{
    vec2 i = floor(p);
    vec2 f = fract(p);
    vec2 u = f * f * (3.0 - 2.0 * f);
    float a0 = 6.28318 * hash21(i);
    float a1 = 6.28318 * hash21(i + vec2(1.0, 0.0));
    float a2 = 6.28318 * hash21(i + vec2(0.0, 1.0));
    float a3 = 6.28318 * hash21(i + vec2(1.0, 1.0));
    float a = dot(vec2(cos(a0), sin(a0)), f);
    float b = dot(vec2(cos(a1), sin(a1)), f - vec2(1.0, 0.0));
    float c = dot(vec2(cos(a2), sin(a2)), f - vec2(0.0, 1.0));
    float d = dot(vec2(cos(a3), sin(a3)), f - vec2(1.0, 1.0));
    return mix(mix(a, b, u.x), mix(c, d, u.x), u.y);
}

float ridged(vec2 p, float t)
{
    float s = 0.0;
    float amp = 0.55;
    float prev = 1.0;
    mat2 m = mat2(1.6, 1.2, -1.2, 1.6);
    for (int i = 0; i < 5; i++)
    {
        float n = 1.0 - abs(gnoise(p + vec2(0.0, t * 0.15)) * 1.6);
        n = n * n;
        s += amp * n * prev;
        prev = clamp(n * 1.4, 0.0, 1.0);
        p = m * p + vec2(1.7, 9.2);
        amp *= 0.5;
    }
    return s;
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 q = p * 1.5;
    q += 0.3 * vec2(gnoise(q * 0.7 + t * 0.1), gnoise(q * 0.7 + 5.0 - t * 0.1));
    float r = ridged(q, t);
    float v = smoothstep(0.25, 1.0, r);
    vec3 hue = vec3(0.55) + vec3(0.45) * cos(6.28318 * (r * 0.6 + p.x * 0.1 + t * 0.05 + vec3(0.6, 0.85, 0.1)));
    vec3 base = vec3(0.10, 0.04, 0.14) + vec3(0.12, 0.05, 0.10) * r;
    vec3 col = base + hue * v * 1.1 + vec3(0.5, 0.45, 0.4) * pow(v, 6.0);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
