// name: paper-layers
// tags: sdf, pattern, palette
// licence: MIT, written for synthgen
// description: Stacked paper-cut layers with wavy edges, each casting a soft drop shadow on the layer beneath.

float layerField(vec2 p, float k, float t)
{
    float r = length(p);
    float a = atan(p.y, abs(p.x) < 1e-9 ? 1e-9 : p.x);
    float w = 0.08 * sin(a * (3.0 + k) + t * (0.4 + 0.1 * k) + k * 1.7)
            + 0.05 * sin(p.x * 4.0 + k * 2.0 - t * 0.5)
            + 0.04 * sin(p.y * 5.0 + t * 0.3 + k);
    return r + w - (1.55 - 0.2 * k);
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 c = vec2(0.25 * sin(t * 0.2), 0.15 * cos(t * 0.27));
    vec2 shadowOff = vec2(0.035, -0.045);
    vec3 col = vec3(0.2, 0.15, 0.3);
    for (int i = 0; i < 7; i++)
    {
        float k = float(i);
        vec2 q = p - c * (k / 7.0);
        float d = layerField(q, k, t);
        float ds = layerField(q - shadowOff, k, t);
        float sh = smoothstep(0.08, -0.02, ds);
        col *= 1.0 - 0.45 * sh;
        vec3 lc = vec3(0.55, 0.5, 0.5) + vec3(0.42, 0.4, 0.4) * cos(6.28318 * (k * 0.11 + vec3(0.95, 0.1, 0.3) + t * 0.02));
        lc *= 0.9 + 0.1 * cos((p.x + p.y) * 120.0 + k);
        col = mix(col, lc, smoothstep(0.005, -0.005, d));
    }
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
