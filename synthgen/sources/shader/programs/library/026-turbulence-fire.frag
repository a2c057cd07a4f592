// name: turbulence-fire
// tags: fbm, gradient-noise, noise, flow
// licence: MIT, written for synthgen
// description: Rising turbulence (summed absolute gradient noise) self-warped into a wall of licking flame tongues.

float hash21(vec2 p)
{
    p = fract(p * vec2(271.19, 433.37));
    p += dot(p, p + 17.71);
    return fract(p.x * p.y);
}

float gnoise(vec2 p)
{
    vec2 i = floor(p);
    vec2 f = fract(p);
    vec2 u = f * f * (3.0 - 2.0 * f);
    float a0 = 6.28318 * hash21(i);
    float a1 = 6.28318 * hash21(i + vec2(1.0, 0.0));
    float a2 = 6.28318 * hash21(i + vec2(0.0, 1.0));
    float a3 = 6.28318 * hash21(i + vec2(1.0, 1.0));
    float a = dot(vec2(cos(a0), sin(a0)), f);
    float b = dot(vec2(cos(a1), sin(a1)), f - vec2(1.0, 0.0));
    float c = dot(vec2(cos(a2), sin(a2)), f - vec2(0.0, 1.0));
    float d = dot(vec2(cos(a3), sin(a3)), f - vec2(1.0, 1.0));
    return mix(mix(a, b, u.x), mix(c, d, u.x), u.y);
}

float turb(vec2 p, float t)
{
    float s = 0.0;
    float a = 0.5;
    for (int i = 0; i < 5; i++)
    {
        float fi = float(i);
        s += a * abs(gnoise(p - vec2(0.0, t * (0.8 + 0.5 * fi))));
        p = p * 2.03 + vec2(3.1, 1.7);
        a *= 0.5;
    }
    return s;
}

vec3 fire(float x)
{
    vec3 c = mix(vec3(0.12, 0.02, 0.05), vec3(0.70, 0.08, 0.04), smoothstep(0.0, 0.3, x));
    c = mix(c, vec3(0.98, 0.45, 0.05), smoothstep(0.3, 0.6, x));
    c = mix(c, vec3(0.98, 0.85, 0.35), smoothstep(0.6, 0.85, x));
    c = mix(c, vec3(0.98, 0.97, 0.8), smoothstep(0.9, 1.1, x));
    return c;
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 q = p * vec2(3.2, 1.1);
    float w = turb(q * 0.8 + 4.0, t * 0.6);
    q.x += (w - 0.3) * 1.2;
    float n = turb(q, t);
    float band = 0.5 + 0.5 * sin(p.x * 2.5 + t * 0.3 + w * 4.0);
    float heat = 0.72 - 2.6 * n - 0.32 * p.y + 0.3 * band;
    vec3 col = fire(heat * 1.15);
    col += vec3(0.05, 0.0, 0.1) * (1.0 - heat);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
