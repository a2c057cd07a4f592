"""The `fractal` source: FractalDB-style IFS fractals and 1p-frac (see config.py)."""
