// name: sine-julia
// tags: fractal, julia, palette
// licence: MIT, written for synthgen
// description: Transcendental Julia set of c*sin(z) with banded escape in the imaginary direction and a wandering constant.

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 c = vec2(1.0 + 0.15 * sin(t * 0.31), 0.4 + 0.15 * cos(t * 0.23));
    vec2 z = p * 2.4 + vec2(t * 0.1, 0.0);
    float n = 0.0;
    float escaped = 0.0;
    float trap = 1e3;
    for (int i = 0; i < 50; i++)
    {
        float ey = exp(z.y);
        float eny = 1.0 / ey;
        float ch = 0.5 * (ey + eny);
        float sh = 0.5 * (ey - eny);
        vec2 s = vec2(sin(z.x) * ch, cos(z.x) * sh);
        z = vec2(c.x * s.x - c.y * s.y, c.x * s.y + c.y * s.x);
        trap = min(trap, abs(z.x));
        if (abs(z.y) > 40.0)
        {
            escaped = 1.0;
            break;
        }
        n += 1.0;
    }
    vec3 col;
    if (escaped > 0.5)
    {
        float sn = n + 1.0 - log2(max(log(abs(z.y)), 1e-4) / log(40.0) + 1e-4) * 0.5;
        col = vec3(0.5, 0.45, 0.55) + vec3(0.45, 0.45, 0.4) * cos(6.28318 * (sn * 0.09 + vec3(0.15, 0.35, 0.65) + t * 0.03));
        col *= 0.4 + 0.6 * smoothstep(0.0, 6.0, sn);
    }
    else
    {
        col = vec3(0.1, 0.25, 0.2) + vec3(0.4, 0.5, 0.2) * exp(-3.0 * trap);
    }
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
