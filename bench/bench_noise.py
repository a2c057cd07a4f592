"""Images/s of the noise source's batched torch path against plain numpy, per family, on the CPU.

The numpy side is what a researcher would write from the paper: one image at a time, in float64,
- dead leaves: the paper's loop, one shape at a time painted with a mask over the whole canvas,
  the canvas checked for bare pixels after every shape (`numpy`), and the same loop with masks
  over each shape's bounding box only and a running count of bare pixels (`numpy-bbox`, faster);
- spectrum: per channel, the phase of the FFT of uniform noise under the target amplitude, as
  the paper's code (the torch side draws the random phases directly, which saves that FFT);
- colour and wavelet models: the same alternating projections, with the same steerable pyramid
  masks, and exact histogram matching by sorting (the usual numpy idiom).
Both sides draw parameters from the same distributions at the same size; the torch side is
`NoiseSource.render` on batches of `batch_size` samples (so it includes its per-sample numpy
draws and the uint8 conversion). Runs alternate (numpy, torch, numpy, ...) in one invocation and
the median of `--reps` is reported, because the machines are noisy.

    python bench/bench_noise.py                       # every family, 128x128, 1 torch thread
    python bench/bench_noise.py --families dead_leaves-mixed spectrum --reps 7
    python bench/bench_noise.py --threads 2           # torch with 2 threads (numpy stays at 1)
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

from synthgen.recipe import parse_recipe
from synthgen.seeds import sample_rng, sample_seed
from synthgen.sources.base import SampleSpec
from synthgen.sources.noise import source as noise_source
from synthgen.sources.noise.colors import draw_color_model
from synthgen.sources.noise.pyramid import SteerablePyramid, auto_scales

# family -> (recipe source section, samples per timed run on the torch side and on the numpy side)
FAMILIES: dict[str, tuple[dict, int, int]] = {
    "dead_leaves-squares": ({"model": "dead_leaves", "dead_leaves": {"shape": "squares"}}, 128, 12),
    "dead_leaves-mixed": ({"model": "dead_leaves", "dead_leaves": {"shape": "mixed"}}, 128, 12),
    "dead_leaves-textured": ({"model": "dead_leaves", "dead_leaves": {"shape": "textured"}}, 16, 2),
    "spectrum": ({"model": "spectrum"}, 512, 128),
    "spectrum_color": ({"model": "spectrum_color"}, 64, 8),
    "wmm": ({"model": "wmm"}, 32, 4),
    "spectrum_color_wmm": ({"model": "spectrum_color_wmm"}, 32, 4),
}


def bench_recipe(source: dict, size: int):
    return parse_recipe(
        {"name": "bench-noise", "count": 1, "image": {"size": size}, "source": {"kind": "noise", **source}}
    )


# --- numpy: dead leaves -------------------------------------------------------------------

KINDS = ("circle", "square", "oriented_square", "rectangle", "triangle", "quadrilateral")


def radius_of(u: float, size: int, rmin: float = 0.03, rmax: float = 1.0, alpha: float = 3.0) -> float:
    power = 1.0 - alpha
    return (rmin**power + u * (rmax**power - rmin**power)) ** (1.0 / power) * size


def corners_of(kind: str, r: float, rng: np.random.Generator) -> np.ndarray:
    """Corners (4, 2) of a polygon inscribed in the circle of radius r, counter-clockwise."""
    if kind in ("square", "oriented_square"):
        h = r / np.sqrt(2)
        corners = np.array([[-h, -h], [h, -h], [h, h], [-h, h]])
        if kind == "oriented_square":
            t = rng.uniform(0, 2 * np.pi)
            corners = corners @ np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]])
        return corners
    if kind == "rectangle":
        a = rng.uniform(0, np.pi / 2)
        x, y = r * np.cos(a), r * np.sin(a)
        return np.array([[x, y], [-x, y], [-x, -y], [x, -y]])
    angles = np.sort(rng.uniform(0, 2 * np.pi, 3 if kind == "triangle" else 4))
    return np.stack([r * np.cos(angles), r * np.sin(angles)], axis=1)


def shape_mask(kind: str, r: float, corners: np.ndarray | None, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    if kind == "circle":
        return dx**2 + dy**2 <= r**2
    mask = np.ones(np.broadcast(dx, dy).shape, dtype=bool)
    for (x0, y0), (x1, y1) in zip(corners, np.roll(corners, -1, axis=0), strict=True):
        mask &= (x1 - x0) * (dy - y0) - (y1 - y0) * (dx - x0) >= 0
    return mask


def numpy_dead_leaves(rng: np.random.Generator, size: int, kinds: tuple[str, ...], bbox: bool = False) -> np.ndarray:
    image = np.zeros((size, size, 3), np.uint8)
    covered = np.zeros((size, size), bool)
    y, x = np.mgrid[0:size, 0:size] + 0.5
    bare = size * size
    for _ in range(5000):
        kind = kinds[rng.integers(len(kinds))]
        r = radius_of(rng.random(), size)
        cx, cy = rng.random(2) * size
        color = (rng.random(3) * 256).astype(np.uint8)
        corners = None if kind == "circle" else corners_of(kind, r, rng)
        if not bbox:
            mask = shape_mask(kind, r, corners, x - cx, y - cy)
            image[mask] = color
            covered |= mask
            if covered.all():
                break
            continue
        x0, x1 = max(0, int(cx - r)), min(size, int(np.ceil(cx + r)) + 1)
        y0, y1 = max(0, int(cy - r)), min(size, int(np.ceil(cy + r)) + 1)
        mask = shape_mask(kind, r, corners, x[y0:y1, x0:x1] - cx, y[y0:y1, x0:x1] - cy)
        image[y0:y1, x0:x1][mask] = color
        bare -= np.count_nonzero(mask & ~covered[y0:y1, x0:x1])
        covered[y0:y1, x0:x1] |= mask
        if bare == 0:
            break
    return image


def numpy_textured_dead_leaves(rng: np.random.Generator, size: int, bank: int = 4) -> np.ndarray:
    """Mixed shapes, each showing one of `bank` spectrum+colour+wmm textures at a random shift."""
    textures = [numpy_statistical(rng, size, spectrum=True, color=True, wmm=True) for _ in range(bank)]
    labels = np.full((size, size), -1)
    y, x = np.mgrid[0:size, 0:size] + 0.5
    picks = []
    for k in range(5000):
        kind = KINDS[rng.integers(6)]
        r = radius_of(rng.random(), size)
        cx, cy = rng.random(2) * size
        corners = None if kind == "circle" else corners_of(kind, r, rng)
        x0, x1 = max(0, int(cx - r)), min(size, int(np.ceil(cx + r)) + 1)
        y0, y1 = max(0, int(cy - r)), min(size, int(np.ceil(cy + r)) + 1)
        mask = shape_mask(kind, r, corners, x[y0:y1, x0:x1] - cx, y[y0:y1, x0:x1] - cy)
        labels[y0:y1, x0:x1][mask] = k
        picks.append((rng.integers(bank), *rng.integers(0, size, 2)))
        if (labels >= 0).all():
            break
    image = np.zeros((size, size, 3), np.uint8)
    for k in np.unique(labels[labels >= 0]):
        texture, sx, sy = picks[k]
        shifted = np.roll(textures[texture], (-sy, -sx), axis=(0, 1))
        image[labels == k] = shifted[labels == k]
    return image


# --- numpy: statistical models ------------------------------------------------------------


class NumpyPyramid:
    """The torch pyramid's masks, applied with numpy FFTs one channel at a time."""

    def __init__(self, size: int) -> None:
        pyramid = SteerablePyramid(size, size, auto_scales(size, size), 4, torch.device("cpu"))
        self.sizes = pyramid.sizes
        self.high = pyramid.high_mask.numpy().astype(np.float64)
        self.low0 = pyramid.low0_mask.numpy().astype(np.float64)
        self.bands = [mask.numpy().astype(np.complex128) for mask in pyramid.band_masks]
        self.lows = [mask.numpy().astype(np.float64) for mask in pyramid.low_masks]

    def analyze(self, image: np.ndarray) -> tuple[np.ndarray, list[list[np.ndarray]], np.ndarray]:
        spectrum = np.fft.rfft2(image, norm="ortho")
        high = np.fft.irfft2(spectrum * self.high, s=self.sizes[0], norm="ortho")
        low = spectrum * self.low0
        levels = []
        for j, masks in enumerate(self.bands):
            levels.append([np.fft.irfft2(low * mask, s=self.sizes[j], norm="ortho") for mask in masks])
            low = crop(low * self.lows[j], self.sizes[j + 1])
        return high, levels, np.fft.irfft2(low, s=self.sizes[-1], norm="ortho")

    def synthesize(self, high: np.ndarray, levels: list[list[np.ndarray]], low: np.ndarray) -> np.ndarray:
        spectrum = np.fft.rfft2(low, norm="ortho")
        for j in reversed(range(len(levels))):
            spectrum = pad(spectrum, self.sizes[j]) * self.lows[j]
            for band, mask in zip(levels[j], self.bands[j], strict=True):
                spectrum = spectrum + np.fft.rfft2(band, norm="ortho") * mask.conj()
        spectrum = spectrum * self.low0 + np.fft.rfft2(high, norm="ortho") * self.high
        return np.fft.irfft2(spectrum, s=self.sizes[0], norm="ortho")


def crop(spectrum: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    h, w = size
    return np.concatenate([spectrum[: h // 2, : w // 2 + 1], spectrum[-(h // 2) :, : w // 2 + 1]])


def pad(spectrum: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    out = np.zeros((size[0], size[1] // 2 + 1), dtype=spectrum.dtype)
    h, w = spectrum.shape
    out[: h // 2, :w] = spectrum[: h // 2]
    out[-(h // 2) :, :w] = spectrum[h // 2 :]
    return out


def match_by_sorting(values: np.ndarray, target_sorted: np.ndarray) -> np.ndarray:
    out = np.empty_like(values)
    out.reshape(-1)[np.argsort(values, axis=None)] = target_sorted
    return out


def ggd_sorted(n: int, scale: float, rho: float, limit: float = 200.0) -> np.ndarray:
    """n evenly spaced quantiles of exp(-|x/scale|^rho) on [-limit, limit] (tabulated, like histoMatch)."""
    grid = np.linspace(-limit, limit, 2001)
    cdf = np.cumsum(np.exp(-(np.abs(grid / scale) ** rho)))
    return np.interp((np.arange(n) + 0.5) / n, cdf / cdf[-1], grid)


_pyramids: dict[int, NumpyPyramid] = {}


def numpy_statistical(rng: np.random.Generator, size: int, spectrum: bool, color: bool, wmm: bool) -> np.ndarray:
    model = None
    if spectrum:
        s = rng.uniform(0.5, 3.5)
        d = rng.normal(0.0, 0.05)
        fx, fy = np.meshgrid(np.abs(np.fft.fftfreq(size)), np.abs(np.fft.fftfreq(size)))
        with np.errstate(divide="ignore"):
            magnitude = 1.0 / (fx ** (s + d) + fy ** (s - d))
        magnitude[0, 0] = 0.0
    if color:
        model = draw_color_model(rng, bench_recipe({"model": "spectrum_color"}, size).source.color, size, size)
        reference = np.sort(model.tables, axis=-1)  # the principal channels, sorted
        reference = np.stack(
            [np.interp(np.linspace(0, 1, size * size), np.linspace(0, 1, r.size), r) for r in reference]
        )
    if wmm:
        pyramid = _pyramids.setdefault(size, NumpyPyramid(size))
        factors = [1] + [1 << j for j in range(len(pyramid.bands)) for _ in range(4)]
        rho = rng.uniform(0.4, 0.8, size=(3, len(factors)))
    image = rng.random((3, size, size)) * 256
    for _ in range(10 if (color or wmm) else 1):
        for c in range(3):
            channel = image[c]
            if spectrum:
                mean, std = channel.mean(), channel.std()
                phase = np.angle(np.fft.fft2(channel - mean))
                channel = np.real(np.fft.ifft2(magnitude * np.exp(1j * phase)))
                channel = (channel - channel.mean()) / channel.std() * std + mean
            if wmm:
                high, levels, low = pyramid.analyze(channel)
                high = match_by_sorting(high, ggd_sorted(high.size, 4.0 ** factors[0], rho[c, 0]))
                b = 1
                for level in levels:
                    for k, band in enumerate(level):
                        level[k] = match_by_sorting(band, ggd_sorted(band.size, 4.0 ** factors[b], rho[c, b]))
                        b += 1
                channel = pyramid.synthesize(high, levels, low)
            if color:
                channel = match_by_sorting(channel, reference[c])
            image[c] = channel
    if color:
        image = np.einsum("ij,jhw->ihw", model.axes, image) + model.mean[:, None, None]
    image -= image.min()
    return np.round(image * (255.0 / image.max())).astype(np.uint8).transpose(1, 2, 0)


def numpy_generator(family: str, size: int) -> Callable[[np.random.Generator], np.ndarray]:
    if family == "dead_leaves-squares":
        return lambda rng: numpy_dead_leaves(rng, size, ("square",))
    if family == "dead_leaves-mixed":
        return lambda rng: numpy_dead_leaves(rng, size, KINDS)
    if family == "dead_leaves-textured":
        return lambda rng: numpy_textured_dead_leaves(rng, size)
    flags = {
        "spectrum": "slope",
        "spectrum_color": "slope color",
        "wmm": "wmm",
        "spectrum_color_wmm": "slope color wmm",
    }
    words = flags[family].split()
    return lambda rng: numpy_statistical(rng, size, "slope" in words, "color" in words, "wmm" in words)


# --- timing -------------------------------------------------------------------------------


def time_numpy(family: str, size: int, count: int, start: int, bbox: bool = False) -> float:
    generate = numpy_generator(family, size)
    if bbox:
        kinds = ("square",) if family.endswith("squares") else KINDS
        generate = lambda rng: numpy_dead_leaves(rng, size, kinds, bbox=True)  # noqa: E731
    began = time.perf_counter()
    for index in range(start, start + count):
        image = generate(sample_rng(sample_seed(1, index)))
        assert image.shape == (size, size, 3) and image.dtype == np.uint8
    return count / (time.perf_counter() - began)


def time_torch(source: noise_source.NoiseSource, count: int, start: int) -> float:
    began = time.perf_counter()
    for first in range(start, start + count, source.batch_size):
        batch = [
            SampleSpec(i, sample_seed(0, i), 0, 1) for i in range(first, min(first + source.batch_size, start + count))
        ]
        results = source.render(batch)
        assert all(len(result.images) == 1 for result in results)
    return count / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=list(FAMILIES))
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch threads of the noise source on the CPU")
    args = parser.parse_args()
    noise_source.NoiseSource.cpu_threads = args.threads
    torch.set_num_threads(1)  # numpy's FFT and sort are single-threaded; the source sets its own
    print(f"# {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, numpy {np.__version__}")
    print(f"# {args.size}x{args.size}, 1 view per sample, torch threads {args.threads}, median of {args.reps} runs")
    print("| family | numpy img/s | torch img/s | torch / numpy |")
    print("|---|---|---|---|")
    for family in args.families:
        section, torch_count, numpy_count = FAMILIES[family]
        source = noise_source.NoiseSource(bench_recipe(section, args.size))
        time_torch(source, min(4, torch_count), 10**6)  # warm up (masks, allocator)
        runs: dict[str, list[float]] = {"numpy": [], "torch": [], "numpy-bbox": []}
        for rep in range(args.reps):
            runs["numpy"].append(time_numpy(family, args.size, numpy_count, rep * numpy_count))
            runs["torch"].append(time_torch(source, torch_count, rep * torch_count))
            if family in ("dead_leaves-squares", "dead_leaves-mixed"):
                runs["numpy-bbox"].append(time_numpy(family, args.size, numpy_count, rep * numpy_count, bbox=True))
        numpy_rate, torch_rate = statistics.median(runs["numpy"]), statistics.median(runs["torch"])
        print(f"| {family} | {numpy_rate:.1f} | {torch_rate:.1f} | {torch_rate / numpy_rate:.1f}x |", flush=True)
        if runs["numpy-bbox"]:
            bbox_rate = statistics.median(runs["numpy-bbox"])
            print(f"| {family} (numpy-bbox) | {bbox_rate:.1f} | {torch_rate:.1f} | {torch_rate / bbox_rate:.1f}x |")


if __name__ == "__main__":
    main()
