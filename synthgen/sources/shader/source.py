"""ShaderSource: sample i = (a program drawn from the set, iTime of each view), rendered with GL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from synthgen.errors import SourceError
from synthgen.seeds import sample_rng
from synthgen.sources.base import RenderedSample, SampleFailure, SampleSpec, Source
from synthgen.sources.shader.config import ShaderSourceConfig
from synthgen.sources.shader.gl import ShaderCompileError
from synthgen.sources.shader.programs import load_program_set
from synthgen.sources.shader.watchdog import GuardedRenderer, ShaderCrash, ShaderHang

if TYPE_CHECKING:
    from synthgen.recipe import Recipe


def draw_sample(config: ShaderSourceConfig, nprograms: int, spec: SampleSpec) -> tuple[int, list[float]]:
    """The program index and the iTime of each view of a sample: a pure function of its seed."""
    rng = sample_rng(spec.seed)
    program = int(rng.integers(nprograms))
    low, high = config.time.min, config.time.max
    first = float(rng.uniform(low, high))
    times = [first]
    for _ in range(spec.views - 1):
        if config.view_time_spread is None:
            times.append(float(rng.uniform(low, high)))
        else:
            offset = rng.uniform(-config.view_time_spread, config.view_time_spread)
            times.append(float(np.clip(first + offset, low, high)))
    return program, times


_FAILURE_REASONS = {ShaderCompileError: "compile_error", ShaderHang: "timeout", ShaderCrash: "crash"}


class ShaderSource(Source):
    kind = "shader"
    # Samples per render call: the render process works through them two at a time.
    batch_size = 16

    def __init__(self, recipe: Recipe, device: str | None = None) -> None:
        super().__init__(recipe, device)
        self.config: ShaderSourceConfig = recipe.source  # type: ignore[assignment]
        self.programs = load_program_set(self.config.programs).programs
        device_index = int(device.split(":")[1]) if device and device.startswith("cuda:") else None
        try:
            self.renderer = GuardedRenderer(
                recipe.image.width,
                recipe.image.height,
                max_views=recipe.views,
                device_index=device_index,
                timeout=self.config.watchdog_seconds,
            )
        except RuntimeError as err:
            raise SourceError(f"shader source: {err}") from None
        # Programs excluded in this worker (compile error, hang, crash): (reason, message).
        self._broken: dict[int, tuple[str, str]] = {}

    @classmethod
    def check(cls, recipe: Recipe) -> None:
        load_program_set(recipe.source.programs)  # type: ignore[union-attr]

    def render(self, specs: Sequence[SampleSpec]) -> list[RenderedSample | SampleFailure]:
        draws = [draw_sample(self.config, len(self.programs), spec) for spec in specs]
        results: list[RenderedSample | SampleFailure | None] = [None] * len(specs)
        jobs, positions = [], []
        for position, (index, times) in enumerate(draws):
            program = self.programs[index]
            if index in self._broken:
                reason, message = self._broken[index]
                results[position] = SampleFailure(reason, program.id, message)
            else:
                jobs.append((program.id, program.code, times))
                positions.append(position)
        for position, outcome in zip(positions, self.renderer.render_many(jobs), strict=True):
            results[position] = self._sample(draws[position], outcome)
        return results  # type: ignore[return-value]

    def _sample(
        self, draw: tuple[int, list[float]], outcome: list[np.ndarray] | Exception
    ) -> RenderedSample | SampleFailure:
        index, times = draw
        program = self.programs[index]
        if isinstance(outcome, Exception):
            reason = _FAILURE_REASONS[type(outcome)]
            self._broken[index] = (reason, str(outcome))
            if len(self._broken) == len(self.programs):
                raise SourceError(
                    f"source.programs: none of the {len(self.programs)} programs renders; "
                    f"last error: {reason}: {outcome}"
                )
            return SampleFailure(reason, program.id, str(outcome))
        for time, image in zip(times, outcome, strict=True):
            # Every 4th pixel in each direction: the same verdict at a sixteenth of the cost.
            std = float(image[::4, ::4].std())
            if std < self.config.min_pixel_std:
                return SampleFailure(
                    "degenerate", program.id, f"pixel std {std:.2f} < {self.config.min_pixel_std} at iTime {time:.3f}"
                )
        meta = {
            "program": {"id": program.id, "index": index, "name": program.name, "sha256": program.sha256},
            "views": [{"time": t} for t in times],
        }
        return RenderedSample(images=outcome, meta=meta, cls=index)

    def close(self) -> None:
        self.renderer.close()
