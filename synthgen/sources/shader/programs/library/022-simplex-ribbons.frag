// name: simplex-ribbons
// tags: simplex, noise, palette, flow
// licence: MIT, written for synthgen
// description: Glowing ribbons traced along the zero sets of five drifting simplex-noise layers over a dusk gradient.

vec2 hash22(vec2 p)
{
    vec3 a = fract(p.xyx * vec3(213.31, 151.73, 417.91));
    a += dot(a, a + 29.17);
    return fract(vec2(a.x * a.y, a.y * a.z)) * 2.0 - 1.0;
}

float snoise(vec2 p)
{
    const float K1 = 0.366025404;
    const float K2 = 0.211324865;
    vec2 i = floor(p + (p.x + p.y) * K1);
    vec2 a = p - i + (i.x + i.y) * K2;
    vec2 o = (a.x > a.y) ? vec2(1.0, 0.0) : vec2(0.0, 1.0);
    vec2 b = a - o + K2;
    vec2 c = a - 1.0 + 2.0 * K2;
    vec3 h = max(0.5 - vec3(dot(a, a), dot(b, b), dot(c, c)), 0.0);
    vec3 n = h * h * h * h * vec3(dot(a, hash22(i)), dot(b, hash22(i + o)), dot(c, hash22(i + 1.0)));
    return dot(n, vec3(70.0));
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec3 col = mix(vec3(0.06, 0.05, 0.18), vec3(0.35, 0.12, 0.30), 0.5 + 0.5 * p.y);
    col += vec3(0.05, 0.03, 0.0) * snoise(p * 3.0 + t * 0.1);
    for (int i = 0; i < 5; i++)
    {
        float fi = float(i);
        vec2 q = p * (0.9 + 0.25 * fi) + vec2(fi * 5.2, fi * 1.7);
        q += vec2(t * 0.07 * (fi + 1.0), -t * 0.05);
        float n = snoise(q) + 0.4 * snoise(q * 2.2 + vec2(0.0, t * 0.3));
        float w = max(fwidth(n), 1e-4);
        float core = 1.0 - smoothstep(0.02, 0.02 + 2.0 * w, abs(n));
        float glow = exp(-abs(n) * 9.0);
        vec3 rc = vec3(0.55) + vec3(0.45) * cos(6.28318 * (fi * 0.21 + t * 0.03 + vec3(0.0, 0.33, 0.67)));
        col = mix(col, rc * 0.5, glow * 0.35);
        col = mix(col, rc, core * 0.9);
    }
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
