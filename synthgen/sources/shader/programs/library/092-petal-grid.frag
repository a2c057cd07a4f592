// name: petal-grid
// tags: sdf, polar, tiling
// licence: MIT, written for synthgen
// description: Hexagonal field of layered polar flowers with varying petal counts that open, close and spin.

float hash(vec2 p)
{
    return fract(sin(dot(p, vec2(41.3, 289.1))) * 43758.5453);
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 uv = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 g = uv * 2.4 + vec2(t * 0.1, -t * 0.05);
    const vec2 s = vec2(1.0, 1.7320508);
    vec2 a = mod(g, s) - 0.5 * s;
    vec2 b = mod(g - 0.5 * s, s) - 0.5 * s;
    vec2 q = dot(a, a) < dot(b, b) ? a : b;
    vec2 id = g - q;
    float hsh = hash(floor(id * 2.0 + 0.5));
    float petals = 4.0 + floor(hsh * 5.0);
    float r = length(q);
    float ang = atan(q.y, abs(q.x) < 1e-9 ? 1e-9 : q.x) + t * (hsh - 0.5) * 1.5;
    float open = 0.5 + 0.5 * sin(t * 0.9 + hsh * 6.28);
    vec3 col = vec3(0.1, 0.3, 0.2) + vec3(0.08, 0.12, 0.05) * cos(r * 30.0);
    for (int l = 0; l < 3; l++)
    {
        float fl = float(l);
        float sc = 1.0 - 0.28 * fl;
        float pr = (0.3 + 0.15 * open) * sc * (0.55 + 0.45 * abs(cos(0.5 * petals * (ang + fl * 0.4))));
        float d = r - pr;
        vec3 pc = vec3(0.55, 0.45, 0.5) + vec3(0.45, 0.4, 0.4) * cos(6.28318 * (hsh + fl * 0.18 + vec3(0.0, 0.25, 0.55)));
        pc *= 0.65 + 0.35 * smoothstep(0.0, pr, r);
        col = mix(col * (1.0 - 0.35 * smoothstep(0.05, 0.0, d)), pc, smoothstep(0.01, -0.01, d));
    }
    col = mix(col, vec3(0.95, 0.8, 0.3), smoothstep(0.06, 0.04, r));
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
