// name: opart-squares
// tags: stripes, pattern, tiling
// licence: MIT, written for synthgen
// description: An op-art checkerboard whose columns and rows compress and stretch in travelling waves, warping into a bulge.

float squash(float x, float c, float k)
{
    return x + k * sin((x - c) * 1.3) * exp(-0.3 * (x - c) * (x - c));
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 c = vec2(0.8 * sin(t * 0.3), 0.5 * cos(t * 0.23));
    vec2 d = p - c;
    float r = length(d);
    float bulge = 1.0 - 0.45 * exp(-r * r * 3.0);
    vec2 q = c + d * bulge;
    q *= 5.0;
    float cx = 3.0 * sin(t * 0.4);
    float cy = 2.0 * cos(t * 0.5);
    q.x = squash(q.x, cx, 1.1);
    q.y = squash(q.y, cy, 0.9);
    vec2 id = floor(q);
    float chk = mod(id.x + id.y, 2.0);
    vec2 f = fract(q);
    vec3 a = vec3(0.95, 0.92, 0.85);
    vec3 b = vec3(0.10, 0.10, 0.18);
    vec3 col = mix(a, b, chk);
    float tint = 0.5 + 0.5 * sin(id.x * 0.4 + t * 0.6);
    col = mix(col, col * vec3(1.0, 0.45, 0.35) + vec3(0.0, 0.0, 0.05), 0.35 * tint * (1.0 - chk));
    vec2 g = abs(f - 0.5);
    col *= 0.92 + 0.08 * smoothstep(0.5, 0.45, max(g.x, g.y));
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
