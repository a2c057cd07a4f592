// name: value-terraces
// tags: value-noise, fbm, rings, texture
// licence: MIT, written for synthgen
// description: Value-noise terrain cut into hill-shaded terraces like a topographic relief map with a rising sea.

float hash21(vec2 p)
{
    p = fract(p * vec2(127.31, 311.77));
    p += dot(p, p + 23.17);
    return fract(p.x * p.y);
}

float vnoise(vec2 p)
{
    vec2 i = floor(p);
    vec2 f = fract(p);
    vec2 u = f * f * (3.0 - 2.0 * f);
    float a = hash21(i);
    float b = hash21(i + vec2(1.0, 0.0));
    float c = hash21(i + vec2(0.0, 1.0));
    float d = hash21(i + vec2(1.0, 1.0));
    return mix(mix(a, b, u.x), mix(c, d, u.x), u.y);
}

float terrain(vec2 p)
{
    float s = 0.0;
    float a = 0.55;
    mat2 m = mat2(1.62, 1.18, -1.18, 1.62);
    for (int i = 0; i < 5; i++)
    {
        s += a * vnoise(p);
        p = m * p + vec2(5.3, 1.9);
        a *= 0.47;
    }
    return s;
}

vec3 hypso(float x)
{
    vec3 c = mix(vec3(0.16, 0.42, 0.22), vec3(0.52, 0.68, 0.30), smoothstep(0.0, 0.25, x));
    c = mix(c, vec3(0.86, 0.72, 0.40), smoothstep(0.25, 0.5, x));
    c = mix(c, vec3(0.62, 0.36, 0.24), smoothstep(0.5, 0.75, x));
    c = mix(c, vec3(0.93, 0.90, 0.88), smoothstep(0.78, 0.95, x));
    return c;
}

float terrace(float h, float levels)
{
    float hl = h * levels;
    float band = floor(hl);
    float fr = fract(hl);
    return (band + smoothstep(0.78, 1.0, fr)) / levels;
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 q = p * 1.4 + vec2(t * 0.11, -t * 0.045);
    float levels = 10.0;
    float e = 0.012;
    float h = terrain(q);
    float hx = terrain(q + vec2(e, 0.0));
    float hy = terrain(q + vec2(0.0, e));
    float th = terrace(h, levels);
    float tx = terrace(hx, levels);
    float ty = terrace(hy, levels);
    vec3 n = normalize(vec3((th - tx) * 3.0, (th - ty) * 3.0, e));
    vec3 lig = normalize(vec3(cos(t * 0.3), sin(t * 0.3), 0.9));
    float dif = clamp(dot(n, lig), 0.0, 1.0);

    float sea = 0.30 + 0.07 * sin(t * 0.45);
    vec3 col;
    if (h < sea)
    {
        float depth = (sea - h) / max(sea, 0.01);
        col = mix(vec3(0.35, 0.70, 0.78), vec3(0.05, 0.16, 0.42), clamp(depth * 2.5, 0.0, 1.0));
        float ripple = sin(h * 120.0 - t * 3.0);
        col += 0.05 * ripple;
        col = mix(col, vec3(0.85, 0.92, 0.9), smoothstep(0.015, 0.0, sea - h));
    }
    else
    {
        float x = (th - sea) / max(1.0 - sea, 0.01);
        col = hypso(x * 1.5) * (0.45 + 0.75 * dif);
        float fr = fract(h * levels);
        col *= 0.8 + 0.2 * smoothstep(0.0, 0.08, fr);
    }
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
