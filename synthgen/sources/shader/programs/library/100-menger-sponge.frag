// name: menger-sponge
// tags: raymarch, 3d, fractal, sdf
// licence: MIT, written for synthgen
// description: A tumbling level-three Menger sponge lit by two coloured lights, with cavities tinted by carve depth.

mat2 rot(float a)
{
    return mat2(cos(a), -sin(a), sin(a), cos(a));
}

vec2 map(vec3 p)
{
    vec3 b = abs(p) - 1.0;
    float d = length(max(b, 0.0)) + min(max(b.x, max(b.y, b.z)), 0.0);
    float s = 1.0;
    float lvl = 0.0;
    for (int i = 0; i < 3; i++)
    {
        vec3 a = mod(p * s, 2.0) - 1.0;
        s *= 3.0;
        vec3 r = abs(1.0 - 3.0 * abs(a));
        float da = max(r.x, r.y);
        float db = max(r.y, r.z);
        float dc = max(r.z, r.x);
        float c = (min(da, min(db, dc)) - 1.0) / s;
        if (c > d)
        {
            d = c;
            lvl = float(i + 1);
        }
    }
    return vec2(d, lvl);
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec3 ro = vec3(0.0, 0.0, 3.0 - 0.5 * sin(t * 0.3));
    vec3 rd = normalize(vec3(p, -1.5));
    mat2 ry = rot(t * 0.35);
    mat2 rx = rot(0.5 + 0.3 * sin(t * 0.25));
    ro.yz = rx * ro.yz; rd.yz = rx * rd.yz;
    ro.xz = ry * ro.xz; rd.xz = ry * rd.xz;
    float d = 0.0;
    vec2 h = vec2(0.0);
    float hit = 0.0;
    for (int i = 0; i < 64; i++)
    {
        h = map(ro + rd * d);
        if (h.x < 0.001)
        {
            hit = 1.0;
            break;
        }
        d += h.x;
        if (d > 8.0) break;
    }
    vec3 bg = vec3(0.18, 0.22, 0.3) + vec3(0.2, 0.12, 0.25) * (0.5 + 0.5 * cos(atan(p.y, p.x + 1e-6) * 5.0 + t));
    vec3 col = bg;
    if (hit > 0.5)
    {
        vec3 pos = ro + rd * d;
        vec2 e = vec2(0.002, 0.0);
        vec3 n = normalize(vec3(map(pos + e.xyy).x - map(pos - e.xyy).x, map(pos + e.yxy).x - map(pos - e.yxy).x, map(pos + e.yyx).x - map(pos - e.yyx).x));
        vec3 l1 = normalize(vec3(0.7, 0.6, 0.4));
        vec3 l2 = normalize(vec3(-0.6, -0.3, 0.7));
        vec3 alb = vec3(0.5) + vec3(0.45) * cos(6.28318 * (h.y * 0.2 + vec3(0.05, 0.3, 0.6) + t * 0.03));
        col = alb * (0.2 + 0.8 * max(dot(n, l1), 0.0) * vec3(1.0, 0.85, 0.7) + 0.5 * max(dot(n, l2), 0.0) * vec3(0.4, 0.6, 1.0));
    }
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
