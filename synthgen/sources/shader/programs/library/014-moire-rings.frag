// name: moire-rings
// tags: starter, rings, waves, palette
// licence: MIT, written for synthgen
// description: Interference of drifting concentric ring sources and a rotating line grating producing moire bands.

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 s1 = vec2(0.7 * sin(t * 0.31), 0.5 * cos(t * 0.27));
    vec2 s2 = vec2(-0.6 * cos(t * 0.23), 0.6 * sin(t * 0.37 + 1.0));
    vec2 s3 = vec2(0.5 * sin(t * 0.19 + 2.0), -0.7 * cos(t * 0.29));

    float f = 38.0;
    float r1 = sin(length(p - s1) * f - t * 2.0);
    float r2 = sin(length(p - s2) * f * 1.05 - t * 1.6);
    float r3 = sin(length(p - s3) * f * 0.95 + t * 1.3);
    float a = t * 0.1;
    float g = sin(dot(p, vec2(cos(a), sin(a))) * f * 1.02);

    float m12 = r1 * r2;
    float m23 = r2 * r3;
    float m3g = r3 * g;

    vec3 col;
    col.r = 0.5 + 0.45 * m12;
    col.g = 0.5 + 0.45 * m23;
    col.b = 0.5 + 0.45 * m3g;
    vec3 tint = vec3(0.5) + vec3(0.5) * cos(6.28318 * (length(p) * 0.3 + t * 0.05 + vec3(0.0, 0.33, 0.67)));
    col = mix(col, col * tint * 1.6, 0.5);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
