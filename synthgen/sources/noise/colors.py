"""The colour model of the statistical families: a reference image of a few colours.

As in the paper's generation code: N colours (N uniform in [min, max], 3 to 22) in random
proportions fill the pixels of a reference image in sorted order (vertical bands), which is
box-blurred with an m x m filter and gets uniform noise. Its principal colour axes decorrelate
the channels the other constraints work on, and samples take on its colour distribution by
histogram matching along those axes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthgen.sources.noise.config import ColorConfig
from synthgen.sources.noise.matching import quantile_table

# The paper's pixel scale: the reference spans 0..256 and so do the images before the final stretch.
VALUE_RANGE = 256.0


@dataclass
class ColorModel:
    """One sample's colour model. `axes[:, k]` is the k-th principal axis (unit vectors); images
    are built in those coordinates (centred on `mean`) and turned back into RGB at the end."""

    palette: np.ndarray  # (N, 3) colours, 0..1
    proportions: np.ndarray  # (N,) fractions of the reference's pixels
    blur: int
    mean: np.ndarray  # (3,) mean RGB of the reference, 0..256
    axes: np.ndarray  # (3, 3) principal axes as columns, largest variance first
    spread: np.ndarray  # (3,) standard deviation of the reference along each axis
    tables: np.ndarray  # (3, Q) quantile functions of the reference along each axis

    def meta(self) -> dict:
        return {
            "colors": len(self.palette),
            "palette": np.round(self.palette, 4).tolist(),
            "proportions": np.round(self.proportions, 4).tolist(),
            "blur": self.blur,
        }


def draw_color_model(rng: np.random.Generator, config: ColorConfig, height: int, width: int) -> ColorModel:
    ncolors = int(rng.integers(config.colors.min, config.colors.max + 1))
    palette = rng.random((ncolors, 3))
    proportions = 0.001 + rng.random(ncolors)
    proportions /= proportions.sum()
    blur = int(rng.integers(config.blur.min, config.blur.max + 1))
    reference = _reference_image(rng, palette, proportions, blur, config.noise, height, width)
    pixels = reference.reshape(-1, 3)
    mean = pixels.mean(axis=0)
    axes, spread = _principal_axes(pixels - mean)
    tables = quantile_table(((pixels - mean) @ axes).T)
    return ColorModel(palette, proportions, blur, mean, axes, spread, tables)


def _reference_image(
    rng: np.random.Generator,
    palette: np.ndarray,
    proportions: np.ndarray,
    blur: int,
    noise: float,
    height: int,
    width: int,
) -> np.ndarray:
    """The paper's reference: colour labels sorted and laid out column by column, blurred, noised,
    stretched to 0..256. (The paper's blur pads with zeros, darkening the border; this one
    repeats the edge pixels.)"""
    counts = rng.multinomial(height * width, proportions)
    labels = np.repeat(np.arange(len(palette)), counts)
    image = palette[labels].reshape(width, height, 3).transpose(1, 0, 2)  # column-major, as MATLAB
    image = _box_blur(_box_blur(image, blur, axis=0), blur, axis=1)
    image = image * VALUE_RANGE + noise * rng.random(image.shape)
    image -= image.min()
    return image * (VALUE_RANGE / max(image.max(), 1e-12))


def _box_blur(image: np.ndarray, size: int, axis: int) -> np.ndarray:
    """Mean over a window of `size` pixels along `axis`, edges repeated: the same size out."""
    if size <= 1:
        return image
    before = (size - 1) // 2
    pad = [(0, 0)] * image.ndim
    pad[axis] = (before + 1, size - 1 - before)
    sums = np.cumsum(np.pad(image, pad, mode="edge"), axis=axis)
    n = image.shape[axis]
    upper = np.take(sums, np.arange(size, size + n), axis=axis)
    lower = np.take(sums, np.arange(0, n), axis=axis)
    return (upper - lower) / size


def _principal_axes(centred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Principal axes (columns, largest variance first, each with its largest entry positive so
    that the result does not depend on the eigensolver's sign choice) and the spread along them."""
    variance, axes = np.linalg.eigh(centred.T @ centred / len(centred))
    order = np.argsort(variance)[::-1]
    variance, axes = variance[order], axes[:, order]
    signs = np.sign(axes[np.argmax(np.abs(axes), axis=0), np.arange(3)])
    return axes * signs, np.sqrt(np.maximum(variance, 0.0))
