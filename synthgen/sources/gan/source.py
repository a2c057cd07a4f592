"""GanSource: sample i = one anchor latent and its views, rendered by a generator network.

Randomness. Everything of sample i comes from its spec's seed, never from global state, the
batch or the device. Two streams are derived from it (latents.py): the instance stream draws,
in this order, the class (class-conditional generators), the colour statistics
(`output: random_stats`) and the network's per-sample inputs (the untrained variants' per-image
weights, noise inputs); view v's stream draws its latent. All draws happen on the CPU; only
the network runs on the render device.

Batches. The views of all specs in a `render` call are flattened into rows and generated
`batch_size` rows per forward pass; a pass with fewer rows is padded (with copies of its last
row) to exactly `batch_size`, so every pass has the same shapes and a sample's pixels do not
depend on which samples shared its batch (CPU kernels may choose their algorithm by shape).
Samples whose networks differ (`samples_per_network`) go through separate passes.

Output. `random_stats` (the Noise paper's colours): each channel of each view is standardised,
then given a mean and a std drawn per sample from normals fitted to natural images (means
N(0.483, 0.145), N(0.455, 0.142), N(0.401, 0.161); stds N(0.219, 0.063), N(0.213, 0.062),
N(0.213, 0.069)), and clipped to [0, 1]; the views of a sample share the draw. `clip`: the
generator's [-1, 1] is mapped to [0, 1] and clipped. If the generator's size differs from
`image.size`, the image is then resized with torch's antialiased bicubic interpolation (scaled
to cover the size, and centre-cropped when the aspect ratios differ).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

from synthgen.errors import SourceError
from synthgen.permissions import Permissions, check_code_allowed, resolve_permissions
from synthgen.sources.base import RenderedSample, SampleFailure, SampleSpec
from synthgen.sources.gan.checkpoints import load_state_dict, resolve_factory
from synthgen.sources.gan.config import CheckpointGan, FactoryGan, GanSourceConfig, UntrainedGan
from synthgen.sources.gan.latents import INSTANCE_STREAM, View, derived_seed, draw_views, seeded
from synthgen.sources.gan.stylegan2 import Architecture
from synthgen.sources.gan.trained import FactoryGenerator, TrainedStyleGAN
from synthgen.sources.gan.untrained import UntrainedStyleGAN
from synthgen.sources.imageops import cover_resize, pad_batch, to_uint8
from synthgen.sources.torch import TorchSource, resolve_dtype

if TYPE_CHECKING:
    from synthgen.recipe import Recipe

# The Noise paper's per-channel colour statistics: (mean of the mean, its std), (mean of the std, its std).
COLOR_MEANS = torch.tensor([[0.483, 0.145], [0.455, 0.142], [0.401, 0.161]])
COLOR_STDS = torch.tensor([[0.219, 0.063], [0.213, 0.062], [0.213, 0.069]])


@dataclass
class SampleDraw:
    """Everything one sample draws on the CPU before its views are generated."""

    network: int
    label: int | None
    views: list[View]
    colors: Tensor | None  # [3, 2]: each channel's mean and std
    inputs: Any  # the generator's per-sample inputs, shared by the views


class GanSource(TorchSource):
    kind = "gan"
    # A factory runs its module's code, a pickle checkpoint may: only what the user allows.
    takes_permissions = True

    @classmethod
    def check(cls, recipe: Recipe) -> None:
        # A checkpoint is opened when a render builds the source, not here: a shared recipe with
        # a placeholder path validates, and the file is read (and verified) once per worker.
        # A factory's module is imported (its code runs) only once the permissions in effect
        # allow it: the caller's `granting` block, else the environment.
        config: GanSourceConfig = recipe.source  # type: ignore[assignment]
        if isinstance(config, FactoryGan):
            check_code_allowed(recipe)
            resolve_factory(config.generator)

    def __init__(self, recipe: Recipe, device: str | None = None, permissions: Permissions | None = None) -> None:
        super().__init__(recipe, device)
        self.permissions = resolve_permissions(permissions)
        check_code_allowed(recipe, self.permissions)  # before the factory's module is imported
        self.config: GanSourceConfig = recipe.source  # type: ignore[assignment]
        self.batch_size = self.config.batch_size
        self.dtype = _compute_dtype(self.config.dtype, self.torch_device)
        self.model = _build_model(self.config, self.torch_device, self.dtype, self.permissions)
        if self.config.views_method == "same_class" and not self.model.num_classes:
            raise SourceError(
                "source.views_method: same_class needs a class-conditional generator; "
                f"{self.config.generator} reports no classes"
            )
        self.size = (recipe.image.height, recipe.image.width)

    def render(self, specs: Sequence[SampleSpec]) -> list[RenderedSample | SampleFailure]:
        draws = [self._draw(spec) for spec in specs]
        # One row per (sample, view), grouped by network, generated batch_size rows at a time.
        rows = [(s, v) for s, spec in enumerate(specs) for v in range(spec.views)]
        rows.sort(key=lambda row: draws[row[0]].network)
        images: dict[tuple[int, int], tuple[np.ndarray, float]] = {}
        with self.run():
            for network, group in itertools.groupby(rows, key=lambda row: draws[row[0]].network):
                group = list(group)
                for start in range(0, len(group), self.batch_size):
                    chunk = group[start : start + self.batch_size]
                    images.update(zip(chunk, self._generate(chunk, draws, network), strict=True))
        return [self._sample(s, spec, draws[s], images) for s, spec in enumerate(specs)]

    def _draw(self, spec: SampleSpec) -> SampleDraw:
        config, model = self.config, self.model
        instance = seeded(derived_seed(spec.seed, INSTANCE_STREAM))
        label = int(torch.randint(model.num_classes, (), generator=instance)) if model.num_classes else None
        colors = None
        if config.output == "random_stats":
            noise = torch.randn(3, 2, generator=instance)
            colors = torch.stack(
                [
                    COLOR_MEANS[:, 0] + noise[:, 0] * COLOR_MEANS[:, 1],
                    COLOR_STDS[:, 0] + noise[:, 1] * COLOR_STDS[:, 1],
                ],
                dim=1,
            )
        inputs = model.draw_inputs(instance)
        views = draw_views(
            spec.seed,
            spec.views,
            model.latent_shape,
            truncation=config.truncation,
            bound=config.bound,
            method=config.views_method,
            std=config.std,
            anchor_label=label,
            num_classes=model.num_classes,
        )
        return SampleDraw(model.network_index(spec.index), label, views, colors, inputs)

    def _generate(
        self, rows: list[tuple[int, int]], draws: list[SampleDraw], network: int
    ) -> list[tuple[np.ndarray, float]]:
        """Images (uint8 HxWx3) of `rows` (sample, view), each with the share of its output's
        pixels that were not finite (set to 0 before the colour mapping)."""
        padded = pad_batch(rows, self.batch_size)
        latents = torch.stack([draws[s].views[v].latent for s, v in padded])
        labels = None
        if self.model.num_classes:
            labels = torch.tensor([draws[s].views[v].label for s, v in padded], dtype=torch.long)
        raw = self.model.generate(latents, labels, [draws[s].inputs for s, _ in padded], network)
        raw = raw[: len(rows)].float()
        nan_shares = (~torch.isfinite(raw)).any(dim=1).flatten(1).float().mean(dim=1).cpu().tolist()
        raw = torch.nan_to_num(raw, nan=0.0, posinf=0.0, neginf=0.0)
        if self.config.output == "random_stats":
            colors = torch.stack([draws[s].colors for s, _ in rows]).to(raw.device)
            unit = _random_stats(raw, colors)
        else:
            unit = ((raw + 1) / 2).clamp(0, 1)
        pixels = to_uint8(cover_resize(unit, self.size), rounding="half_up").cpu().numpy()
        return list(zip(pixels, nan_shares, strict=True))

    def _sample(
        self, s: int, spec: SampleSpec, draw: SampleDraw, images: dict[tuple[int, int], tuple[np.ndarray, float]]
    ) -> RenderedSample | SampleFailure:
        subject = _subject(self.model.meta(draw.network))
        views = [images[(s, v)] for v in range(spec.views)]
        # Views with NaN output judged first: a sample with any is `nan` (RejectConfig allows none),
        # whatever its other views, as the shard stats have always counted it.
        nan_first = sorted(range(len(views)), key=lambda number: views[number][1] == 0)
        for number in nan_first:
            verdict = self.config.reject.judge(views[number][0], nan=views[number][1])
            if verdict is not None:
                return SampleFailure(verdict.reason, subject, f"view {number}: {verdict.detail}")
        meta = {
            "network": self.model.meta(draw.network),
            "truncation": self.config.truncation,
            "latent_bound": self.config.bound,  # null when untruncated, as before
            "views_method": self.config.views_method,
            "views": [view.meta() for view in draw.views],
        }
        return RenderedSample(images=[image for image, _ in views], meta=meta, cls=draw.label)


def _build_model(config: GanSourceConfig, device: torch.device, dtype: torch.dtype, permissions: Permissions) -> Any:
    if isinstance(config, UntrainedGan):
        return UntrainedStyleGAN(
            config.init,
            Architecture(**config.network.model_dump(), activation="relu"),
            weights_seed=config.weights_seed,
            samples_per_network=config.samples_per_network,
            bias_range=config.bias_range,
            device=device,
            dtype=dtype,
        )
    state = load_state_dict(config.checkpoint, permissions) if config.checkpoint else None
    if isinstance(config, CheckpointGan):
        arch = Architecture(**config.network.model_dump(), activation="lrelu")
        return TrainedStyleGAN(arch, state, config.checkpoint, config.noise, device, dtype)
    return FactoryGenerator(config.generator, config.generator_kwargs, state, config.checkpoint, device, dtype)


def _compute_dtype(name: str, device: torch.device) -> torch.dtype:
    dtype = resolve_dtype(name, device)
    if dtype != torch.float32 and device.type != "cuda":
        raise SourceError(
            f"source.dtype: {name} needs a CUDA device; this worker renders on the {device.type} (use auto)"
        )
    return dtype


def _random_stats(images: Tensor, colors: Tensor) -> Tensor:
    """Standardise each channel of each image, then give it the drawn mean and std; clip to [0, 1]."""
    mean = images.mean(dim=(2, 3), keepdim=True)
    std = images.std(dim=(2, 3), keepdim=True, correction=0).clamp_min(1e-8)
    standard = (images - mean) / std
    return (standard * colors[:, :, 1, None, None] + colors[:, :, 0, None, None]).clamp(0, 1)


def _subject(meta: dict) -> str:
    if "init" in meta:
        return f"{meta['init']} network {meta['network']}"
    return meta.get("generator") or meta.get("checkpoint", "gan")
