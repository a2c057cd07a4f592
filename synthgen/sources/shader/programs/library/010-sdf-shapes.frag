// name: sdf-shapes
// tags: starter, sdf, palette
// licence: MIT, written for synthgen
// description: Moving 2D signed-distance shapes blended with smooth unions over a contour-line background.

float sdCircle(vec2 p, float r)
{
    return length(p) - r;
}

float sdBox(vec2 p, vec2 b, float r)
{
    vec2 q = abs(p) - b + r;
    return length(max(q, 0.0)) + min(max(q.x, q.y), 0.0) - r;
}

float sdTriangle(vec2 p, float r)
{
    const float k = 1.7320508;
    p.x = abs(p.x) - r;
    p.y = p.y + r / k;
    if (p.x + k * p.y > 0.0) p = vec2(p.x - k * p.y, -k * p.x - p.y) / 2.0;
    p.x -= clamp(p.x, -2.0 * r, 0.0);
    return -length(p) * sign(p.y);
}

float smin(float a, float b, float k)
{
    float h = clamp(0.5 + 0.5 * (b - a) / k, 0.0, 1.0);
    return mix(b, a, h) - k * h * (1.0 - h);
}

mat2 rot(float a)
{
    return mat2(cos(a), -sin(a), sin(a), cos(a));
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;

    float d1 = sdCircle(p - vec2(0.6 * sin(t * 0.7), 0.4 * cos(t * 0.9)), 0.32);
    float d2 = sdBox(rot(t * 0.5) * (p - vec2(-0.55 + 0.3 * cos(t * 0.5), 0.3 * sin(t * 0.8))), vec2(0.3, 0.18), 0.06);
    float d3 = sdTriangle(rot(-t * 0.6) * (p - vec2(0.5 * cos(t * 0.4 + 2.0), -0.45 + 0.2 * sin(t))), 0.28);
    float d4 = abs(sdCircle(p - vec2(0.3 * sin(t * 0.3 + 1.0), 0.5 * sin(t * 0.55)), 0.45)) - 0.04;

    float d = smin(smin(d1, d2, 0.2), smin(d3, d4, 0.15), 0.2);

    vec3 c1 = vec3(0.95, 0.35, 0.3);
    vec3 c2 = vec3(0.25, 0.6, 0.95);
    vec3 c3 = vec3(0.95, 0.85, 0.25);
    vec3 c4 = vec3(0.4, 0.95, 0.5);
    vec4 w = vec4(exp(-8.0 * max(d1, 0.0)), exp(-8.0 * max(d2, 0.0)), exp(-8.0 * max(d3, 0.0)), exp(-8.0 * max(d4, 0.0)));
    w = w / (w.x + w.y + w.z + w.w + 1e-4);
    vec3 shape = c1 * w.x + c2 * w.y + c3 * w.z + c4 * w.w;

    vec3 bg = vec3(0.5) + vec3(0.35) * cos(6.28318 * (d * 0.5 + t * 0.05 + vec3(0.6, 0.7, 0.8)));
    bg *= 0.75 + 0.25 * cos(d * 60.0);
    bg *= 1.0 - 0.5 * exp(-6.0 * abs(d));

    vec3 inside = shape * (0.85 + 0.15 * cos(d * 90.0 - t * 4.0));
    vec3 col = mix(inside, bg, smoothstep(-0.005, 0.005, d));
    col = mix(col, vec3(0.95), smoothstep(0.012, 0.0, abs(d)) * 0.9);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
