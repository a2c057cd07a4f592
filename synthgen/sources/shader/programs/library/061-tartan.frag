// name: tartan
// tags: stripes, pattern, texture
// licence: MIT, written for synthgen
// description: A tartan sett of random-width coloured stripes crossed with itself through a 2/2 twill, slowly sliding and recolouring.

float hash11(float x)
{
    return fract(sin(x * 91.3458) * 47453.5453);
}

vec3 sett(float x, float t)
{
    float period = 12.0;
    float u = mod(x, period);
    float acc = 0.0;
    float idx = 0.0;
    for (int i = 0; i < 8; i++)
    {
        float fi = float(i);
        float w = 0.4 + 2.6 * hash11(fi + 3.0);
        if (u > acc) idx = fi;
        acc += w * period / 14.5;
    }
    float k = fract(idx * 0.37 + 0.1);
    vec3 c = vec3(0.5) + vec3(0.45) * cos(6.28318 * (k + t * 0.02 + vec3(0.0, 0.33, 0.67)));
    if (mod(idx, 4.0) < 0.5) c = vec3(0.08, 0.10, 0.18);
    if (mod(idx, 5.0) < 0.5) c = vec3(0.90, 0.85, 0.70);
    return c;
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 q = p * 9.0 + vec2(t * 0.5, t * 0.3);
    vec3 cx = sett(q.x, t);
    vec3 cy = sett(q.y + 3.0, t);
    float threads = 36.0;
    vec2 th = floor(p * threads + vec2(t * 2.0, t * 1.2));
    float tw = step(2.0, mod(th.x + th.y, 4.0));
    vec3 col = mix(cx, cy, tw);
    col = mix(col, 0.5 * (cx + cy), 0.25);
    vec2 ff = fract(p * threads + vec2(t * 2.0, t * 1.2));
    float prof = tw > 0.5 ? ff.x : ff.y;
    col *= 0.8 + 0.2 * sin(prof * 3.14159);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
