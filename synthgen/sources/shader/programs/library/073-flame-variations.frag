// name: flame-variations
// tags: fractal, ifs, palette
// licence: MIT, written for synthgen
// description: Per-pixel fractal-flame look: cycling sinusoidal, swirl and spherical variations accumulating coloured density.

vec3 flamePal(float x)
{
    return vec3(0.5, 0.4, 0.45) + vec3(0.5, 0.45, 0.45) * cos(6.28318 * (x + vec3(0.0, 0.2, 0.45)));
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime * 0.4;
    vec2 q = p * 1.5;
    vec3 acc = vec3(0.0);
    mat2 a = mat2(1.05 + 0.2 * sin(t), 0.45 * cos(t * 0.7), -0.4 * sin(t * 0.9 + 1.0), 0.95 + 0.2 * cos(t * 1.3));
    vec2 sh = vec2(0.25 * sin(t * 0.5), 0.2 * cos(t * 0.6));
    for (int i = 0; i < 15; i++)
    {
        float fi = float(i);
        float m = mod(fi, 3.0);
        q = a * q + sh;
        if (m < 0.5)
        {
            q = 1.3 * sin(q * 1.4);
        }
        else if (m < 1.5)
        {
            float r2 = dot(q, q);
            float s = sin(r2 + t);
            float c = cos(r2 + t);
            q = vec2(q.x * s - q.y * c, q.x * c + q.y * s);
        }
        else
        {
            q = q / (dot(q, q) + 0.3);
        }
        float f = exp(-40.0 * abs(q.x * q.y)) + exp(-20.0 * abs(length(q) - 0.8));
        acc += flamePal(fi * 0.061 + t * 0.1) * f;
    }
    vec3 col = 1.0 - exp(-acc * 0.9);
    col = pow(col, vec3(1.5));
    vec3 bg = mix(vec3(0.1, 0.04, 0.2), vec3(0.02, 0.12, 0.2), 0.5 + 0.5 * p.y);
    col = bg + col * 0.95;
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
