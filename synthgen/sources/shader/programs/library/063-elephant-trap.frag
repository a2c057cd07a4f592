// name: elephant-trap
// tags: fractal, mandelbrot, orbit-trap
// licence: MIT, written for synthgen
// description: Mandelbrot elephant valley seen through a moving point trap and a cross trap mixed into two palettes.

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 centre = vec2(0.2815, 0.0101) + vec2(0.006 * sin(t * 0.21), 0.004 * cos(t * 0.17));
    float scale = 0.02 + 0.012 * sin(t * 0.29);
    vec2 c = centre + p * scale;

    vec2 tp = vec2(0.35 * cos(t * 0.7), 0.35 * sin(t * 0.5));
    vec2 z = vec2(0.0);
    float dPoint = 1e3;
    float dCross = 1e3;
    float n = 0.0;
    float escaped = 0.0;
    for (int i = 0; i < 100; i++)
    {
        z = vec2(z.x * z.x - z.y * z.y, 2.0 * z.x * z.y) + c;
        if (dot(z, z) > 64.0)
        {
            escaped = 1.0;
            break;
        }
        dPoint = min(dPoint, length(z - tp));
        dCross = min(dCross, min(abs(z.x + 0.2), abs(z.y - 0.1)));
        n += 1.0;
    }

    float a = exp(-6.0 * dPoint);
    float b = exp(-18.0 * dCross);
    vec3 warm = vec3(0.55, 0.35, 0.3) + vec3(0.45, 0.35, 0.25) * cos(6.28318 * (dPoint * 1.3 + vec3(0.0, 0.1, 0.2)));
    vec3 cool = vec3(0.3, 0.5, 0.55) + vec3(0.25, 0.4, 0.4) * cos(6.28318 * (dCross * 3.0 + vec3(0.5, 0.3, 0.1) + t * 0.05));
    vec3 col = mix(cool * 0.7, warm, smoothstep(0.0, 1.0, a * 1.5));
    col += vec3(0.9, 0.95, 1.0) * b * 0.35;
    if (escaped > 0.5)
    {
        float sn = n - log2(max(log2(max(dot(z, z), 1.0001)), 1e-4));
        col *= 0.45 + 0.55 * smoothstep(2.0, 40.0, sn);
    }
    else
    {
        col *= 0.7;
    }
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
