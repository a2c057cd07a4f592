// name: sierpinski-address
// tags: fractal, ifs, palette
// licence: MIT, written for synthgen
// description: Twisted Sierpinski triangle made by folding towards the nearest vertex, coloured by the digit address.

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    p = p * 0.95 + vec2(0.0, -0.15);
    vec2 v0 = vec2(0.0, 1.0);
    vec2 v1 = vec2(-0.866, -0.5);
    vec2 v2 = vec2(0.866, -0.5);
    float tw = 0.18 * sin(t * 0.4);
    mat2 r = mat2(cos(tw), -sin(tw), sin(tw), cos(tw));
    float addr = 0.0;
    float w = 0.5;
    float sc = 1.0;
    float ed = 1e3;
    float depth = 0.0;
    for (int i = 0; i < 8; i++)
    {
        float d0 = dot(p - v0, p - v0);
        float d1 = dot(p - v1, p - v1);
        float d2 = dot(p - v2, p - v2);
        vec2 v = v0;
        float k = 0.0;
        if (d1 < d0 && d1 <= d2) { v = v1; k = 1.0; }
        if (d2 < d0 && d2 < d1) { v = v2; k = 2.0; }
        addr += k * w;
        w *= 0.45;
        p = r * (2.0 * p - v);
        sc *= 2.0;
        float e = (length(p) - 0.45) / sc;
        if (e < ed)
        {
            ed = e;
            depth = float(i);
        }
    }
    vec3 col = vec3(0.5) + vec3(0.42) * cos(6.28318 * (addr * 0.8 + vec3(0.0, 0.33, 0.67) + t * 0.04));
    col *= 0.8 + 0.2 * cos(depth * 0.9 + t * 0.7);
    float g = exp(-abs(ed) * 200.0);
    col = mix(col, col.gbr * 0.5 + vec3(0.08, 0.04, 0.12), smoothstep(0.004, -0.004, ed) * 0.7);
    col = mix(col, vec3(0.97, 0.92, 0.8), g * 0.5);
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
