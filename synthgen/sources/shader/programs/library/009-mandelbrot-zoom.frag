// name: mandelbrot-zoom
// tags: starter, fractal, mandelbrot, palette
// licence: MIT, written for synthgen
// description: Breathing zoom towards a Mandelbrot dendrite point with a rotating view and cycling palette.

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float zoomPhase = 0.5 - 0.5 * cos(t * 0.45);
    float scale = 1.2 * pow(0.02, zoomPhase);
    float ang = t * 0.12;
    p = mat2(cos(ang), -sin(ang), sin(ang), cos(ang)) * p;
    vec2 centre = vec2(-0.10109636, 0.95628651);
    vec2 c = centre + p * scale;

    vec2 z = vec2(0.0);
    float n = 0.0;
    float escaped = 0.0;
    float trap = 10.0;
    for (int i = 0; i < 100; i++)
    {
        z = vec2(z.x * z.x - z.y * z.y, 2.0 * z.x * z.y) + c;
        trap = min(trap, abs(z.y));
        if (dot(z, z) > 256.0)
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
        col = vec3(0.5) + vec3(0.5) * cos(3.0 + sqrt(sn) * 2.2 + t * 0.4 + vec3(0.0, 0.6, 1.0));
        vec3 alt = vec3(0.5) + vec3(0.5) * cos(1.0 + sn * 0.35 - t * 0.3 + vec3(2.0, 1.0, 0.0));
        col = mix(col, alt, 0.5 + 0.5 * sin(trap * 3.0 + t * 0.5));
    }
    else
    {
        col = vec3(0.15, 0.1, 0.3) + vec3(0.3, 0.2, 0.1) * cos(trap * 12.0 + t + vec3(0.0, 1.0, 2.0));
    }
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
