// name: spiral-galaxy
// tags: stars, noise, polar
// licence: MIT, written for synthgen
// description: Tilted rotating spiral galaxy with logarithmic arms, dust lanes, a bright core and a foreground star field.

float hash(vec2 p)
{
    return fract(sin(dot(p, vec2(269.5, 183.3))) * 43758.5453);
}

float vnoise(vec2 p)
{
    vec2 i = floor(p);
    vec2 f = fract(p);
    vec2 u = f * f * (3.0 - 2.0 * f);
    return mix(mix(hash(i), hash(i + vec2(1.0, 0.0)), u.x), mix(hash(i + vec2(0.0, 1.0)), hash(i + vec2(1.0, 1.0)), u.x), u.y);
}

float stars(vec2 p, float dens)
{
    vec2 id = floor(p);
    vec2 f = fract(p) - 0.5;
    float h = hash(id);
    vec2 o = vec2(hash(id + 1.7), hash(id + 4.3)) - 0.5;
    float s = step(1.0 - dens, h);
    return s * smoothstep(0.12, 0.0, length(f - o * 0.7)) * (0.5 + 0.5 * fract(h * 13.0));
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float tilt = 0.55 + 0.2 * sin(t * 0.15);
    float ra = 0.3 * sin(t * 0.1);
    vec2 g = mat2(cos(ra), -sin(ra), sin(ra), cos(ra)) * p;
    g.y /= tilt;
    float r = length(g);
    float a = atan(g.y, abs(g.x) < 1e-9 ? 1e-9 : g.x);
    float arms = 2.0;
    float wind = 3.2;
    float spiral = a * arms - wind * log(max(r, 1e-3)) * arms + t * 0.6;
    float armI = pow(0.5 + 0.5 * cos(spiral), 3.0);
    vec2 np = vec2(cos(a - t * 0.15), sin(a - t * 0.15)) * r * 5.0;
    float cl = vnoise(np) * 0.6 + vnoise(np * 2.3) * 0.4;
    float dust = smoothstep(0.5, 0.9, 0.5 + 0.5 * cos(spiral + 0.9)) * smoothstep(0.15, 0.4, r);
    float disk = exp(-r * 1.6);
    vec3 col = vec3(0.04, 0.05, 0.14) + vec3(0.08, 0.05, 0.15) * vnoise(p * 3.0 + 10.0);
    col += vec3(0.35, 0.55, 1.0) * armI * disk * (0.6 + 0.8 * cl) * 1.2;
    col += vec3(1.0, 0.55, 0.65) * armI * disk * smoothstep(0.6, 0.9, cl) * 0.8;
    col *= 1.0 - 0.6 * dust;
    col += vec3(1.0, 0.85, 0.55) * exp(-r * 7.0) * 1.2;
    col += vec3(1.0, 0.95, 0.9) * stars(p * 40.0 + vec2(t * 0.5, 0.0), 0.12);
    col += vec3(0.8, 0.85, 1.0) * stars(g * 60.0, 0.2) * armI * disk * 2.0;
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
