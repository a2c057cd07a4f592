// name: column-hall
// tags: raymarch, 3d, sdf, tiling
// licence: MIT, written for synthgen
// description: Endless grid of fluted columns of hashed heights under a low sun, with soft shadows and coloured fog.

float hash(vec2 p)
{
    return fract(sin(dot(p, vec2(27.1, 61.7))) * 43758.5453);
}

float map(vec3 p)
{
    vec2 id = floor(p.xz / 2.0 + 0.5);
    vec2 q = p.xz - id * 2.0;
    float h = 0.6 + 2.2 * hash(id);
    float r = 0.34 + 0.05 * smoothstep(0.3, 0.5, abs(fract(p.y * 2.0) - 0.5));
    float col = max(length(q) - r, p.y - h);
    float cap = max(length(q) - 0.52, abs(p.y - h) - 0.07);
    float floorD = p.y;
    return min(min(col, cap), floorD);
}

vec3 calcNormal(vec3 p)
{
    const vec2 k = vec2(1.0, -1.0);
    const float h = 0.004;
    return normalize(k.xyy * map(p + k.xyy * h) + k.yyx * map(p + k.yyx * h) + k.yxy * map(p + k.yxy * h) + k.xxx * map(p + k.xxx * h));
}

float shadow(vec3 ro, vec3 rd)
{
    float res = 1.0;
    float t = 0.05;
    for (int i = 0; i < 12; i++)
    {
        float h = map(ro + rd * t);
        res = min(res, 8.0 * h / t);
        t += clamp(h, 0.1, 0.8);
        if (res < 0.01) break;
    }
    return clamp(res, 0.0, 1.0);
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec3 ro = vec3(1.0, 1.5 + 0.5 * sin(t * 0.3), t * 1.2);
    vec3 ta = ro + vec3(sin(t * 0.3) * 1.8, -0.5, 2.0);
    vec3 ww = normalize(ta - ro);
    vec3 uu = normalize(cross(ww, vec3(0.0, 1.0, 0.0)));
    vec3 vv = cross(uu, ww);
    vec3 rd = normalize(p.x * uu + p.y * vv + 1.5 * ww);
    vec3 sun = normalize(vec3(0.5 * sin(t * 0.2) + 0.3, 0.55, -0.7));
    vec3 sky = mix(vec3(0.95, 0.6, 0.4), vec3(0.3, 0.35, 0.7), clamp(rd.y * 2.0 + 0.2, 0.0, 1.0));
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
        d += h;
        if (d > 30.0) break;
    }
    vec3 col = sky;
    if (hit > 0.5)
    {
        vec3 pos = ro + rd * d;
        vec3 n = calcNormal(pos);
        vec2 id = floor(pos.xz / 2.0 + 0.5);
        vec3 alb = vec3(0.55) + vec3(0.45) * cos(6.28318 * (hash(id + 7.0) + vec3(0.0, 0.33, 0.67)));
        if (pos.y < 0.01)
        {
            float chk = mod(floor(pos.x) + floor(pos.z), 2.0);
            alb = mix(vec3(0.25, 0.2, 0.3), vec3(0.6, 0.55, 0.5), chk);
        }
        float dif = max(dot(n, sun), 0.0) * shadow(pos + n * 0.01, sun);
        float amb = 0.5 + 0.5 * n.y;
        col = alb * (1.2 * dif * vec3(1.0, 0.85, 0.65) + 0.55 * amb * vec3(0.5, 0.6, 0.9));
        col = mix(col, sky, 1.0 - exp(-0.0025 * d * d));
    }
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
