"""The untrained StyleGAN2 families of "Learning to See by Looking at Noise" (Baradad et al.,
NeurIPS 2021), after the paper's released generation code (`generate_datasets/stylegan`).

What every variant shares:
- the stylegan2 `skip` generator (stylegan2.py) with ReLU activations instead of leaky ReLU;
- latents: one w_dim latent per synthesis input (12 at 128 pixels, 14 at 256), w = LeakyReLU_0.2(z);
  the mapping network is not used;
- stylegan2's initialisation of the affine (style) layers and of the constant input, drawn from
  `weights_seed` (network k of a corpus from (weights_seed, k); `samples_per_network`);
- the output's colour channels are standardised and each given a random mean and std
  (source.py, `output: random_stats`).

What each variant changes:
- `random` (StyleGAN-Random): stylegan2's default initialisation: conv and toRGB weights ~ N(0, 1),
  fixed per network; biases 0; noise strengths 0, so no noise.
- `highfreq` (StyleGAN-High-freq): the conv weights are redrawn for every image: each input
  channel gets one 3x3 filter from a dictionary of 40 sign patterns (edges at 16 angles, lines at
  8 angles and their negatives, 8 sparse patterns), times an N(0, 1) gain per output channel;
  toRGB weights ~ N(0, 1) per image; noise inputs are 1/f^alpha maps (alpha ~ U(0.5, 1.5)) at a
  strength ~ U(0, 0.3) per layer and image.
- `sparse` (StyleGAN-Sparse): as highfreq, with the dictionary of the paper's final code (edges
  and lines at 8 angles with graded values, 4 sparse patterns, and the negatives of all 20), of
  which each conv of each image keeps a random subset of 5 to 40; every conv bias
  ~ U(-bias_range, bias_range) per image (0.2); the 1/f^alpha noise maps are multiplied by a
  smooth random envelope (4x4 Laplace samples, upsampled), which makes the noise sparse in space.
- `oriented` (StyleGAN-Oriented): as sparse, but all layers of an image share one noise map
  (512x512, area-downsampled to each layer's resolution) instead of drawing one per layer.

The weights of highfreq, sparse and oriented convs are w[o, i] = gain[o] * filter[i]: rank one
across channels, so each is computed as a one-output-channel convolution
(`modulated_rank_one_conv2d`), which is exact and makes these variants cheap. Departures from
the released code, all from synthgen's determinism rule (a sample draws only from its own seed):
the per-image draws above come from each image's seed where that code drew them once per batch
of two; the noise maps come from banks of 100 per resolution drawn once from `weights_seed`
(that code drew 100 per layer with each network, and the oriented map once per batch).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

from synthgen.sources.gan.latents import derived_seed, seeded
from synthgen.sources.gan.stylegan2 import Architecture, LayerDraw, StyleGAN2Generator, SynthesisLayer, init_weights
from synthgen.sources.torch import torch_threads

# Noise maps per resolution in a bank (the paper's count per layer).
NOISE_BANK_SIZE = 100
# The oriented variant's shared noise map is drawn at this size, then area-downsampled.
ORIENTED_MAP_SIZE = 512
NOISE_STRENGTH_MAX = 0.3
# Streams derived from weights_seed for the noise banks (networks use (weights_seed, k)).
_BANK_STREAM = 0xBA4C
INIT_CODES = {"random": 0, "highfreq": 1, "sparse": 2, "oriented": 3}


@dataclass
class InstanceDraw:
    """One image's draws of the per-image parts of the network (CPU tensors, one per layer)."""

    filter_indices: list[Tensor] | None = None  # [I] indices into the filter dictionary
    gains: list[Tensor] | None = None  # [O]
    biases: list[Tensor] | None = None  # [O]
    noise_indices: Tensor | None = None  # [layers] indices into the layer's noise bank
    noise_strengths: Tensor | None = None  # [layers]
    rgb_weights: list[Tensor] | None = None  # [3, I] per toRGB layer


class UntrainedStyleGAN:
    """A generator of one variant; draws per image on the CPU, renders batches on `device`."""

    def __init__(
        self,
        variant: str,
        arch: Architecture,
        *,
        weights_seed: int,
        samples_per_network: int | None,
        bias_range: float,
        device: torch.device,
        dtype: torch.dtype,
    ) -> None:
        self.variant = variant
        self.weights_seed = weights_seed
        self.samples_per_network = samples_per_network
        self.bias_range = bias_range
        self.device, self.dtype = device, dtype
        self.net = StyleGAN2Generator(arch).eval().to(device)
        self.layers = self.net.synthesis.layers()
        self.latent_shape = (self.net.num_ws, arch.w_dim)
        self.num_classes = 0
        self.resolution = arch.resolution
        self._network: int | None = None
        if variant == "random":
            self.filters = None
        else:
            self.filters = (highfreq_filters() if variant == "highfreq" else sparse_filters()).to(device)
        self.noise_banks: dict[int, Tensor] = {}
        self.bank_size = NOISE_BANK_SIZE
        if variant != "random":
            resolutions = sorted({layer.resolution for layer in self.layers})
            banks = noise_banks(variant, weights_seed, resolutions)
            self.noise_banks = {res: bank.to(device=device, dtype=dtype) for res, bank in banks.items()}

    def network_index(self, sample_index: int) -> int:
        return 0 if self.samples_per_network is None else sample_index // self.samples_per_network

    def meta(self, network: int) -> dict:
        return {"init": self.variant, "weights_seed": self.weights_seed, "network": network}

    def draw_inputs(self, generator: torch.Generator) -> InstanceDraw:
        """Draw the per-image parts, in a fixed order, from the image's own generator."""
        draw = InstanceDraw()
        if self.variant != "random":
            draw.filter_indices, draw.gains = [], []
            for layer in self.layers:
                draw.filter_indices.append(self._filter_indices(layer.in_channels, generator))
                draw.gains.append(torch.randn(layer.out_channels, generator=generator))
        if self.bias_range > 0:
            draw.biases = [
                (torch.rand(layer.out_channels, generator=generator) * 2 - 1) * self.bias_range for layer in self.layers
            ]
        if self.variant != "random":
            count = len(self.layers)
            if self.variant == "oriented":  # one map for every layer
                draw.noise_indices = torch.randint(self.bank_size, (1,), generator=generator).expand(count)
            else:
                draw.noise_indices = torch.randint(self.bank_size, (count,), generator=generator)
            draw.noise_strengths = torch.rand(count, generator=generator) * NOISE_STRENGTH_MAX
            draw.rgb_weights = [
                torch.randn(3, block.torgb.weight.shape[1], generator=generator)
                for block in self.net.synthesis.blocks()
            ]
        return draw

    def _filter_indices(self, count: int, generator: torch.Generator) -> Tensor:
        size = len(self.filters)
        if self.variant == "highfreq":
            return torch.randint(size, (count,), generator=generator)
        # sparse, oriented: each conv uses a random subset of 5..size filters of the dictionary.
        subset = torch.randperm(size, generator=generator)[: int(torch.randint(5, size + 1, (), generator=generator))]
        return subset[torch.randint(len(subset), (count,), generator=generator)]

    def generate(self, latents: Tensor, labels: Tensor | None, inputs: Sequence[InstanceDraw], network: int) -> Tensor:
        self._use_network(network)
        ws = F.leaky_relu(latents.to(self.device), 0.2)
        draws = [self._layer_draw(k, layer, inputs) for k, layer in enumerate(self.layers)]
        rgb = None
        if inputs[0].rgb_weights is not None:
            rgb = [
                torch.stack([item.rgb_weights[b] for item in inputs]).to(self.device)[..., None, None]
                for b in range(len(inputs[0].rgb_weights))
            ]
        return self.net.synthesis(ws, draws, rgb, dtype=self.dtype)

    def _layer_draw(self, k: int, layer: SynthesisLayer, inputs: Sequence[InstanceDraw]) -> LayerDraw:
        """Layer k's per-image inputs for the batch, gathered on the device."""
        first = inputs[0]
        draw = LayerDraw()
        if first.filter_indices is not None:
            indices = torch.stack([item.filter_indices[k] for item in inputs]).to(self.device)
            draw.filters = self.filters[indices]  # [N, I, 3, 3]
            draw.gains = torch.stack([item.gains[k] for item in inputs]).to(self.device)
        if first.biases is not None:
            draw.bias = torch.stack([item.biases[k] for item in inputs]).to(self.device)
        if first.noise_indices is not None:
            bank = self.noise_banks[layer.resolution]
            indices = torch.stack([item.noise_indices[k] for item in inputs]).to(self.device)
            draw.noise = bank[indices].unsqueeze(1)
            draw.noise_strength = torch.stack([item.noise_strengths[k] for item in inputs]).to(self.device)
        return draw

    def _use_network(self, network: int) -> None:
        """Draw network `network`'s weights (in place) unless they are the current ones."""
        if network == self._network:
            return
        parts = "all" if self.variant == "random" else "styles"
        init_weights(self.net, seeded(derived_seed(self.weights_seed, network)), parts=parts)
        self._network = network


# --- filter dictionaries -------------------------------------------------------------------


def _rotated_crops(pattern: np.ndarray, angles: Sequence[float]) -> list[np.ndarray]:
    """The central 3x3 of `pattern` rotated by each angle (degrees, bilinear, as the paper's PIL code)."""
    image = Image.fromarray(pattern.astype(np.float32))
    return [
        np.asarray(image.rotate(angle, resample=Image.Resampling.BILINEAR))[4:7, 4:7].astype(np.float64)
        for angle in angles
    ]


def _sparse_patterns() -> list[np.ndarray]:
    centre = np.zeros((3, 3))
    centre[1, 1] = 1
    surround = -np.ones((3, 3))
    surround[1, 1] = 1
    cross = np.ones((3, 3))
    cross[::2, ::2] = 0
    return [centre, surround, cross, np.sign(cross - 0.5)]


def _edge_and_line_patterns() -> tuple[np.ndarray, np.ndarray]:
    edge = np.ones((11, 11))
    edge[:, 5] = 0
    edge[:, 6:] *= -1
    line = np.ones((11, 11))
    line[:, 5] = -1
    return edge, line


@functools.cache
def highfreq_filters() -> Tensor:
    """The High-freq dictionary (40 3x3 filters): signs of edges at 16 angles (mean removed),
    lines at 8 angles and their negatives, and 4 sparse patterns and their negatives."""
    edge, line = _edge_and_line_patterns()
    filters = [np.sign(crop - crop.mean()) for crop in _rotated_crops(edge, [k * 360.0 / 16 for k in range(16)])]
    for crop in _rotated_crops(line, [k * 180.0 / 8 for k in range(8)]):
        filters += [np.sign(crop), -np.sign(crop)]
    for pattern in _sparse_patterns():
        filters += [pattern, -pattern]
    return torch.tensor(np.array(filters), dtype=torch.float32)


@functools.cache
def sparse_filters() -> Tensor:
    """The dictionary of the Sparse and Oriented variants (40 3x3 filters): edges and lines at 8
    angles (mean removed, graded values), 4 sparse patterns, and the negatives of all 20."""
    edge, line = _edge_and_line_patterns()
    angles = [k * 180.0 / 8 for k in range(8)]
    filters = [crop - crop.mean() for crop in _rotated_crops(edge, angles) + _rotated_crops(line, angles)]
    filters += _sparse_patterns()
    filters += [-f for f in filters]
    return torch.tensor(np.array(filters), dtype=torch.float32)


# --- noise maps ----------------------------------------------------------------------------


def pink_noise(count: int, size: int, generator: torch.Generator, envelope: bool) -> Tensor:
    """`count` size x size maps with a 1/f^alpha spectrum (alpha ~ U(0.5, 1.5) per map), zero
    mean and unit std.

    As the paper: the spectrum lives on an odd (size + 1)^2 grid, its phase is made odd-symmetric
    (phase minus its point reflection) so the inverse FFT is real, and the map is cropped to
    size x size. `envelope` multiplies each map by a smooth random envelope (4x4 Laplace samples
    upsampled with Lanczos) and renormalises: the sparse variants' noise.
    """
    n = size + 1
    alpha = 0.5 + torch.rand(count, 1, 1, generator=generator)
    # Built directly in FFT order (frequency 0 first), which is the paper's ifftshift.
    frequencies = torch.fft.ifftshift(torch.linspace(-1.0, 1.0, n))
    radius = torch.hypot(frequencies[:, None], frequencies[None, :])
    magnitude = radius.clamp_min(1e-5) ** -alpha
    magnitude[:, 0, 0] = 0.0
    phase = torch.rand(count, n, n, generator=generator) * (2 * math.pi)
    phase = phase - _point_reflection(phase)
    noise = torch.fft.ifft2(torch.polar(magnitude, phase)).real[:, :-1, :-1]
    noise = noise - noise.mean(dim=(1, 2), keepdim=True)
    if envelope:
        noise = noise * torch.stack([laplace_envelope(size, generator) for _ in range(count)])
    return noise / noise.std(dim=(1, 2), keepdim=True)


def _point_reflection(grid: Tensor) -> Tensor:
    """grid[..., -i mod n, -j mod n]: the value at the opposite frequency."""
    return grid.flip(-2, -1).roll((1, 1), dims=(-2, -1))


def laplace_envelope(size: int, generator: torch.Generator) -> Tensor:
    """4x4 standard Laplace samples resized to size x size with Lanczos (PIL), as the paper."""
    uniform = torch.rand(4, 4, generator=generator, dtype=torch.float64) - 0.5
    samples = -torch.sign(uniform) * torch.log1p(-2 * uniform.abs())  # inverse CDF of Laplace(0, 1)
    image = Image.fromarray(samples.numpy().astype(np.float32))
    return torch.from_numpy(np.asarray(image.resize((size, size), Image.Resampling.LANCZOS)).copy())


def noise_banks(variant: str, weights_seed: int, resolutions: Sequence[int]) -> dict[int, Tensor]:
    """NOISE_BANK_SIZE unit-std noise maps per resolution (CPU), a pure function of the arguments.

    The oriented variant's banks are area-downsampled copies of the same ORIENTED_MAP_SIZE maps,
    so index j is one map at every scale. Banks are cached: a process builds each once.
    """
    if variant == "oriented":
        maps = _oriented_maps(weights_seed, NOISE_BANK_SIZE, ORIENTED_MAP_SIZE)[:, None]
        return {res: F.interpolate(maps, size=(res, res), mode="area")[:, 0] for res in resolutions}
    return {res: _pink_bank(variant, weights_seed, res, NOISE_BANK_SIZE) for res in resolutions}


@functools.lru_cache(maxsize=32)
def _pink_bank(variant: str, weights_seed: int, resolution: int, count: int) -> Tensor:
    generator = seeded(derived_seed(weights_seed, _BANK_STREAM, INIT_CODES[variant], resolution))
    with torch_threads(1):  # small FFTs: much slower on 2 threads of a busy CPU
        return pink_noise(count, resolution, generator, envelope=variant == "sparse")


@functools.lru_cache(maxsize=2)
def _oriented_maps(weights_seed: int, count: int, size: int) -> Tensor:
    generator = seeded(derived_seed(weights_seed, _BANK_STREAM, INIT_CODES["oriented"], size))
    with torch_threads(1):  # small FFTs: much slower on 2 threads of a busy CPU
        # In chunks of 10: the FFTs of a whole bank of 513^2 grids would take 2 GB at once.
        return torch.cat([pink_noise(min(10, count - k), size, generator, True) for k in range(0, count, 10)])
