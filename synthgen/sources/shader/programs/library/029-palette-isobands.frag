// name: palette-isobands
// tags: palette, waves, pattern
// licence: MIT, written for synthgen
// description: Iso-bands of a moving metaball field, every band coloured from a drifting cosine palette with bevelled edges.

vec3 pal(float x, float t)
{
    vec3 a = vec3(0.5, 0.5, 0.5);
    vec3 b = vec3(0.45, 0.42, 0.45);
    vec3 c = vec3(1.0, 1.0, 0.5 + 0.5 * sin(t * 0.2));
    vec3 d = vec3(0.8, 0.9, 0.3);
    return a + b * cos(6.28318 * (c * x + d));
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float f = 0.0;
    for (int i = 0; i < 7; i++)
    {
        float fi = float(i);
        vec2 c = vec2(sin(t * (0.31 + 0.07 * fi) + fi * 1.9) * 1.4, cos(t * (0.23 + 0.05 * fi) + fi * 2.7) * 0.9);
        float w = (mod(fi, 3.0) < 0.5) ? -0.6 : 1.0;
        vec2 d = p - c;
        f += w * 0.25 / (dot(d, d) + 0.08);
    }
    float v = f * 1.6 + 0.6 * p.x + 0.3 * sin(p.y * 2.0 + t * 0.5);
    float band = floor(v);
    float fr = fract(v);
    vec3 col = pal(band * 0.13, t);
    col *= 0.7 + 0.3 * fr;
    float w = max(fwidth(v), 1e-4);
    col *= 0.55 + 0.45 * smoothstep(0.0, 2.0 * w, fr);
    col = mix(col, vec3(0.95), 0.25 * smoothstep(1.0 - 2.0 * w, 1.0, fr));
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
