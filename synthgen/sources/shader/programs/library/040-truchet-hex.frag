// name: truchet-hex
// tags: truchet, hex, tiling, pattern
// licence: MIT, written for synthgen
// description: Hexagonal Truchet tiles of three small arcs each, linking into endless knotted ribbons with moving dashes.

float hash21(vec2 p)
{
    p = fract(p * vec2(317.19, 239.71));
    p += dot(p, p + 41.13);
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
    vec2 q = p * 3.2 + vec2(-t * 0.12, t * 0.08);
    vec4 hc = hexCell(q);
    vec2 l = hc.xy;
    float h = hash21(floor(hc.zw * 2.0 + 0.5));
    float R = 0.57735027;
    float off = (h < 0.5) ? 0.0 : 1.0471976;
    float best = 9.0;
    float ang = 0.0;
    for (int k = 0; k < 3; k++)
    {
        float a = 1.5707963 + off + float(k) * 2.0943951;
        vec2 v = R * vec2(cos(a), sin(a));
        vec2 r = l - v;
        float d = abs(length(r) - 0.5 * R);
        if (d < best)
        {
            best = d;
            ang = atan(r.y, r.x + 1e-9);
        }
    }
    float w = 0.11;
    float band = smoothstep(w, w - 0.025, best);
    float outline = smoothstep(w + 0.03, w, best) - band;
    float dash = step(0.0, sin(ang * 6.0 + t * 4.0 * (h < 0.5 ? 1.0 : -1.0)));
    vec3 bg = mix(vec3(0.92, 0.85, 0.70), vec3(0.80, 0.62, 0.45), smoothstep(0.0, 0.5, length(l)));
    vec3 rib = vec3(0.5) + vec3(0.45) * cos(6.28318 * (t * 0.04 + 0.1 * hc.z + vec3(0.0, 0.33, 0.67)));
    rib = mix(rib, rib.zxy, 0.35 * dash);
    rib *= 0.7 + 0.3 * (1.0 - best / w);
    vec3 col = mix(bg, rib, band);
    col = mix(col, vec3(0.12, 0.1, 0.14), outline);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
