// name: turing-pattern
// tags: starter, reaction-diffusion, waves, palette
// licence: MIT, written for synthgen
// description: Reaction-diffusion-like labyrinths and spots from thresholded band-limited wave noise.

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float k = 22.0;
    float s = 0.0;
    for (int i = 0; i < 12; i++)
    {
        float fi = float(i);
        float a = fi * 2.39996 + 0.05 * t * sin(fi * 1.7);
        vec2 dir = vec2(cos(a), sin(a));
        s += cos(dot(p, dir) * k + fi * 1.3 + t * 0.35 * sin(fi * 3.1));
    }
    s /= 3.4;

    float bias = 0.55 * sin(p.x * 1.3 + t * 0.4) * cos(p.y * 1.1 - t * 0.3);
    float v = smoothstep(-0.12, 0.12, s + bias);

    float hue = 0.15 * p.x + 0.1 * p.y + t * 0.04;
    vec3 a = vec3(0.5) + vec3(0.45) * cos(6.28318 * (hue + vec3(0.0, 0.33, 0.67)));
    vec3 b = vec3(0.5) + vec3(0.4) * cos(6.28318 * (hue + 0.45 + vec3(0.2, 0.1, 0.0)));
    vec3 col = mix(a * 0.35, b, v);
    col *= 0.85 + 0.15 * clamp(abs(s + bias) * 2.0, 0.0, 1.0);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
