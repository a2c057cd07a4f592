// name: kaleido-noise
// tags: kaleidoscope, polar, fbm, palette
// licence: MIT, written for synthgen
// description: Seven-fold mirrored wedge sampling a drifting value-noise fbm, giving a stained-glass rosette.

float hash21(vec2 p)
{
    p = fract(p * vec2(239.71, 181.37));
    p += dot(p, p + 29.93);
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
        p = p * 2.1 + 1.3;
        a *= 0.5;
    }
    return s;
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float r = length(p);
    float a = atan(p.y, p.x + 1e-9) + t * 0.12;
    float seg = 6.28318 / 7.0;
    a = mod(a, seg);
    a = abs(a - 0.5 * seg);
    vec2 q = r * vec2(cos(a), sin(a));
    q = q * 2.5 + vec2(t * 0.25, -t * 0.1);
    float n = fbm(q);
    float m = fbm(q * 1.7 + n * 2.0 + 4.0);
    float rings = 0.5 + 0.5 * cos(r * 14.0 - t * 1.5 + n * 6.0);
    vec3 col = vec3(0.5) + vec3(0.48) * cos(6.28318 * (m * 1.5 + r * 0.3 + vec3(0.0, 0.1, 0.2) + t * 0.03));
    col = mix(col, col.zxy, smoothstep(0.45, 0.55, n));
    col *= 0.55 + 0.45 * rings;
    float cells = abs(fract(m * 5.0) - 0.5);
    col *= 0.7 + 0.3 * smoothstep(0.0, 0.1, cells);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
