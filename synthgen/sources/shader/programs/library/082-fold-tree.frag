// name: fold-tree
// tags: fractal, ifs, sdf
// licence: MIT, written for synthgen
// description: Two parallax rows of swaying binary fractal trees drawn by mirror-folding space per branch level.

mat2 rot(float a)
{
    return mat2(cos(a), -sin(a), sin(a), cos(a));
}

float segDist(vec2 p, float h)
{
    p.y -= clamp(p.y, 0.0, h);
    return length(p);
}

vec2 tree(vec2 p, float id, float t)
{
    float spread = 0.42 + 0.14 * sin(id * 1.7 + 1.0) + 0.05 * sin(t * 0.8 + id);
    float sway = 0.1 * sin(t * 1.1 + id * 2.3);
    float shrink = 1.33 + 0.08 * sin(id * 2.9);
    float len = 0.5;
    float w = 0.045;
    float d = 1e3;
    float lvl = 0.0;
    float sc = 1.0;
    for (int i = 0; i < 8; i++)
    {
        float di = (segDist(p, len) - w) * sc;
        if (di < d)
        {
            d = di;
            lvl = float(i);
        }
        p.y -= len;
        p = rot(sway) * p;
        p.x = abs(p.x);
        p = rot(-spread) * p;
        p *= shrink;
        sc /= shrink;
    }
    return vec2(d, lvl);
}

vec2 forest(vec2 uv, float cellW, float t)
{
    float id0 = floor(uv.x / cellW + 0.5);
    vec2 best = vec2(1e3, 0.0);
    for (int j = -1; j <= 1; j++)
    {
        float id = id0 + float(j);
        vec2 p = vec2(uv.x - id * cellW, uv.y);
        vec2 r = tree(p, id, t);
        if (r.x < best.x) best = r;
    }
    return best;
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 uv = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec3 sky = mix(vec3(0.95, 0.55, 0.35), vec3(0.2, 0.25, 0.6), clamp(uv.y * 0.5 + 0.5, 0.0, 1.0));
    sky = mix(sky, sky.gbr, 0.25 + 0.25 * sin(t * 0.3));
    vec3 col = sky;

    vec2 far = forest(vec2(uv.x + t * 0.1, uv.y + 0.55) * 1.8, 1.1, t + 3.0);
    far.x /= 1.8;
    col = mix(col, mix(sky, vec3(0.25, 0.2, 0.35), 0.6), smoothstep(0.004, 0.0, far.x));

    vec2 near = forest(vec2(uv.x + t * 0.25, uv.y + 0.95), 1.4, t);
    vec3 wood = mix(vec3(0.3, 0.15, 0.1), vec3(0.3, 0.75, 0.35), near.y / 7.0);
    wood = mix(wood, vec3(0.95, 0.5, 0.7), smoothstep(5.0, 7.0, near.y) * (0.5 + 0.5 * sin(t * 0.7)));
    col *= 0.8 + 0.2 * smoothstep(0.0, 0.1, near.x);
    col = mix(col, wood, smoothstep(0.006, 0.0, near.x));
    col = mix(col, vec3(0.15, 0.2, 0.1), smoothstep(-0.9, -1.0, uv.y));
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
