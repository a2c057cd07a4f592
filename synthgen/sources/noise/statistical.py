"""The statistical image models: spectrum, colour and wavelet-marginal constraints imposed by
alternating projections, as in the paper's `image_model.m`.

A sample draws its parameters once (numpy, from its seed): the spectrum slopes, the colour model
and the sub-band exponents. Each view starts from its own uniform noise image (its own seed), so
the views of a sample share every parameter and differ in their phases. Starting from that noise,
each of `iterations` rounds imposes, per channel of the colour model's principal axes:
1. the amplitude spectrum 1 / (|fx|^sx + |fy|^sy), keeping the current phases;
2. the sub-band marginals exp(-|x/s|^rho) of a steerable pyramid (histogram matching);
3. the reference's colour distribution (histogram matching along colour axes).
The result goes back to RGB and is stretched to the full 0..255 range, as in the paper.

The per-sample draws and tables are numpy (float64); the images are processed in batches with
torch on the render device. Every batched step is elementwise, an FFT, or a histogram match
(exact counts), so a sample's pixels do not depend on the batch it is rendered in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from synthgen.seeds import sample_rng
from synthgen.sources.noise.colors import VALUE_RANGE, ColorModel, draw_color_model
from synthgen.sources.noise.config import STATISTICAL_SECTIONS, NoiseSourceConfig
from synthgen.sources.noise.matching import density_quantile_table, match_rows
from synthgen.sources.noise.pyramid import SteerablePyramid, auto_scales

# The paper's starting image: uniform noise on 0..256, whose mean and spread stand in for the
# colour model's when there is none.
NOISE_MEAN = VALUE_RANGE / 2
NOISE_STD = VALUE_RANGE / np.sqrt(12.0)
# Points of the grid on which sub-band densities are tabulated (the paper: 801 on -200..200).
DENSITY_POINTS = 2001
# Pixels (views x height x width) per chunk of views sent through the device at once.
CHUNK_PIXELS_CPU = 8 * 128 * 128
CHUNK_PIXELS_CUDA = 512 * 128 * 128
# Stands in for the paper's eps in 1 / (eps + |fx|^sx + |fy|^sy).
SPECTRUM_EPS = 2.2e-16


@dataclass
class StatisticalDraw:
    """What one sample drew: its parameters, the tables derived from them, and a seed per view."""

    slopes: tuple[float, float] | None
    color: ColorModel | None
    rho: np.ndarray | None  # (3, bands) sub-band exponents, per channel
    band_tables: np.ndarray | None  # (3, bands, Q) quantile tables of the sub-band marginals
    view_seeds: list[int] = field(default_factory=list)

    def meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = {}
        if self.slopes is not None:
            meta["slope"] = {"x": round(self.slopes[0], 4), "y": round(self.slopes[1], 4)}
        if self.color is not None:
            meta["color"] = self.color.meta()
        if self.rho is not None:
            meta["wmm"] = {"rho": np.round(self.rho, 4).tolist()}
        return meta

    def summary(self) -> dict[str, Any]:
        """The main parameters only (the slopes and the number of colours), for textures."""
        meta = self.meta()
        summary = {key: meta[key] for key in ("slope",) if key in meta}
        if self.color is not None:
            summary["colors"] = len(self.color.palette)
        return summary


@dataclass
class Generated:
    """The rendered views of one sample, what each view drew, or why the sample failed."""

    images: list[np.ndarray] = field(default_factory=list)
    views: list[dict[str, Any]] = field(default_factory=list)
    failure: str | None = None


class StatisticalModel:
    """One of `spectrum`, `spectrum_color`, `wmm`, `spectrum_color_wmm` at one image size."""

    def __init__(self, model: str, config: NoiseSourceConfig, height: int, width: int, device: torch.device) -> None:
        self.model = model
        self.config = config
        self.height, self.width = height, width
        self.device = device
        sections = STATISTICAL_SECTIONS[model]
        self.uses_spectrum = "slope" in sections
        self.uses_color = "color" in sections
        self.uses_wmm = "wmm" in sections
        # One spectrum projection is idempotent: more rounds only help when constraints alternate.
        self.iterations = config.iterations if "iterations" in sections else 1
        # |frequency| in cycles per pixel along y (rows) and x (rfft columns), as in the paper.
        self.abs_fy = np.abs(np.fft.fftfreq(height))
        self.abs_fx = np.abs(np.fft.rfftfreq(width))
        self.full_fx = np.abs(np.fft.fftfreq(width))
        self.pyramid = None
        if self.uses_wmm:
            wmm = config.wmm
            scales = wmm.scales or auto_scales(height, width)
            self.pyramid = SteerablePyramid(height, width, scales, wmm.orientations, device)
            self.band_factors = np.array(self.pyramid.band_factors(), dtype=np.float64)
            self.density_grid = np.linspace(-wmm.range, wmm.range, DENSITY_POINTS)

    # --- per-sample draws (numpy) --------------------------------------------------------

    def draw(self, rng: np.random.Generator, views: int) -> StatisticalDraw:
        """Draw a sample's parameters, then one seed per view (so view 0 does not depend on `views`)."""
        slopes = self._draw_slopes(rng) if self.uses_spectrum else None
        color = draw_color_model(rng, self.config.color, self.height, self.width) if self.uses_color else None
        rho = band_tables = None
        if self.uses_wmm:
            rho, band_tables = self._draw_wmm(rng)
        view_seeds = [int(seed) for seed in rng.integers(0, 2**63, size=views)]
        return StatisticalDraw(slopes, color, rho, band_tables, view_seeds)

    def _draw_slopes(self, rng: np.random.Generator) -> tuple[float, float]:
        slope = self.config.slope
        mean = rng.uniform(slope.min, slope.max)
        offset = rng.normal(0.0, slope.anisotropy) if slope.anisotropy > 0 else 0.0
        return float(mean + offset), float(mean - offset)

    def _draw_wmm(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Exponents per channel and band, and the quantile tables of exp(-|x/s|^rho) on
        [-range, range] with s = scale_base^(band's downsampling factor), as in the paper."""
        wmm = self.config.wmm
        rho = rng.uniform(wmm.rho.min, wmm.rho.max, size=(3, len(self.band_factors)))
        # |x/s|^rho in logs: s = base^factor overflows float64 for deep pyramids.
        log_abs = np.log(np.maximum(np.abs(self.density_grid), 1e-300))
        log_scale = self.band_factors * np.log(wmm.scale_base)
        exponent = rho[..., None] * (log_abs - log_scale[:, None])
        density = np.exp(-np.exp(np.minimum(exponent, 700.0))).reshape(-1, DENSITY_POINTS)
        tables = density_quantile_table(self.density_grid, density).reshape(3, len(self.band_factors), -1)
        return rho, tables

    def meta(self, draw: StatisticalDraw) -> dict[str, Any]:
        """What a sample drew, for its json (per-view values come with the images)."""
        return draw.meta()

    # --- batched rendering (torch) -------------------------------------------------------

    def render(self, draws: Sequence[StatisticalDraw]) -> list[Generated]:
        """Render every view of every draw; views go through the device in chunks."""
        views = [(sample, seed) for sample, draw in enumerate(draws) for seed in draw.view_seeds]
        targets = self._targets(draws)
        results = [Generated() for _ in draws]
        for start in range(0, len(views), self.chunk_views):
            chunk = views[start : start + self.chunk_views]
            owners, seeds = [sample for sample, _ in chunk], [seed for _, seed in chunk]
            images = self._render_views(seeds, targets.select(owners, self.device))
            self._collect(images, owners, seeds, results)
        return results

    @property
    def chunk_views(self) -> int:
        """Views per chunk. On the CPU, small chunks keep the intermediates in cache and below
        the size that the allocator maps afresh (and page-faults) on every call: at 128x128,
        8 views per chunk ran 1.2-2x faster than 32, and with a pyramid (whose sub-bands hold
        about 5 times the image's pixels, as complex spectra) 2 views ran 1.35x faster than 8."""
        if self.device.type == "cuda":
            return max(1, CHUNK_PIXELS_CUDA // (self.height * self.width))
        budget = CHUNK_PIXELS_CPU // 4 if self.uses_wmm else CHUNK_PIXELS_CPU
        return max(1, budget // (self.height * self.width))

    def _render_views(self, seeds: list[int], targets: _Targets) -> torch.Tensor:
        if self.model == "spectrum":
            return self._random_phase_noise(seeds, targets.magnitude)
        images = self._start_noise(seeds)
        for _ in range(self.iterations):
            if self.uses_spectrum:
                images = self._impose_spectrum(images, targets.magnitude, targets.gain, targets.offset)
            if self.uses_wmm:
                images = self._impose_wmm(images, targets.band_tables)
            if self.uses_color:
                images = self._impose_colors(images, targets.color_tables)
        if self.uses_color:
            images = mix_channels(images, targets.axes).add_(targets.mean[:, :, None, None])
        return images

    def _targets(self, draws: Sequence[StatisticalDraw]) -> _Targets:
        """The per-sample parameters as CPU tensors, one row per sample."""
        targets = _Targets()
        if self.uses_spectrum:
            targets.magnitude, targets.gain, targets.offset = self._spectrum_targets(draws)
        if self.uses_wmm:
            targets.band_tables = _stack([draw.band_tables for draw in draws])
        if self.uses_color:
            targets.color_tables = _stack([draw.color.tables for draw in draws])
            targets.axes = _stack([draw.color.axes for draw in draws])
            targets.mean = _stack([draw.color.mean for draw in draws])
        return targets

    def _start_noise(self, seeds: list[int]) -> torch.Tensor:
        """Uniform noise on 0..256 per view, drawn on the CPU from the view's seed (so a GPU
        starts from the same noise). numpy's PCG64 fills float32 several times faster than
        torch's CPU generator."""
        shape = (3, self.height, self.width)
        noise = np.stack([sample_rng(seed).random(shape, dtype=np.float32) for seed in seeds])
        return torch.from_numpy(noise).to(self.device).mul_(VALUE_RANGE)

    def _random_phase_noise(self, seeds: list[int], magnitude: torch.Tensor) -> torch.Tensor:
        """The spectrum model alone: the target amplitudes with uniformly random phases.

        The paper takes the phases of the FFT of uniform noise, which are independent and
        uniform (up to the symmetry a real image needs): drawing them directly, per view on the
        CPU, saves that FFT and the normalization. Cosines and sines are taken on each view's
        own array (vectorized code may round differently at different array positions).
        """
        unit = np.empty((len(seeds), 3, self.height, self.width // 2 + 1, 2), dtype=np.float32)  # cos, sin
        for view, seed in enumerate(seeds):
            phase = self._phases(sample_rng(seed))
            np.cos(phase, out=unit[view, ..., 0])
            np.sin(phase, out=unit[view, ..., 1])
        spectrum = torch.from_numpy(unit).to(self.device).mul_(magnitude.unsqueeze(-1))
        return torch.fft.irfft2(torch.view_as_complex(spectrum), s=(self.height, self.width), norm="ortho")

    def _phases(self, rng: np.random.Generator) -> np.ndarray:
        """Uniform phases on the rfft grid with the symmetry of a real image: the columns that are
        their own mirror (x = 0, and x = W/2 for an even width) hold conjugate pairs along y,
        and their self-mirrored rows (y = 0, H/2) are real."""
        height, columns = self.height, self.width // 2 + 1
        phase = rng.random((3, height, columns), dtype=np.float32) * np.float32(2 * np.pi)
        mirrored = [0] + ([columns - 1] if self.width % 2 == 0 else [])
        rows = np.arange(1, (height + 1) // 2)
        phase[:, height - rows[:, None], mirrored] = -phase[:, rows[:, None], mirrored]
        real_rows = np.array([0] + ([height // 2] if height % 2 == 0 else []))
        phase[:, real_rows[:, None], mirrored] = 0.0
        return phase

    def _spectrum_targets(self, draws: Sequence[StatisticalDraw]) -> tuple[torch.Tensor, Any, Any]:
        """Per sample: the amplitude spectrum (rfft layout), and the gain and offset per channel
        that give each channel the colour model's spread and mean (the paper restores the
        image's own; without a colour model, those of the starting noise). A lone spectrum
        projection needs neither: the image is stretched to 0..255 right after (None, None)."""
        # |fy|^sy + |fx|^sx is a sum of a column and a row: the powers are taken per sample in
        # numpy (float64), and only exactly rounded operations run on the whole grid.
        parts_y = _stack([self.abs_fy ** draw.slopes[1] for draw in draws])
        parts_x = _stack([self.abs_fx ** draw.slopes[0] for draw in draws])
        magnitude = 1.0 / (SPECTRUM_EPS + parts_y[:, :, None] + parts_x[:, None, :])
        magnitude[:, 0, 0] = 0.0
        if self.model == "spectrum":
            return magnitude.unsqueeze(1), None, None
        gains, offsets = [], []
        for draw in draws:
            slope_x, slope_y = draw.slopes
            full = 1.0 / (SPECTRUM_EPS + self.abs_fy[:, None] ** slope_y + self.full_fx[None, :] ** slope_x)
            full[0, 0] = 0.0
            # Orthonormal FFTs keep the energy: the std the spectrum gives an image is known here.
            std = np.sqrt(np.mean(full**2))
            spread = draw.color.spread if draw.color is not None else np.full(3, NOISE_STD)
            gains.append(spread / std)
            offsets.append(np.zeros(3) if draw.color is not None else np.full(3, NOISE_MEAN))
        return magnitude.unsqueeze(1), _stack(gains), _stack(offsets)

    def _impose_spectrum(
        self, images: torch.Tensor, magnitude: torch.Tensor, gain: torch.Tensor | None, offset: torch.Tensor | None
    ) -> torch.Tensor:
        """Keep each channel's phases, give it the target amplitude spectrum, spread and mean."""
        spectrum = torch.view_as_real(torch.fft.rfft2(images, norm="ortho"))
        amplitude = (spectrum[..., 0].square() + spectrum[..., 1].square()).sqrt_().clamp_min_(1e-30)
        scale = magnitude / amplitude if gain is None else (magnitude * gain[:, :, None, None]).div_(amplitude)
        spectrum = torch.view_as_complex(spectrum.mul_(scale.unsqueeze(-1)))
        images = torch.fft.irfft2(spectrum, s=(self.height, self.width), norm="ortho")
        return images if offset is None else images.add_(offset[:, :, None, None])

    def _impose_wmm(self, images: torch.Tensor, tables: torch.Tensor) -> torch.Tensor:
        """Match every sub-band but the low-pass residual to its marginal; tables (views, 3, bands, Q)."""
        bands = self.pyramid.analyze(images)
        views, channels = images.shape[:2]
        quantiles = tables.shape[-1]
        bands.high = match_rows(bands.high.reshape(views * channels, -1), tables[:, :, 0].reshape(-1, quantiles))
        bands.high = bands.high.view(images.shape)
        orientations = self.pyramid.orientations
        for level, band in enumerate(bands.levels):
            first = 1 + level * orientations
            level_tables = tables[:, :, first : first + orientations].reshape(-1, quantiles)
            bands.levels[level] = match_rows(band.reshape(level_tables.shape[0], -1), level_tables).view(band.shape)
        return self.pyramid.synthesize(bands)

    def _impose_colors(self, images: torch.Tensor, tables: torch.Tensor) -> torch.Tensor:
        """Match each principal colour channel to the reference's marginal; tables (views, 3, Q)."""
        return _match_channels(images, tables)

    def _collect(self, images: torch.Tensor, owners: list[int], seeds: list[int], results: list[Generated]) -> None:
        """Stretch each view to 0..255 (as the paper) and append it to its sample's result."""
        low = images.amin(dim=(1, 2, 3))
        high = images.amax(dim=(1, 2, 3))
        span = high - low
        usable = torch.isfinite(span) & (span > 1e-6)
        scale = torch.where(usable, 255.0 / span, torch.zeros_like(span))
        # (x - low) * 255 / (high - low) lies in [0, 255]: rounding needs no clamp.
        pixels = images.sub_(low[:, None, None, None]).mul_(scale[:, None, None, None]).round_()
        pixels = pixels.to(torch.uint8).permute(0, 2, 3, 1).contiguous().cpu().numpy()
        for view, (sample, seed, lo, hi, ok) in enumerate(
            zip(owners, seeds, low.tolist(), high.tolist(), usable.tolist(), strict=True)
        ):
            result = results[sample]
            if not ok and result.failure is None:
                result.failure = f"view {len(result.images)}: pixel values span [{lo}, {hi}]"
            result.images.append(pixels[view])
            result.views.append({"seed": seed, "range": [round(lo, 4), round(hi, 4)]})


@dataclass
class _Targets:
    """Per-sample parameters of a batch as tensors, one row per sample (or per view once selected)."""

    magnitude: torch.Tensor | None = None  # (rows, 1, H, W // 2 + 1) amplitude spectrum
    gain: torch.Tensor | None = None  # (rows, 3) spectrum gain per channel
    offset: torch.Tensor | None = None  # (rows, 3) mean per channel
    band_tables: torch.Tensor | None = None  # (rows, 3, bands, Q)
    color_tables: torch.Tensor | None = None  # (rows, 3, Q)
    axes: torch.Tensor | None = None  # (rows, 3, 3)
    mean: torch.Tensor | None = None  # (rows, 3)

    def select(self, rows: list[int], device: torch.device) -> _Targets:
        """The rows of these views (a sample's row repeated for each of its views), on `device`."""
        index = torch.as_tensor(rows)
        picked = {name: value[index].to(device) for name, value in vars(self).items() if value is not None}
        return _Targets(**picked)


def _stack(rows: Sequence[np.ndarray]) -> torch.Tensor:
    return torch.as_tensor(np.stack(rows), dtype=torch.float32)


def mix_channels(images: torch.Tensor, matrices: torch.Tensor) -> torch.Tensor:
    """out[:, i] = sum_j matrices[:, i, j] * images[:, j], per view: written out as elementwise
    products and sums in a fixed order (a batched matmul could group the sums differently
    depending on the batch)."""
    weights = matrices[:, :, :, None, None]
    channels = [images[:, j] for j in range(images.shape[1])]
    rows = []
    for i in range(matrices.shape[1]):
        total = weights[:, i, 0] * channels[0]
        for j in range(1, len(channels)):
            total = total + weights[:, i, j] * channels[j]
        rows.append(total)
    return torch.stack(rows, dim=1)


def _match_channels(images: torch.Tensor, tables: torch.Tensor) -> torch.Tensor:
    """Histogram-match each channel of each view to its table; tables (views, channels, Q)."""
    rows = images.reshape(images.shape[0] * images.shape[1], -1)
    return match_rows(rows, tables.reshape(rows.shape[0], -1)).view(images.shape)
