// name: perlin-emboss
// tags: gradient-noise, fbm, texture
// licence: MIT, written for synthgen
// description: Gradient-noise fbm treated as a height map and lit as embossed copper with verdigris in the hollows.

float hash21(vec2 p)
{
    p = fract(p * vec2(151.13, 373.51));
    p += dot(p, p + 27.43);
    return fract(p.x * p.y);
}

float gnoise(vec2 p)
{
    vec2 i = floor(p);
    vec2 f = fract(p);
    vec2 u = f * f * f * (f * (f * 6.0 - 15.0) + 10.0);
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

float height(vec2 p, float t)
{
    float s = 0.0;
    float a = 0.6;
    for (int i = 0; i < 4; i++)
    {
        s += a * gnoise(p + vec2(t * 0.1 * float(i + 1), 0.0));
        p = mat2(1.7, 1.1, -1.1, 1.7) * p;
        a *= 0.5;
    }
    return s;
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 q = p * 2.2 + vec2(0.0, t * 0.08);
    float e = 0.01;
    float h = height(q, t);
    float hx = height(q + vec2(e, 0.0), t);
    float hy = height(q + vec2(0.0, e), t);
    vec3 n = normalize(vec3((h - hx) / e, (h - hy) / e, 2.2));
    float la = t * 0.5;
    vec3 lig = normalize(vec3(cos(la), sin(la), 0.8));
    float dif = clamp(dot(n, lig), 0.0, 1.0);
    vec3 hal = normalize(lig + vec3(0.0, 0.0, 1.0));
    float spe = pow(clamp(dot(n, hal), 0.0, 1.0), 24.0);

    vec3 copper = vec3(0.78, 0.45, 0.25);
    vec3 patina = vec3(0.25, 0.62, 0.55);
    float pm = smoothstep(-0.05, -0.25, h + 0.05 * sin(t * 0.7));
    vec3 alb = mix(copper, patina, pm);
    alb *= 0.85 + 0.3 * h;
    vec3 col = alb * (0.25 + 0.85 * dif) + spe * mix(vec3(1.0, 0.8, 0.6), vec3(0.3), pm) * 0.6;
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
