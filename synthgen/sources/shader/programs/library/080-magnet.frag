// name: magnet
// tags: fractal, mandelbrot, palette
// licence: MIT, written for synthgen
// description: Magnet type-I fractal from renormalisation theory, with separate colourings for escaping and converging orbits.

vec2 cmul(vec2 a, vec2 b)
{
    return vec2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

vec2 cdiv(vec2 a, vec2 b)
{
    float d = max(dot(b, b), 1e-12);
    return vec2(a.x * b.x + a.y * b.y, a.y * b.x - a.x * b.y) / d;
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float ang = 1.5708 + 0.2 * sin(t * 0.2);
    p = mat2(cos(ang), -sin(ang), sin(ang), cos(ang)) * p;
    float k = 0.5 - 0.5 * cos(t * 0.3);
    vec2 centre = mix(vec2(1.2, 0.0), vec2(1.55, 0.55), k);
    float scale = mix(2.6, 0.6, k);
    vec2 c = centre + p * scale;
    vec2 z = vec2(0.0);
    float n = 0.0;
    float mode = 0.0;
    for (int i = 0; i < 60; i++)
    {
        vec2 num = cmul(z, z) + c - vec2(1.0, 0.0);
        vec2 den = 2.0 * z + c - vec2(2.0, 0.0);
        vec2 w = cdiv(num, den);
        z = cmul(w, w);
        if (dot(z, z) > 1e4) { mode = 1.0; break; }
        if (dot(z - vec2(1.0, 0.0), z - vec2(1.0, 0.0)) < 1e-5) { mode = 2.0; break; }
        n += 1.0;
    }
    vec3 col;
    if (mode > 1.5)
    {
        col = vec3(0.45, 0.7, 0.9) * (0.3 + 0.7 * fract(n * 0.13 + t * 0.05));
        col = mix(col, vec3(0.1, 0.2, 0.45), 0.5 + 0.5 * cos(n * 0.5));
    }
    else if (mode > 0.5)
    {
        float sn = n - log2(max(log2(clamp(dot(z, z), 1.0001, 1e30)), 1e-4)) * 0.5;
        col = vec3(0.6, 0.4, 0.3) + vec3(0.4, 0.35, 0.25) * cos(6.28318 * (sn * 0.08 + vec3(0.0, 0.1, 0.25) - t * 0.04));
    }
    else
    {
        col = vec3(0.3, 0.12, 0.3) + vec3(0.15, 0.1, 0.12) * cos(length(z) * 6.0 + vec3(0.0, 1.0, 2.0) + t);
    }
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
