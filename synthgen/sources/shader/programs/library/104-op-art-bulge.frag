// name: op-art-bulge
// tags: pattern, tiling, 3d
// licence: MIT, written for synthgen
// description: Op-art checkerboard warped by two drifting lens bulges and a pinch, giving an illusion of swelling spheres.

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 q = p;
    vec2 c1 = vec2(0.6 * sin(t * 0.4), 0.4 * cos(t * 0.3));
    vec2 c2 = vec2(-0.7 * cos(t * 0.25), -0.5 * sin(t * 0.35));
    float shade = 0.0;
    vec2 d1 = q - c1;
    float r1 = length(d1);
    float k1 = 0.7;
    if (r1 < k1)
    {
        float z = sqrt(max(k1 * k1 - r1 * r1, 0.0)) / k1;
        q = c1 + d1 * (0.55 + 0.45 * (1.0 - z));
        shade += z;
    }
    vec2 d2 = q - c2;
    float r2 = length(d2);
    float k2 = 0.55;
    if (r2 < k2)
    {
        float z = sqrt(max(k2 * k2 - r2 * r2, 0.0)) / k2;
        q = c2 + d2 * (0.5 + 0.5 * (1.0 - z));
        shade += z;
    }
    vec2 c3 = vec2(0.5 * cos(t * 0.2 + 2.0), 0.6 * sin(t * 0.3 + 1.0));
    vec2 d3 = q - c3;
    q += d3 * 0.25 * exp(-dot(d3, d3) * 6.0);
    float ang = 0.2 * sin(t * 0.1);
    q = mat2(cos(ang), -sin(ang), sin(ang), cos(ang)) * q;
    vec2 g = q * 7.0;
    vec2 f = fract(g) - 0.5;
    float aa = 7.0 * 2.0 / min(iResolution.x, iResolution.y) * 1.5;
    float chk = smoothstep(-aa, aa, f.x) * 2.0 - 1.0;
    chk *= smoothstep(-aa, aa, f.y) * 2.0 - 1.0;
    chk = chk * 0.5 + 0.5;
    vec3 ca = vec3(0.95, 0.93, 0.85);
    vec3 cb = mix(vec3(0.1, 0.1, 0.25), vec3(0.6, 0.1, 0.2), 0.5 + 0.5 * sin(t * 0.3));
    vec3 col = mix(cb, ca, chk);
    col *= 0.75 + 0.25 * shade;
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
