// name: nova-julia
// tags: fractal, newton, julia, palette
// licence: MIT, written for synthgen
// description: Julia-type Nova fractal, a relaxed Newton iteration for z^3-1 plus a drifting constant, coloured by convergence angle.

vec2 cmul(vec2 a, vec2 b)
{
    return vec2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

vec2 cdiv(vec2 a, vec2 b)
{
    float d = max(dot(b, b), 1e-12);
    return vec2(a.x * b.x + a.y * b.y, a.y * b.x - a.x * b.y) / d;
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 c = vec2(-0.35 + 0.25 * sin(t * 0.31), 0.25 * cos(t * 0.23));
    float relax = 1.0 + 0.25 * sin(t * 0.4);
    vec2 z = p * 1.4;
    float n = 0.0;
    float glow = 0.0;
    for (int i = 0; i < 48; i++)
    {
        vec2 z2 = cmul(z, z);
        vec2 f = cmul(z2, z) - vec2(1.0, 0.0);
        vec2 df = 3.0 * z2;
        vec2 dz = relax * cdiv(f, df) - c;
        z -= dz;
        float m = dot(dz, dz);
        glow += exp(-m * 40.0);
        if (m < 1e-7) break;
        if (dot(z, z) > 1e6) break;
        n += 1.0;
    }
    float ang = atan(z.y, abs(z.x) + abs(z.y) < 1e-12 ? 1.0 : z.x);
    vec3 col = vec3(0.5) + vec3(0.45) * cos(ang * 1.0 + vec3(0.0, 2.1, 4.2) + t * 0.2);
    float k = clamp(n / 48.0, 0.0, 1.0);
    col = mix(col, vec3(0.95, 0.8, 0.5), k * k);
    col *= 0.35 + 0.65 * (0.5 + 0.5 * cos(n * 0.7));
    col = mix(col, vec3(0.1, 0.05, 0.2), 0.3 * clamp(glow / 48.0, 0.0, 1.0));
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
