// name: rd-coral
// tags: reaction-diffusion, gradient-noise, pattern
// licence: MIT, written for synthgen
// description: Band-pass gradient noise fed back into its own warp and thresholded into coral worms that morph between spots and mazes.

float hash21(vec2 p)
{
    p = fract(p * vec2(137.71, 419.19));
    p += dot(p, p + 33.13);
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

float band(vec2 p, float t)
{
    return gnoise(p + vec2(t * 0.07, 0.0)) + 0.55 * gnoise(p * 1.41 + vec2(3.3, -t * 0.05)) - 0.3 * gnoise(p * 0.5 + 9.1);
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 q = p * 10.0;
    float b1 = band(q, t);
    float s1 = tanh(clamp(b1 * 6.0, -8.0, 8.0));
    vec2 q2 = q + 0.35 * vec2(s1, -s1) + 0.25 * vec2(gnoise(q * 0.3 + 2.0), gnoise(q * 0.3 - 2.0));
    float b2 = band(q2 * 1.05, t);
    float thr = 0.2 * sin(p.x * 1.2 + t * 0.35) + 0.15 * gnoise(p * 1.5 + t * 0.1);
    float v = b2 + 0.35 * s1 * 0.3 - thr;
    float m = smoothstep(-0.04, 0.04, v);
    float rim = 1.0 - smoothstep(0.0, 0.12, abs(v));
    vec3 bgc = mix(vec3(0.03, 0.22, 0.30), vec3(0.06, 0.35, 0.38), 0.5 + 0.5 * gnoise(p * 2.0));
    vec3 coral = mix(vec3(0.95, 0.45, 0.35), vec3(0.98, 0.78, 0.45), clamp(v * 2.0, 0.0, 1.0));
    vec3 col = mix(bgc, coral, m);
    col = mix(col, vec3(0.55, 0.12, 0.22), rim * 0.6 * m);
    col += vec3(0.1, 0.2, 0.2) * rim * (1.0 - m);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
