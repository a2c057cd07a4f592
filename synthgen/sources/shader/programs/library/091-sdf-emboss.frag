// name: sdf-emboss
// tags: sdf, metaballs, 3d
// licence: MIT, written for synthgen
// description: Smooth-union capsules treated as a height map and lit like embossed glossy plastic with a moving light.

float sdCapsule(vec2 p, vec2 a, vec2 b, float r)
{
    vec2 pa = p - a;
    vec2 ba = b - a;
    float h = clamp(dot(pa, ba) / max(dot(ba, ba), 1e-6), 0.0, 1.0);
    return length(pa - ba * h) - r;
}

float smin(float a, float b, float k)
{
    float h = clamp(0.5 + 0.5 * (b - a) / k, 0.0, 1.0);
    return mix(b, a, h) - k * h * (1.0 - h);
}

vec2 sceneId(vec2 p, float t)
{
    float d = 1e3;
    float best = 1e3;
    float id = 0.0;
    for (int i = 0; i < 9; i++)
    {
        float fi = float(i);
        vec2 a = vec2(sin(t * 0.4 + fi * 1.1), cos(t * 0.3 + fi * 2.3)) * vec2(1.3, 0.9);
        vec2 b = a + 0.5 * vec2(cos(t * 0.6 + fi), sin(t * 0.5 + fi * 1.7));
        float di = sdCapsule(p, a, b, 0.12 + 0.04 * sin(fi + t));
        if (di < best)
        {
            best = di;
            id = fi;
        }
        d = smin(d, di, 0.3);
    }
    return vec2(d, id);
}

float scene(vec2 p, float t)
{
    return sceneId(p, t).x;
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 di = sceneId(p, t);
    float d = di.x;
    vec2 e = vec2(0.01, 0.0);
    float dx = scene(p + e.xy, t) - d;
    float dy = scene(p + e.yx, t) - d;
    float h = -d;
    float hs = 0.35;
    vec3 n = normalize(vec3(-dx / e.x * hs * smoothstep(-0.4, 0.0, d) * 2.0, -dy / e.x * hs * smoothstep(-0.4, 0.0, d) * 2.0, 1.0));
    vec3 nb = normalize(vec3(0.35 * sin((p.x + p.y) * 25.0 + d * 30.0), 0.0, 1.0));
    vec3 nn = d < 0.0 ? n : nb;
    vec3 lig = normalize(vec3(cos(t * 0.5), sin(t * 0.5), 0.9));
    float dif = max(dot(nn, lig), 0.0);
    float spe = pow(max(dot(reflect(-lig, nn), vec3(0.0, 0.0, 1.0)), 0.0), 24.0);
    vec3 alb = d < 0.0 ? vec3(0.5) + vec3(0.45) * cos(6.28318 * (h * 0.6 + di.y * 0.17 + vec3(0.0, 0.3, 0.6) + t * 0.03)) : vec3(0.3, 0.35, 0.45) + vec3(0.1, 0.05, 0.0) * cos(d * 20.0);
    float sh = d > 0.0 ? smoothstep(0.0, 0.15, scene(p + lig.xy * 0.08, t)) : 1.0;
    vec3 col = alb * (0.3 + 0.75 * dif) * (0.5 + 0.5 * sh) + vec3(0.8) * spe * step(d, 0.0);
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
