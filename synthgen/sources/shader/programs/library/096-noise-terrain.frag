// name: noise-terrain
// tags: raymarch, 3d, terrain, noise, fbm
// licence: MIT, written for synthgen
// description: Low flight over a value-noise heightfield with snow, rock and grass bands, a moving sun and aerial haze.

float hash(vec2 p)
{
    p = fract(p * vec2(0.1031, 0.1030));
    p += dot(p, p.yx + 33.33);
    return fract((p.x + p.y) * p.x);
}

float vnoise(vec2 p)
{
    vec2 i = floor(p);
    vec2 f = fract(p);
    vec2 u = f * f * (3.0 - 2.0 * f);
    float a = hash(i);
    float b = hash(i + vec2(1.0, 0.0));
    float c = hash(i + vec2(0.0, 1.0));
    float d = hash(i + vec2(1.0, 1.0));
    return mix(mix(a, b, u.x), mix(c, d, u.x), u.y);
}

float height(vec2 p)
{
    float h = 0.0;
    float a = 1.0;
    mat2 m = mat2(1.6, 1.2, -1.2, 1.6);
    for (int i = 0; i < 4; i++)
    {
        h += a * vnoise(p);
        p = m * p;
        a *= 0.45;
    }
    return h * 1.3 - 0.6;
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec3 ro = vec3(0.6 * sin(t * 0.25), 0.0, t * 0.9);
    ro.y = max(height(ro.xz * 0.5) + 0.7, 1.1);
    vec3 ta = ro + vec3(0.6 * sin(t * 0.3 + 1.0), -0.35, 1.5);
    vec3 ww = normalize(ta - ro);
    vec3 uu = normalize(cross(ww, vec3(0.0, 1.0, 0.0)));
    vec3 vv = cross(uu, ww);
    vec3 rd = normalize(p.x * uu + p.y * vv + 1.4 * ww);
    vec3 sun = normalize(vec3(sin(t * 0.2), 0.35, cos(t * 0.2)));
    float sd = max(dot(rd, sun), 0.0);
    vec3 sky = mix(vec3(0.85, 0.65, 0.55), vec3(0.25, 0.4, 0.75), clamp(rd.y * 2.5, 0.0, 1.0));
    sky += vec3(0.6, 0.4, 0.2) * pow(sd, 12.0);
    float d = 0.2;
    float hit = 0.0;
    for (int i = 0; i < 64; i++)
    {
        vec3 pos = ro + rd * d;
        float h = pos.y - height(pos.xz * 0.5);
        if (h < 0.002 * d)
        {
            hit = 1.0;
            break;
        }
        d += max(h * 0.6, 0.01 + 0.006 * d);
        if (d > 18.0) break;
    }
    vec3 col = sky;
    if (hit > 0.5)
    {
        vec3 pos = ro + rd * d;
        vec2 e = vec2(0.02, 0.0);
        float hc = height(pos.xz * 0.5);
        vec3 n = normalize(vec3(hc - height((pos.xz + e.xy) * 0.5), e.x, hc - height((pos.xz + e.yx) * 0.5)));
        float slope = n.y;
        vec3 grass = vec3(0.3, 0.55, 0.2);
        vec3 rock = vec3(0.45, 0.35, 0.3);
        vec3 snow = vec3(0.92, 0.93, 0.97);
        vec3 alb = mix(rock, grass, smoothstep(0.75, 0.9, slope));
        alb = mix(alb, snow, smoothstep(0.75, 0.95, pos.y + 0.2 * slope));
        alb = mix(alb, vec3(0.2, 0.35, 0.55), smoothstep(-0.1, -0.25, pos.y));
        float dif = max(dot(n, sun), 0.0);
        col = alb * (0.25 + 1.0 * dif * vec3(1.0, 0.9, 0.75) + 0.25 * vec3(0.4, 0.5, 0.8) * n.y);
        col = mix(col, sky, 1.0 - exp(-0.012 * d * d));
    }
    col = pow(clamp(col, 0.0, 1.0), vec3(0.9));
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
