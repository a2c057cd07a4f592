// name: chevron-stripes
// tags: stripes, waves, palette, pattern
// licence: MIT, written for synthgen
// description: Zig-zag chevron bands of varying width and amplitude in a scrolling multi-colour palette, with sharp folds.

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float period = 0.55 + 0.15 * sin(p.y * 0.8 + t * 0.2);
    float amp = 0.25 + 0.15 * sin(p.y * 1.3 - t * 0.3);
    float tri = abs(fract(p.x / period + 0.5) - 0.5) * 2.0;
    float y = p.y + amp * tri - t * 0.25;
    float w = y * 5.0;
    float id = floor(w);
    float fr = fract(w);
    float hue = id * 0.13 + floor(p.x / period + 0.5) * 0.02;
    vec3 col = vec3(0.5) + vec3(0.45) * cos(6.28318 * (hue + vec3(0.0, 0.33, 0.67)));
    float sub = step(0.5, fract(fr * 2.0 + 0.0)) * step(0.5, fract(id * 0.5));
    col = mix(col, col.gbr * 0.8, sub * 0.6);
    float fold = step(0.5, fract(p.x / period));
    col *= 0.82 + 0.18 * fold;
    col *= 0.75 + 0.25 * smoothstep(0.0, 0.08, fr) * smoothstep(1.0, 0.92, fr);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
