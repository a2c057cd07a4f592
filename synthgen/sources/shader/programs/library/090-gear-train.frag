// name: gear-train
// tags: sdf, tiling, polar
// licence: MIT, written for synthgen
// description: Checkerboard of interlocking gears turning in alternate directions, with bevel lighting and hub details.

float gear(vec2 p, float r, float teeth, float ang)
{
    float a = atan(p.y, abs(p.x) < 1e-9 ? 1e-9 : p.x) + ang;
    float seg = 6.28318 / teeth;
    float la = mod(a, seg) - 0.5 * seg;
    float rr = length(p);
    float tooth = smoothstep(0.25 * seg, 0.15 * seg, abs(la));
    float outer = r + 0.07 * tooth;
    return rr - outer;
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 uv = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 g = uv * 2.0 + vec2(0.1 * t, 0.0);
    vec3 col = vec3(0.15, 0.12, 0.1) + vec3(0.1, 0.08, 0.05) * cos(uv.x * 30.0 + uv.y * 10.0);
    vec2 id0 = floor(g);
    for (int j = -1; j <= 1; j++)
    {
        for (int i = -1; i <= 1; i++)
        {
            vec2 id = id0 + vec2(float(i), float(j));
            vec2 q = g - id - 0.5;
            float par = mod(id.x + id.y, 2.0);
            float teeth = 12.0;
            float dir = par > 0.5 ? 1.0 : -1.0;
            float ang = dir * t * 0.8 + par * 3.14159 / teeth;
            float d = gear(q, 0.44, teeth, ang);
            float inner = length(q);
            vec3 mc = par > 0.5 ? vec3(0.85, 0.6, 0.25) : vec3(0.45, 0.6, 0.75);
            mc = mix(mc, mc.gbr, 0.3 * sin(id.x * 1.3 + id.y * 2.1));
            float hole = 0.0;
            for (int k = 0; k < 5; k++)
            {
                float a = 1.2566 * float(k) + ang;
                hole = max(hole, smoothstep(0.075, 0.065, length(q - 0.25 * vec2(cos(-a), sin(-a)))));
            }
            vec2 grad = normalize(q + vec2(1e-5));
            float bevel = smoothstep(-0.05, 0.0, d) * dot(grad, normalize(vec2(-0.6, 0.8)));
            vec3 gc = mc * (0.75 + 0.25 * cos(inner * 60.0)) + 0.3 * bevel;
            gc = mix(gc, vec3(0.15, 0.12, 0.1), hole);
            gc = mix(gc, vec3(0.25, 0.2, 0.2), smoothstep(0.06, 0.05, inner));
            col = mix(col * (1.0 - 0.4 * smoothstep(0.06, 0.0, d)), gc, smoothstep(0.005, -0.005, d));
        }
    }
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
