// name: multibrot-morph
// tags: fractal, mandelbrot, polar, palette
// licence: MIT, written for synthgen
// description: Multibrot set whose real exponent glides between 2 and 6, smooth-coloured in polar form.

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float power = 4.0 - 2.0 * cos(t * 0.3);
    float ang = t * 0.1;
    p = mat2(cos(ang), -sin(ang), sin(ang), cos(ang)) * p;
    vec2 c = p * 1.25 - vec2(0.15, 0.0);

    vec2 z = vec2(0.0);
    float n = 0.0;
    float escaped = 0.0;
    float trap = 1e3;
    for (int i = 0; i < 60; i++)
    {
        float r2 = dot(z, z);
        if (r2 > 1e-20)
        {
            float lr = 0.5 * log(r2);
            float th = atan(z.y, z.x);
            float rp = exp(power * lr);
            z = rp * vec2(cos(power * th), sin(power * th));
        }
        z += c;
        trap = min(trap, abs(dot(z, z) - 0.25));
        if (dot(z, z) > 400.0)
        {
            escaped = 1.0;
            break;
        }
        n += 1.0;
    }

    vec3 col;
    if (escaped > 0.5)
    {
        float lz = max(0.5 * log(max(dot(z, z), 1.0001)), 1e-4);
        float sn = n + 1.0 - log(lz / log(20.0)) / log(power);
        float v = sn * 0.09 + t * 0.07;
        col = vec3(0.55, 0.4, 0.5) + vec3(0.45, 0.5, 0.45) * cos(6.28318 * (v + vec3(0.85, 0.2, 0.5)));
        col *= 0.35 + 0.65 * smoothstep(0.0, 12.0, sn);
    }
    else
    {
        col = vec3(0.08, 0.2, 0.16) + vec3(0.35, 0.5, 0.2) * exp(-4.0 * trap);
    }
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
