// name: halftone-moire
// tags: moire, pattern, waves
// licence: MIT, written for synthgen
// description: Cyan, magenta and yellow halftone dot screens at slowly turning angles print a plasma and beat into moire rosettes.

mat2 rot(float a)
{
    float c = cos(a);
    float s = sin(a);
    return mat2(c, -s, s, c);
}

float screen(vec2 p, float ang, float freq, float amount)
{
    vec2 q = rot(ang) * p * freq;
    vec2 f = fract(q) - 0.5;
    float r = sqrt(clamp(amount, 0.0, 1.0)) * 0.62;
    return smoothstep(r + 0.06, r - 0.06, length(f));
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float c = 0.5 + 0.5 * sin(p.x * 2.1 + t * 0.5 + sin(p.y * 1.7 - t * 0.3));
    float m = 0.5 + 0.5 * sin(length(p - vec2(0.5 * sin(t * 0.2), 0.3)) * 4.0 - t * 0.7);
    float y = 0.5 + 0.5 * cos(p.y * 2.6 - t * 0.4 + p.x);
    float freq = 16.0;
    float drift = t * 0.04;
    float sc = screen(p, 0.2618 + drift, freq, c);
    float sm = screen(p, 1.309 - drift * 0.7, freq * 1.03, m);
    float sy = screen(p, 0.0 + drift * 0.5, freq * 0.97, y);
    vec3 col = vec3(0.97, 0.95, 0.90);
    col *= mix(vec3(1.0), vec3(0.05, 0.68, 0.92), sc);
    col *= mix(vec3(1.0), vec3(0.90, 0.10, 0.55), sm);
    col *= mix(vec3(1.0), vec3(0.98, 0.90, 0.08), sy);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
