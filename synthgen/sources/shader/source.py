"""ShaderSource: sample i = (a program drawn from the set, iTime of each view), rendered with GL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

from synthgen.errors import SourceError
from synthgen.seeds import sample_rng
from synthgen.sources.base import RenderedSample, SampleFailure, SampleSpec, Source
from synthgen.sources.shader.config import ShaderSourceConfig
from synthgen.sources.shader.gl import ShaderCompileError, ShaderRenderer
from synthgen.sources.shader.programs import load_program_set

if TYPE_CHECKING:
    from synthgen.recipe import Recipe


class ShaderSource(Source):
    kind = "shader"

    def __init__(self, recipe: Recipe, device: str | None = None) -> None:
        super().__init__(recipe, device)
        self.config: ShaderSourceConfig = recipe.source  # type: ignore[assignment]
        self.programs = load_program_set(self.config.programs).programs
        device_index = int(device.split(":")[1]) if device and device.startswith("cuda:") else None
        try:
            self.renderer = ShaderRenderer(recipe.image.width, recipe.image.height, device_index=device_index)
        except RuntimeError as err:
            raise SourceError(f"shader source: {err}") from None
        # Programs that failed to compile in this worker, with their error: failing again is free.
        self._broken: dict[int, str] = {}

    def draw(self, spec: SampleSpec) -> tuple[int, list[float]]:
        """The program index and the iTime of each view of a sample: a pure function of its seed."""
        rng = sample_rng(spec.seed)
        program = int(rng.integers(len(self.programs)))
        time = self.config.time
        first = float(rng.uniform(time.min, time.max))
        times = [first]
        for _ in range(spec.views - 1):
            if self.config.view_time_spread is None:
                times.append(float(rng.uniform(time.min, time.max)))
            else:
                offset = rng.uniform(-self.config.view_time_spread, self.config.view_time_spread)
                times.append(float(np.clip(first + offset, time.min, time.max)))
        return program, times

    def render(self, specs: Sequence[SampleSpec]) -> list[RenderedSample | SampleFailure]:
        return [self._render_one(spec) for spec in specs]

    def _render_one(self, spec: SampleSpec) -> RenderedSample | SampleFailure:
        index, times = self.draw(spec)
        program = self.programs[index]
        if index in self._broken:
            return SampleFailure("compile_error", program.id, self._broken[index])
        try:
            compiled = self.renderer.compile(program.id, program.code)
        except ShaderCompileError as err:
            self._broken[index] = str(err)
            if len(self._broken) == len(self.programs):
                raise SourceError(f"source.programs: none of the {len(self.programs)} programs compiles; first error: {err}") from None
            return SampleFailure("compile_error", program.id, str(err))
        images = []
        for time in times:
            image = self.renderer.render(compiled, time)
            # Every 4th pixel in each direction: the same verdict at a sixteenth of the cost.
            std = float(image[::4, ::4].std())
            if std < self.config.min_pixel_std:
                return SampleFailure(
                    "degenerate", program.id, f"pixel std {std:.2f} < {self.config.min_pixel_std} at iTime {time:.3f}"
                )
            images.append(image)
        meta = {
            "program": {"id": program.id, "index": index, "name": program.name, "sha256": program.sha256},
            "views": [{"time": t} for t in times],
        }
        return RenderedSample(images=images, meta=meta, cls=index)

    def close(self) -> None:
        self.renderer.close()
