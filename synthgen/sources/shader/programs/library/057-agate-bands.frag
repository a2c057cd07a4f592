// name: agate-bands
// tags: rings, fbm, warp, texture
// licence: MIT, written for synthgen
// description: A sliced agate: warped concentric bands in banded chalcedony colours growing outward around a sparkling quartz core.

float hash21(vec2 p)
{
    p = fract(p * vec2(283.17, 191.37));
    p += dot(p, p + 15.91);
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
    for (int i = 0; i < 5; i++)
    {
        s += a * vnoise(p);
        p = mat2(1.7, 1.2, -1.2, 1.7) * p + 3.1;
        a *= 0.5;
    }
    return s;
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 c = vec2(0.25 * sin(t * 0.1), 0.1);
    float asp = max(iResolution.x / iResolution.y, 1.0);
    vec2 d = (p - c) * vec2(0.8 / asp, 1.1);
    float ang = atan(d.y, d.x + 1e-9);
    float wob = 0.18 * sin(ang * 3.0 + 1.0) + 0.1 * sin(ang * 5.0 + 2.0);
    float r = length(d) * (1.0 + wob) + 0.45 * fbm(p * 1.6 + 2.0);
    float bandsIn = r * 11.0 - t * 0.5 + 1.5 * fbm(p * 5.0);
    float b = fract(bandsIn);
    float bi = floor(bandsIn);
    vec3 c1 = vec3(0.55, 0.62, 0.72);
    vec3 c2 = vec3(0.92, 0.90, 0.88);
    vec3 c3 = vec3(0.72, 0.35, 0.18);
    vec3 c4 = vec3(0.35, 0.25, 0.40);
    float sel = fract(bi * 0.618);
    vec3 bc = sel < 0.25 ? c1 : (sel < 0.5 ? c2 : (sel < 0.75 ? c3 : c4));
    vec3 col = bc * (0.8 + 0.2 * smoothstep(0.0, 0.3, b));
    col = mix(col, c2, 0.4 * smoothstep(0.9, 1.0, b));
    float core = smoothstep(0.55, 0.45, r);
    vec2 g = floor(p * 40.0);
    float spark = hash21(g + floor(t * 2.0));
    vec3 quartz = mix(vec3(0.55, 0.55, 0.70), vec3(0.95, 0.95, 0.98), spark);
    col = mix(col, quartz, core);
    float outer = smoothstep(1.5, 1.6, r);
    col = mix(col, vec3(0.35, 0.22, 0.15) * (0.8 + 0.3 * fbm(p * 8.0)), outer);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
