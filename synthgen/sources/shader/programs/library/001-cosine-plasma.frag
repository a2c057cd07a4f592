// name: cosine-plasma
// tags: starter, palette, waves
// licence: MIT, written for synthgen
// description: Sum of travelling sine fields mapped through a cycling cosine palette.

vec3 plasmaPalette(float t)
{
    return vec3(0.5) + vec3(0.5) * cos(6.28318 * (vec3(1.0, 1.0, 1.0) * t + vec3(0.00, 0.33, 0.67)));
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime * 0.7;

    vec2 c1 = vec2(sin(t * 0.53), cos(t * 0.41)) * 0.9;
    vec2 c2 = vec2(cos(t * 0.37 + 1.0), sin(t * 0.61 + 2.0)) * 0.8;

    float v = 0.0;
    v += sin(p.x * 3.1 + t);
    v += sin(p.y * 3.7 - t * 1.3);
    v += sin((p.x + p.y) * 2.3 + t * 0.7);
    v += sin(length(p - c1) * 7.0 - t * 1.9);
    v += sin(length(p - c2) * 5.0 + t * 1.1);

    vec3 col = plasmaPalette(v * 0.18 + t * 0.08);
    col *= 0.72 + 0.28 * sin(v * 5.0 + t);
    col = mix(col, col * col * 1.6, 0.3);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
