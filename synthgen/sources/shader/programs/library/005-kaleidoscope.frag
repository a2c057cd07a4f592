// name: kaleidoscope
// tags: starter, kaleidoscope, polar, palette
// licence: MIT, written for synthgen
// description: Eight-fold mirrored polar wedge containing rotating wave and ring motifs.

vec3 kpal(float t)
{
    return vec3(0.55, 0.45, 0.5) + vec3(0.45, 0.45, 0.4) * cos(6.28318 * (t + vec3(0.1, 0.45, 0.75)));
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float r = length(p);
    float a = atan(p.y, p.x) + t * 0.15;

    float seg = 6.28318 / 8.0;
    a = mod(a, seg);
    a = abs(a - seg * 0.5);
    vec2 q = r * vec2(cos(a), sin(a));

    vec3 col = vec3(0.0);
    float acc = 0.0;
    for (int i = 0; i < 4; i++)
    {
        float fi = float(i);
        q = abs(q * 1.35 - vec2(0.55 + 0.15 * sin(t * 0.3 + fi), 0.25));
        float c = cos(t * 0.2 + fi);
        float s = sin(t * 0.2 + fi);
        q = mat2(c, -s, s, c) * q;
        float d = length(q) * exp(-r * 0.5);
        float w = smoothstep(0.2, 0.8, 0.5 + 0.5 * sin(d * 12.0 - t * 1.5 + fi));
        col += kpal(d * 0.5 + fi * 0.22 + t * 0.05) * w * 0.5;
        acc += w;
    }
    col *= 0.75 + 0.25 * sin(r * 24.0 - t * 2.0);
    col = col / (1.0 + 0.3 * col);
    float lum = dot(col, vec3(0.333));
    col = mix(vec3(lum), col, 1.6);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
