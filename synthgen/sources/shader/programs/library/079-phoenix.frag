// name: phoenix
// tags: fractal, julia, palette
// licence: MIT, written for synthgen
// description: Phoenix fractal whose feedback of the previous orbit point is slowly modulated, coloured by smooth count and final angle.

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 c = vec2(0.5667, 0.0);
    vec2 q = vec2(-0.5 + 0.08 * sin(t * 0.35), 0.06 * cos(t * 0.27));
    vec2 z = vec2(p.y, -p.x) * 1.25;
    vec2 zp = vec2(0.0);
    float n = 0.0;
    float escaped = 0.0;
    for (int i = 0; i < 80; i++)
    {
        vec2 zn = vec2(z.x * z.x - z.y * z.y, 2.0 * z.x * z.y) + c + vec2(q.x * zp.x - q.y * zp.y, q.x * zp.y + q.y * zp.x);
        zp = z;
        z = zn;
        if (dot(z, z) > 64.0)
        {
            escaped = 1.0;
            break;
        }
        n += 1.0;
    }
    vec3 col;
    float ang = atan(z.y, abs(z.x) + abs(z.y) < 1e-12 ? 1.0 : z.x);
    if (escaped > 0.5)
    {
        float sn = n - log2(max(log2(max(dot(z, z), 1.0001)), 1e-4)) + 3.0;
        col = vec3(0.5) + vec3(0.45) * cos(6.28318 * (sn * 0.045 + vec3(0.55, 0.45, 0.3) + t * 0.03));
        col *= 0.75 + 0.25 * cos(ang * 2.0 + t);
        col *= 0.4 + 0.6 * smoothstep(0.0, 10.0, sn);
    }
    else
    {
        col = vec3(0.2, 0.15, 0.1) + vec3(0.25, 0.2, 0.1) * (0.5 + 0.5 * cos(ang * 4.0 + length(z) * 5.0));
    }
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
