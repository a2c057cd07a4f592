// name: gyroid-cave
// tags: raymarch, 3d, tunnel, sdf
// licence: MIT, written for synthgen
// description: Flythrough of a cave carved from a gyroid sheet, lit by a headlight with depth-tinted fog.

float map(vec3 p)
{
    float g = dot(sin(p * 1.3), cos(p.yzx * 1.3)) / 1.3;
    float sheet = abs(g) - 0.25;
    float tube = 1.6 - length(p.xy - vec2(sin(p.z * 0.3), cos(p.z * 0.25)) * 0.8);
    return max(sheet * 0.7, tube);
}

vec3 calcNormal(vec3 p)
{
    vec2 e = vec2(0.01, 0.0);
    return normalize(vec3(map(p + e.xyy) - map(p - e.xyy), map(p + e.yxy) - map(p - e.yxy), map(p + e.yyx) - map(p - e.yyx)));
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float z = t * 1.2;
    vec3 ro = vec3(vec2(sin(z * 0.3), cos(z * 0.25)) * 0.8, z);
    vec3 ta = vec3(vec2(sin((z + 1.0) * 0.3), cos((z + 1.0) * 0.25)) * 0.8, z + 1.0);
    vec3 ww = normalize(ta - ro);
    vec3 uu = normalize(cross(ww, vec3(sin(t * 0.2), 1.0, 0.0)));
    vec3 vv = cross(uu, ww);
    vec3 rd = normalize(p.x * uu + p.y * vv + 1.3 * ww);
    float d = 0.0;
    float hit = 0.0;
    for (int i = 0; i < 64; i++)
    {
        float h = map(ro + rd * d);
        if (abs(h) < 0.002 * d)
        {
            hit = 1.0;
            break;
        }
        d += h * 0.8;
        if (d > 20.0) break;
    }
    vec3 fogc = vec3(0.12, 0.06, 0.2) + vec3(0.1, 0.08, 0.06) * cos(t * 0.2 + vec3(0.0, 1.0, 2.0));
    vec3 col = fogc;
    if (hit > 0.5)
    {
        vec3 pos = ro + rd * d;
        vec3 n = calcNormal(pos);
        float side = dot(sin(pos * 1.3), cos(pos.yzx * 1.3));
        vec3 warm = vec3(0.95, 0.55, 0.25);
        vec3 cool = vec3(0.2, 0.6, 0.9);
        vec3 alb = side > 0.0 ? warm : cool;
        alb = mix(alb, alb.gbr, 0.5 + 0.5 * sin(pos.z * 0.4 + t * 0.3));
        alb *= 0.75 + 0.25 * smoothstep(0.1, 0.0, abs(fract(pos.z * 1.5) - 0.5) - 0.4);
        vec3 lp = ro + ww * 2.0 + uu * 0.5;
        vec3 ld = normalize(lp - pos);
        float dif = max(dot(n, ld), 0.0);
        float spe = pow(max(dot(reflect(rd, n), ld), 0.0), 20.0);
        float ao = clamp(map(pos + n * 0.3) / 0.3, 0.0, 1.0);
        float rim = pow(1.0 - max(dot(n, -rd), 0.0), 3.0);
        col = alb * (0.15 + 0.9 * dif) * (0.4 + 0.6 * ao) + 0.5 * spe + rim * vec3(0.3, 0.2, 0.5);
        col = mix(col, fogc, 1.0 - exp(-0.15 * d));
    }
    col = pow(clamp(col, 0.0, 1.0), vec3(0.9));
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
