// name: iso-blocks
// tags: pattern, tiling, 3d
// licence: MIT, written for synthgen
// description: Isometric view of a grid of cube stacks whose heights step up and down in waves, traced cell by cell through the grid.

float hash(vec2 p)
{
    return fract(sin(dot(p, vec2(41.7, 17.3))) * 43758.5453);
}

float stackHeight(vec2 c, float t)
{
    float h = 2.0 + 1.8 * sin(c.x * 0.55 + t * 0.9) * cos(c.y * 0.45 - t * 0.6) + 1.2 * hash(c);
    return clamp(floor(h), 0.0, 5.0);
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    vec3 rd = normalize(vec3(-1.0, -1.0, -1.0));
    vec3 uu = normalize(vec3(1.0, -1.0, 0.0));
    vec3 vv = cross(uu, rd) * -1.0;
    vec3 centre = vec3(t * 0.6, t * 0.25, 0.0);
    vec3 ro = centre + (p.x * uu + p.y * vv) * 6.0 - rd * 20.0;
    const float hmax = 6.0;
    float tEnter = (hmax - ro.z) / rd.z;
    vec3 pos = ro + rd * tEnter;
    vec2 cell = floor(pos.xy);
    float dX = 1.0 / abs(rd.x);
    float dY = 1.0 / abs(rd.y);
    float tMaxX = tEnter + (cell.x - pos.x) / rd.x;
    float tMaxY = tEnter + (cell.y - pos.y) / rd.y;
    float face = -1.0;
    float lastAxis = -1.0;
    float tHit = 0.0;
    vec2 hitCell = cell;
    float hitH = 0.0;
    for (int i = 0; i < 40; i++)
    {
        float h = stackHeight(cell, t);
        float tExit = min(tMaxX, tMaxY);
        float zEnter = ro.z + rd.z * tEnter;
        float zExit = ro.z + rd.z * tExit;
        if (zEnter <= h && lastAxis >= 0.0)
        {
            face = lastAxis;
            tHit = tEnter;
            hitCell = cell;
            hitH = h;
            break;
        }
        if (zExit <= h)
        {
            face = 2.0;
            tHit = (h - ro.z) / rd.z;
            hitCell = cell;
            hitH = h;
            break;
        }
        if (tMaxX < tMaxY)
        {
            cell.x -= 1.0;
            tEnter = tMaxX;
            tMaxX += dX;
            lastAxis = 0.0;
        }
        else
        {
            cell.y -= 1.0;
            tEnter = tMaxY;
            tMaxY += dY;
            lastAxis = 1.0;
        }
    }
    vec3 hp = ro + rd * tHit;
    vec3 base = vec3(0.55) + vec3(0.4) * cos(6.28318 * (hitH * 0.13 + hash(hitCell) * 0.15 + vec3(0.0, 0.3, 0.6) + t * 0.02));
    vec3 col;
    float edge;
    if (face > 1.5)
    {
        vec2 f = hp.xy - hitCell;
        edge = min(min(f.x, 1.0 - f.x), min(f.y, 1.0 - f.y));
        col = base * 1.05;
        if (hitH < 0.5) col = vec3(0.25, 0.22, 0.3);
    }
    else if (face > 0.5)
    {
        float fx = hp.x - hitCell.x;
        float fz = fract(hp.z);
        edge = min(min(fx, 1.0 - fx), min(fz, 1.0 - fz));
        col = base * 0.5;
    }
    else
    {
        float fy = hp.y - hitCell.y;
        float fz = fract(hp.z);
        edge = min(min(fy, 1.0 - fy), min(fz, 1.0 - fz));
        col = base * 0.75;
    }
    if (face < 0.0)
    {
        col = vec3(0.2, 0.2, 0.3);
        edge = 1.0;
    }
    col *= 0.7 + 0.3 * smoothstep(0.0, 0.06, edge);
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
