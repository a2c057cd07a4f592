// name: camo-woodland
// tags: noise, value-noise, fbm, pattern
// licence: MIT, written for synthgen
// description: Four-colour camouflage from thresholded fbm layers whose colour scheme cycles through woodland, desert, arctic and ocean.

float hash21(vec2 p)
{
    p = fract(p * vec2(173.91, 269.37));
    p += dot(p, p + 25.17);
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

float fbm(vec2 p)
{
    float s = 0.0;
    float a = 0.55;
    for (int i = 0; i < 4; i++)
    {
        s += a * vnoise(p);
        p = mat2(1.6, 1.2, -1.2, 1.6) * p + 1.7;
        a *= 0.5;
    }
    return s;
}

vec3 scheme(float s, int k)
{
    float i = mod(s, 4.0);
    vec3 a = vec3(0.0);
    if (k == 0) a = vec3(0.45, 0.50, 0.30);
    if (k == 1) a = vec3(0.30, 0.35, 0.18);
    if (k == 2) a = vec3(0.48, 0.36, 0.22);
    if (k == 3) a = vec3(0.12, 0.12, 0.08);
    vec3 b = vec3(0.0);
    if (k == 0) b = vec3(0.85, 0.75, 0.55);
    if (k == 1) b = vec3(0.70, 0.55, 0.38);
    if (k == 2) b = vec3(0.55, 0.45, 0.32);
    if (k == 3) b = vec3(0.35, 0.28, 0.20);
    vec3 c = vec3(0.0);
    if (k == 0) c = vec3(0.92, 0.93, 0.95);
    if (k == 1) c = vec3(0.70, 0.73, 0.78);
    if (k == 2) c = vec3(0.45, 0.48, 0.55);
    if (k == 3) c = vec3(0.20, 0.22, 0.26);
    vec3 d = vec3(0.0);
    if (k == 0) d = vec3(0.40, 0.55, 0.75);
    if (k == 1) d = vec3(0.20, 0.32, 0.55);
    if (k == 2) d = vec3(0.10, 0.18, 0.35);
    if (k == 3) d = vec3(0.05, 0.08, 0.15);
    if (i < 1.0) return mix(a, b, i);
    if (i < 2.0) return mix(b, c, i - 1.0);
    if (i < 3.0) return mix(c, d, i - 2.0);
    return mix(d, a, i - 3.0);
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 q = p * 2.2 + vec2(t * 0.12, t * 0.04);
    float n1 = fbm(q);
    float n2 = fbm(q * 1.3 + 11.0);
    float n3 = fbm(q * 1.9 - 5.0);
    int k = 0;
    if (n1 > 0.52) k = 1;
    if (n2 > 0.55) k = 2;
    if (n3 > 0.58 && n1 < 0.6) k = 3;
    float s = t * 0.3;
    vec3 col = scheme(s, k);
    col *= 0.93 + 0.07 * vnoise(p * 60.0);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
