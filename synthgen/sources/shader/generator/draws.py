"""The random draws of one program: a seeded stream and the few shapes of draw the grammar uses.

Every choice a program makes comes from here, in the order the builders ask, so a program is a pure
function of (seed, index, attempt): reordering any two draws anywhere changes the programs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np

# Mixed into every program's SeedSequence: changing it changes every generated program.
GENERATOR_SALT = 0x53484452  # "SHDR"

T = TypeVar("T")


class Rand:
    """Uniform draws from pre-drawn blocks of the program's own PCG64 stream (one numpy call
    per 512 draws: a program takes a few hundred)."""

    __slots__ = ("_rng", "_next")

    def __init__(self, seed: int, index: int, attempt: int) -> None:
        entropy = np.random.SeedSequence([seed, index, GENERATOR_SALT, attempt])
        self._rng = np.random.Generator(np.random.PCG64(entropy))
        self._next = iter(self._rng.random(512).tolist()).__next__

    def u(self) -> float:
        try:
            return self._next()
        except StopIteration:
            self._next = iter(self._rng.random(512).tolist()).__next__
            return self._next()

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.u()

    def sym(self, low: float, high: float) -> float:
        """A magnitude in [low, high) with a random sign."""
        x = low + (high - low) * self.u()
        return x if self.u() < 0.5 else -x

    def integer(self, low: int, high: int) -> int:
        """An integer in [low, high], inclusive."""
        return low + min(int(self.u() * (high - low + 1)), high - low)

    def chance(self, p: float) -> bool:
        return self.u() < p

    def choice(self, items: Sequence[T]) -> T:
        return items[min(int(self.u() * len(items)), len(items) - 1)]

    def weighted(self, table: Sequence[tuple[T, float]]) -> T:
        """One key of a sequence of (key, weight) pairs."""
        total = 0.0
        for pair in table:
            total += pair[1]
        x = self.u() * total
        for key, w in table:
            x -= w
            if x < 0.0:
                return key
        return table[-1][0]

    def speed(self, low: float, high: float, still: float = 0.15) -> float:
        """An animation speed: 0 with probability `still`, else +-U(low, high)."""
        return 0.0 if self.u() < still else self.sym(low, high)
