// name: pentagrid
// tags: tiling, pattern, palette
// licence: MIT, written for synthgen
// description: Regions of a shifting de Bruijn pentagrid coloured by their five-index signature, a Penrose-like quasi-periodic mosaic.

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float ca = cos(t * 0.05);
    float sa = sin(t * 0.05);
    vec2 q = mat2(ca, -sa, sa, ca) * p * 3.2;
    float ksum = 0.0;
    float sig = 0.0;
    float line = 9.0;
    float even = 0.0;
    for (int j = 0; j < 5; j++)
    {
        float fj = float(j);
        float a = fj * 6.28318 / 5.0;
        vec2 e = vec2(cos(a), sin(a));
        float gamma = 0.2 + 0.13 * fj + 0.25 * sin(t * 0.3 + fj * 1.7);
        float x = dot(q, e) + gamma;
        float k = floor(x);
        float fr = fract(x);
        ksum += k;
        sig += mod(k, 3.0) * (fj + 1.0) * 0.37 + mod(k, 2.0) * 0.21;
        even += mod(k, 2.0);
        line = min(line, min(fr, 1.0 - fr));
    }
    float kind = mod(ksum, 5.0);
    vec3 col = vec3(0.5) + vec3(0.45) * cos(6.28318 * (kind * 0.2 + 0.08 * sig + t * 0.02 + vec3(0.0, 0.33, 0.67)));
    col = mix(col, col.bgr, step(2.5, even));
    float w = 0.045;
    col *= 0.6 + 0.4 * smoothstep(0.0, 0.25, line);
    col = mix(vec3(0.97, 0.92, 0.82), col, smoothstep(0.0, w, line));
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
