// name: value-cutout
// tags: value-noise, palette, pattern
// licence: MIT, written for synthgen
// description: Stacked paper-cutout layers, each a thresholded value-noise sheet casting a soft shadow on the ones below.

float hash21(vec2 p)
{
    p = fract(p * vec2(213.97, 97.13));
    p += dot(p, p + 41.71);
    return fract(p.x * p.y);
}

float vnoise(vec2 p)
{
    vec2 i = floor(p);
    vec2 f = fract(p);
    vec2 u = f * f * (3.0 - 2.0 * f);
    return mix(mix(hash21(i), hash21(i + vec2(1.0, 0.0)), u.x),
               mix(hash21(i + vec2(0.0, 1.0)), hash21(i + vec2(1.0, 1.0)), u.x), u.y);
}

float sheet(vec2 p)
{
    return 0.68 * vnoise(p) + 0.32 * vnoise(mat2(1.9, 1.2, -1.2, 1.9) * p + 7.7);
}

vec3 pal(float x)
{
    return vec3(0.55, 0.5, 0.5) + vec3(0.42, 0.4, 0.45) * cos(6.28318 * (x + vec3(0.05, 0.25, 0.55)));
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec3 col = pal(0.9 + t * 0.02) * 0.6;
    vec2 sh = vec2(0.035, -0.05);
    for (int i = 0; i < 6; i++)
    {
        float fi = float(i);
        float ang = fi * 2.4;
        vec2 drift = vec2(cos(ang), sin(ang)) * t * (0.06 + 0.02 * fi);
        float sc = 1.1 + 0.45 * fi;
        vec2 off = vec2(fi * 13.7, fi * 5.3) + drift;
        float thr = 0.40 + 0.045 * fi + 0.03 * sin(t * 0.6 + fi);
        float n = sheet(p * sc + off);
        float ns = sheet((p - sh) * sc + off);
        float m = smoothstep(thr, thr + 0.012, n);
        float s = smoothstep(thr - 0.06, thr + 0.06, ns);
        col *= 1.0 - 0.45 * s * (1.0 - m);
        vec3 lc = pal(fi * 0.17 + t * 0.03);
        lc *= 0.85 + 0.15 * smoothstep(thr, thr + 0.2, n);
        col = mix(col, lc, m);
    }
    float grain = hash21(floor(fragCoord)) - 0.5;
    col += grain * 0.03;
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
