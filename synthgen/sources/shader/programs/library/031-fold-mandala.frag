// name: fold-mandala
// tags: kaleidoscope, polar, pattern, palette
// licence: MIT, written for synthgen
// description: Iterated mirror folds, rotations and circle inversions with orbit-trap colouring, forming a breathing mandala.

mat2 rot(float a)
{
    float c = cos(a);
    float s = sin(a);
    return mat2(c, -s, s, c);
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float r0 = length(p);
    float a0 = atan(p.y, p.x + 1e-9);
    float seg = 6.28318 / 6.0;
    float a = abs(mod(a0, seg) - 0.5 * seg);
    vec2 z = r0 * vec2(cos(a), sin(a)) * 1.3;
    vec2 c = vec2(0.52 + 0.12 * sin(t * 0.31), 0.42 + 0.12 * cos(t * 0.23));
    float trapP = 9.0;
    float trapL = 9.0;
    float acc = 0.0;
    for (int i = 0; i < 10; i++)
    {
        z = abs(z);
        z = z / clamp(dot(z, z), 0.15, 4.0) - c;
        z = rot(0.35 + 0.1 * sin(t * 0.2)) * z;
        trapP = min(trapP, length(z - vec2(0.3, 0.1)));
        trapL = min(trapL, abs(z.y));
        acc += exp(-3.0 * length(z));
    }
    float v = acc * 0.18;
    vec3 col = vec3(0.5) + vec3(0.45) * cos(6.28318 * (v + vec3(0.0, 0.15, 0.35) + t * 0.04));
    col *= 0.45 + 0.55 * smoothstep(0.6, 0.0, trapP);
    col = mix(col, vec3(0.95, 0.8, 0.5), 0.6 * smoothstep(0.06, 0.0, trapL));
    col *= 0.8 + 0.2 * cos(r0 * 20.0 - t);
    fragColor = vec4(clamp(col, 0.02, 0.98), 1.0);
}
