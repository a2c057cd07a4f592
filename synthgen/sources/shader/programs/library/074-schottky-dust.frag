// name: schottky-dust
// tags: fractal, kleinian, polar
// licence: MIT, written for synthgen
// description: Limit set of four breathing circles found by repeated circle inversion, coloured by word length and last circle.

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float rad = 0.62 + 0.07 * sin(t * 0.5);
    float spin = t * 0.1;
    p *= 1.25;
    float count = 0.0;
    float last = -1.0;
    float dmin = 1e3;
    float scale = 1.0;
    for (int i = 0; i < 40; i++)
    {
        bool hit = false;
        for (int k = 0; k < 4; k++)
        {
            float a = spin + 1.5708 * float(k);
            vec2 ce = vec2(cos(a), sin(a));
            vec2 d = p - ce;
            float d2 = dot(d, d);
            if (d2 < rad * rad && !hit)
            {
                float f = rad * rad / max(d2, 1e-8);
                p = ce + d * f;
                scale *= f;
                last = float(k);
                hit = true;
            }
        }
        if (!hit) break;
        count += 1.0;
        dmin = min(dmin, length(p));
    }
    float rr = length(p);
    vec3 base = vec3(0.5) + vec3(0.45) * cos(6.28318 * (last * 0.25 + count * 0.07 + vec3(0.0, 0.3, 0.6)));
    if (last < 0.0) base = vec3(0.12, 0.12, 0.25) + vec3(0.1, 0.08, 0.2) * cos(rr * 12.0 - t * 2.0);
    float edge = 1e3;
    for (int k = 0; k < 4; k++)
    {
        float a = spin + 1.5708 * float(k);
        edge = min(edge, abs(length(p - vec2(cos(a), sin(a))) - rad));
    }
    vec3 col = base * (0.55 + 0.45 * smoothstep(0.0, 0.3, edge));
    col += vec3(0.9, 0.85, 0.6) * exp(-edge * 25.0) * 0.35;
    col *= 0.75 + 0.25 * cos(count * 2.0 + t);
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
