// name: flow-field
// tags: starter, flow, noise, palette
// licence: MIT, written for synthgen
// description: Streaks made by integrating noise along a swirling vector field, a cheap line-integral-convolution look.

float hash21(vec2 p)
{
    p = fract(p * vec2(341.71, 217.23));
    p += dot(p, p + 19.19);
    return fract(p.x * p.y);
}

float vnoise(vec2 p)
{
    vec2 i = floor(p);
    vec2 f = fract(p);
    vec2 u = f * f * (3.0 - 2.0 * f);
    return mix(mix(hash21(i), hash21(i + vec2(1.0, 0.0)), u.x),
               mix(hash21(i + vec2(0.0, 1.0)), hash21(i + vec2(1.0, 1.0)), u.x), u.y);
}

vec2 field(vec2 p, float t)
{
    float a = sin(p.x * 1.7 + t * 0.6) + cos(p.y * 1.3 - t * 0.4) + sin((p.x - p.y) * 0.9 + t * 0.3);
    return vec2(cos(a * 1.6), sin(a * 1.6));
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 q = p * 1.5;
    float acc = 0.0;
    float wsum = 0.0;
    vec2 dirAcc = vec2(0.0);
    for (int i = 0; i < 14; i++)
    {
        vec2 v = field(q, t);
        dirAcc += v;
        float w = 1.0 - float(i) / 14.0;
        acc += w * vnoise(q * 28.0 + vec2(0.0, t * 2.0));
        wsum += w;
        q += v * 0.035;
    }
    acc /= wsum;
    float streak = smoothstep(0.3, 0.7, acc);

    float ang = atan(dirAcc.y, dirAcc.x);
    vec3 base = vec3(0.5) + vec3(0.5) * cos(ang + t * 0.3 + vec3(0.0, 2.1, 4.2));
    vec3 col = mix(base * 0.3, base, streak);
    col += vec3(0.15) * smoothstep(0.65, 0.8, acc);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
