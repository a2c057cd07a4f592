// name: metaball-field
// tags: metaballs, sdf, palette
// licence: MIT, written for synthgen
// description: Ten orbiting 2D metaballs whose summed field is drawn as coloured iso-bands with each ball tinting its neighbourhood.

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float field = 0.0;
    vec3 tint = vec3(0.0);
    float wsum = 0.0;
    for (int i = 0; i < 10; i++)
    {
        float fi = float(i);
        vec2 c = vec2(sin(t * (0.3 + 0.07 * fi) + fi * 1.9), cos(t * (0.25 + 0.05 * fi) + fi * 2.7)) * vec2(1.2, 0.85);
        float r = 0.16 + 0.08 * sin(fi * 3.3 + t * 0.5);
        vec2 d = p - c;
        float f = r * r / (dot(d, d) + 1e-3);
        field += f;
        vec3 bc = vec3(0.5) + vec3(0.5) * cos(6.28318 * (fi * 0.13 + vec3(0.0, 0.33, 0.67)));
        tint += bc * f * f;
        wsum += f * f;
    }
    tint /= max(wsum, 1e-5);
    float lf = log(max(field, 1e-4));
    float band = fract(lf * 2.5 - t * 0.3);
    vec3 col = tint * (0.4 + 0.6 * smoothstep(0.0, 0.15, band) * smoothstep(1.0, 0.85, band));
    float inside = smoothstep(0.95, 1.05, field);
    vec3 blob = mix(tint, vec3(0.97, 0.95, 0.9), 0.25 * smoothstep(1.0, 3.0, field));
    col = mix(col * 0.8, blob, inside);
    col = mix(col, vec3(0.08, 0.05, 0.12), smoothstep(0.03, 0.0, abs(field - 1.0)) * 0.8);
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
