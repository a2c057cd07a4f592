// name: perlin-contours
// tags: gradient-noise, noise, rings, palette
// licence: MIT, written for synthgen
// description: Contour lines of a gradient noise field whose gradients slowly rotate, drawn over banded palette fills.

float hash21(vec2 p)
{
    p = fract(p * vec2(443.89, 397.29));
    p += dot(p, p + 19.31);
    return fract(p.x * p.y);
}

vec2 grad(vec2 i, float t)
{
    float h = hash21(i);
    float a = 6.28318 * h + t * (hash21(i + 11.3) - 0.5) * 3.0;
    return vec2(cos(a), sin(a));
}

float gnoise(vec2 p, float t)
{
    vec2 i = floor(p);
    vec2 f = fract(p);
    vec2 u = f * f * f * (f * (f * 6.0 - 15.0) + 10.0);
    float a = dot(grad(i, t), f);
    float b = dot(grad(i + vec2(1.0, 0.0), t), f - vec2(1.0, 0.0));
    float c = dot(grad(i + vec2(0.0, 1.0), t), f - vec2(0.0, 1.0));
    float d = dot(grad(i + vec2(1.0, 1.0), t), f - vec2(1.0, 1.0));
    return mix(mix(a, b, u.x), mix(c, d, u.x), u.y);
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 q = p * 1.6;
    float h = gnoise(q, t) + 0.5 * gnoise(q * 2.1 + 3.7, t * 1.3) + 0.25 * gnoise(q * 4.3 + 9.1, t * 1.7);
    float v = h * 9.0 + t * 0.15;
    float band = floor(v);
    vec3 fill = vec3(0.5) + vec3(0.35, 0.4, 0.35) * cos(6.28318 * (band * 0.083 + vec3(0.0, 0.3, 0.6) + t * 0.02));
    fill *= 0.55 + 0.15 * fract(v);
    float w = max(fwidth(v), 1e-4);
    float d = abs(fract(v + 0.5) - 0.5);
    float major = (mod(floor(v + 0.5), 5.0) < 0.5) ? 1.0 : 0.0;
    float lw = mix(0.8, 2.0, major);
    float line = 1.0 - smoothstep(lw * w * 0.5, lw * w * 0.5 + w, d);
    line *= smoothstep(0.45, 0.15, w);
    vec3 ink = mix(vec3(0.95, 0.92, 0.8), vec3(0.98, 0.85, 0.4), major);
    vec3 col = mix(fill, ink, line);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
