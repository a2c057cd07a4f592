// name: seahorse-stripes
// tags: fractal, mandelbrot, palette
// licence: MIT, written for synthgen
// description: Slow zoom into the Mandelbrot seahorse valley coloured by stripe-average of the orbit angle.

float stripeOf(vec2 z, vec2 rot)
{
    vec2 u = z * inversesqrt(max(dot(z, z), 1e-20));
    vec2 u2 = vec2(u.x * u.x - u.y * u.y, 2.0 * u.x * u.y);
    vec2 u4 = vec2(u2.x * u2.x - u2.y * u2.y, 2.0 * u2.x * u2.y);
    return 0.5 + 0.5 * (u4.x * rot.y + u4.y * rot.x);
}

void mainImage(out vec4 fragColor, in vec2 fragCoord)
{
    vec2 p = (2.0 * fragCoord - iResolution.xy) / min(iResolution.x, iResolution.y);
    float t = iTime;
    float phase = 0.5 - 0.5 * cos(t * 0.33);
    float scale = 0.12 * pow(0.12, phase);
    float ang = 0.4 + t * 0.05;
    p = mat2(cos(ang), -sin(ang), sin(ang), cos(ang)) * p;
    vec2 c = vec2(-0.74364, 0.13183) + p * scale;

    vec2 z = vec2(0.0);
    float stripe = 0.0;
    float prevStripe = 0.0;
    float n = 0.0;
    float escaped = 0.0;
    vec2 srot = vec2(cos(t * 0.8), sin(t * 0.8));
    for (int i = 0; i < 100; i++)
    {
        z = vec2(z.x * z.x - z.y * z.y, 2.0 * z.x * z.y) + c;
        float m2 = dot(z, z);
        if (m2 > 1e4)
        {
            escaped = 1.0;
            break;
        }
        prevStripe = stripe;
        stripe += stripeOf(z, srot);
        n += 1.0;
    }

    vec3 col;
    if (escaped > 0.5)
    {
        float lz = max(log(max(dot(z, z), 1.0001)) * 0.5, 1e-4);
        float fr = clamp(1.0 + log2(log(100.0) / lz), 0.0, 1.0);
        float a1 = stripe / max(n, 1.0);
        float a0 = prevStripe / max(n - 1.0, 1.0);
        float s = mix(a0, a1, fr);
        float sn = n + fr;
        vec3 base = vec3(0.5) + vec3(0.45) * cos(6.28318 * (sqrt(sn) * 0.22 + vec3(0.0, 0.12, 0.25) + t * 0.03));
        vec3 hi = vec3(0.95, 0.85, 0.55);
        col = mix(base * 0.2, mix(base, hi, 0.5), s * s * 1.2);
        col *= 0.6 + 0.4 * smoothstep(0.0, 25.0, sn);
    }
    else
    {
        float r = length(z);
        col = vec3(0.12, 0.08, 0.22) + vec3(0.15, 0.1, 0.2) * cos(r * 9.0 + vec3(0.0, 1.5, 3.0));
    }
    fragColor = vec4(clamp(col, 0.03, 0.97), 1.0);
}
