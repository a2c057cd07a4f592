// name: kleinian-strip
// tags: fractal, kleinian, tiling
// licence: MIT, written for synthgen
// description: Limit set of a parabolic group built from a period-2 shift, a unit-circle inversion and a twisting reflection.

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.y, iResolution.x);
    float t = iTime;
    float k = 1.92 + 0.06 * sin(t * 0.5);
    float shear = 0.3 * sin(t * 0.21);
    vec2 z = p * 1.1 + vec2(t * 0.15, 1.0);
    float n = 0.0;
    float flips = 0.0;
    float dmin = 1e3;
    for (int i = 0; i < 60; i++)
    {
        z.x = z.x - shear * (z.y - 0.5 * k);
        z.x = z.x - 2.0 * floor(0.5 * z.x + 0.5);
        z.x = z.x + shear * (z.y - 0.5 * k);
        if (z.y > 0.5 * k)
        {
            z = vec2(-z.x, k - z.y);
            flips += 1.0;
        }
        float m2 = dot(z, z);
        if (m2 < 1.0)
        {
            z = vec2(z.x, -z.y) / max(m2, 1e-8);
            z.y = -z.y;
            n += 1.0;
        }
        else if (z.y >= 0.0 && z.y <= k)
        {
            dmin = min(dmin, abs(m2 - 1.0));
            if (i > 8) break;
        }
        if (z.y < -0.1) z.y = -z.y;
    }
    vec3 col = vec3(0.5) + vec3(0.45) * cos(6.28318 * (n * 0.045 + vec3(0.6, 0.75, 0.95) + t * 0.02));
    col = mix(col, col.bgr, mod(flips, 2.0) * 0.5);
    col *= 0.55 + 0.45 * smoothstep(0.0, 0.4, dmin);
    col += vec3(0.25, 0.2, 0.1) * cos(z.y * 6.0 + t);
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
