// name: log-spiral
// tags: polar, tiling, palette
// licence: MIT, written for synthgen
// description: A grid of rounded tiles wrapped onto log-polar coordinates so it spirals endlessly into the centre.

float hash21(vec2 p)
{
    p = fract(p * vec2(167.31, 291.77));
    p += dot(p, p + 23.41);
    return fract(p.x * p.y);
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    p += 0.15 * vec2(sin(t * 0.3), cos(t * 0.27));
    float r = max(length(p), 1e-4);
    float a = atan(p.y, p.x + 1e-9);
    float arms = 9.0;
    vec2 lp = vec2(log(r), a) / 6.28318;
    float shear = 2.0 / 9.0;
    vec2 uv = vec2(lp.x * arms - lp.y * arms * shear, lp.y * arms + lp.x * arms * shear);
    uv.x -= t * 0.6;
    uv.y += t * 0.1;
    vec2 id = floor(uv);
    vec2 f = fract(uv) - 0.5;
    float wrap = floor(id.y / arms);
    id = id - wrap * vec2(-2.0, arms);
    float h = hash21(vec2(mod(id.x, 64.0), id.y));
    vec2 e = abs(f);
    float box = max(e.x, e.y);
    float rad = length(f);
    float shape = mix(box, rad, step(0.5, h));
    vec3 c = vec3(0.5) + vec3(0.45) * cos(6.28318 * (h * 0.6 + id.x * 0.05 + vec3(0.0, 0.3, 0.6)));
    vec3 col = c * (1.0 - 0.9 * shape * shape);
    col = mix(col, c.zxy * 0.9, smoothstep(0.2, 0.18, shape) * step(0.75, h));
    col *= smoothstep(0.5, 0.42, box) * 0.7 + 0.3;
    col *= smoothstep(0.0, 0.25, r) * 0.8 + 0.2;
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
