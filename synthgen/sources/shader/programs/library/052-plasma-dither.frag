// name: plasma-dither
// tags: plasma, palette, waves, pattern
// licence: MIT, written for synthgen
// description: A product-of-sines plasma posterised to a small retro palette with ordered 4x4 Bayer dithering between levels.

float bayer4(vec2 c)
{
    vec2 a = mod(c, 2.0);
    vec2 b = mod(floor(c * 0.5), 2.0);
    float m1 = 2.0 * a.x + 3.0 * a.y - 4.0 * a.x * a.y;
    float m2 = 2.0 * b.x + 3.0 * b.y - 4.0 * b.x * b.y;
    return (m1 * 4.0 + m2 + 0.5) / 16.0;
}

vec3 retro(float i)
{
    float k = mod(i, 6.0);
    if (k < 0.5) return vec3(0.10, 0.06, 0.25);
    if (k < 1.5) return vec3(0.45, 0.10, 0.45);
    if (k < 2.5) return vec3(0.90, 0.25, 0.35);
    if (k < 3.5) return vec3(0.98, 0.62, 0.20);
    if (k < 4.5) return vec3(0.95, 0.90, 0.55);
    return vec3(0.25, 0.55, 0.65);
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float v = sin(p.x * 3.0 + t) * sin(p.y * 2.5 - t * 0.7) * 1.5;
    v += sin(length(p * vec2(1.3, 0.8) - vec2(sin(t * 0.3), 0.0)) * 5.0 - t * 1.2);
    v += 0.8 * sin(p.x * p.y * 4.0 + t * 0.5);
    float level = (v + 3.3) * 1.3 + t * 0.3;
    float px = max(floor(min(iResolution.x, iResolution.y) / 128.0), 1.0);
    vec2 cell = floor(fragCoord / px);
    float d = bayer4(cell);
    float idx = floor(level + d - 0.5);
    vec3 col = retro(idx);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
