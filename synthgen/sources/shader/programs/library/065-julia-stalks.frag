// name: julia-stalks
// tags: fractal, julia, orbit-trap
// licence: MIT, written for synthgen
// description: Julia set with Pickover stalk traps glowing along the axes while the constant drifts near the dendrite.

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 c = vec2(-0.75 + 0.08 * sin(t * 0.37), 0.12 + 0.1 * cos(t * 0.29));
    vec2 z = p * (1.1 + 0.25 * sin(t * 0.2));
    float sx = 1e3;
    float sy = 1e3;
    float n = 0.0;
    float escaped = 0.0;
    for (int i = 0; i < 90; i++)
    {
        z = vec2(z.x * z.x - z.y * z.y, 2.0 * z.x * z.y) + c;
        if (dot(z, z) > 100.0)
        {
            escaped = 1.0;
            break;
        }
        sx = min(sx, abs(z.x));
        sy = min(sy, abs(z.y));
        n += 1.0;
    }
    float gx = exp(-30.0 * sx);
    float gy = exp(-30.0 * sy);
    float sn = n;
    if (escaped > 0.5) sn = n - log2(max(log2(max(dot(z, z), 1.0001)), 1e-4));
    float v = clamp(sn / 60.0, 0.0, 1.0);
    vec3 bg = mix(vec3(0.05, 0.07, 0.25), vec3(0.2, 0.5, 0.6), sqrt(v));
    vec3 col = bg;
    col += vec3(1.0, 0.45, 0.1) * gx * 0.9;
    col += vec3(0.85, 0.2, 0.8) * gy * 0.8;
    col += vec3(0.3, 0.3, 0.1) * sin(sn * 0.6 + t) * 0.3;
    if (escaped < 0.5) col = mix(col, vec3(0.25, 0.12, 0.3), 0.5);
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
