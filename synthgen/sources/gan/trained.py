"""Trained generators: the built-in StyleGAN2 with a checkpoint, and user factories.

Both follow the interface GanSource drives (as UntrainedStyleGAN does): `latent_shape`,
`num_classes`, `network_index(i)`, `meta(network)`, `draw_inputs(generator)` for the per-sample
draws its views share, and `generate(latents, labels, inputs, network)` for a batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from synthgen.errors import SourceError
from synthgen.sources.gan.checkpoints import call_factory, file_sha256, load_into
from synthgen.sources.gan.stylegan2 import Architecture, LayerDraw, StyleGAN2Generator

_FIX_NETWORK = (
    "set source.network (resolution, channel_base, channel_max, z_dim, w_dim, mapping_layers, classes) "
    "to the checkpoint's"
)


class TrainedStyleGAN:
    """The built-in StyleGAN2 with trained weights. Noise inputs: `random` draws a N(0, 1) map
    per layer and sample (scaled by the learned strengths), `const` uses the learned constant
    maps (stylegan2-ada's `generate.py` default), `none` adds none."""

    def __init__(
        self,
        arch: Architecture,
        state: Mapping[str, Tensor],
        checkpoint: str,
        noise: str,
        device: torch.device,
        dtype: torch.dtype,
    ) -> None:
        self.net = StyleGAN2Generator(arch)
        load_into(self.net, state, checkpoint, _FIX_NETWORK)
        self.net = self.net.eval().to(device)
        self.device, self.dtype = device, dtype
        self.noise = noise
        self.layers = self.net.synthesis.layers()
        self.latent_shape = (arch.z_dim,)
        self.num_classes = arch.classes
        self.resolution = arch.resolution
        self._meta = {"checkpoint": checkpoint, "checkpoint_sha256": file_sha256(checkpoint)}

    def network_index(self, sample_index: int) -> int:
        return 0

    def meta(self, network: int) -> dict:
        return self._meta

    def draw_inputs(self, generator: torch.Generator) -> list[Tensor] | None:
        if self.noise != "random":
            return None
        return [torch.randn(1, layer.resolution, layer.resolution, generator=generator) for layer in self.layers]

    def generate(self, latents: Tensor, labels: Tensor | None, inputs: Sequence[Any], network: int) -> Tensor:
        if self.noise == "random":
            draws = [
                LayerDraw(noise=torch.stack([item[k] for item in inputs]).to(self.device))
                for k in range(len(self.layers))
            ]
        elif self.noise == "const":
            draws = [LayerDraw(noise=layer.noise_const[None, None]) for layer in self.layers]
        else:
            draws = None
        labels = labels.to(self.device) if labels is not None else None
        return self.net(latents.to(self.device), labels, draws, dtype=self.dtype)


class FactoryGenerator:
    """A user's generator from "package.module:function" (see checkpoints.py for the signature),
    optionally with a checkpoint loaded into it; moved to the render device and dtype."""

    def __init__(
        self,
        name: str,
        kwargs: Mapping[str, Any],
        state: Mapping[str, Tensor] | None,
        checkpoint: str | None,
        device: torch.device,
        dtype: torch.dtype,
    ) -> None:
        module, latent_size, num_classes = call_factory(name, kwargs)
        if state is not None:
            load_into(module, state, checkpoint, f"check source.generator_kwargs against the checkpoint ({name})")
        self.module: nn.Module = module.eval().to(device=device, dtype=dtype)
        self.name = name
        self.device, self.dtype = device, dtype
        self.latent_shape = (latent_size,)
        self.num_classes = num_classes
        self.resolution = None
        self._meta: dict[str, Any] = {"generator": name}
        if checkpoint is not None:
            self._meta.update(checkpoint=checkpoint, checkpoint_sha256=file_sha256(checkpoint))

    def network_index(self, sample_index: int) -> int:
        return 0

    def meta(self, network: int) -> dict:
        return self._meta

    def draw_inputs(self, generator: torch.Generator) -> None:
        return None

    def generate(self, latents: Tensor, labels: Tensor | None, inputs: Sequence[Any], network: int) -> Tensor:
        z = latents.to(device=self.device, dtype=self.dtype)
        images = self.module(z, labels.to(self.device) if labels is not None else None)
        if not isinstance(images, Tensor) or images.ndim != 4 or images.shape[:2] != (len(z), 3):
            shape = list(images.shape) if isinstance(images, Tensor) else type(images).__name__
            raise SourceError(f"source.generator: {self.name} returned {shape}; expected images [{len(z)}, 3, H, W]")
        return images
