// name: ripple-tank
// tags: waves, moire, palette
// licence: MIT, written for synthgen
// description: Interference of circular waves from three drifting point sources, shaded as a lit water surface with caustic highlights.

vec2 srcPos(int k, float t)
{
    float fk = float(k);
    return vec2(1.2 * sin(t * 0.11 + fk * 2.5), 0.9 * cos(t * 0.09 + fk * 1.9));
}

float height(vec2 p, float t)
{
    float h = 0.0;
    for (int k = 0; k < 3; k++)
    {
        float fk = float(k);
        float r = length(p - srcPos(k, t));
        float kk = 20.0 + 3.0 * fk;
        h += cos(r * kk - t * (3.0 + 0.3 * fk)) / sqrt(r + 0.3);
    }
    return h * 0.45;
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float e = 0.004;
    float h = height(p, t);
    float hx = height(p + vec2(e, 0.0), t);
    float hy = height(p + vec2(0.0, e), t);
    vec3 n = normalize(vec3((h - hx) / e * 0.02, (h - hy) / e * 0.02, 1.0));
    vec3 lig = normalize(vec3(0.4, 0.6, 0.7));
    float dif = clamp(dot(n, lig), 0.0, 1.0);
    float spe = pow(clamp(dot(reflect(-lig, n), vec3(0.0, 0.0, 1.0)), 0.0, 1.0), 20.0);
    vec3 deep = vec3(0.04, 0.18, 0.35);
    vec3 shallow = vec3(0.20, 0.65, 0.70);
    vec3 col = mix(deep, shallow, clamp(0.5 + h * 0.8, 0.0, 1.0));
    col = mix(col, vec3(0.55, 0.35, 0.75), 0.35 * smoothstep(0.3, 1.0, -h));
    col = mix(col, vec3(0.85, 0.95, 0.75), 0.3 * smoothstep(0.4, 1.1, h));
    col *= 0.5 + 0.7 * dif;
    col += vec3(0.9, 0.85, 0.6) * spe * 0.6;
    col += vec3(0.25, 0.1, 0.3) * smoothstep(0.6, 1.2, abs(h));
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
