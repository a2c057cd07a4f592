// name: domain-warp
// tags: starter, noise, fbm, warp, palette
// licence: MIT, written for synthgen
// description: Two-level domain-warped fbm with colour taken from the warp vectors.

float hash21(vec2 p)
{
    vec3 q = fract(vec3(p.xyx) * vec3(0.1031, 0.1030, 0.0973));
    q += dot(q, q.yzx + 33.33);
    return fract((q.x + q.y) * q.z);
}

float vnoise(vec2 p)
{
    vec2 i = floor(p);
    vec2 f = fract(p);
    vec2 u = f * f * (3.0 - 2.0 * f);
    return mix(mix(hash21(i), hash21(i + vec2(1.0, 0.0)), u.x),
               mix(hash21(i + vec2(0.0, 1.0)), hash21(i + vec2(1.0, 1.0)), u.x), u.y);
}

float fbm4(vec2 p)
{
    float s = 0.0;
    float a = 0.5;
    for (int i = 0; i < 4; i++)
    {
        s += a * vnoise(p);
        p = mat2(1.6, 1.2, -1.2, 1.6) * p;
        a *= 0.5;
    }
    return s / 0.9375;
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    p *= 1.8;
    float t = iTime * 0.15;

    vec2 q = vec2(fbm4(p + vec2(0.0, 0.0) + t),
                  fbm4(p + vec2(5.2, 1.3) - t));
    vec2 r = vec2(fbm4(p + 3.5 * q + vec2(1.7, 9.2) + 1.3 * t),
                  fbm4(p + 3.5 * q + vec2(8.3, 2.8) - 0.9 * t));
    float f = fbm4(p + 3.0 * r);

    vec3 col = mix(vec3(0.1, 0.25, 0.45), vec3(0.95, 0.55, 0.2), clamp(f * f * 2.2, 0.0, 1.0));
    col = mix(col, vec3(0.05, 0.05, 0.3), clamp(length(q) - 0.4, 0.0, 1.0) * 0.7);
    col = mix(col, vec3(0.2, 0.9, 0.7), clamp(r.x * r.x, 0.0, 1.0) * 0.6);
    col = mix(col, vec3(0.95, 0.25, 0.45), smoothstep(0.55, 0.9, r.y) * 0.7);
    col *= 0.6 + 0.8 * f;
    float lum = dot(col, vec3(0.333));
    col = mix(vec3(lum), col, 1.5);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
