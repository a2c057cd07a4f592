"""The `diffusion` family: a diffusers text-to-image pipeline, many images per prompt (StableRep)."""
