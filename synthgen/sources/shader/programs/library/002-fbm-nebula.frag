// name: fbm-nebula
// tags: starter, noise, fbm, palette
// licence: MIT, written for synthgen
// description: Drifting six-octave value-noise fbm coloured like a gas nebula.

float hash21(vec2 p)
{
    p = fract(p * vec2(233.34, 851.73));
    p += dot(p, p + 23.45);
    return fract(p.x * p.y);
}

float valueNoise(vec2 p)
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

float fbm(vec2 p)
{
    float s = 0.0;
    float a = 0.5;
    mat2 r = mat2(0.8, 0.6, -0.6, 0.8);
    for (int i = 0; i < 6; i++)
    {
        s += a * valueNoise(p);
        p = r * p * 2.03 + vec2(1.7, 9.2);
        a *= 0.5;
    }
    return s;
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime * 0.25;
    vec2 q = p * 2.2 + vec2(t * 1.3, -t * 0.7);
    float n1 = fbm(q);
    float n2 = fbm(q * 1.7 - vec2(t * 0.9, t * 1.6) + 5.2);

    vec3 deep = vec3(0.08, 0.03, 0.22);
    vec3 magenta = vec3(0.95, 0.2, 0.55);
    vec3 teal = vec3(0.1, 0.85, 0.8);
    vec3 gold = vec3(1.0, 0.8, 0.35);

    vec3 col = mix(deep, magenta, smoothstep(0.25, 0.75, n1));
    col = mix(col, teal, smoothstep(0.45, 0.8, n2) * 0.8);
    col += gold * pow(max(n1 * n2 * 2.2 - 0.35, 0.0), 2.0) * 2.0;
    col *= 0.8 + 0.3 * sin(iTime * 0.5 + p.x * 1.5 + vec3(0.0, 1.0, 2.0));
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
