"""ShaderSource: sample i = (a program of the set, the iTime of each view), rendered with GL."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from synthgen.errors import SourceError
from synthgen.seeds import sample_rng
from synthgen.sources.base import RenderedSample, SampleFailure, SampleSpec, Source, describe_failures
from synthgen.sources.shader.config import ShaderSourceConfig
from synthgen.sources.shader.diagnostics import locate
from synthgen.sources.shader.gl import Frame, ShaderCompileError
from synthgen.sources.shader.programs import load_program_set
from synthgen.sources.shader.watchdog import GuardedRenderer, ShaderCrash, ShaderHang, ShaderTooLarge
from synthgen.text import printable

if TYPE_CHECKING:
    from synthgen.recipe import Recipe

logger = logging.getLogger(__name__)


class ProgramSampler:
    """Which program and which iTimes a sample gets: a pure function of (recipe, sample spec)."""

    # Entropy of the permutation for `blocked` sampling, apart from every sample's own stream.
    _PERMUTATION_STREAM = 0x5EEDB10C

    def __init__(self, config: ShaderSourceConfig, nprograms: int, recipe_seed: int, count: int) -> None:
        self.config = config
        self.nprograms = nprograms
        if config.sampling.mode == "blocked":
            entropy = np.random.SeedSequence([recipe_seed, self._PERMUTATION_STREAM])
            self.order = np.random.Generator(np.random.PCG64(entropy)).permutation(nprograms)
            self.block = min(config.sampling.block, nprograms)
            self.per_program = -(-count // nprograms)  # samples each program gets, rounded up

    def draw(self, spec: SampleSpec) -> tuple[int, list[float]]:
        rng = sample_rng(spec.seed)
        if self.config.sampling.mode == "uniform":
            program = int(rng.integers(self.nprograms))
        else:
            # Block b holds `block` programs and all their samples, interleaved; a redraw
            # (attempt > 0) picks another program of the same block.
            first = (spec.index // (self.block * self.per_program)) * self.block
            within = spec.index % self.block if spec.attempt == 0 else int(rng.integers(self.block))
            program = int(self.order[(first + within) % self.nprograms])
        low, high = self.config.time.min, self.config.time.max
        start = float(rng.uniform(low, high))
        times = [start]
        for _ in range(spec.views - 1):
            if self.config.view_time_spread is None:
                times.append(float(rng.uniform(low, high)))
            else:
                offset = rng.uniform(-self.config.view_time_spread, self.config.view_time_spread)
                times.append(float(np.clip(start + offset, low, high)))
        return program, times


_FAILURE_REASONS = {
    ShaderCompileError: "compile_error",
    ShaderHang: "timeout",
    ShaderCrash: "crash",
    ShaderTooLarge: "too_large",
}


class ShaderSource(Source):
    kind = "shader"
    # Samples per render call: the render process works through them two at a time.
    batch_size = 16
    # A program that fails so is excluded for good (self._broken); nan and near_constant cost a draw.
    excluding_reasons = frozenset(_FAILURE_REASONS.values())

    @classmethod
    def check(cls, recipe: Recipe) -> None:
        found = load_program_set(recipe.source.programs)  # type: ignore[union-attr]
        # Said here, once, before a render or by `validate`; each render worker reads the set again, quietly.
        for file, problem in found.problems:
            logger.warning("skipped a program: %s: %s", printable(file), problem)

    def __init__(self, recipe: Recipe, device: str | None = None) -> None:
        super().__init__(recipe, device)
        self.config: ShaderSourceConfig = recipe.source  # type: ignore[assignment]
        self.programs = load_program_set(self.config.programs).programs
        self.sampler = ProgramSampler(self.config, len(self.programs), recipe.seed, recipe.count)
        device_index = int(device.split(":")[1]) if device and device.startswith("cuda:") else None
        try:
            self.renderer = GuardedRenderer(
                recipe.image.width,
                recipe.image.height,
                max_views=recipe.views,
                device_index=device_index,
                frame_seconds=self.config.watchdog.frame_seconds,
                compile_seconds=self.config.watchdog.compile_seconds,
                memory_mb=self.config.watchdog.memory_limit_mb,
                max_source_bytes=self.config.watchdog.source_limit_bytes,
            )
        except RuntimeError as err:
            raise SourceError(f"shader source: {err}") from None
        # Programs excluded in this worker (compile error, hang, crash): (reason, message).
        self._broken: dict[int, tuple[str, str]] = {}

    def render(self, specs: Sequence[SampleSpec]) -> list[RenderedSample | SampleFailure]:
        draws = [self.sampler.draw(spec) for spec in specs]
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
        self, draw: tuple[int, list[float]], outcome: list[Frame] | Exception
    ) -> RenderedSample | SampleFailure:
        index, times = draw
        program = self.programs[index]
        if isinstance(outcome, Exception):
            reason = _FAILURE_REASONS[type(outcome)]
            message = str(outcome)
            if isinstance(outcome, ShaderCompileError):
                # The driver's locations as the program's file and line (`prog.frag:5:2: error: ...`).
                message = locate(message, program.origin or f"program {program.id}")
            # The driver's log can quote the program (an `#error` line): shown, so escaped.
            message = printable(message)
            self._broken[index] = (reason, message)
            if len(self._broken) == len(self.programs):
                # Every error, not the last one only: programs from one place often fail alike
                # (all define main()), or each differently, and the user fixes all of them.
                failures = [SampleFailure(r, self.programs[i].id, m) for i, (r, m) in self._broken.items()]
                raise SourceError(
                    f"source.programs: none of the {len(self.programs)} programs renders: "
                    f"{describe_failures(failures, noun='programs')}"
                )
            return SampleFailure(reason, program.id, message)
        reject = self.config.reject
        for time, frame in zip(times, outcome, strict=True):
            verdict = reject.judge(frame.image, nan=frame.nan_fraction)
            if verdict is not None:
                return SampleFailure(verdict.reason, program.id, f"{verdict.detail} at iTime {time:.3f}")
        meta = {
            "program": {"id": program.id, "index": index, "name": program.name, "sha256": program.sha256},
            "views": [{"time": t} for t in times],
        }
        return RenderedSample(images=[frame.image for frame in outcome], meta=meta, cls=index)

    def close(self) -> None:
        self.renderer.close()
