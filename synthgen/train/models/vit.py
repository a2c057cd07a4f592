"""Vision Transformers in plain torch (Dosovitskiy et al., "An Image is Worth 16x16 Words", ICLR 2021):
ViT-S/16 (width 384, depth 12, 6 heads) and ViT-B/16 (width 768, depth 12, 12 heads).

Parameter names follow timm's `VisionTransformer` (`patch_embed.proj`, `cls_token`, `pos_embed`,
`blocks.{i}.norm1`, `blocks.{i}.attn.qkv`, `blocks.{i}.attn.proj`, `blocks.{i}.norm2`,
`blocks.{i}.mlp.fc1`, `blocks.{i}.mlp.fc2`, `norm`) so weights map onto timm's model one to one; there
is no `head`. Blocks are pre-norm (LayerNorm eps 1e-6), attention has a qkv bias and runs through
`F.scaled_dot_product_attention` (flash / memory-efficient kernels where available), the MLP is
Linear-GELU-Linear with ratio 4. The output is the final-normed class token [N, dim].

Initialisation is timm's default ("timm" mode): Linear weights truncated normal with std 0.02 and
zero bias, `pos_embed` truncated normal std 0.02, `cls_token` normal std 1e-6; the patch projection
keeps PyTorch's default Conv2d init, as in timm.

The position embedding is learned for one input size: `image_size` fixes the patch grid
((image_size / patch_size)^2 patches plus the class token), and forward checks the input matches.
`patch_size` defaults to 16 but can be lowered so tiny images still get a useful number of tokens.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class PatchEmbed(nn.Module):
    """Non-overlapping patches projected to `dim` by one strided convolution."""

    def __init__(self, image_size: int, patch_size: int, dim: int, in_chans: int = 3) -> None:
        super().__init__()
        self.grid = image_size // patch_size
        self.num_patches = self.grid * self.grid
        self.proj = nn.Conv2d(in_chans, dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x: Tensor) -> Tensor:
        # [N, D, h, w] -> [N, h*w, D]; flatten/transpose accept channels_last tensors as they are.
        return self.proj(x).flatten(2).transpose(1, 2)


class Attention(nn.Module):
    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"dim {dim} is not divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: Tensor) -> Tensor:
        n, t, d = x.shape
        # [N, T, 3, H, D/H] -> 3 x [N, H, T, D/H], the layout scaled_dot_product_attention expects.
        q, k, v = self.qkv(x).reshape(n, t, 3, self.num_heads, d // self.num_heads).permute(2, 0, 3, 1, 4).unbind(0)
        x = F.scaled_dot_product_attention(q, k, v)
        return self.proj(x.transpose(1, 2).reshape(n, t, d))


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(norm1(x)), then x + mlp(norm2(x))."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class VisionTransformer(nn.Module):
    """A class-token ViT without classifier head: forward(x) -> final-normed class token [N, dim]."""

    def __init__(
        self,
        image_size: int = 224,
        patch_size: int = 16,
        dim: int = 768,
        depth: int = 12,
        num_heads: int = 12,
        mlp_ratio: float = 4.0,
    ) -> None:
        super().__init__()
        if image_size <= 0 or patch_size <= 0 or image_size % patch_size:
            raise ValueError(
                f"image_size {image_size} must be a positive multiple of patch_size {patch_size} "
                "(the patch grid and position embedding are sized from it)"
            )
        self.image_size = image_size
        self.patch_size = patch_size
        self.feature_dim: int = dim
        self.patch_embed = PatchEmbed(image_size, patch_size, dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, self.patch_embed.num_patches + 1, dim))
        self.blocks = nn.ModuleList([Block(dim, num_heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self._init_weights()

    def _init_weights(self) -> None:
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.normal_(self.cls_token, std=1e-6)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        """x [N, 3, image_size, image_size] -> class-token features [N, feature_dim]."""
        if x.shape[-2:] != (self.image_size, self.image_size):
            raise ValueError(
                f"this ViT was built for {self.image_size}x{self.image_size} inputs, got {tuple(x.shape[-2:])}"
            )
        x = self.patch_embed(x)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        for block in self.blocks:
            x = block(x)
        # LayerNorm acts per token, so norming only the class token gives the same output for less work.
        return self.norm(x[:, 0])


def vit_s16(image_size: int = 224, patch_size: int = 16) -> VisionTransformer:
    return VisionTransformer(image_size, patch_size, dim=384, depth=12, num_heads=6)


def vit_b16(image_size: int = 224, patch_size: int = 16) -> VisionTransformer:
    return VisionTransformer(image_size, patch_size, dim=768, depth=12, num_heads=12)
