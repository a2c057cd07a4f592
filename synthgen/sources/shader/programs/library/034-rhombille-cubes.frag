// name: rhombille-cubes
// tags: hex, tiling, pattern
// licence: MIT, written for synthgen
// description: Hexagons split into three shaded rhombi, a tumbling-blocks illusion whose cube colours and light flip over time.

float hash21(vec2 p)
{
    p = fract(p * vec2(233.37, 157.91));
    p += dot(p, p + 31.73);
    return fract(p.x * p.y);
}

vec4 hexCell(vec2 p)
{
    vec2 s = vec2(1.0, 1.7320508);
    vec2 hs = 0.5 * s;
    vec2 a = mod(p, s) - hs;
    vec2 b = mod(p - hs, s) - hs;
    vec2 g = dot(a, a) < dot(b, b) ? a : b;
    return vec4(g, p - g);
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 q = p * 3.0 + vec2(t * 0.2, t * 0.05);
    vec4 hc = hexCell(q);
    vec2 l = hc.xy;
    vec2 id = hc.zw;
    float h = hash21(floor(id * 2.0 + 0.5));
    float ang = atan(l.y, l.x + 1e-9);
    float deg = mod(degrees(ang) + 360.0 - 30.0, 360.0);
    float face = floor(deg / 120.0);
    float flip = step(0.5, fract(h * 7.0 + t * 0.15));
    float f2 = mod(face + flip * 1.0, 3.0);
    float shade = f2 < 0.5 ? 0.95 : (f2 < 1.5 ? 0.6 : 0.32);
    vec3 base = vec3(0.5) + vec3(0.45) * cos(6.28318 * (h * 0.35 + 0.1 * id.y * 0.2 + t * 0.04 + vec3(0.0, 0.25, 0.55)));
    vec3 col = base * shade + 0.04;
    float r = length(l);
    float edgeAng = abs(mod(deg, 120.0) - 60.0) / 60.0;
    col *= 0.85 + 0.15 * smoothstep(0.95, 0.85, edgeAng);
    float hexEdge = max(abs(l.x), dot(abs(l), vec2(0.5, 0.8660254)));
    col *= 0.75 + 0.25 * smoothstep(0.5, 0.46, hexEdge);
    col += 0.05 * r;
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
