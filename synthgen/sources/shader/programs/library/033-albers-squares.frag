// name: albers-squares
// tags: tiling, pattern, palette
// licence: MIT, written for synthgen
// description: A square tiling of nested, bottom-weighted squares in related palette colours that breathe and recolour.

vec3 hash32(vec2 p)
{
    vec3 a = fract(p.xyx * vec3(113.17, 271.31, 197.53));
    a += dot(a, a.yzx + 19.19);
    return fract(vec3(a.x * a.y, a.y * a.z, a.z * a.x));
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 q = p * 2.2 + vec2(t * 0.12, 0.0);
    vec2 id = floor(q);
    vec2 f = fract(q) - 0.5;
    vec3 h = hash32(id);
    float rotq = floor(h.z * 4.0);
    if (rotq > 0.5 && rotq < 1.5) f = vec2(-f.y, f.x);
    if (rotq > 1.5 && rotq < 2.5) f = -f;
    if (rotq > 2.5) f = vec2(f.y, -f.x);
    float hue = h.x + t * 0.03;
    vec3 col = vec3(0.5) + vec3(0.45) * cos(6.28318 * (hue + vec3(0.0, 0.33, 0.67)));
    for (int i = 1; i < 4; i++)
    {
        float fi = float(i);
        float s = 0.5 - fi * (0.11 + 0.03 * sin(t * 0.7 + h.y * 6.28 + fi));
        vec2 c = vec2(0.0, -0.06 * fi);
        vec2 d = abs(f - c);
        float m = step(max(d.x, d.y), s);
        vec3 cc = vec3(0.5) + vec3(0.45) * cos(6.28318 * (hue + fi * (0.08 + 0.1 * h.y) + vec3(0.0, 0.33, 0.67)));
        cc *= 0.75 + 0.25 * fi / 3.0;
        col = mix(col, cc, m);
    }
    vec2 e = abs(f);
    col *= 0.8 + 0.2 * smoothstep(0.5, 0.46, max(e.x, e.y));
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
