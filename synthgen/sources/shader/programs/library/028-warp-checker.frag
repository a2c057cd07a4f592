// name: warp-checker
// tags: warp, noise, pattern, palette
// licence: MIT, written for synthgen
// description: A striped checkerboard pushed through a single rotational noise warp so the squares melt into swirls.

float hash21(vec2 p)
{
    p = fract(p * vec2(353.11, 121.91));
    p += dot(p, p + 43.31);
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
    float n = vnoise(p * 1.3 + vec2(t * 0.15, 0.0)) * 0.65 + vnoise(p * 2.7 - vec2(0.0, t * 0.2)) * 0.35;
    float ang = n * 9.0 + t * 0.3;
    float amp = 0.35 + 0.15 * sin(t * 0.4);
    vec2 q = p + amp * vec2(cos(ang), sin(ang));
    q *= 3.0;
    vec2 cell = floor(q);
    vec2 f = fract(q);
    float chk = mod(cell.x + cell.y, 2.0);
    float stripes = step(0.5, fract((chk > 0.5 ? f.x : f.y) * 3.0));
    vec3 c1 = vec3(0.5) + vec3(0.45) * cos(6.28318 * (0.02 * cell.x + t * 0.05 + vec3(0.0, 0.33, 0.67)));
    vec3 c2 = vec3(0.5) + vec3(0.45) * cos(6.28318 * (0.03 * cell.y + 0.5 + t * 0.05 + vec3(0.1, 0.2, 0.3)));
    vec3 col = mix(c1, c2, chk);
    col *= 0.6 + 0.4 * stripes;
    vec2 e = abs(f - 0.5);
    col *= 0.75 + 0.25 * smoothstep(0.5, 0.4, max(e.x, e.y));
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
