// name: worley-foam
// tags: worley, palette, texture
// licence: MIT, written for synthgen
// description: Three rising layers of cellular soap bubbles with thin-film iridescent rims and specular glints.

vec3 hash32(vec2 p)
{
    vec3 a = fract(p.xyx * vec3(419.19, 173.71, 257.33));
    a += dot(a, a.yzx + 31.31);
    return fract(vec3(a.x * a.y, a.y * a.z, a.z * a.x));
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec3 col = mix(vec3(0.05, 0.15, 0.30), vec3(0.10, 0.42, 0.50), 0.5 + 0.4 * p.y);
    for (int l = 0; l < 3; l++)
    {
        float fl = float(l);
        float sc = 1.3 + 1.1 * fl;
        vec2 q = p * sc + vec2(fl * 7.1, -t * (0.35 + 0.25 * fl) * sc * 0.3);
        vec2 c = floor(q);
        vec2 f = fract(q);
        float best = 9.0;
        vec2 rel = vec2(0.0);
        float seed = 0.0;
        for (int j = -1; j <= 1; j++)
        {
            for (int i = -1; i <= 1; i++)
            {
                vec2 g = vec2(float(i), float(j));
                vec3 h = hash32(c + g + fl * 31.0);
                vec2 o = 0.15 + 0.7 * h.xy;
                float rad = 0.35 + 0.4 * h.z;
                vec2 r = f - g - o;
                float d = length(r) / rad;
                if (d < best)
                {
                    best = d;
                    rel = r / rad;
                    seed = h.x;
                }
            }
        }
        if (best < 1.0)
        {
            float film = best * best * 2.2 + seed + rel.y * 0.6 + t * 0.1;
            vec3 irid = vec3(0.5) + vec3(0.5) * cos(6.28318 * (film + vec3(0.0, 0.33, 0.67)));
            float rim = smoothstep(0.55, 0.98, best);
            float edge = 1.0 - smoothstep(0.92, 1.0, best);
            vec3 bub = mix(col, irid, 0.25 + 0.65 * rim);
            float spec = smoothstep(0.22, 0.05, length(rel - vec2(-0.35, 0.4)));
            bub += vec3(0.8) * spec;
            col = mix(col, bub, edge);
        }
    }
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
