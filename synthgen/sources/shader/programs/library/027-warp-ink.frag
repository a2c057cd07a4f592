// name: warp-ink
// tags: warp, fbm, value-noise, texture
// licence: MIT, written for synthgen
// description: Three nested warps of value-noise fbm quantised into indigo, vermilion and cream inks with dark filaments.

float hash21(vec2 p)
{
    p = fract(p * vec2(197.33, 281.17));
    p += dot(p, p + 13.77);
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

float fbm(vec2 p)
{
    float s = 0.0;
    float a = 0.5;
    for (int i = 0; i < 4; i++)
    {
        s += a * vnoise(p);
        p = mat2(1.8, 1.1, -1.1, 1.8) * p + 2.3;
        a *= 0.5;
    }
    return s / 0.9375;
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime * 0.25;
    vec2 x = p * 1.6;
    vec2 a = vec2(fbm(x + vec2(0.0, t)), fbm(x + vec2(5.2, 1.3 - t)));
    vec2 b = vec2(fbm(x + 3.0 * a + vec2(1.7, 9.2) + t * 0.7), fbm(x + 3.0 * a + vec2(8.3, 2.8)));
    vec2 c = vec2(fbm(x + 3.5 * b + vec2(4.1, 0.3)), fbm(x + 3.5 * b + vec2(2.2, 7.7) - t * 0.5));
    float v = fbm(x + 3.0 * c);

    vec3 cream = vec3(0.94, 0.88, 0.74);
    vec3 indigo = vec3(0.10, 0.16, 0.45);
    vec3 verm = vec3(0.86, 0.25, 0.16);
    vec3 ochre = vec3(0.90, 0.66, 0.20);
    float e = 0.015;
    vec3 col = cream;
    col = mix(col, ochre, smoothstep(0.52 - e, 0.52 + e, c.x));
    col = mix(col, indigo, smoothstep(0.50 - e, 0.50 + e, v));
    col = mix(col, verm, smoothstep(0.62 - e, 0.62 + e, b.y));
    float fil = abs(fract(v * 6.0 + b.x * 2.0) - 0.5);
    col *= 0.75 + 0.25 * smoothstep(0.0, 0.12, fil);
    col *= 0.85 + 0.3 * (c.y - 0.5);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
