// name: kifs-crystal
// tags: fractal, ifs, kaleidoscope, orbit-trap
// licence: MIT, written for synthgen
// description: Kaleidoscopic IFS in the plane: abs-folds, rotations and contracting shifts with ring glows per fold level.

mat2 rot(float a)
{
    return mat2(cos(a), -sin(a), sin(a), cos(a));
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    p *= 0.95;
    p = rot(t * 0.05) * p;
    mat2 r = rot(0.7 + 0.25 * sin(t * 0.21));
    vec2 off = vec2(0.9 + 0.1 * sin(t * 0.33), 0.35 + 0.15 * cos(t * 0.27));
    const float s = 1.7;
    float scale = 1.0;
    vec3 acc = vec3(0.0);
    float lines = 1e3;
    for (int i = 0; i < 9; i++)
    {
        p = abs(p);
        if (p.x < p.y) p = p.yx;
        p = r * p;
        p = p * s - off * (s - 1.0);
        scale *= s;
        float fi = float(i);
        vec3 pc = vec3(0.5) + vec3(0.5) * cos(6.28318 * (fi * 0.11 + vec3(0.0, 0.33, 0.67) + t * 0.04));
        acc += pc * exp(-2.5 * abs(length(p) - 1.0));
        lines = min(lines, abs(p.y) / scale);
    }
    float ang = atan(p.y, abs(p.x) + abs(p.y) < 1e-9 ? 1.0 : p.x);
    float de = length(p) / scale;
    vec3 bg = vec3(0.3, 0.25, 0.35) + vec3(0.25, 0.2, 0.25) * cos(6.28318 * (log(de + 1e-4) * 0.35 + vec3(0.6, 0.4, 0.2) - t * 0.05));
    vec3 col = bg * 0.5 + acc * 0.35;
    col *= 0.7 + 0.3 * cos(ang * 3.0);
    col = mix(col, vec3(0.98, 0.85, 0.55), exp(-600.0 * lines) * 0.7);
    col = col / (1.0 + 0.5 * col);
    fragColor = vec4(clamp(col * 1.3, 0.03, 0.97), 1.0);
}
