// name: marbling
// tags: texture, warp, rings, palette
// licence: MIT, written for synthgen
// description: Paper marbling computed exactly: repeated ink drops displace earlier rings radially, then sinusoidal combs drag the bath.

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float asp = max(iResolution.x / iResolution.y, 1.0);
    vec2 q = p * 1.1;
    float combA = 0.12 + 0.1 * sin(t * 0.35);
    q.x -= combA * sin(q.y * 6.0 + t * 0.4);
    q.y -= (0.1 + 0.06 * cos(t * 0.27)) * sin(q.x * 2.5 - t * 0.3);
    float hit = -1.0;
    float ringPhase = 0.0;
    for (int k = 19; k >= 0; k--)
    {
        float fk = float(k);
        float centre = mod(fk, 5.0);
        vec2 c = 1.1 * sqrt((centre + 0.5) / 5.0) * vec2(1.3 * asp * cos(centre * 2.4 + 0.7), sin(centre * 2.4 + 0.7));
        c += 0.25 * vec2(sin(t * 0.2 + centre), cos(t * 0.17 + centre * 2.0));
        float rad = (0.4 + 0.06 * sin(fk * 3.7)) * sqrt(asp);
        vec2 d = q - c;
        float r2 = dot(d, d);
        if (hit < 0.0)
        {
            if (r2 < rad * rad)
            {
                hit = fk;
                ringPhase = sqrt(r2) / rad;
            }
            else
            {
                q = c + d * sqrt(max(1.0 - rad * rad / max(r2, 1e-6), 0.0));
            }
        }
    }
    vec3 col;
    if (hit < 0.0)
    {
        col = vec3(0.93, 0.89, 0.80);
    }
    else
    {
        float layer = floor(hit / 5.0);
        float centre = mod(hit, 5.0);
        col = vec3(0.5) + vec3(0.42) * cos(6.28318 * (centre * 0.19 + layer * 0.11 + vec3(0.0, 0.25, 0.55)));
        if (mod(layer, 2.0) < 0.5) col = mix(col, vec3(0.95, 0.92, 0.85), 0.75);
        if (mod(layer + centre, 5.0) < 0.5) col = vec3(0.10, 0.12, 0.25);
        col *= 0.9 + 0.1 * smoothstep(0.6, 1.0, ringPhase);
    }
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
