// name: texture-marble
// tags: starter, texture, noise, fbm, warp
// licence: MIT, written for synthgen
// description: Marble veins from warped fbm built on lookups into the iChannel0 noise texture.

float texNoise(vec2 p)
{
    return textureLod(iChannel0, (p + 0.5) / 256.0, 0.0).x;
}

float texFbm(vec2 p)
{
    float s = 0.0;
    float a = 0.5;
    for (int i = 0; i < 4; i++)
    {
        s += a * texNoise(p);
        p = mat2(1.6, 1.2, -1.2, 1.6) * p + vec2(13.7, 7.1);
        a *= 0.5;
    }
    // stretch contrast: sums of uniform noise cluster around 0.5
    return clamp((s / 0.9375 - 0.5) * 2.2 + 0.5, 0.0, 1.0);
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime * 0.25;
    vec2 q = p * 2.5;
    vec2 w = vec2(texFbm(q + vec2(t, 0.3 * t)), texFbm(q + vec2(31.0 - 0.4 * t, 17.0 + t)));
    float f = texFbm(q + 2.5 * w + vec2(0.0, 0.2 * t));

    float vein = sin((p.x * 3.0 + p.y * 1.5) + f * 9.0 + w.y * 4.0 + t * 3.0);
    vein = 1.0 - pow(abs(vein), 0.35);

    vec3 stone = mix(vec3(0.12, 0.2, 0.45), vec3(0.9, 0.78, 0.6), f);
    stone = mix(stone, vec3(0.1, 0.65, 0.55), smoothstep(0.5, 0.8, w.x) * 0.7);
    vec3 col = mix(stone, vec3(0.95, 0.3, 0.2), vein * 0.85);
    float grain = textureLod(iChannel0, fragCoord / 256.0, 0.0).y;
    col *= 0.9 + 0.15 * (grain - 0.5);
    float lum = dot(col, vec3(0.333));
    col = mix(vec3(lum), col, 1.5);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
