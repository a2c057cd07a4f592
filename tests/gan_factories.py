"""Generator factories for the `gan` source tests (`generator: "tests.gan_factories:..."`)."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class TinyConditionalGenerator(nn.Module):
    """z [N, latent] + class embedding -> a smooth [N, 3, size, size] image in [-1, 1]."""

    def __init__(self, latent_size: int, classes: int, size: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(classes, latent_size)
        self.fc = nn.Linear(latent_size, 8 * 4 * 4)
        self.conv = nn.Conv2d(8, 3, 3, padding=1)
        self.size = size

    def forward(self, z: Tensor, labels: Tensor | None) -> Tensor:
        h = z + self.embed(labels)
        x = torch.tanh(self.fc(h)).reshape(-1, 8, 4, 4)
        x = nn.functional.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        return torch.tanh(self.conv(x))


def tiny_conditional(latent_size: int = 16, classes: int = 5, size: int = 16, seed: int = 0):
    """The factory signature: (module, latent_size, num_classes); weights drawn from `seed`."""
    module = TinyConditionalGenerator(latent_size, classes, size)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.5)
    return module, latent_size, classes


def not_a_generator():
    return "a string"
