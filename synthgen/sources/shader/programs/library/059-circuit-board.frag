// name: circuit-board
// tags: pattern, tiling, texture
// licence: MIT, written for synthgen
// description: Printed-circuit traces built from shared random grid edges, with vias at dead ends, chip pads and travelling signal pulses.

float hash21(vec2 p)
{
    p = fract(p * vec2(421.73, 157.31));
    p += dot(p, p + 35.71);
    return fract(p.x * p.y);
}

float segH(vec2 f, float dir)
{
    float x = f.x * dir;
    return x > 0.0 ? abs(f.y) : length(f);
}

float segV(vec2 f, float dir)
{
    float y = f.y * dir;
    return y > 0.0 ? abs(f.x) : length(f);
}

vec3 layer(vec2 q, float t, float scale, vec3 bg, vec3 copper, inout float any)
{
    vec2 id = floor(q);
    vec2 f = fract(q) - 0.5;
    float eR = step(0.55, hash21(id * vec2(1.0, 1.0) + 0.3 * scale));
    float eL = step(0.55, hash21((id - vec2(1.0, 0.0)) * vec2(1.0, 1.0) + 0.3 * scale));
    float eU = step(0.55, hash21(id + vec2(71.0, 13.0) + 0.3 * scale));
    float eD = step(0.55, hash21(id - vec2(0.0, 1.0) + vec2(71.0, 13.0) + 0.3 * scale));
    float d = 9.0;
    if (eR > 0.5) d = min(d, segH(f, 1.0));
    if (eL > 0.5) d = min(d, segH(f, -1.0));
    if (eU > 0.5) d = min(d, segV(f, 1.0));
    if (eD > 0.5) d = min(d, segV(f, -1.0));
    float deg = eR + eL + eU + eD;
    float w = 0.09;
    float trace = smoothstep(w, w - 0.04, d);
    float via = 0.0;
    float hole = 0.0;
    if (deg > 0.5 && deg < 1.5)
    {
        float r = length(f);
        via = smoothstep(0.24, 0.2, r);
        hole = smoothstep(0.1, 0.07, r);
    }
    float pulse = pow(max(0.0, 0.5 + 0.5 * sin((id.x + id.y + f.x + f.y) * 1.3 - t * 3.0 + hash21(id) * 6.0)), 8.0);
    vec3 col = bg;
    col = mix(col, bg * 0.7, smoothstep(w + 0.08, w, d));
    vec3 cu = copper * (0.85 + 0.15 * (1.0 - d / w));
    cu = mix(cu, vec3(0.95, 0.98, 0.8), pulse * 0.7);
    col = mix(col, cu, max(trace, via));
    col = mix(col, vec3(0.05, 0.08, 0.06), hole);
    any = max(any, max(trace, via));
    return col;
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 q = p * 5.0 + vec2(t * 0.2, t * 0.05);
    vec3 board = vec3(0.06, 0.30, 0.16) * (0.9 + 0.1 * sin(q.x * 0.7) * sin(q.y * 0.9));
    float any = 0.0;
    vec3 col = layer(q * 2.0 + 0.5, t, 2.0, board, vec3(0.45, 0.55, 0.35), any);
    float any2 = 0.0;
    vec3 top = layer(q, t, 1.0, col, vec3(0.85, 0.62, 0.28), any2);
    col = top;
    vec2 cid = floor(q / 4.0);
    vec2 cf = q / 4.0 - cid - 0.5;
    float hc = hash21(cid + 9.0);
    if (hc > 0.55)
    {
        vec2 sz = vec2(0.22 + 0.1 * hc, 0.14 + 0.1 * fract(hc * 7.0));
        vec2 e = abs(cf) - sz;
        float box = max(e.x, e.y);
        float pins = step(0.5, fract((cf.x + cf.y * 0.0) * 40.0)) * step(0.0, box) * step(box, 0.04) * step(abs(cf.y), sz.y + 0.04);
        col = mix(col, vec3(0.85, 0.85, 0.8), pins);
        col = mix(col, vec3(0.09, 0.09, 0.1) + 0.05 * step(0.0, cf.y), smoothstep(0.005, 0.0, box));
    }
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
