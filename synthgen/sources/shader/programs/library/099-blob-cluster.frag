// name: blob-cluster
// tags: raymarch, 3d, metaballs, sdf
// licence: MIT, written for synthgen
// description: Seven spheres melting into one another by smooth union, shaded with an iridescent fresnel palette on a gradient backdrop.

float smin(float a, float b, float k)
{
    float h = clamp(0.5 + 0.5 * (b - a) / k, 0.0, 1.0);
    return mix(b, a, h) - k * h * (1.0 - h);
}

float map(vec3 p, float t)
{
    float d = 1e3;
    for (int i = 0; i < 7; i++)
    {
        float fi = float(i);
        vec3 c = vec3(sin(t * 0.5 + fi * 1.3), cos(t * 0.4 + fi * 2.1), sin(t * 0.3 + fi * 0.7)) * vec3(1.3, 0.9, 0.8);
        d = smin(d, length(p - c) - (0.45 + 0.12 * sin(fi * 2.7)), 0.55);
    }
    return d;
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec3 ro = vec3(0.0, 0.0, 4.2);
    vec3 rd = normalize(vec3(p, -1.6));
    float b = dot(ro, rd);
    float disc = b * b - dot(ro, ro) + 2.7 * 2.7;
    float d = disc > 0.0 ? max(-b - sqrt(max(disc, 0.0)), 0.0) : 20.0;
    float hit = 0.0;
    for (int i = 0; i < 40; i++)
    {
        float h = map(ro + rd * d, t);
        if (h < 0.002)
        {
            hit = 1.0;
            break;
        }
        d += h;
        if (d > 7.0) break;
    }
    vec3 bg = mix(vec3(0.95, 0.75, 0.55), vec3(0.2, 0.25, 0.55), smoothstep(-1.0, 1.0, p.y + 0.3 * sin(p.x * 3.0 + t)));
    bg *= 0.85 + 0.15 * cos(length(p) * 14.0 - t * 2.0);
    vec3 col = bg;
    if (hit > 0.5)
    {
        vec3 pos = ro + rd * d;
        const vec2 k = vec2(1.0, -1.0);
        const float e = 0.003;
        vec3 n = normalize(k.xyy * map(pos + k.xyy * e, t) + k.yyx * map(pos + k.yyx * e, t) + k.yxy * map(pos + k.yxy * e, t) + k.xxx * map(pos + k.xxx * e, t));
        float fr = 1.0 - max(dot(n, -rd), 0.0);
        vec3 irid = vec3(0.5) + vec3(0.5) * cos(6.28318 * (fr * 1.5 + pos.y * 0.2 + vec3(0.0, 0.33, 0.67) + t * 0.05));
        vec3 lig = normalize(vec3(0.5, 0.8, 0.6));
        float dif = max(dot(n, lig), 0.0);
        float spe = pow(max(dot(reflect(rd, n), lig), 0.0), 40.0);
        col = irid * (0.35 + 0.7 * dif) + vec3(0.9) * spe;
        col = mix(col, bg, fr * fr * 0.4);
    }
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
