// name: biomorph
// tags: fractal, julia, palette
// licence: MIT, written for synthgen
// description: Pickover biomorphs of z^3+c, where escape in only one coordinate leaves cell-like creatures on a banded ground.

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 c = vec2(0.5 + 0.12 * sin(t * 0.3), 0.1 * cos(t * 0.41));
    vec2 z = p * (1.6 + 0.2 * sin(t * 0.19));
    float n = 0.0;
    for (int i = 0; i < 40; i++)
    {
        vec2 z2 = vec2(z.x * z.x - z.y * z.y, 2.0 * z.x * z.y);
        z = vec2(z2.x * z.x - z2.y * z.y, z2.x * z.y + z2.y * z.x) + c;
        if (abs(z.x) > 10.0 || abs(z.y) > 10.0 || dot(z, z) > 100.0) break;
        n += 1.0;
    }
    bool body = abs(z.x) < 10.0 || abs(z.y) < 10.0;
    float bx = clamp(abs(z.x) / 10.0, 0.0, 1.0);
    float by = clamp(abs(z.y) / 10.0, 0.0, 1.0);
    vec3 col;
    if (body)
    {
        float m = min(bx, by);
        col = mix(vec3(0.95, 0.75, 0.3), vec3(0.6, 0.15, 0.25), m);
        col = mix(col, vec3(0.2, 0.55, 0.35), step(by, bx) * 0.6);
        col *= 0.7 + 0.3 * cos(m * 25.0 - t * 2.0);
    }
    else
    {
        col = vec3(0.15, 0.3, 0.45) + vec3(0.15, 0.12, 0.1) * cos(n * 1.7 + vec3(0.0, 1.0, 2.0) + t * 0.5);
    }
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
