// name: lic-vortices
// tags: flow, noise, palette
// licence: MIT, written for synthgen
// description: Line-integral convolution of fine noise along the velocity field of four wandering point vortices.

float hash21(vec2 p)
{
    p = fract(p * vec2(311.37, 173.13));
    p += dot(p, p + 27.91);
    return fract(p.x * p.y);
}

float grain(vec2 p)
{
    vec2 i = floor(p);
    vec2 f = fract(p);
    vec2 u = f * f * (3.0 - 2.0 * f);
    return mix(mix(hash21(i), hash21(i + vec2(1.0, 0.0)), u.x),
               mix(hash21(i + vec2(0.0, 1.0)), hash21(i + vec2(1.0, 1.0)), u.x), u.y);
}

vec2 vortexPos(int k, float t)
{
    float fk = float(k);
    return vec2(1.1 * sin(t * (0.21 + 0.05 * fk) + fk * 2.1), 0.7 * cos(t * (0.17 + 0.04 * fk) + fk * 1.3));
}

vec2 field(vec2 p, float t)
{
    vec2 v = vec2(0.25, 0.1);
    for (int k = 0; k < 4; k++)
    {
        vec2 d = p - vortexPos(k, t);
        float s = (k == 1 || k == 2) ? -1.0 : 1.0;
        v += s * vec2(-d.y, d.x) / (dot(d, d) + 0.05) * 0.25;
    }
    return v;
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 v0 = field(p, t);
    float acc = 0.0;
    float wsum = 0.0;
    vec2 a = p;
    vec2 b = p;
    for (int i = 0; i < 12; i++)
    {
        float w = 1.0 - float(i) / 12.0;
        vec2 va = field(a, t);
        vec2 vb = field(b, t);
        va /= max(length(va), 1e-3);
        vb /= max(length(vb), 1e-3);
        acc += w * (grain(a * 55.0) + grain(b * 55.0));
        wsum += 2.0 * w;
        a += va * 0.012;
        b -= vb * 0.012;
    }
    acc /= wsum;
    float streak = smoothstep(0.35, 0.65, acc);
    float speed = length(v0);
    float ang = atan(v0.y, v0.x + 1e-9);
    vec3 hue = vec3(0.5) + vec3(0.45) * cos(ang + vec3(0.0, 2.1, 4.2) + t * 0.2);
    vec3 col = mix(hue * 0.35, hue, streak);
    col *= 0.6 + 0.4 * smoothstep(0.0, 2.0, speed);
    col += vec3(0.15, 0.12, 0.1) * smoothstep(3.0, 6.0, speed);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
