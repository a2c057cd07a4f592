// name: koch-fold
// tags: fractal, ifs, kaleidoscope
// licence: MIT, written for synthgen
// description: Koch snowflake family with an animated spike angle, built by three-fold symmetry and repeated edge folds, with distance contours.

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float spin = t * 0.1;
    p = mat2(cos(spin), -sin(spin), sin(spin), cos(spin)) * p;
    p *= 1.6 - 0.3 * sin(t * 0.25);
    float len = length(p);
    float a = mod(atan(p.x, abs(p.y) < 1e-9 ? 1e-9 : p.y) + 1.0472, 2.0944) - 1.0472;
    p = len * vec2(sin(a), cos(a));
    float a0 = 0.45;
    float halfLen = a0 * 1.7320508;
    vec2 q = vec2(p.x, p.y - a0) / halfLen;

    float th = 1.047 + 0.25 * sin(t * 0.4);
    float r = 1.0 / (1.0 + cos(th));
    float ba = 0.5 * (3.14159265 - th);
    vec2 nrm = vec2(-sin(ba), cos(ba));
    vec2 p0 = vec2(r * cos(th), 0.0);
    float s = 1.0;
    float fold = 0.0;
    for (int i = 0; i < 7; i++)
    {
        q.x = abs(q.x);
        float dd = dot(q - p0, nrm);
        if (dd > 0.0)
        {
            q -= 2.0 * dd * nrm;
            fold += 1.0;
        }
        q.x = (q.x - (1.0 - 0.5 * r)) * (2.0 / r);
        q.y *= 2.0 / r;
        s *= 2.0 / r;
    }
    float d = q.y / s * halfLen;
    float inside = step(d, 0.0);
    vec3 cin = vec3(0.5) + vec3(0.45) * cos(6.28318 * (fold * 0.12 + vec3(0.0, 0.25, 0.5) + t * 0.05));
    vec3 cout = vec3(0.15, 0.3, 0.55) + vec3(0.15, 0.2, 0.2) * cos(6.28318 * (fold * 0.07 + vec3(0.5, 0.3, 0.1)));
    vec3 col = mix(cout, cin, inside);
    col *= 0.7 + 0.3 * cos(d * 70.0 - t * 3.0);
    col = mix(col, vec3(0.97, 0.95, 0.85), smoothstep(0.008, 0.0, abs(d)));
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
