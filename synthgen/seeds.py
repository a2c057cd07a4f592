"""Per-sample randomness: sample i draws only from a seed derived from (recipe seed, i, attempt).

Never global state, the clock, the worker id or the batch layout: so any shard can be rendered
alone, in any order, anywhere, and gives the same bytes.
"""

from __future__ import annotations

import numpy as np


def sample_seed(recipe_seed: int, index: int, attempt: int = 0) -> int:
    """A 63-bit seed for sample `index`; `attempt` > 0 gives the seeds of deterministic redraws."""
    state = np.random.SeedSequence([recipe_seed, index, attempt]).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))  # 63 bits: fits torch.Generator.manual_seed and JSON readers


def sample_rng(seed: int) -> np.random.Generator:
    """The numpy generator a source draws a sample's parameters from."""
    return np.random.Generator(np.random.PCG64(seed))
