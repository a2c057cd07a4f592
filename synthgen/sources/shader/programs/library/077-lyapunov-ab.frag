// name: lyapunov-ab
// tags: fractal, palette
// licence: MIT, written for synthgen
// description: Lyapunov exponent map of the logistic map driven by the sequence AABAB over a drifting window of growth rates.

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (fragCoord - 0.5 * iResolution.xy) / max(iResolution.x, iResolution.y);
    float t = iTime;
    vec2 centre = vec2(3.35 + 0.25 * sin(t * 0.2), 3.35 + 0.15 * cos(t * 0.17));
    float span = 0.7 + 0.2 * sin(t * 0.13);
    vec2 ab = clamp(centre + p * span, vec2(2.0), vec2(4.0));
    float x = 0.5;
    float lam = 0.0;
    for (int i = 0; i < 90; i++)
    {
        int s = i - 5 * (i / 5);
        float r = (s == 2 || s == 4) ? ab.y : ab.x;
        x = r * x * (1.0 - x);
        if (i >= 20) lam += log(max(abs(r * (1.0 - 2.0 * x)), 1e-6));
    }
    lam /= 70.0;
    vec3 col;
    if (lam < 0.0)
    {
        float v = clamp(-lam * 1.2, 0.0, 1.0);
        col = mix(vec3(0.95, 0.8, 0.25), vec3(0.35, 0.15, 0.05), pow(v, 0.6));
        col *= 0.8 + 0.2 * cos(lam * 30.0 + t);
    }
    else
    {
        float v = clamp(lam * 1.5, 0.0, 1.0);
        col = mix(vec3(0.2, 0.35, 0.75), vec3(0.05, 0.05, 0.2), v);
    }
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
