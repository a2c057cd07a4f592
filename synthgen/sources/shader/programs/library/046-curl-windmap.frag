// name: curl-windmap
// tags: flow, value-noise, noise, palette
// licence: MIT, written for synthgen
// description: Comet-tailed particles traced back along a time-varying curl-noise field, like an animated wind map.

float hash21(vec2 p)
{
    p = fract(p * vec2(229.13, 367.71));
    p += dot(p, p + 15.37);
    return fract(p.x * p.y);
}

float vnoise(vec2 p)
{
    vec2 i = floor(p);
    vec2 f = fract(p);
    vec2 u = f * f * f * (f * (f * 6.0 - 15.0) + 10.0);
    return mix(mix(hash21(i), hash21(i + vec2(1.0, 0.0)), u.x),
               mix(hash21(i + vec2(0.0, 1.0)), hash21(i + vec2(1.0, 1.0)), u.x), u.y);
}

vec2 curl(vec2 p, float t)
{
    float e = 0.08;
    vec2 o = vec2(t * 0.25, -t * 0.18);
    float n = vnoise(p + o);
    float nx = vnoise(p + o + vec2(e, 0.0));
    float ny = vnoise(p + o + vec2(0.0, e));
    return vec2(ny - n, n - nx) / e;
}

float dots(vec2 p)
{
    vec2 c = floor(p);
    vec2 f = fract(p);
    float h = hash21(c);
    vec2 o = 0.3 + 0.4 * vec2(hash21(c + 3.1), hash21(c + 7.7));
    float d = length(f - o);
    return step(0.6, h) * smoothstep(0.22, 0.06, d);
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 q = p * 1.4;
    vec2 v0 = curl(q, t);
    float acc = 0.0;
    vec2 x = q;
    for (int i = 0; i < 18; i++)
    {
        float fi = float(i);
        vec2 v = curl(x, t);
        float w = 1.0 - fi / 18.0;
        acc += w * dots(x * 9.0 + vec2(0.0, t * 0.0));
        x -= v * 0.02;
    }
    acc = clamp(acc * 0.5, 0.0, 1.0);
    float speed = length(v0);
    vec3 bg = mix(vec3(0.05, 0.10, 0.22), vec3(0.12, 0.28, 0.35), clamp(speed * 0.5, 0.0, 1.0));
    vec3 tint = vec3(0.5) + vec3(0.5) * cos(6.28318 * (speed * 0.25 + t * 0.03 + vec3(0.0, 0.2, 0.45)));
    vec3 col = bg + tint * acc;
    float iso = abs(fract(vnoise(q + vec2(t * 0.1, -t * 0.07)) * 8.0) - 0.5);
    col += 0.06 * smoothstep(0.05, 0.0, iso);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
