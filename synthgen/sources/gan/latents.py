"""Latent views as in GenRep (Jahanian et al., "Generative Models as a Data Source for Multiview
Representation Learning", ICLR 2022).

A sample is one anchor latent and `views - 1` more:
- anchor: z = truncation * truncnorm(-bound, bound)  (bound None: an untruncated normal);
- `gaussian`: a neighbour z + truncation * truncnorm(-bound, bound) * std (GenRep's Gaussian views);
- `independent`: a fresh z (and a fresh class for class-conditional generators);
- `same_class`: a fresh z of the anchor's class.
Every view draws from its own seed, derived from the sample seed and the view's number, so view v
is the same whatever `views` is, and the json records that seed to re-draw it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

# Streams derived from a sample's seed: one for the network-instance draws, noise inputs and
# colours of the sample (shared by its views), one per view for its latent.
INSTANCE_STREAM = 1
VIEW_STREAM = 2


def derived_seed(*keys: int) -> int:
    """A 63-bit seed that is a pure function of `keys` (a numpy SeedSequence hash)."""
    state = np.random.SeedSequence([int(key) for key in keys]).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


def seeded(seed: int) -> torch.Generator:
    """A CPU torch generator: draws on the CPU are the same on every machine and device."""
    return torch.Generator(device="cpu").manual_seed(seed)


def truncated_normal(shape: tuple[int, ...], bound: float | None, generator: torch.Generator) -> Tensor:
    """Standard normal draws restricted to [-bound, bound] (inverse CDF, so one draw per value
    and no rejection loop); bound None: an untruncated normal. float32."""
    if bound is None:
        return torch.randn(shape, generator=generator, dtype=torch.float64).float()
    low, high = (0.5 * (1.0 + math.erf(x / math.sqrt(2.0))) for x in (-bound, bound))
    uniform = torch.rand(shape, generator=generator, dtype=torch.float64)
    quantile = low + uniform * (high - low)
    return (math.sqrt(2.0) * torch.erfinv(2.0 * quantile - 1.0)).clamp(-bound, bound).float()


@dataclass(frozen=True)
class View:
    """One view's latent and class, and what the json records of it."""

    seed: int
    latent: Tensor
    label: int | None
    # The perturbation's std for a gaussian neighbour, 0 for the anchor, None for a fresh latent.
    std: float | None

    def meta(self) -> dict:
        record = {"latent_seed": self.seed, "std": self.std}
        if self.label is not None:
            record["class"] = self.label
        return record


def draw_views(
    sample_seed: int,
    count: int,
    shape: tuple[int, ...],
    *,
    truncation: float,
    bound: float | None,
    method: str,
    std: float | None,
    anchor_label: int | None,
    num_classes: int,
) -> list[View]:
    """The anchor and `count - 1` views of one sample (see the module docstring)."""
    views: list[View] = []
    for number in range(count):
        seed = derived_seed(sample_seed, VIEW_STREAM, number)
        generator = seeded(seed)
        noise = truncated_normal(shape, bound, generator)
        if number == 0:
            views.append(View(seed, truncation * noise, anchor_label, 0.0))
        elif method == "gaussian":
            views.append(View(seed, views[0].latent + truncation * std * noise, anchor_label, std))
        elif method == "same_class":
            views.append(View(seed, truncation * noise, anchor_label, None))
        else:  # independent
            label = int(torch.randint(num_classes, (), generator=generator)) if num_classes else None
            views.append(View(seed, truncation * noise, label, None))
    return views
