// name: sphere-lattice
// tags: raymarch, 3d, sdf, tiling
// licence: MIT, written for synthgen
// description: Diagonal flight through an infinite lattice of pulsing spheres joined by thin rods, each cell with its own hue.

float hash3(vec3 p)
{
    return fract(sin(dot(p, vec3(17.1, 31.7, 11.3))) * 43758.5453);
}

float map(vec3 p, float t)
{
    vec3 id = floor(p / 2.0 + 0.5);
    vec3 q = p - id * 2.0;
    float r = 0.35 + 0.25 * (0.5 + 0.5 * sin(t * 1.5 + hash3(id) * 6.28));
    float sph = length(q) - r;
    vec3 a = abs(q);
    float rods = min(min(length(a.xy), length(a.yz)), length(a.xz)) - 0.06;
    return min(sph, rods);
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec3 ro = vec3(1.0, 1.0, 0.0) + vec3(0.3, 0.2, 1.0) * t * 0.9;
    float a = t * 0.15;
    vec3 ww = normalize(vec3(0.4 * sin(a), 0.3 * cos(a * 1.3), 1.0));
    vec3 uu = normalize(cross(ww, vec3(sin(t * 0.1), 1.0, 0.0)));
    vec3 vv = cross(uu, ww);
    vec3 rd = normalize(p.x * uu + p.y * vv + 1.3 * ww);
    float d = 0.0;
    float hit = 0.0;
    for (int i = 0; i < 64; i++)
    {
        float h = map(ro + rd * d, t);
        if (h < 0.002 * d)
        {
            hit = 1.0;
            break;
        }
        d += h;
        if (d > 20.0) break;
    }
    vec3 fog = vec3(0.75, 0.7, 0.85);
    vec3 col = fog;
    if (hit > 0.5)
    {
        vec3 pos = ro + rd * d;
        const vec2 k = vec2(1.0, -1.0);
        const float e = 0.003;
        vec3 n = normalize(k.xyy * map(pos + k.xyy * e, t) + k.yyx * map(pos + k.yyx * e, t) + k.yxy * map(pos + k.yxy * e, t) + k.xxx * map(pos + k.xxx * e, t));
        vec3 id = floor(pos / 2.0 + 0.5);
        vec3 alb = vec3(0.5) + vec3(0.45) * cos(6.28318 * (hash3(id) + vec3(0.0, 0.33, 0.67)));
        vec3 lig = normalize(vec3(0.4, 0.7, -0.5));
        float dif = max(dot(n, lig), 0.0);
        float fre = pow(1.0 - max(dot(n, -rd), 0.0), 3.0);
        col = alb * (0.3 + 0.8 * dif) + fre * vec3(0.4, 0.45, 0.6);
        col = mix(col, fog, 1.0 - exp(-0.01 * d * d));
    }
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
