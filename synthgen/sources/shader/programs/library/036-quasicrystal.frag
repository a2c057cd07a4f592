// name: quasicrystal
// tags: waves, tiling, palette, pattern
// licence: MIT, written for synthgen
// description: Seven summed plane waves at equal angles forming a quasi-periodic crystal whose phases drift.

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float zoom = 26.0 + 6.0 * sin(t * 0.15);
    vec2 q = p * zoom;
    float s = 0.0;
    for (int k = 0; k < 7; k++)
    {
        float fk = float(k);
        float a = fk * 3.14159265 / 7.0 + t * 0.02;
        s += cos(dot(q + vec2(13.1, 7.7), vec2(cos(a), sin(a))) + fk * 1.9 + t * (0.4 + 0.13 * fk));
    }
    s /= 7.0;
    float v = s * 3.0;
    vec3 col = vec3(0.5) + vec3(0.47) * cos(6.28318 * (v * 0.35 + vec3(0.0, 0.2, 0.45) + t * 0.03));
    float bands = 0.5 + 0.5 * cos(v * 6.28318);
    col *= 0.5 + 0.5 * bands;
    col += 0.25 * smoothstep(0.55, 0.9, s) * vec3(1.0, 0.9, 0.7);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
