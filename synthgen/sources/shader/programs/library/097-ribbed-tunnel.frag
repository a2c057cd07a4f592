// name: ribbed-tunnel
// tags: raymarch, 3d, tunnel, sdf
// licence: MIT, written for synthgen
// description: Flight down a winding ribbed tunnel with glowing seams, coloured bands and a swaying camera roll.

vec2 path(float z)
{
    return vec2(1.2 * sin(z * 0.21), 0.9 * cos(z * 0.17));
}

float map(vec3 p)
{
    vec2 c = p.xy - path(p.z);
    float ang = atan(c.y, abs(c.x) < 1e-9 ? 1e-9 : c.x);
    float r = length(c);
    float rib = 0.12 * smoothstep(0.35, 0.5, abs(fract(p.z * 0.8) - 0.5) * 1.0 + 0.0);
    float wall = 1.3 - r - rib + 0.06 * sin(ang * 6.0 + p.z);
    return wall;
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float z = t * 2.0;
    vec3 ro = vec3(path(z), z);
    vec3 ta = vec3(path(z + 1.5), z + 1.5);
    vec3 ww = normalize(ta - ro);
    float roll = 0.4 * sin(t * 0.4);
    vec3 uu = normalize(cross(ww, vec3(sin(roll), cos(roll), 0.0)));
    vec3 vv = cross(uu, ww);
    vec3 rd = normalize(p.x * uu + p.y * vv + 1.2 * ww);
    float d = 0.0;
    for (int i = 0; i < 48; i++)
    {
        float h = map(ro + rd * d);
        if (h < 0.002 * d) break;
        d += h * 0.8;
        if (d > 30.0) break;
    }
    vec3 pos = ro + rd * d;
    vec2 e = vec2(0.01, 0.0);
    float h0 = map(pos);
    vec3 n = normalize(vec3(map(pos + e.xyy) - h0, map(pos + e.yxy) - h0, map(pos + e.yyx) - h0));
    vec2 c = pos.xy - path(pos.z);
    float ang = atan(c.y, abs(c.x) < 1e-9 ? 1e-9 : c.x);
    vec3 alb = vec3(0.5) + vec3(0.45) * cos(6.28318 * (floor(pos.z * 0.8) * 0.13 + vec3(0.0, 0.3, 0.6)));
    alb *= 0.75 + 0.25 * cos(ang * 6.0 + pos.z);
    float seam = smoothstep(0.05, 0.0, abs(fract(pos.z * 0.8) - 0.5) - 0.42);
    float dif = max(dot(n, -rd), 0.0);
    vec3 col = alb * (0.25 + 0.85 * dif);
    col += vec3(1.0, 0.7, 0.3) * seam * (0.5 + 0.5 * sin(pos.z * 2.0 - t * 6.0));
    col = mix(col, vec3(0.1, 0.05, 0.2), 1.0 - exp(-0.07 * d));
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
