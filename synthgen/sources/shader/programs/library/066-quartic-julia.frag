// name: quartic-julia
// tags: fractal, julia, orbit-trap, palette
// licence: MIT, written for synthgen
// description: Three-fold symmetric Julia set of z^4+c with a circling constant and a ring trap.

vec2 csq(vec2 z)
{
    return vec2(z.x * z.x - z.y * z.y, 2.0 * z.x * z.y);
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float a = t * 0.23 + 1.0;
    vec2 c = vec2(0.62 * cos(a), 0.62 * sin(a)) + vec2(0.05 * sin(t * 0.71), 0.0);
    float rot = t * 0.07;
    vec2 z = mat2(cos(rot), -sin(rot), sin(rot), cos(rot)) * p * 1.05;
    float ring = 1e3;
    float n = 0.0;
    float escaped = 0.0;
    for (int i = 0; i < 60; i++)
    {
        z = csq(csq(z)) + c;
        float m2 = dot(z, z);
        if (m2 > 256.0)
        {
            escaped = 1.0;
            break;
        }
        ring = min(ring, abs(sqrt(m2) - 0.6));
        n += 1.0;
    }
    vec3 col;
    float g = exp(-10.0 * ring);
    if (escaped > 0.5)
    {
        float lz = max(0.5 * log(max(dot(z, z), 1.0001)), 1e-4);
        float sn = n + 1.0 - log(lz / log(16.0)) / log(4.0);
        col = vec3(0.5) + vec3(0.5) * cos(6.28318 * (sn * 0.11 + vec3(0.3, 0.55, 0.8) - t * 0.04));
        col = mix(col * 0.25, col, smoothstep(0.0, 6.0, sn));
    }
    else
    {
        float ia = atan(z.y, abs(z.x) + abs(z.y) < 1e-12 ? 1.0 : z.x);
        col = vec3(0.3, 0.15, 0.25) + vec3(0.25, 0.2, 0.15) * cos(ia * 3.0 + ring * 20.0 + vec3(0.0, 1.5, 3.0));
    }
    col = mix(col, vec3(0.98, 0.9, 0.6), g * (escaped > 0.5 ? 0.7 : 0.3));
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
