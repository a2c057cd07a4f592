// name: newton-roots
// tags: fractal, newton, palette
// licence: MIT, written for synthgen
// description: Newton basins of a cubic whose three roots wander, coloured by root with iteration shading.

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
    vec2 r1 = vec2(cos(t * 0.3), sin(t * 0.3));
    vec2 r2 = vec2(cos(t * 0.3 + 2.1 + 0.5 * sin(t * 0.7)), sin(t * 0.3 + 2.1 + 0.5 * sin(t * 0.7)));
    vec2 r3 = vec2(-0.6 + 0.4 * sin(t * 0.45), -0.7 + 0.3 * cos(t * 0.5));
    vec2 z = p * 1.6;
    float n = 0.0;
    for (int i = 0; i < 40; i++)
    {
        vec2 a = z - r1;
        vec2 b = z - r2;
        vec2 c = z - r3;
        vec2 f = cmul(cmul(a, b), c);
        vec2 df = cmul(a, b) + cmul(b, c) + cmul(a, c);
        vec2 step = cdiv(f, df);
        z -= step;
        if (dot(step, step) < 1e-6) break;
        if (dot(z, z) > 1e6) break;
        n += 1.0;
    }
    float d1 = length(z - r1);
    float d2 = length(z - r2);
    float d3 = length(z - r3);
    vec3 col = vec3(0.9, 0.25, 0.3);
    if (d2 < d1 && d2 < d3) col = vec3(0.2, 0.7, 0.35);
    if (d3 < d1 && d3 < d2) col = vec3(0.25, 0.35, 0.9);
    float shade = 1.0 - clamp(n / 25.0, 0.0, 1.0);
    col = mix(vec3(0.1, 0.08, 0.15), col, 0.3 + 0.7 * shade);
    col += vec3(0.35, 0.3, 0.1) * (0.5 + 0.5 * cos(n * 1.3 + t));
    col *= 0.8;
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
