// name: simplex-chroma
// tags: simplex, noise, waves, palette
// licence: MIT, written for synthgen
// description: Three independently drifting simplex-noise fields folded through sines into the red, green and blue channels.

vec2 hash22(vec2 p)
{
    vec3 a = fract(p.xyx * vec3(123.34, 234.34, 345.65));
    a += dot(a, a + 34.45);
    return fract(vec2(a.x * a.y, a.y * a.z)) * 2.0 - 1.0;
}

float snoise(vec2 p)
{
    const float K1 = 0.366025404;
    const float K2 = 0.211324865;
    vec2 i = floor(p + (p.x + p.y) * K1);
    vec2 a = p - i + (i.x + i.y) * K2;
    vec2 o = (a.x > a.y) ? vec2(1.0, 0.0) : vec2(0.0, 1.0);
    vec2 b = a - o + K2;
    vec2 c = a - 1.0 + 2.0 * K2;
    vec3 h = max(0.5 - vec3(dot(a, a), dot(b, b), dot(c, c)), 0.0);
    vec3 n = h * h * h * h * vec3(dot(a, hash22(i)), dot(b, hash22(i + o)), dot(c, hash22(i + 1.0)));
    return dot(n, vec3(70.0));
}

float field(vec2 p, vec2 dir, float t)
{
    return snoise(p + dir * t) + 0.5 * snoise(p * 2.0 - dir.yx * t * 1.3 + 4.1);
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float r = field(p * 1.3, vec2(0.20, 0.05), t);
    float g = field(p * 1.3 + vec2(7.3, 2.1), vec2(-0.12, 0.17), t);
    float b = field(p * 1.7 + vec2(1.9, 9.4), vec2(0.05, -0.22), t);
    vec3 col;
    col.r = 0.5 + 0.46 * sin(r * 5.0 + t * 0.4);
    col.g = 0.5 + 0.46 * sin(g * 5.0 + 1.3 + r * 1.5);
    col.b = 0.5 + 0.46 * sin(b * 5.0 + 2.6 - g * 1.5);
    col = mix(col, col * col * 1.5, 0.35);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
