"""VisualAtomSource: sample i is an instance of class i % classes; `cls` = the class.

With `count = classes x instances` (the paper: 1,000 x 1,000), sample i is instance
i // classes of class i % classes, so every shard mixes the classes and any prefix of the corpus
is balanced. A class's parameters come from the recipe seed and the class number only
(atoms.AtomClasses); an instance's from the sample seed only: it draws one seed per view, and
each view is another instance of the sample's class (its own centre, contour levels and noise),
so views of a sample are positives of one class. View 0 is the same whatever `views` is.

A view whose pixel std is below `reject.min_std` (a single contour at level 0, say) fails as
`near_constant` and the sample is redrawn from a derived seed: a new instance of the same class,
since the class follows the index, not the seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from synthgen.seeds import sample_rng
from synthgen.sources.base import RenderedSample, SampleFailure, SampleSpec
from synthgen.sources.torch import TorchSource
from synthgen.sources.visualatom.atoms import AtomClasses, Instance, draw_instance
from synthgen.sources.visualatom.config import VisualAtomSourceConfig
from synthgen.sources.visualatom.render import stroke

if TYPE_CHECKING:
    from synthgen.recipe import Recipe


class VisualAtomSource(TorchSource):
    kind = "visualatom"
    # Samples per render call: all their views are stroked together. The strokes are exact
    # (render.py), so a short last batch needs no padding.
    batch_size = 16

    def __init__(self, recipe: Recipe, device: str | None = None) -> None:
        super().__init__(recipe, device)
        self.config: VisualAtomSourceConfig = recipe.source  # type: ignore[assignment]
        self.classes = AtomClasses(self.config, recipe.seed)
        self.height, self.width = recipe.image.height, recipe.image.width

    def render(self, specs: Sequence[SampleSpec]) -> list[RenderedSample | SampleFailure]:
        seeds = [self._view_seeds(spec) for spec in specs]
        instances = [
            draw_instance(self.classes[spec.index % len(self.classes)], seed, self.config, self.height, self.width)
            for spec, view_seeds in zip(specs, seeds, strict=True)
            for seed in view_seeds
        ]
        with self.run():
            images = stroke(instances, self.height, self.width, self.torch_device)
        results: list[RenderedSample | SampleFailure] = []
        first = 0
        for spec, view_seeds in zip(specs, seeds, strict=True):
            views = slice(first, first + len(view_seeds))
            results.append(self._sample(spec, view_seeds, instances[views], list(images[views])))
            first += len(view_seeds)
        return results

    @staticmethod
    def _view_seeds(spec: SampleSpec) -> list[int]:
        return [int(seed) for seed in sample_rng(spec.seed).integers(0, 2**63, size=spec.views)]

    def _sample(
        self, spec: SampleSpec, seeds: list[int], instances: list[Instance], images: list
    ) -> RenderedSample | SampleFailure:
        number = spec.index % len(self.classes)
        atom = self.classes[number]
        for view, image in enumerate(images):
            std = self.config.reject.near_constant(image)
            if std is not None:
                return SampleFailure("near_constant", f"class {number}", f"view {view}: pixel std {std:.2f}")
        meta = {
            "class": number,
            "instance": spec.index // len(self.classes),
            "atom": atom.meta(),
            "color": self.config.color,
            "views": [instance.meta(seed) for seed, instance in zip(seeds, instances, strict=True)],
        }
        return RenderedSample(images=images, meta=meta, cls=number)
