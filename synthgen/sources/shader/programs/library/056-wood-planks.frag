// name: wood-planks
// tags: rings, noise, texture, value-noise
// licence: MIT, written for synthgen
// description: Staggered wooden planks with noisy growth rings, fine grain streaks and knots, scrolling along the boards.

float hash21(vec2 p)
{
    p = fract(p * vec2(199.13, 307.71));
    p += dot(p, p + 21.53);
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

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float ang = 0.25 * sin(t * 0.1);
    p = mat2(cos(ang), -sin(ang), sin(ang), cos(ang)) * p;
    vec2 q = p * vec2(1.0, 2.6) + vec2(t * 0.25, 0.0);
    float row = floor(q.y);
    float plankLen = 3.0;
    float sx = q.x + hash21(vec2(row, 1.0)) * plankLen;
    float col_id = floor(sx / plankLen);
    vec2 id = vec2(col_id, row);
    float hx = hash21(id);
    float hy = hash21(id + 5.3);
    vec2 l = vec2(fract(sx / plankLen) * plankLen, fract(q.y));
    float axisY = 0.5 + (hy - 0.5) * 2.5;
    float zoff = 0.3 + hx * 0.8;
    vec2 pl = vec2(l.x * 0.6, l.y - axisY);
    vec2 kc = vec2(0.6 + 1.8 * hy, 0.2 + 0.6 * hx);
    vec2 kd = (l - kc) * vec2(1.0, 1.6);
    float knot = exp(-dot(kd, kd) * 18.0);
    float r = length(vec2(pl.y, zoff + 0.1 * sin(pl.x * 1.7 + hx * 6.0)));
    r += 0.08 * vnoise(vec2(l.x * 2.0, l.y * 8.0) + id * 3.0) - 0.25 * knot;
    float rings = fract(r * 9.0 + knot * 3.0);
    float ring = smoothstep(0.0, 0.6, rings) * smoothstep(1.0, 0.75, rings);
    float grain = vnoise(vec2(l.x * 3.0, l.y * 60.0) + id * 7.0);
    vec3 light = mix(vec3(0.80, 0.56, 0.32), vec3(0.88, 0.70, 0.45), hy);
    vec3 dark = mix(vec3(0.45, 0.24, 0.12), vec3(0.55, 0.32, 0.15), hx);
    vec3 c = mix(dark, light, ring);
    c *= 0.88 + 0.18 * grain;
    c = mix(c, vec3(0.30, 0.15, 0.07), smoothstep(0.3, 0.8, knot));
    c *= 0.85 + 0.3 * (hx - 0.5);
    float seamY = min(l.y, 1.0 - l.y);
    float seamX = min(l.x, plankLen - l.x);
    c *= 0.55 + 0.45 * smoothstep(0.0, 0.04, seamY);
    c *= 0.55 + 0.45 * smoothstep(0.0, 0.02, seamX);
    fragColor = vec4(clamp(c, 0.02, 0.98), 1.0);
}
