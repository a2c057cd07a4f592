// name: julia-orbit
// tags: starter, fractal, julia, palette
// licence: MIT, written for synthgen
// description: Julia set whose constant travels around the main cardioid, smooth-coloured with an orbit trap.

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime * 0.3;
    float ca = t + 0.6;
    vec2 c = 0.5 * vec2(cos(ca), sin(ca)) - 0.25 * vec2(cos(2.0 * ca), sin(2.0 * ca));
    c *= 1.02;

    vec2 z = p * 1.35;
    float trap = 10.0;
    float n = 0.0;
    float escaped = 0.0;
    for (int i = 0; i < 80; i++)
    {
        z = vec2(z.x * z.x - z.y * z.y, 2.0 * z.x * z.y) + c;
        float m2 = dot(z, z);
        trap = min(trap, abs(length(z - vec2(0.2, 0.0)) - 0.5));
        if (m2 > 64.0)
        {
            escaped = 1.0;
            break;
        }
        n += 1.0;
    }

    vec3 col;
    if (escaped > 0.5)
    {
        float sn = n - log2(log2(dot(z, z))) + 4.0;
        float v = sqrt(sn / 80.0);
        col = vec3(0.5) + vec3(0.5) * cos(6.28318 * (v * 2.5 + iTime * 0.05 + vec3(0.0, 0.15, 0.3)));
        col *= 0.35 + 0.65 * clamp(v * 2.0, 0.0, 1.0);
    }
    else
    {
        col = vec3(0.5) + vec3(0.5) * cos(6.28318 * (trap * 1.5 + vec3(0.6, 0.7, 0.9)));
        col *= 0.5;
    }
    col += vec3(0.9, 0.6, 0.3) * exp(-trap * 14.0) * 0.5;
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
