// name: burning-ship
// tags: fractal, palette
// licence: MIT, written for synthgen
// description: Burning ship fractal panning between its hull and the small ships along the antenna, fire palette.

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float k = 0.5 - 0.5 * cos(t * 0.35);
    vec2 centre = mix(vec2(-0.45, -0.5), vec2(-1.755, -0.028), k);
    float scale = mix(1.2, 0.06, k);
    vec2 c = centre + vec2(p.x, -p.y) * scale;

    vec2 z = vec2(0.0);
    float n = 0.0;
    float escaped = 0.0;
    float trap = 1e3;
    for (int i = 0; i < 80; i++)
    {
        z = abs(z);
        z = vec2(z.x * z.x - z.y * z.y, 2.0 * z.x * z.y) + c;
        trap = min(trap, abs(z.x - z.y));
        if (dot(z, z) > 256.0)
        {
            escaped = 1.0;
            break;
        }
        n += 1.0;
    }
    vec3 col;
    if (escaped > 0.5)
    {
        float sn = n - log2(max(log2(max(dot(z, z), 1.0001)), 1e-4)) + 4.0;
        float v = sn * 0.06 + t * 0.05;
        float f = fract(v);
        col = vec3(0.5, 0.1, 0.05) + vec3(0.5, 0.45, 0.2) * vec3(smoothstep(0.0, 0.4, f), smoothstep(0.2, 0.7, f), smoothstep(0.5, 1.0, f)) * 1.6;
        col = mix(col, vec3(0.1, 0.15, 0.4), 0.5 - 0.5 * cos(v * 3.14159));
        col += vec3(0.2, 0.1, 0.0) * exp(-20.0 * trap);
    }
    else
    {
        col = vec3(0.25, 0.05, 0.1) + vec3(0.3, 0.2, 0.05) * exp(-3.0 * trap);
    }
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
