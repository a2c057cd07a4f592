// name: mandelbox-slice
// tags: fractal, orbit-trap, palette
// licence: MIT, written for synthgen
// description: Two-dimensional Mandelbox: box fold then circle fold then scale-and-add, with breathing scale and trap colouring.

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float scale = -1.75 + 0.35 * sin(t * 0.3);
    vec2 c = p * 2.6;
    vec2 z = c;
    float dr = 1.0;
    float trap = 1e3;
    float n = 0.0;
    float escaped = 0.0;
    for (int i = 0; i < 30; i++)
    {
        z = clamp(z, -1.0, 1.0) * 2.0 - z;
        float r2 = dot(z, z);
        float mr = 0.25;
        float fr = 1.0;
        if (r2 < mr)
        {
            z *= 1.0 / mr;
            dr *= 1.0 / mr;
        }
        else if (r2 < fr)
        {
            z *= 1.0 / r2;
            dr *= 1.0 / r2;
        }
        z = z * scale + c;
        dr = dr * abs(scale) + 1.0;
        trap = min(trap, abs(z.x * z.y));
        if (dot(z, z) > 1e4)
        {
            escaped = 1.0;
            break;
        }
        n += 1.0;
    }
    float de = length(z) / max(abs(dr), 1e-6);
    vec3 col = vec3(0.5) + vec3(0.45) * cos(6.28318 * (n * 0.06 + vec3(0.0, 0.25, 0.5) + t * 0.04));
    col *= 0.4 + 0.6 * exp(-trap * 0.8);
    col += vec3(0.5, 0.35, 0.2) * exp(-de * 60.0);
    if (escaped < 0.5) col = vec3(0.12, 0.08, 0.2) + 0.2 * col;
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
