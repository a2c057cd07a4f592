// name: raymarch-scene
// tags: starter, sdf, raymarch, 3d
// licence: MIT, written for synthgen
// description: Orbiting camera over a bouncing sphere and spinning rounded box on a checker floor.

mat2 rot(float a)
{
    return mat2(cos(a), -sin(a), sin(a), cos(a));
}

float sdRoundBox(vec3 p, vec3 b, float r)
{
    vec3 q = abs(p) - b;
    return length(max(q, 0.0)) + min(max(q.x, max(q.y, q.z)), 0.0) - r;
}

vec2 scene(vec3 p)
{
    float t = iTime;
    float ground = p.y + 1.0;
    vec3 sp = p - vec3(1.0, -0.3 + 0.6 * abs(sin(t * 1.5)), 0.0);
    float sphere = length(sp) - 0.7;
    vec3 bp = p - vec3(-1.0, -0.2, 0.3);
    bp.xz = rot(t * 0.8) * bp.xz;
    bp.xy = rot(t * 0.5) * bp.xy;
    float box = sdRoundBox(bp, vec3(0.45), 0.1);
    vec2 res = vec2(ground, 0.0);
    if (sphere < res.x) res = vec2(sphere, 1.0);
    if (box < res.x) res = vec2(box, 2.0);
    return res;
}

vec3 calcNormal(vec3 p)
{
    const vec2 k = vec2(1.0, -1.0);
    const float h = 0.002;
    return normalize(k.xyy * scene(p + k.xyy * h).x + k.yyx * scene(p + k.yyx * h).x +
                     k.yxy * scene(p + k.yxy * h).x + k.xxx * scene(p + k.xxx * h).x);
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float ca = t * 0.35;
    vec3 ro = vec3(4.5 * cos(ca), 1.4 + 0.4 * sin(t * 0.3), 4.5 * sin(ca));
    vec3 ta = vec3(0.0, -0.2, 0.0);
    vec3 ww = normalize(ta - ro);
    vec3 uu = normalize(cross(ww, vec3(0.0, 1.0, 0.0)));
    vec3 vv = cross(uu, ww);
    vec3 rd = normalize(p.x * uu + p.y * vv + 1.6 * ww);

    vec3 sky = mix(vec3(0.95, 0.6, 0.4), vec3(0.25, 0.45, 0.85), clamp(rd.y * 1.5 + 0.3, 0.0, 1.0));
    vec3 col = sky;

    float dist = 0.0;
    float mat = -1.0;
    for (int i = 0; i < 64; i++)
    {
        vec2 h = scene(ro + rd * dist);
        if (h.x < 0.001 * dist)
        {
            mat = h.y;
            break;
        }
        dist += h.x;
        if (dist > 30.0) break;
    }

    if (mat >= 0.0)
    {
        vec3 pos = ro + rd * dist;
        vec3 n = calcNormal(pos);
        vec3 lig = normalize(vec3(0.6, 0.8, 0.4));
        vec3 alb;
        if (mat < 0.5)
        {
            float chk = mod(floor(pos.x) + floor(pos.z), 2.0);
            alb = mix(vec3(0.2, 0.25, 0.45), vec3(0.85, 0.8, 0.7), chk);
        }
        else if (mat < 1.5)
        {
            alb = vec3(0.5) + vec3(0.5) * cos(6.28318 * (pos.y * 0.5 + t * 0.1 + vec3(0.0, 0.33, 0.67)));
        }
        else
        {
            alb = vec3(0.95, 0.45, 0.15);
        }
        float dif = max(dot(n, lig), 0.0);
        float amb = 0.5 + 0.5 * n.y;
        vec3 hal = normalize(lig - rd);
        float spe = pow(max(dot(n, hal), 0.0), 32.0);
        col = alb * (0.9 * dif * vec3(1.0, 0.95, 0.85) + 0.35 * amb * vec3(0.5, 0.6, 0.9)) + 0.4 * spe;
        col = mix(col, sky, 1.0 - exp(-0.004 * dist * dist));
    }
    col = pow(col, vec3(0.85));
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
