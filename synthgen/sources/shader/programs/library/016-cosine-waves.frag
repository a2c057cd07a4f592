// name: cosine-waves
// tags: starter, palette, waves
// licence: MIT, written for synthgen
// description: Layered undulating bands, each filled from a cosine palette with moving highlights.

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float y = p.y * 1.2;
    for (int i = 0; i < 5; i++)
    {
        float fi = float(i);
        y += 0.12 * sin(p.x * (1.3 + fi * 0.9) + t * (0.5 + 0.23 * fi) + fi * 1.7);
    }
    float bands = y * 5.0 + t * 0.4;
    float id = floor(bands);
    float f = fract(bands);

    vec3 col = vec3(0.55, 0.5, 0.5) + vec3(0.45, 0.4, 0.45) * cos(6.28318 * (id * 0.137 + t * 0.03 + vec3(0.0, 0.1, 0.2) + vec3(0.3, 0.2, 0.2) * id));
    col *= 0.55 + 0.45 * smoothstep(0.0, 0.5, f) * smoothstep(1.0, 0.75, f);
    float sheen = 0.5 + 0.5 * sin(p.x * 6.0 - t * 2.0 + id * 2.0);
    col += 0.2 * sheen * smoothstep(0.5, 0.7, f) * smoothstep(0.95, 0.7, f);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
