// name: truchet-maze
// tags: truchet, tiling, pattern
// licence: MIT, written for synthgen
// description: Diagonal-line Truchet tiles forming a bevelled maze whose tiles flip one by one while colour flows along the walls.

float hash21(vec2 p)
{
    p = fract(p * vec2(401.13, 173.39));
    p += dot(p, p + 21.17);
    return fract(p.x * p.y);
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 q = p * 5.0 + vec2(t * 0.3, t * 0.1);
    vec2 id = floor(q);
    vec2 f = fract(q) - 0.5;
    float h = hash21(id);
    float flip = step(0.5, fract(h + floor(t * 0.8 + h * 4.0) * 0.37));
    if (flip > 0.5) f.x = -f.x;
    float d = abs(f.x + f.y) * 0.70710678;
    float wall = d;
    float along = (f.x - f.y) * 0.70710678;
    float width = 0.16;
    float m = smoothstep(width, width - 0.03, wall);
    float bevel = clamp(1.0 - wall / width, 0.0, 1.0);
    vec3 wc = vec3(0.5) + vec3(0.45) * cos(6.28318 * (0.05 * (id.x + id.y) + along * 0.3 - t * 0.2 + vec3(0.0, 0.33, 0.67)));
    wc *= 0.5 + 0.6 * sqrt(bevel);
    vec3 floorc = mix(vec3(0.10, 0.12, 0.22), vec3(0.22, 0.18, 0.30), h);
    floorc *= 0.8 + 0.2 * smoothstep(width, 0.5, wall);
    vec3 col = mix(floorc, wc, m);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
