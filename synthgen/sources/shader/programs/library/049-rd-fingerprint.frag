// name: rd-fingerprint
// tags: reaction-diffusion, stripes, warp, noise
// licence: MIT, written for synthgen
// description: Whorls and loops of Turing-like ridges around drifting cores, with noise-driven bifurcations and broken ridge ends.

float hash21(vec2 p)
{
    p = fract(p * vec2(251.31, 127.73));
    p += dot(p, p + 19.91);
    return fract(p.x * p.y);
}

float vnoise(vec2 p)
{
    vec2 i = floor(p);
    vec2 f = fract(p);
    vec2 u = f * f * (3.0 - 2.0 * f);
    return mix(mix(hash21(i), hash21(i + vec2(1.0, 0.0)), u.x),
               mix(hash21(i + vec2(0.0, 1.0)), hash21(i + vec2(1.0, 1.0)), u.x), u.y);
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 w = p + 0.25 * vec2(vnoise(p * 2.0 + 1.0) - 0.5, vnoise(p * 2.0 + 7.0) - 0.5);
    float phi = 0.0;
    float wsum = 0.0;
    for (int k = 0; k < 4; k++)
    {
        float fk = float(k);
        vec2 c = vec2(1.3 * sin(t * 0.13 + fk * 1.7), 0.8 * cos(t * 0.11 + fk * 2.3));
        vec2 d = w - c;
        float r = length(d);
        float ecc = 0.3 * sin(fk * 2.0 + t * 0.2);
        float shape = length(d * vec2(1.0 + ecc, 1.0 - ecc)) + 0.08 * sin(atan(d.y, d.x + 1e-9) * 2.0 + fk);
        float wt = 1.0 / (r * r + 0.15);
        phi += shape * wt;
        wsum += wt;
    }
    phi /= wsum;
    float k = 80.0;
    float s = sin(phi * k - t * 1.2 + 2.0 * vnoise(p * 3.0));
    float thick = 0.15 * (vnoise(p * 4.0 + 3.0) - 0.5);
    float breaks = smoothstep(0.78, 0.86, vnoise(p * 9.0 + vec2(t * 0.1, 0.0)));
    float ridge = smoothstep(-0.15, 0.15, s + thick);
    ridge *= 1.0 - breaks * smoothstep(0.4, 0.9, s);
    vec3 ink = vec3(0.5) + vec3(0.42) * cos(6.28318 * (phi * 0.4 + t * 0.03 + vec3(0.55, 0.7, 0.85)));
    vec3 paper = vec3(0.93, 0.88, 0.80);
    vec3 col = mix(paper, ink * 0.6, ridge);
    col *= 0.9 + 0.1 * vnoise(fragCoord * 0.5);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
