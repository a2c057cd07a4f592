// name: op-art-relief
// tags: pattern, 3d, palette
// licence: MIT, written for synthgen
// description: Bridget-Riley-style line field: parallel stripes displaced and thickened by a moving hidden surface to suggest relief.

float surf(vec2 p, float t)
{
    float h = 0.0;
    h += 0.35 * exp(-dot(p - vec2(0.5 * sin(t * 0.4), 0.3 * cos(t * 0.3)), p - vec2(0.5 * sin(t * 0.4), 0.3 * cos(t * 0.3))) * 2.5);
    h -= 0.3 * exp(-dot(p - vec2(-0.6 * cos(t * 0.3), -0.4 * sin(t * 0.5)), p - vec2(-0.6 * cos(t * 0.3), -0.4 * sin(t * 0.5))) * 3.0);
    h += 0.08 * sin(p.x * 3.0 + t * 0.7) * cos(p.y * 2.0 - t * 0.5);
    return h;
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float h = surf(p, t);
    vec2 e = vec2(0.01, 0.0);
    vec2 grad = vec2(surf(p + e.xy, t) - h, surf(p + e.yx, t) - h) / e.x;
    float freq = 22.0;
    float v = (p.y + h * 1.2) * freq;
    float stripe = fract(v);
    float width = clamp(0.5 + 0.35 * grad.x, 0.12, 0.88);
    float aa = freq * 2.0 / min(iResolution.x, iResolution.y) * (1.0 + abs(grad.y));
    float line = smoothstep(width - aa, width + aa, stripe) - smoothstep(1.0 - aa, 1.0, stripe);
    float band = floor(v / 6.0);
    vec3 ca = vec3(0.5) + vec3(0.45) * cos(6.28318 * (band * 0.17 + vec3(0.0, 0.3, 0.6) + t * 0.03));
    vec3 cb = vec3(0.08, 0.07, 0.12) + 0.1 * ca;
    vec3 col = mix(ca, cb, line);
    col *= 0.8 + 0.2 * clamp(1.0 - dot(grad, vec2(0.5, -0.5)), 0.0, 1.5);
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
