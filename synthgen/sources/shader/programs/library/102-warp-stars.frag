// name: warp-stars
// tags: stars, polar, noise
// licence: MIT, written for synthgen
// description: Hyperspace flight: radial star streaks in depth layers over a swirling coloured nebula glow.

float hash(vec2 p)
{
    return fract(sin(dot(p, vec2(127.1, 311.7))) * 43758.5453);
}

float vnoise(vec2 p)
{
    vec2 i = floor(p);
    vec2 f = fract(p);
    vec2 u = f * f * (3.0 - 2.0 * f);
    return mix(mix(hash(i), hash(i + vec2(1.0, 0.0)), u.x), mix(hash(i + vec2(0.0, 1.0)), hash(i + vec2(1.0, 1.0)), u.x), u.y);
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 centre = 0.2 * vec2(sin(t * 0.3), cos(t * 0.23));
    vec2 q = p - centre;
    float r = length(q);
    float a = atan(q.y, abs(q.x) < 1e-9 ? 1e-9 : q.x);
    float sw = a + 0.3 * sin(t * 0.2) + 0.4 / (r + 0.3);
    vec2 np = vec2(cos(sw), sin(sw)) * (1.0 + 2.0 * r) + vec2(0.0, t * 0.1);
    float neb = vnoise(np * 2.0) * 0.6 + vnoise(np * 4.3 + 3.0) * 0.3 + vnoise(np * 9.1) * 0.1;
    vec3 col = mix(vec3(0.05, 0.04, 0.18), vec3(0.45, 0.12, 0.45), neb);
    col = mix(col, vec3(0.1, 0.45, 0.6), smoothstep(0.5, 0.8, vnoise(np * 1.3 + 7.0)) * 0.7);
    col *= 0.5 + 0.8 * smoothstep(0.0, 1.2, r);
    float lr = log(max(r, 1e-3));
    for (int l = 0; l < 3; l++)
    {
        float fl = float(l);
        float nSeg = 90.0 + 40.0 * fl;
        float sa = (a + 3.14159) / 6.28318 * nSeg;
        float sid = floor(sa);
        float sf = fract(sa) - 0.5;
        float h = hash(vec2(sid, fl * 7.0));
        float z = fract(lr * 0.5 - t * (0.35 + 0.15 * fl) + h);
        float streakLen = 0.12 + 0.1 * fl;
        float along = smoothstep(0.0, streakLen, z) * smoothstep(streakLen + 0.05, streakLen, z);
        float across = smoothstep(0.35, 0.0, abs(sf));
        float on = step(0.55, hash(vec2(sid, fl * 13.0 + 1.0)));
        vec3 sc = mix(vec3(0.7, 0.85, 1.0), vec3(1.0, 0.8, 0.6), h);
        col += sc * along * across * on * (0.6 + 0.6 * r);
    }
    col += vec3(0.8, 0.7, 1.0) * 0.04 / (r + 0.05);
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
