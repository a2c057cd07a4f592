"""A per-image numpy port of FractalDB's published generator loop, for tests and bench/.

It follows `fractal_renderer/ifs_function.py` of hirokatsukataoka16/FractalDB-Pretrained-ResNet-
PyTorch step by step: one chain from (0, 0), a Python loop over points choosing the first map
whose cumulative probability reaches a uniform draw; the points shifted by their minimum, scaled
to [pad, size - pad] and truncated (uint16); then a Python loop that sets each point's pixel
(`point`) or pastes its random 3x3 patch mask at (x + 1, y + 1) (`patch`), and a top-bottom flip.
Grey only. Not used to render corpora: it is the baseline the torch renderer is measured
against, and the shape it must agree with.
"""

from __future__ import annotations

import numpy as np

from synthgen.sources.fractal.render import GREY


def fractaldb_image(
    coefficients: np.ndarray,
    probabilities: np.ndarray,
    points: int,
    size: int,
    pad: int,
    mode: str,
    rng: np.random.Generator,
) -> np.ndarray:
    """One (size, size, 3) uint8 image of the IFS, as FractalDB draws it."""
    cumulative = np.cumsum(probabilities)
    rand = rng.random(points)
    xs, ys = [0.0], [0.0]
    x = y = 0.0
    for i in range(points - 1):
        for j in range(len(cumulative)):
            if rand[i] <= cumulative[j] or j == len(cumulative) - 1:
                a, b, c, d, e, f = coefficients[j]
                x, y = x * a + y * b + e, x * c + y * d + f
                break
        xs.append(x)
        ys.append(y)
    px, py = np.array(xs), np.array(ys)
    px -= min(px.min(), 0.0)
    py -= min(py.min(), 0.0)
    px = (px / (px.max() - px.min()) * (size - 2 * pad) + pad).astype(np.uint16)
    py = (py / (py.max() - py.min()) * (size - 2 * pad) + pad).astype(np.uint16)
    image = np.zeros((size, size, 3), np.uint8)
    if mode == "point":
        for i in range(len(px)):
            image[py[i], px[i]] = GREY
    else:
        masks = rng.integers(1, 512, size=len(px))
        bits = (masks[:, None] >> np.arange(8, -1, -1)) & 1
        for i in range(len(px)):
            patch = (bits[i].reshape(3, 3) * GREY).astype(np.uint8)
            top, left = int(py[i]) + 1, int(px[i]) + 1
            # PIL's paste clips at the canvas edge.
            region = image[top : top + 3, left : left + 3]
            region[...] = patch[: region.shape[0], : region.shape[1], None]
    return image[::-1].copy()
