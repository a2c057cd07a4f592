"""Categories: the IFS of category c, a pure function of (recipe seed, c), found by FractalDB's
filling-rate search with deterministic redraws; and the instance variations of a category.

Category c, attempt k draws from numpy PCG64 seeded by SeedSequence([recipe seed, CATEGORY, c,
k]) (a stream apart from the samples' (seed, index, attempt)): first the IFS, then the seed of
its test rendering. Attempt k + 1 is drawn when attempt k fills less than `filling_rate`; the
number of rejected draws is recorded in every sample of the category.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from synthgen.errors import SourceError
from synthgen.sources.fractal.config import FractalDBFractal, FractalSourceConfig, OnePFracFractal
from synthgen.sources.fractal.render import Job, render

logger = logging.getLogger(__name__)

# Tags that keep the category streams apart from each other and from the samples' seeds.
CATEGORY = 0x46524143  # "FRAC"
BASE = 0x42415345  # "BASE": 1p-frac's single IFS
# Test renderings per tensor batch during the search.
SEARCH_BATCH = 32


@dataclass(frozen=True)
class IFS:
    """Affine maps x' = a x + b y + e, y' = c x + d y + f: coefficients (M, 6) as a..f, and the
    probability of choosing each map."""

    coefficients: np.ndarray
    probabilities: np.ndarray

    def varied(self, weights: np.ndarray) -> IFS:
        """The IFS with coefficient k of every map multiplied by weights[..., k] ((6,) or (M, 6));
        probabilities unchanged, as FractalDB's and 1p-frac's renderers keep them."""
        return IFS(self.coefficients * weights, self.probabilities)

    def meta(self) -> dict[str, Any]:
        return {
            "maps": len(self.probabilities),
            "coefficients": self.coefficients.tolist(),
            "probabilities": self.probabilities.tolist(),
        }


@dataclass(frozen=True)
class Category:
    """A category that passed the search: its IFS, the draws rejected before it, its filling rate."""

    index: int
    ifs: IFS
    rejected: int
    filling: float


def map_probabilities(coefficients: np.ndarray) -> np.ndarray:
    """FractalDB's probabilities: |det| of each map's linear part, normalised (uniform when all
    are 0)."""
    det = np.abs(coefficients[:, 0] * coefficients[:, 3] - coefficients[:, 1] * coefficients[:, 2])
    total = det.sum()
    return det / total if total > 0 else np.full(len(det), 1.0 / len(det))


def draw_fractaldb(rng: np.random.Generator, config: FractalDBFractal) -> IFS:
    """FractalDB's `ifs_search.py`: N maps, each coefficient uniform in the range."""
    maps = int(rng.integers(config.maps.min, config.maps.max + 1))
    coefficients = rng.uniform(config.coefficients.min, config.coefficients.max, (maps, 6))
    return IFS(coefficients, map_probabilities(coefficients))


def singular_values(rng: np.random.Generator, maps: int, sigma: float) -> np.ndarray:
    """(maps, 2) singular values s1 >= s2 in [0, 1] with sum(s1 + 2 s2) = sigma (Anderson &
    Farrell's sampler, as 1p-frac uses it): pair by pair, each uniform within the bounds that
    leave the remaining pairs a feasible share of what is left."""
    values = np.empty((maps, 2))
    left = sigma
    for k in range(maps - 1):
        rest = 3.0 * (maps - 1 - k)  # the most the later pairs can take
        s1 = rng.uniform(max(0.0, (left - rest) / 3), min(1.0, left))
        s2 = rng.uniform(max(0.0, (left - s1 - rest) / 2), min(s1, (left - s1) / 2))
        values[k] = s1, s2
        left -= s1 + 2 * s2
    s2 = rng.uniform(max(0.0, (left - 1) / 2), left / 3)
    values[-1] = left - 2 * s2, s2
    return values


def draw_base(rng: np.random.Generator, config: OnePFracFractal) -> IFS:
    """1p-frac's single IFS: contractive maps U diag(s) V (U, V random rotations with random
    reflections, s from `singular_values` with sigma ~ U(sigma.min, sigma.max)), translations
    uniform in [-1, 1]."""
    maps = config.maps
    reflect = np.sign(rng.random((2 * maps, 2, 1)) - 0.5) * np.eye(2)
    angle = rng.uniform(-np.pi, np.pi, 2 * maps)
    rotation = np.empty((2 * maps, 2, 2))
    rotation[:, 0, 0], rotation[:, 0, 1] = np.cos(angle), -np.sin(angle)
    rotation[:, 1, 0], rotation[:, 1, 1] = np.sin(angle), np.cos(angle)
    uv = rotation @ reflect
    sigma = rng.uniform(config.sigma.min, config.sigma.max)
    s = singular_values(rng, maps, sigma)
    linear = uv[:maps] * s[:, None, :] @ uv[maps:]
    shift = rng.uniform(-1.0, 1.0, (maps, 2))
    # a, b, c, d, e, f with x' = a x + b y + e, y' = c x + d y + f.
    coefficients = np.stack(
        [linear[:, 0, 0], linear[:, 0, 1], linear[:, 1, 0], linear[:, 1, 1], shift[:, 0], shift[:, 1]], axis=1
    )
    return IFS(coefficients, map_probabilities(coefficients))


def variation_table(weights: Iterable[float]) -> np.ndarray:
    """(1 + 6 x len(weights), 6) coefficient factors: row 0 all ones, then for each coefficient
    a..f in turn, each weight on that coefficient alone (FractalDB's `weights_*.csv`)."""
    weights = list(weights)
    table = np.ones((1 + 6 * len(weights), 6))
    for k in range(6):
        for w, weight in enumerate(weights):
            table[1 + k * len(weights) + w, k] = weight
    return table


def _stream(*entropy: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(list(entropy))))


class Categories:
    """The categories of a recipe's source section, searched on first use and kept."""

    def __init__(self, config: FractalSourceConfig, seed: int, device: torch.device) -> None:
        self.config = config
        self.seed = seed
        self.device = device
        self.found: dict[int, Category] = {}
        self.base: Category | None = self._search_base() if isinstance(config, OnePFracFractal) else None

    def _fillings(self, tries: list[tuple[IFS, int]]) -> list[float]:
        """The filling rate of each (IFS, seed) test rendering; 0 where the IFS overflowed."""
        search, out = self.config.search, []
        for start in range(0, len(tries), SEARCH_BATCH):
            jobs = [Job(ifs.coefficients, ifs.probabilities, seed) for ifs, seed in tries[start : start + SEARCH_BATCH]]
            canvas = render(
                jobs,
                search.size,
                search.size,
                search.points,
                search.render,
                "grey",
                self.config.pad,
                self.device,
                images=False,
            )
            out += [float(f) if finite == 1.0 else 0.0 for f, finite in zip(canvas.filling, canvas.finite, strict=True)]
        return out

    def _search_base(self) -> Category:
        """1p-frac's single IFS: the first draw whose own rendering passes the filling rate.

        1p-frac's code checks only the perturbed copies (and would retry them forever around a
        base too sparse to pass); drawing the base again, deterministically, gives every seed a
        usable one. Its rejected draws are recorded in the samples as `search.base_rejected`."""
        best = 0.0
        for attempt in range(self.config.search.attempts):
            rng = _stream(self.seed, BASE, attempt)
            ifs = draw_base(rng, self.config)  # type: ignore[arg-type]
            filling = self._fillings([(ifs, int(rng.integers(2**63)))])[0]
            if filling >= self.config.filling_rate:
                return Category(-1, ifs, attempt, filling)
            best = max(best, filling)
        raise SourceError(
            f"source.filling_rate: none of {self.config.search.attempts} base IFS drawn with source.maps "
            f"{self.config.maps} and source.sigma [{self.config.sigma.min}, {self.config.sigma.max}] "
            f"fills {self.config.filling_rate} of the canvas (best {best:.3f}); lower source.filling_rate "
            "or change source.sigma"
        )

    def draw(self, category: int, attempt: int) -> tuple[IFS, int]:
        """Attempt `attempt` of `category`: its IFS and the seed of its test rendering."""
        rng = _stream(self.seed, CATEGORY, category, attempt)
        if self.base is None:
            ifs = draw_fractaldb(rng, self.config)  # type: ignore[arg-type]
        else:
            delta = self.config.perturbation  # type: ignore[union-attr]
            base = self.base.ifs
            ifs = base.varied(rng.uniform(1 - delta, 1 + delta, base.coefficients.shape))
        return ifs, int(rng.integers(2**63))

    def get(self, categories: Iterable[int]) -> dict[int, Category]:
        """The categories asked for, searching the ones not found yet (all in step)."""
        pending = {c: 0 for c in sorted(set(categories)) if c not in self.found}
        best: dict[int, float] = {}
        while pending:
            tries = [(c, attempt, *self.draw(c, attempt)) for c, attempt in pending.items()]
            fillings = self._fillings([(ifs, seed) for _, _, ifs, seed in tries])
            for (c, attempt, ifs, _), filling in zip(tries, fillings, strict=True):
                if filling >= self.config.filling_rate:
                    self.found[c] = Category(c, ifs, attempt, filling)
                    del pending[c]
                elif attempt + 1 >= self.config.search.attempts:
                    raise SourceError(self._not_found(c, max(best.get(c, 0.0), filling)))
                else:
                    best[c] = max(best.get(c, 0.0), filling)
                    pending[c] = attempt + 1
        return self.found

    def _not_found(self, category: int, best: float) -> str:
        config = self.config
        if isinstance(config, FractalDBFractal):
            drawn = (
                f"with {config.maps.min}..{config.maps.max} maps of coefficients in "
                f"[{config.coefficients.min}, {config.coefficients.max}] (source.maps, source.coefficients)"
            )
        else:
            drawn = "by perturbing the base IFS (source.sigma, source.perturbation)"
        return (
            f"source.filling_rate: none of {config.search.attempts} IFS drawn {drawn} for category {category} "
            f"fills {config.filling_rate} of the canvas (best {best:.3f}); lower source.filling_rate, "
            "widen the IFS ranges or raise source.search.attempts"
        )
