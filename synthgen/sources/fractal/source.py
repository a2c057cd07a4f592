"""FractalSource: sample i shows category i % categories (its `cls`), instance i // categories.

Layout: any prefix of the corpus covers the categories evenly, and FractalDB's N x I corpus is
`count: N * I`. Instance j of a category shows FractalDB variation j mod (variations x flips):
the IFS unchanged or one coefficient weighted (config.VariationConfig), under one of the flips;
past the grid, the variations repeat with new random draws. Every image draws its own chaos
game and patches from the sample seed, so two instances of the same variation differ as
FractalDB's patch instances do (FractalDB also reuses one fixed chaos-game sequence, seed 100,
for every image; here each image has its own).

Views: view 0 is the instance above; views 1.. are other instances of the same category, each
a variation and flip drawn at random from the sample seed: positives that share the formula and
differ in shape detail, as the category's own instances do (for supervised training use
`views: 1`). A redraw (a view that overflowed or came out flat) draws view 0's variation at
random too, so that it does not repeat the one that failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from synthgen.seeds import sample_rng
from synthgen.sources.base import RenderedSample, SampleFailure, SampleSpec
from synthgen.sources.fractal.config import FractalSourceConfig
from synthgen.sources.fractal.ifs import Categories, Category, variation_table
from synthgen.sources.fractal.render import Job, render
from synthgen.sources.torch import TorchSource, torch_threads

if TYPE_CHECKING:
    from synthgen.recipe import Recipe

# A view is degenerate when fewer of its points stay finite (the IFS, weighted, diverges).
MIN_FINITE = 0.5


class FractalSource(TorchSource):
    kind = "fractal"
    # Samples per render call (their views render together, in tensor batches of batch_size).
    batch_size = 32

    @classmethod
    def check(cls, recipe: Recipe) -> None:
        """Find category 0 (bounded by source.search.attempts): an IFS range or a filling rate
        that cannot give a category is refused here, in one line, before any worker starts."""
        import torch

        with torch_threads(1), torch.inference_mode():
            Categories(recipe.source, recipe.seed, torch.device("cpu")).get([0])  # type: ignore[arg-type]

    def __init__(self, recipe: Recipe, device: str | None = None) -> None:
        super().__init__(recipe, device)
        self.config: FractalSourceConfig = recipe.source  # type: ignore[assignment]
        self.categories = Categories(self.config, recipe.seed, self.torch_device)
        self.table = variation_table(self.config.variations.weights)
        self.flips = 4 if self.config.variations.flips else 1
        if self.torch_device.type == "cuda":
            self.batch_size = 256

    def variation(self, index: int) -> int:
        """The variation (row + rows x flip) of view 0 of sample `index`, first draw."""
        return (index // self.config.categories) % (len(self.table) * self.flips)

    def render(self, specs: Sequence[SampleSpec]) -> list[RenderedSample | SampleFailure]:
        n = self.config.categories
        with self.run():
            found = self.categories.get(spec.index % n for spec in specs)
            views: list[tuple[int, dict[str, Any], Job]] = []
            for position, spec in enumerate(specs):
                category = found[spec.index % n]
                rng = sample_rng(spec.seed)
                for view in range(spec.views):
                    chosen = (
                        self.variation(spec.index)
                        if view == 0 and spec.attempt == 0
                        else int(rng.integers(len(self.table) * self.flips))
                    )
                    views.append((position, *self._view(category, chosen, int(rng.integers(2**63)))))
            images, failures = self._render([job for _, _, job in views])
        out: list[RenderedSample | SampleFailure] = []
        for position, spec in enumerate(specs):
            mine = [k for k, (p, _, _) in enumerate(views) if p == position]
            failed = next((failures[k] for k in mine if failures[k]), None)
            category = found[spec.index % n]
            if failed is not None:
                out.append(SampleFailure("degenerate", f"category {category.index}", failed))
                continue
            out.append(
                RenderedSample(
                    images=[images[k] for k in mine],
                    meta=self._meta(spec, category, [views[k][1] for k in mine]),
                    cls=category.index,
                )
            )
        return out

    def _view(self, category: Category, chosen: int, seed: int) -> tuple[dict[str, Any], Job]:
        row, flip = chosen % len(self.table), chosen // len(self.table)
        ifs = category.ifs.varied(self.table[row])
        meta = {"variation": chosen, "weights": self.table[row].tolist(), "flip": flip, "seed": seed}
        return meta, Job(ifs.coefficients, ifs.probabilities, seed, flip)

    def _render(self, jobs: list[Job]) -> tuple[list[np.ndarray], list[str | None]]:
        """Images of `jobs`, in tensor batches of batch_size, and why each failed (None: it did not)."""
        config = self.config
        height, width = self.recipe.image.height, self.recipe.image.width
        images: list[np.ndarray] = []
        failures: list[str | None] = []
        for start in range(0, len(jobs), self.batch_size):
            chunk = jobs[start : start + self.batch_size]
            canvas = render(
                chunk, height, width, config.points, config.render, config.color, config.pad, self.torch_device
            )
            for image, finite in zip(canvas.images, canvas.finite, strict=True):
                images.append(image)
                if finite < MIN_FINITE:
                    failures.append(f"{1 - finite:.0%} of the points overflowed (the weighted IFS diverges)")
                elif (std := config.reject.near_constant(image)) is not None:
                    failures.append(f"near constant (pixel std {std:.2f})")
                else:
                    failures.append(None)
        return images, failures

    def _meta(self, spec: SampleSpec, category: Category, views: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "mode": self.config.mode,
            "category": category.index,
            "instance": spec.index // self.config.categories,
            "ifs": category.ifs.meta(),
            # Draws of this category rejected by the filling-rate filter before this IFS.
            "search": {"rejected": category.rejected, "filling_rate": round(category.filling, 4)},
            **({"base": {"rejected": base.rejected, **base.ifs.meta()}} if (base := self.categories.base) else {}),
            "views": views,
        }
