"""DiffusionSource: sample i = prompt i mod N, generated `views` times by a diffusers pipeline.

The views of a sample are the images of one prompt, each from its own seed: StableRep's
multi-positive groups. One pipeline call takes `batch_size` prompts with all their views, so
each prompt is encoded once for all its images (`num_images_per_prompt`), and every call has
the same shape: a short batch (the end of a shard, redraws) is padded, and the padding thrown
away. The images then come to the CPU as uint8 at the stored size, and synthgen.render encodes
and writes them on its background thread while the pipeline works on the next batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from synthgen.errors import SourceError
from synthgen.sources.base import RenderedSample, SampleFailure, SampleSpec
from synthgen.sources.diffusion.config import TINY_MODEL, DiffusionSourceConfig
from synthgen.sources.diffusion.pipeline import diffusers_errors_only, load_pipeline, native_size
from synthgen.sources.diffusion.prompts import Prompt, load_prompts
from synthgen.sources.diffusion.tiny import cached_tiny_pipeline
from synthgen.sources.imageops import cover_resize, pad_batch, to_uint8
from synthgen.sources.torch import TorchSource

if TYPE_CHECKING:
    from synthgen.recipe import Recipe

# Entropy that sets the view seeds apart from other uses of a sample's seed.
_VIEW_STREAM = 0xD1FF


def view_seeds(sample_seed: int, views: int) -> list[int]:
    """One seed per view, from the sample's seed alone (63 bits, as synthgen.seeds).

    View j's seed is the same whatever `views` is, and it never depends on the batch.
    """
    words = np.random.SeedSequence([sample_seed, _VIEW_STREAM]).generate_state(views, np.uint64)
    return [int(word >> np.uint64(1)) for word in words]


class DiffusionSource(TorchSource):
    kind = "diffusion"

    @classmethod
    def check(cls, recipe: Recipe) -> None:
        # Only what the recipe alone can tell: the prompts file and the model are opened when the
        # source is built, at render time, so recipes can be validated before they are in place.
        config: DiffusionSourceConfig = recipe.source  # type: ignore[assignment]
        if config.images_per_prompt is not None and config.images_per_prompt != recipe.views:
            raise SourceError(
                f"source.images_per_prompt: {config.images_per_prompt}, but views is {recipe.views}; a sample's "
                f"views are its prompt's images: set views: {config.images_per_prompt} (and drop images_per_prompt)"
            )

    def __init__(self, recipe: Recipe, device: str | None = None) -> None:
        super().__init__(recipe, device)
        self.check(recipe)
        self.config: DiffusionSourceConfig = recipe.source  # type: ignore[assignment]
        # Prompts per pipeline call; the driver hands this many specs to `render`.
        self.batch_size = self.config.batch_size
        self.prompts = load_prompts(self.config.prompts)
        # The tiny pipeline is built into the cache by the first worker that needs it.
        folder = str(cached_tiny_pipeline()) if self.config.model == TINY_MODEL else None
        self.pipeline = load_pipeline(self.config, self.torch_device, folder)
        self.generation_size = self.config.generation_size or native_size(self.pipeline)
        # What every sample's json records about how it was made (its prompt and seeds come on top).
        self.settings: dict[str, Any] = {
            "model": self.config.model,
            "pipeline": type(self.pipeline).__name__,
            "scheduler": type(self.pipeline.scheduler).__name__,
            "guidance_scale": self.config.guidance_scale,
            "steps": self.config.steps,
            "generation_size": list(self.generation_size),
            "dtype": str(self.pipeline.dtype).removeprefix("torch."),
        }
        if self.config.revision is not None:
            self.settings["revision"] = self.config.revision
        if self.config.negative_prompt is not None:
            self.settings["negative_prompt"] = self.config.negative_prompt

    def render(self, specs: Sequence[SampleSpec]) -> list[RenderedSample | SampleFailure]:
        results: list[RenderedSample | SampleFailure] = []
        with self.run():
            for begin in range(0, len(specs), self.batch_size):
                results += self._render_batch(specs[begin : begin + self.batch_size])
        return results

    def _render_batch(self, specs: Sequence[SampleSpec]) -> list[RenderedSample | SampleFailure]:
        views = specs[0].views
        if any(spec.views != views for spec in specs):
            raise SourceError("diffusion source: the samples of one batch must have the same number of views")
        prompts = [self.prompts[spec.index % len(self.prompts)] for spec in specs]
        seeds = [view_seeds(spec.seed, views) for spec in specs]
        images, broken, flagged = self.generate([prompt.text for prompt in prompts], seeds)
        results: list[RenderedSample | SampleFailure] = []
        for k, (prompt, sample_seeds) in enumerate(zip(prompts, seeds, strict=True)):
            group = slice(k * views, (k + 1) * views)
            if broken[group].any():
                # Half precision overflowing (e.g. SDXL's VAE in float16): redrawn with new seeds.
                results.append(SampleFailure("nan", "non-finite", "the pipeline gave NaN or infinite pixels"))
            elif flagged[group].any():
                results.append(SampleFailure("nsfw", "safety_checker", "the safety checker flagged an image"))
            else:
                results.append(self._sample(prompt, sample_seeds, list(images[group])))
        return results

    def _sample(self, prompt: Prompt, seeds: list[int], images: list[np.ndarray]) -> RenderedSample:
        meta = {**prompt.meta(), **self.settings, "views": [{"seed": seed} for seed in seeds]}
        return RenderedSample(images=images, meta=meta, cls=prompt.cls, txt=prompt.text)

    def generate(self, texts: list[str], seeds: list[list[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Images of `texts`, view j of prompt k drawn from seeds[k][j]; at most `batch_size` prompts.

        Returns uint8 images (prompts x views, height, width, 3) at the stored size, in prompt-major
        order, with per-image flags: non-finite pixels, and flagged by the safety checker.
        """
        views, real = len(seeds[0]), len(texts)
        # A fixed batch (see pad_batch), which also gives a compiled denoiser one shape.
        texts, seeds = pad_batch(texts, self.batch_size), pad_batch(seeds, self.batch_size)
        # One generator per image, on the CPU: an image's noise is the same on every device and
        # whatever else is in the batch (diffusers draws each image's latents from its own generator).
        generators = [torch.Generator("cpu").manual_seed(seed) for row in seeds for seed in row]
        width, height = self.generation_size
        negative = self.config.negative_prompt
        with diffusers_errors_only():
            output = self.pipeline(
                prompt=texts,
                negative_prompt=None if negative is None else [negative] * len(texts),
                num_images_per_prompt=views,
                width=width,
                height=height,
                num_inference_steps=self.config.steps,
                guidance_scale=self.config.guidance_scale,
                generator=generators,
                output_type="pt",
            )
        count = real * views
        nsfw = getattr(output, "nsfw_content_detected", None)
        flagged = np.array(nsfw[:count] if nsfw is not None else [False] * count, dtype=bool)
        with torch.no_grad():
            images = output.images[:count].float()  # (N, 3, H, W) in [0, 1], still on the device
            broken = ~torch.isfinite(images).flatten(1).all(dim=1)
            # A plain downscale where the aspect ratios agree (StableRep: 512 generated, 256 stored).
            images = cover_resize(torch.nan_to_num(images), (self.recipe.image.height, self.recipe.image.width))
            # Rounded as diffusers rounds its own PIL and numpy outputs; only uint8 crosses to the CPU.
            pixels = to_uint8(images, rounding="half_even")
            return pixels.cpu().numpy(), broken.cpu().numpy(), flagged

    def close(self) -> None:
        self.pipeline = None
        super().close()
