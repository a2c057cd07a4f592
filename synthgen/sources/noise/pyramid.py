"""A steerable pyramid built in the Fourier domain (Simoncelli and Freeman; Portilla and Simoncelli).

The image is split into a high-pass residual, `scales` levels of `orientations` oriented
band-pass sub-bands (level j at 1/2^j of the image size), and a low-pass residual. The masks are
raised cosines in log radius and cos^(K-1) in angle, so the transform is a tight frame:
`synthesize(analyze(x)) == x` up to rounding, and synthesizing modified bands projects them back
onto consistent ones. Everything runs batched on the device, on real FFTs (orthonormal scaling),
over any leading dimensions.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import factorial

import numpy as np
import torch


@dataclass
class Bands:
    """The sub-bands of a batch: `high` (..., H, W), `levels[j]` (..., K, H_j, W_j), `low`."""

    high: torch.Tensor
    levels: list[torch.Tensor]
    low: torch.Tensor


def auto_scales(height: int, width: int) -> int:
    """The paper's pyramid depth: 3 levels at 128 pixels, 4 at 256 (log2 of the shorter side - 4)."""
    return max(1, int(np.log2(min(height, width))) - 4)


def max_scales(height: int, width: int) -> int:
    """The deepest pyramid an image allows: its smallest level keeps 4 pixels a side."""
    return max(1, int(np.log2(min(height, width))) - 2)


class SteerablePyramid:
    """Analysis and synthesis for images of one size, with masks precomputed on `device`."""

    def __init__(self, height: int, width: int, scales: int, orientations: int, device: torch.device) -> None:
        self.height, self.width = height, width
        self.scales, self.orientations = scales, orientations
        self.sizes = [(height >> j, width >> j) for j in range(scales + 1)]
        grid = _polar_grid(height, width)
        self.high_mask = _to_device(_raised_cosine(grid[0] + 1.0), device)
        self.low0_mask = _to_device(_raised_cosine(grid[0] + 1.0, low=True), device)
        self.band_masks: list[torch.Tensor] = []  # level j: (K, H_j, W_j // 2 + 1), complex
        self.low_masks: list[torch.Tensor] = []  # level j: (H_j, W_j // 2 + 1)
        for h, w in self.sizes[:-1]:
            log_radius, angle = _polar_grid(h, w)
            # On each level's own grid the band-pass transition lies between 1/4 and 1/2 of Nyquist.
            radial = _raised_cosine(log_radius + 2.0)
            self.band_masks.append(_to_device(radial * _angle_masks(angle, orientations), device))
            self.low_masks.append(_to_device(_raised_cosine(log_radius + 2.0, low=True), device))

    def band_factors(self) -> list[int]:
        """Each imposed band's downsampling factor, in the order of `flat_bands`: the high-pass
        residual (1), then every orientation of level j (2^j)."""
        return [1] + [1 << j for j in range(self.scales) for _ in range(self.orientations)]

    def analyze(self, images: torch.Tensor) -> Bands:
        spectrum = torch.fft.rfft2(images, norm="ortho")
        high = torch.fft.irfft2(spectrum * self.high_mask, s=self.sizes[0], norm="ortho")
        low = spectrum * self.low0_mask
        levels = []
        for j in range(self.scales):
            size = self.sizes[j]
            bands = low.unsqueeze(-3) * self.band_masks[j]
            levels.append(torch.fft.irfft2(bands, s=size, norm="ortho"))
            low = _crop(low * self.low_masks[j], size, self.sizes[j + 1])
        return Bands(high, levels, torch.fft.irfft2(low, s=self.sizes[-1], norm="ortho"))

    def synthesize(self, bands: Bands) -> torch.Tensor:
        low = torch.fft.rfft2(bands.low, norm="ortho")
        for j in reversed(range(self.scales)):
            size = self.sizes[j]
            low = _pad(low, self.sizes[j + 1], size) * self.low_masks[j]
            oriented = torch.fft.rfft2(bands.levels[j], norm="ortho") * self.band_masks[j].conj()
            low = low + oriented.sum(dim=-3)
        spectrum = low * self.low0_mask + torch.fft.rfft2(bands.high, norm="ortho") * self.high_mask
        return torch.fft.irfft2(spectrum, s=self.sizes[0], norm="ortho")


def _polar_grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """log2 radius (1 = Nyquist) and angle of each frequency of an rfft2 grid."""
    fy = np.fft.fftfreq(height)[:, None] * 2.0
    fx = np.fft.rfftfreq(width)[None, :] * 2.0
    radius = np.sqrt(fx**2 + fy**2)
    radius[0, 0] = 1e-12  # the mean sits in the low-pass residual; this keeps log2 finite
    return np.log2(radius), np.arctan2(fy, fx)


def _raised_cosine(position: np.ndarray, low: bool = False) -> np.ndarray:
    """sin (high side) or cos (low side) of a quarter turn over position 0..1: squares sum to 1."""
    phase = 0.5 * np.pi * np.clip(position, 0.0, 1.0)
    return np.cos(phase) if low else np.sin(phase)


def _angle_masks(angle: np.ndarray, orientations: int) -> np.ndarray:
    """K masks sqrt(c) cos(angle - pi k / K)^(K-1) times (-i)^(K-1): their squares sum to 1, and
    the odd ones get the factor that keeps their bands real."""
    order = orientations - 1
    const = 2 ** (2 * order) * factorial(order) ** 2 / (orientations * factorial(2 * order))
    masks = [np.sqrt(const) * np.cos(angle - np.pi * k / orientations) ** order for k in range(orientations)]
    return np.stack(masks) * (-1j) ** order


def _to_device(mask: np.ndarray, device: torch.device) -> torch.Tensor:
    dtype = torch.complex64 if np.iscomplexobj(mask) else torch.float32
    return torch.as_tensor(mask, dtype=dtype, device=device)


def _kept_rows(big: int, small: int) -> tuple[slice, slice]:
    """Rows of an FFT grid of `big` rows that hold the frequencies of one of `small` rows."""
    return slice(0, (small + 1) // 2), slice(big - small // 2, big)


def _crop(spectrum: torch.Tensor, big: tuple[int, int], small: tuple[int, int]) -> torch.Tensor:
    """Keep the frequencies an image of size `small` holds (downsampling in the Fourier domain)."""
    top, bottom = _kept_rows(big[0], small[0])
    columns = small[1] // 2 + 1
    return torch.cat([spectrum[..., top, :columns], spectrum[..., bottom, :columns]], dim=-2)


def _pad(spectrum: torch.Tensor, small: tuple[int, int], big: tuple[int, int]) -> torch.Tensor:
    """The adjoint of `_crop`: zeros everywhere else."""
    top, bottom = _kept_rows(big[0], small[0])
    out = spectrum.new_zeros(*spectrum.shape[:-2], big[0], big[1] // 2 + 1)
    columns = small[1] // 2 + 1
    out[..., top, :columns] = spectrum[..., : top.stop, :]
    out[..., bottom, :columns] = spectrum[..., top.stop :, :]
    return out
