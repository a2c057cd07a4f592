// name: apollonian-inversion
// tags: fractal, apollonian, kleinian
// licence: MIT, written for synthgen
// description: Apollonian gasket from inversions in three kissing circles inside a unit disc, viewed through a moving disc automorphism.

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
    vec2 z = p * 0.98;
    vec2 a = 0.45 * vec2(sin(t * 0.23), cos(t * 0.31)) * sin(t * 0.17 + 0.5);
    z = cdiv(z - a, vec2(1.0, 0.0) - cmul(vec2(a.x, -a.y), z));
    const float r = 0.4641016;
    const float d = 0.5358984;
    float spin = t * 0.15;
    float n = 0.0;
    float kind = 0.0;
    float scale = 1.0;
    for (int i = 0; i < 36; i++)
    {
        float m2 = dot(z, z);
        bool moved = false;
        if (m2 > 1.0)
        {
            z /= m2;
            scale *= m2;
            kind = 3.0;
            moved = true;
        }
        else
        {
            for (int k = 0; k < 3; k++)
            {
                float ang = spin + 2.0944 * float(k);
                vec2 ce = d * vec2(cos(ang), sin(ang));
                vec2 dv = z - ce;
                float q = dot(dv, dv);
                if (q < r * r && !moved)
                {
                    float f = r * r / max(q, 1e-8);
                    z = ce + dv * f;
                    scale *= f;
                    kind = float(k);
                    moved = true;
                }
            }
        }
        if (!moved) break;
        n += 1.0;
    }
    float ca = spin;
    float e = abs(length(z) - 1.0);
    for (int k = 0; k < 3; k++)
    {
        float ang = ca + 2.0944 * float(k);
        e = min(e, abs(length(z - d * vec2(cos(ang), sin(ang))) - r));
    }
    e /= scale;
    vec3 col = vec3(0.5) + vec3(0.4) * cos(6.28318 * (n * 0.11 + kind * 0.18 + vec3(0.1, 0.4, 0.7) + t * 0.03));
    col *= 0.6 + 0.4 * cos(length(z) * 10.0 + kind);
    col = mix(col, vec3(0.97, 0.93, 0.8) * 0.25, (1.0 - smoothstep(0.0, 0.004, e)) * 0.65);
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
