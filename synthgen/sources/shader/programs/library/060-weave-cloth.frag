// name: weave-cloth
// tags: texture, pattern, tiling, stripes
// licence: MIT, written for synthgen
// description: Close-up woven cloth whose structure cycles through plain, twill and satin weaves, with shaded fibrous threads.

float hash21(vec2 p)
{
    p = fract(p * vec2(347.19, 113.71));
    p += dot(p, p + 29.37);
    return fract(p.x * p.y);
}

float overWarp(vec2 id, float mode)
{
    if (mode < 0.5) return mod(id.x + id.y, 2.0);
    if (mode < 1.5) return step(2.0, mod(id.x + id.y, 4.0));
    return step(4.0, mod(id.x * 2.0 + id.y, 5.0));
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float mode = mod(floor(t * 0.4), 3.0);
    float ang = 0.3 + 0.1 * sin(t * 0.2);
    p = mat2(cos(ang), -sin(ang), sin(ang), cos(ang)) * p;
    vec2 q = p * 7.0 + vec2(t * 0.2, 0.0);
    vec2 id = floor(q);
    vec2 f = fract(q);
    float top = overWarp(id, mode);
    float warpProf = 1.0 - (2.0 * f.x - 1.0) * (2.0 * f.x - 1.0);
    float weftProf = 1.0 - (2.0 * f.y - 1.0) * (2.0 * f.y - 1.0);
    float along = top > 0.5 ? f.y : f.x;
    float across = top > 0.5 ? f.x : f.y;
    float prof = top > 0.5 ? warpProf : weftProf;
    float bend = sin(along * 3.14159);
    float fibres = 0.5 + 0.5 * sin((across * 12.0 + along * 3.0) * 3.14159 + hash21(id) * 6.0);
    vec3 warpCol = vec3(0.5) + vec3(0.4) * cos(6.28318 * (floor(id.x / 3.0) * 0.23 + t * 0.02 + vec3(0.0, 0.3, 0.6)));
    vec3 weftCol = vec3(0.5) + vec3(0.4) * cos(6.28318 * (floor(id.y / 2.0) * 0.31 + 0.5 + vec3(0.1, 0.25, 0.4)));
    vec3 c = top > 0.5 ? warpCol : weftCol;
    c *= 0.35 + 0.65 * prof * (0.7 + 0.3 * bend);
    c *= 0.85 + 0.15 * fibres;
    float gap = smoothstep(0.0, 0.08, min(min(f.x, 1.0 - f.x), min(f.y, 1.0 - f.y)));
    c *= 0.7 + 0.3 * gap;
    fragColor = vec4(clamp(c, 0.02, 0.98), 1.0);
}
