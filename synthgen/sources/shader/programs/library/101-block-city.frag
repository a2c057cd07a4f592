// name: block-city
// tags: raymarch, 3d, sdf, tiling
// licence: MIT, written for synthgen
// description: Drone flight over a grid city of hashed-height towers with lit window bands and sun shadows.

float hash(vec2 p)
{
    return fract(sin(dot(p, vec2(12.9898, 78.233))) * 43758.5453);
}

float map(vec3 p)
{
    vec2 id = floor(p.xz);
    vec2 q = fract(p.xz) - 0.5;
    float h = 0.3 + 2.2 * pow(hash(id), 3.0);
    vec2 b = abs(q) - vec2(0.32 + 0.08 * hash(id + 3.0));
    float box = max(max(b.x, b.y), p.y - h);
    return min(box * 0.9, p.y);
}

float shadow(vec3 ro, vec3 rd)
{
    float res = 1.0;
    float t = 0.05;
    for (int i = 0; i < 10; i++)
    {
        float h = map(ro + rd * t);
        res = min(res, 10.0 * h / t);
        t += clamp(h, 0.1, 0.5);
        if (res < 0.02) break;
    }
    return clamp(res, 0.0, 1.0);
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec3 ro = vec3(t * 0.6, 3.4 + 0.4 * sin(t * 0.3), t * 0.4);
    vec3 ta = ro + vec3(1.0, -1.6, 1.0 + 0.5 * sin(t * 0.2));
    vec3 ww = normalize(ta - ro);
    vec3 uu = normalize(cross(ww, vec3(0.0, 1.0, 0.0)));
    vec3 vv = cross(uu, ww);
    vec3 rd = normalize(p.x * uu + p.y * vv + 1.5 * ww);
    float d = 0.0;
    float hit = 0.0;
    for (int i = 0; i < 64; i++)
    {
        float h = map(ro + rd * d);
        if (h < 0.002 * d)
        {
            hit = 1.0;
            break;
        }
        d += max(h, 0.004 * d);
        if (d > 22.0) break;
    }
    vec3 sky = mix(vec3(0.9, 0.7, 0.6), vec3(0.35, 0.45, 0.75), clamp(rd.y * 3.0 + 0.5, 0.0, 1.0));
    vec3 col = sky;
    if (hit > 0.5)
    {
        vec3 pos = ro + rd * d;
        const vec2 k = vec2(1.0, -1.0);
        const float e = 0.002;
        vec3 n = normalize(k.xyy * map(pos + k.xyy * e) + k.yyx * map(pos + k.yyx * e) + k.yxy * map(pos + k.yxy * e) + k.xxx * map(pos + k.xxx * e));
        vec2 id = floor(pos.xz);
        vec3 alb = vec3(0.55) + vec3(0.35) * cos(6.28318 * (hash(id + 5.0) * 0.7 + vec3(0.0, 0.2, 0.4)));
        float win = step(0.5, fract(pos.y * 8.0)) * step(0.3, fract((pos.x + pos.z) * 6.0)) * (1.0 - abs(n.y));
        alb = mix(alb, vec3(0.95, 0.85, 0.5), win * step(0.4, hash(id + floor(pos.y * 8.0))));
        if (pos.y < 0.01) alb = vec3(0.3, 0.3, 0.35) + 0.2 * step(0.45, abs(fract(pos.x) - 0.5));
        vec3 sun = normalize(vec3(0.6 * cos(t * 0.15), 0.7, 0.5 * sin(t * 0.15) + 0.3));
        float dif = max(dot(n, sun), 0.0) * shadow(pos + n * 0.01, sun);
        col = alb * (0.3 + 0.25 * n.y + 0.9 * dif);
        col = mix(col, sky, 1.0 - exp(-0.003 * d * d));
    }
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
