// name: julia-grid-trap
// tags: fractal, julia, orbit-trap, tiling
// licence: MIT, written for synthgen
// description: Julia set whose orbits are trapped by a rotating tiled grid, so the first hit paints checker tiles along the set.

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 c = vec2(0.285 + 0.02 * sin(t * 0.4), 0.01 + 0.03 * cos(t * 0.33));
    vec2 z = p * 1.3;
    float ga = t * 0.15;
    mat2 gr = mat2(cos(ga), -sin(ga), sin(ga), cos(ga));
    vec3 col = vec3(0.0);
    float hit = 0.0;
    float n = 0.0;
    for (int i = 0; i < 80; i++)
    {
        z = vec2(z.x * z.x - z.y * z.y, 2.0 * z.x * z.y) + c;
        if (dot(z, z) > 16.0) break;
        vec2 g = gr * z * 3.0;
        vec2 f = fract(g) - 0.5;
        float lineD = 0.5 - max(abs(f.x), abs(f.y));
        if (hit < 0.5 && lineD < 0.06 && i > 1)
        {
            vec2 cell = floor(g);
            float chk = mod(cell.x + cell.y, 2.0);
            col = vec3(0.5) + vec3(0.45) * cos(6.28318 * (float(i) * 0.07 + chk * 0.35 + vec3(0.0, 0.3, 0.6)));
            col *= 0.6 + 0.4 * (1.0 - lineD / 0.06);
            hit = 1.0;
        }
        n += 1.0;
    }
    if (hit < 0.5)
    {
        col = vec3(0.12, 0.1, 0.22) + vec3(0.25, 0.2, 0.15) * (0.5 + 0.5 * cos(n * 0.4 + t));
    }
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
