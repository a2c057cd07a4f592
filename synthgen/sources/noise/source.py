"""NoiseSource: sample i = one draw of a noise model's parameters, rendered as `views` images.

Each sample draws from its own seed only (numpy PCG64): first its parameters, then one seed per
view. The images are then made in batches with torch on the render device.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from synthgen.errors import SourceError
from synthgen.seeds import sample_rng
from synthgen.sources.base import RenderedSample, SampleFailure, SampleSpec
from synthgen.sources.noise.config import STATISTICAL_SECTIONS, NoiseSourceConfig
from synthgen.sources.noise.dead_leaves import DeadLeavesModel
from synthgen.sources.noise.pyramid import auto_scales, max_scales
from synthgen.sources.noise.statistical import Generated, StatisticalModel
from synthgen.sources.torch import TorchSource

if TYPE_CHECKING:
    from synthgen.recipe import Recipe


class NoiseSource(TorchSource):
    kind = "noise"
    # Samples per render call: their views go through the device together.
    batch_size = 32

    @classmethod
    def check(cls, recipe: Recipe) -> None:
        config: NoiseSourceConfig = recipe.source  # type: ignore[assignment]
        if "wmm" in STATISTICAL_SECTIONS.get(config.statistical_model, ()):
            height, width = recipe.image.height, recipe.image.width
            scales = config.wmm.scales or auto_scales(height, width)
            if scales > max_scales(height, width):
                raise SourceError(
                    f"source.wmm.scales: {scales} pyramid levels need images of at least {4 << scales} pixels "
                    f"a side (this recipe: {width}x{height}); at most {max_scales(height, width)} fit"
                )

    def __init__(self, recipe: Recipe, device: str | None = None) -> None:
        super().__init__(recipe, device)
        self.check(recipe)
        self.config: NoiseSourceConfig = recipe.source  # type: ignore[assignment]
        height, width = recipe.image.height, recipe.image.width
        if self.config.model == "dead_leaves":
            self.generator: DeadLeavesModel | StatisticalModel = DeadLeavesModel(
                self.config, height, width, self.torch_device
            )
        else:
            self.generator = StatisticalModel(self.config.model, self.config, height, width, self.torch_device)

    def render(self, specs: Sequence[SampleSpec]) -> list[RenderedSample | SampleFailure]:
        with self.run():
            draws = [self.generator.draw(sample_rng(spec.seed), spec.views) for spec in specs]
            outputs = self.generator.render(draws)
        return [self._sample(draw, output) for draw, output in zip(draws, outputs, strict=True)]

    def _sample(self, draw: Any, output: Generated) -> RenderedSample | SampleFailure:
        if output.failure is not None:
            return SampleFailure("degenerate", self.config.model, output.failure)
        meta = {"model": self.config.model, **self.generator.meta(draw), "views": output.views}
        return RenderedSample(images=output.images, meta=meta)
