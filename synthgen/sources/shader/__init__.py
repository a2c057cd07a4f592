"""The `shader` family: Shadertoy-style GLSL programs rendered headless with moderngl (Shaders21k)."""
