// name: smooth-crosses
// tags: sdf, tiling, pattern
// licence: MIT, written for synthgen
// description: Repeated rotating plus-shapes that smooth-union with their neighbours into a flowing lattice, with outline contours.

float sdCross(vec2 p, float a, float b)
{
    p = abs(p);
    if (p.y > p.x) p = p.yx;
    vec2 q = p - vec2(a, b);
    float k = max(q.y, q.x);
    vec2 w = (k > 0.0) ? q : vec2(b - p.x, -k);
    return sign(k) * length(max(w, 0.0));
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
    vec2 uv = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 g = uv * 2.2 + vec2(t * 0.15, t * 0.07);
    vec2 id0 = floor(g);
    float d = 1e3;
    float idSel = 0.0;
    for (int j = -1; j <= 1; j++)
    {
        for (int i = -1; i <= 1; i++)
        {
            vec2 id = id0 + vec2(float(i), float(j));
            vec2 q = g - id - 0.5;
            float ph = mod(id.x + id.y, 2.0);
            q = rot(t * (ph > 0.5 ? 0.6 : -0.6) + id.x * 0.3) * q;
            float dc = sdCross(q, 0.5 + 0.08 * sin(t * 0.7 + id.y), 0.1);
            if (dc < d) idSel = dot(id, vec2(0.37, 0.71));
            d = smin(d, dc, 0.16);
        }
    }
    vec3 body = vec3(0.5) + vec3(0.45) * cos(6.28318 * (idSel * 0.3 + vec3(0.0, 0.2, 0.45)));
    vec3 bg = vec3(0.12, 0.14, 0.3) + vec3(0.1, 0.1, 0.15) * cos(d * 50.0 - t * 3.0);
    vec3 col = mix(body * (0.75 + 0.25 * cos(d * 80.0)), bg, smoothstep(-0.01, 0.01, d));
    col = mix(col, vec3(0.95, 0.9, 0.7), smoothstep(0.02, 0.0, abs(d)) * 0.8);
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
