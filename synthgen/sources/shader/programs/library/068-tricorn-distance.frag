// name: tricorn-distance
// tags: fractal, palette
// licence: MIT, written for synthgen
// description: Rotating tricorn (Mandelbar) rendered with distance-estimate glow and contour bands.

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float ang = t * 0.15;
    p = mat2(cos(ang), -sin(ang), sin(ang), cos(ang)) * p;
    float zoom = 1.3 + 0.5 * sin(t * 0.25);
    vec2 c = p * zoom + vec2(-0.3, 0.0) * sin(t * 0.2);

    vec2 z = vec2(0.0);
    float dr = 0.0;
    float n = 0.0;
    float escaped = 0.0;
    for (int i = 0; i < 70; i++)
    {
        dr = 2.0 * length(z) * dr + 1.0;
        z = vec2(z.x * z.x - z.y * z.y, -2.0 * z.x * z.y) + c;
        if (dot(z, z) > 1e4)
        {
            escaped = 1.0;
            break;
        }
        n += 1.0;
    }
    vec3 col;
    if (escaped > 0.5)
    {
        float r = length(z);
        float de = 0.5 * r * log(max(r, 1.0001)) / max(dr, 1e-6);
        float d = clamp(de / zoom * 8.0, 0.0, 1.0);
        float bands = 0.5 + 0.5 * cos(log(max(de, 1e-6)) * 3.0 - t * 1.5);
        vec3 a = vec3(0.1, 0.75, 0.85);
        vec3 b = vec3(0.95, 0.45, 0.15);
        col = mix(a, b, bands);
        col *= 0.25 + 0.75 * pow(d, 0.3);
        col += vec3(0.9, 0.9, 1.0) * exp(-d * 40.0) * 0.3;
    }
    else
    {
        col = vec3(0.15, 0.2, 0.35) + vec3(0.1, 0.05, 0.2) * cos(length(z) * 20.0 + vec3(0.0, 2.0, 4.0));
    }
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
