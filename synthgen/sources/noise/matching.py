"""Histogram matching of many rows at once, in linear time, with results independent of the batch.

Each row of `values` is mapped through its own empirical CDF and then through the quantile
function of its target, tabulated at evenly spaced probabilities. The empirical CDF comes from a
histogram rather than a sort (a sort costs about 150 ns per value on the CPU, the histogram a
few): this is what matlabPyrTools' histoMatch does for the paper. Every step is either exact
(min, max, integer counts, cumulative sums of counts) or elementwise, so a row's result does not
depend on which other rows share the call.
"""

from __future__ import annotations

import numpy as np
import torch

# Bins of the empirical CDF; values within a bin are spread linearly.
HISTOGRAM_BINS = 1024
# Points of each target quantile table.
QUANTILES = 1024


def match_rows(values: torch.Tensor, quantiles: torch.Tensor) -> torch.Tensor:
    """Give each row of `values` (rows, n) the distribution tabulated in `quantiles` (rows, Q).

    `quantiles[r]` holds the target's quantile function at probabilities linspace(0, 1, Q).
    Each row's histogram (HISTOGRAM_BINS bins between its min and max) gives the rank of every
    bin edge; the edges take the target's values at those ranks, and the values in a bin are
    spread linearly between its two edges' new values.
    """
    rows, n = values.shape
    # (torch.aminmax measured 6x slower than amin and amax on the CPU; take 2.5x slower than index_select.)
    low, high = values.amin(dim=1, keepdim=True), values.amax(dim=1, keepdim=True)
    scale = HISTOGRAM_BINS / (high - low).clamp_min(torch.finfo(values.dtype).tiny)
    position = (values - low).mul_(scale)
    bins = position.floor().clamp_(max=HISTOGRAM_BINS - 1)
    within = position.sub_(bins).view(-1)
    # One histogram per row in a single bincount: row r owns slots r * bins ... (r + 1) * bins - 1.
    # The slot numbers are built in float32 (exact below 2**24) and converted once.
    offsets = torch.arange(rows, device=values.device, dtype=values.dtype).mul_(HISTOGRAM_BINS).unsqueeze(1)
    slots = bins.add_(offsets).long().view(-1)
    counts = torch.bincount(slots, minlength=rows * HISTOGRAM_BINS).view(rows, HISTOGRAM_BINS)
    # Midpoint ranks of the bin edges: the smallest value takes the quantile 0.5 / (n + 1).
    ranks = torch.nn.functional.pad(counts.cumsum(dim=1), (1, 0)).to(values.dtype).add_(0.5).mul_(1.0 / (n + 1))
    ranks[:, -1] = (n + 0.5) / (n + 1)
    edges = interpolate_table(quantiles, ranks)
    start = edges[:, :-1].reshape(-1)
    rise = (edges[:, 1:] - edges[:, :-1]).view(-1)
    return rise.index_select(0, slots).mul_(within).add_(start.index_select(0, slots)).view(rows, n)


def interpolate_table(table: torch.Tensor, probability: torch.Tensor) -> torch.Tensor:
    """Row-wise linear interpolation of `table` (rows, Q), sampled at linspace(0, 1, Q)."""
    steps = table.shape[1] - 1
    position = probability * steps
    index = position.floor().clamp_(0, steps - 1)
    weight = position - index
    index = index.long()
    low = table.gather(1, index)
    high = table.gather(1, index + 1)
    return low + weight * (high - low)


def quantile_table(samples: np.ndarray, points: int = QUANTILES) -> np.ndarray:
    """The quantile function of `samples` (..., n) along its last axis, at linspace(0, 1, points)."""
    ordered = np.sort(samples, axis=-1)
    positions = np.linspace(0.0, ordered.shape[-1] - 1, points)
    below = np.floor(positions).astype(np.int64)
    above = np.minimum(below + 1, ordered.shape[-1] - 1)
    weight = positions - below
    return ordered[..., below] * (1.0 - weight) + ordered[..., above] * weight


def density_quantile_table(grid: np.ndarray, density: np.ndarray, points: int = QUANTILES) -> np.ndarray:
    """Quantile functions of densities tabulated on `grid` (G,), one per row of `density` (rows, G)."""
    # Trapezoid rule: the CDF is piecewise linear between grid points.
    steps = 0.5 * (density[:, 1:] + density[:, :-1]) * np.diff(grid)
    cdf = np.concatenate([np.zeros((density.shape[0], 1)), np.cumsum(steps, axis=1)], axis=1)
    cdf /= cdf[:, -1:]
    probability = np.linspace(0.0, 1.0, points)
    return np.stack([np.interp(probability, row, grid) for row in cdf])
