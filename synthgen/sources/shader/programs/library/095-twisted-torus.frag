// name: twisted-torus
// tags: raymarch, 3d, sdf
// licence: MIT, written for synthgen
// description: A torus with a twisting square cross-section spinning over striped ground, shaded by normal-driven palette.

mat2 rot(float a)
{
    return mat2(cos(a), -sin(a), sin(a), cos(a));
}

float map(vec3 p, float t)
{
    vec3 q = p;
    q.xy = rot(t * 0.3) * q.xy;
    q.yz = rot(0.6 + 0.3 * sin(t * 0.4)) * q.yz;
    float ang = atan(q.z, abs(q.x) < 1e-9 ? 1e-9 : q.x);
    vec2 cs = vec2(length(q.xz) - 1.2, q.y);
    cs = rot(ang * 2.5 + t * 1.2) * cs;
    vec2 b = abs(cs) - vec2(0.32, 0.18);
    float tor = length(max(b, 0.0)) + min(max(b.x, b.y), 0.0) - 0.04;
    return tor * 0.6;
}

vec3 calcNormal(vec3 p, float t)
{
    const vec2 k = vec2(1.0, -1.0);
    const float e = 0.003;
    return normalize(k.xyy * map(p + k.xyy * e, t) + k.yyx * map(p + k.yyx * e, t) + k.yxy * map(p + k.yxy * e, t) + k.xxx * map(p + k.xxx * e, t));
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec3 ro = vec3(0.0, 0.5, 3.3);
    vec3 rd = normalize(vec3(p, -1.7));
    rd.yz = rot(-0.12) * rd.yz;
    float tg = rd.y < 0.0 ? (-1.6 - ro.y) / rd.y : 1e3;
    float b = dot(ro, rd);
    float disc = b * b - dot(ro, ro) + 1.8 * 1.8;
    float d = 1e3;
    float hit = 0.0;
    if (disc > 0.0)
    {
        float sq = sqrt(max(disc, 0.0));
        float tn = max(-b - sq, 0.0);
        float tf = -b + sq;
        float tt = tn;
        for (int i = 0; i < 64; i++)
        {
            float h = map(ro + rd * tt, t);
            if (h < 0.001 * tt)
            {
                hit = 1.0;
                d = tt;
                break;
            }
            tt += h;
            if (tt > tf) break;
        }
    }
    if (hit < 0.5 && tg < 1e2)
    {
        hit = 2.0;
        d = tg;
    }
    vec3 bg = mix(vec3(0.1, 0.2, 0.35), vec3(0.5, 0.3, 0.5), p.y * 0.5 + 0.5);
    vec3 col = bg;
    if (hit > 0.5)
    {
        vec3 pos = ro + rd * d;
        vec3 n = hit > 1.5 ? vec3(0.0, 1.0, 0.0) : calcNormal(pos, t);
        vec3 lig = normalize(vec3(-0.5, 0.8, 0.6));
        float dif = max(dot(n, lig), 0.0);
        float spe = pow(max(dot(reflect(rd, n), lig), 0.0), 24.0);
        vec3 alb;
        if (hit > 1.5)
        {
            alb = mix(vec3(0.3, 0.25, 0.4), vec3(0.8, 0.7, 0.5), step(0.5, fract(pos.x * 0.7 + pos.z * 0.3 + t * 0.2)));
            alb *= 0.45 + 0.55 * smoothstep(0.4, 1.9, length(pos.xz));
        }
        else
        {
            alb = vec3(0.5) + vec3(0.45) * cos(6.28318 * (dot(n, vec3(0.3, 0.5, 0.2)) + vec3(0.0, 0.33, 0.67) + t * 0.05));
        }
        col = alb * (0.25 + 0.85 * dif) + 0.5 * spe;
        col = mix(col, bg, 1.0 - exp(-0.01 * d * d));
    }
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
