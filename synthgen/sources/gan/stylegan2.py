"""A StyleGAN2 generator in plain torch (Karras et al., "Analyzing and Improving the Image Quality
of StyleGAN", CVPR 2020): mapping network, modulated and demodulated convolutions, noise inputs
and the `skip` generator (every block adds its toRGB output to the upsampled image).

Parameter names, parameterisation (weights stored unscaled, gains applied at run time) and
state-dict keys are those of NVIDIA's stylegan2-ada-pytorch (`training/networks.py`; stylegan3's
`networks_stylegan2.py` is the same), so a state dict saved from its `G_ema` loads here as is. The
custom CUDA ops of that code are replaced by their reference formulas in plain torch.

Two extensions serve the untrained variants of "Learning to See by Looking at Noise" (see
untrained.py) and change nothing when unused:
- a synthesis layer may take per-sample weights of the form w[o, i] = gain[o] * filter[i] and a
  per-sample bias (`LayerDraw`); `modulated_rank_one_conv2d` computes that layer exactly, at the
  cost of a one-output-channel convolution;
- a toRGB layer may take a per-sample weight.
Parameters stay in float32; activations run in the `dtype` given to the forward pass.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# stylegan2-ada's `def_gain`: activations are rescaled to keep unit variance.
ACTIVATION_GAINS = {"linear": 1.0, "relu": math.sqrt(2), "lrelu": math.sqrt(2)}
# The low-pass filter of every up-sampling ([1, 3, 3, 1], outer product, normalised).
RESAMPLE_TAPS = (1.0, 3.0, 3.0, 1.0)


@dataclass(frozen=True)
class Architecture:
    """Hyperparameters of the generator (stylegan2-ada's names, `skip` architecture)."""

    resolution: int
    z_dim: int = 512
    w_dim: int = 512
    mapping_layers: int = 8
    channel_base: int = 32768
    channel_max: int = 512
    classes: int = 0
    conv_clamp: float | None = None
    # stylegan2 uses leaky ReLU; the Noise paper's untrained variants use ReLU.
    activation: str = "lrelu"

    @property
    def block_resolutions(self) -> list[int]:
        return [2**k for k in range(2, int(math.log2(self.resolution)) + 1)]

    def channels(self, resolution: int) -> int:
        return min(self.channel_base // resolution, self.channel_max)


@dataclass
class LayerDraw:
    """Per-sample inputs of one synthesis layer besides x and w; all optional.

    `noise` [N, 1, H, W] is added scaled by `noise_strength` [N] (None: the layer's learned
    strength). `filters` [N, I, k, k] and `gains` [N, O] replace the layer's weight by
    w[n, o, i] = gains[n, o] * filters[n, i]; `bias` [N, O] replaces its bias.
    """

    noise: Tensor | None = None
    noise_strength: Tensor | None = None
    filters: Tensor | None = None
    gains: Tensor | None = None
    bias: Tensor | None = None


# --- functional pieces ------------------------------------------------------------------------


def resample_filter() -> Tensor:
    taps = torch.tensor(RESAMPLE_TAPS)
    kernel = torch.outer(taps, taps)
    return kernel / kernel.sum()


def bias_act(
    x: Tensor,
    bias: Tensor | None,
    activation: str,
    gain: float = 1.0,
    clamp: float | None = None,
    inplace: bool = False,
) -> Tensor:
    """stylegan2-ada's `bias_act`: add the bias (per channel, or per sample and channel), activate,
    scale by the activation's gain times `gain`, clamp to +-clamp. `inplace` overwrites x (a
    fresh activation tensor): each pass over a large tensor then allocates nothing."""
    if not inplace:
        x = x.clone()
    if bias is not None:
        # One bias per channel [C], or per sample and channel [N, C] (untrained variants).
        shape = (1, -1) if bias.ndim == 1 else bias.shape
        x.add_(bias.to(x.dtype).reshape(*shape, *[1] * (x.ndim - 2)))
    _activate_(x, activation)
    gain = ACTIVATION_GAINS[activation] * gain
    if gain != 1.0:
        x.mul_(gain)
    if clamp is not None:
        x.clamp_(-clamp, clamp)
    return x


def _activate_(x: Tensor, activation: str) -> None:
    if activation == "relu":
        F.relu_(x)
    elif activation == "lrelu":
        F.leaky_relu_(x, 0.2)


def fir_filter(x: Tensor, kernel: Tensor, padding: tuple[int, int, int, int], gain: float) -> Tensor:
    """Pad (left, right, top, bottom) and convolve every channel with a 2-D FIR kernel
    (upfirdn2d without up/down-sampling). The kernel is symmetric, so flipping it is moot."""
    channels = x.shape[1]
    weight = (kernel * gain).to(x.dtype)[None, None].expand(channels, 1, *kernel.shape)
    return F.conv2d(F.pad(x, padding), weight, groups=channels)


def upsample2d(x: Tensor, kernel: Tensor) -> Tensor:
    """2x up-sampling by zero insertion and the FIR kernel (stylegan2-ada's `upsample2d`)."""
    n, c, h, w = x.shape
    zeros = x.new_zeros(n, c, h, 2, w, 2)
    zeros[:, :, :, 0, :, 0] = x
    return fir_filter(zeros.reshape(n, c, 2 * h, 2 * w), kernel, (2, 1, 2, 1), gain=4.0)


def _conv(x: Tensor, weight: Tensor, up: int, kernel: Tensor | None, groups: int = 1) -> Tensor:
    """A 3x3 (padding 1) or 1x1 convolution; with up=2, stylegan2-ada's transposed convolution
    (stride 2) followed by the FIR kernel, which gives exactly twice the input size."""
    if up == 1:
        return F.conv2d(x, weight, padding=weight.shape[-1] // 2, groups=groups)
    out_channels, in_channels = weight.shape[0] // groups, weight.shape[1]
    # conv_transpose2d wants [in, out / groups, k, k]: swap in and out within each group.
    weight = weight.reshape(groups, out_channels, in_channels, *weight.shape[2:]).transpose(1, 2)
    x = F.conv_transpose2d(
        x, weight.reshape(groups * in_channels, out_channels, *weight.shape[3:]), stride=2, groups=groups
    )
    return fir_filter(x, kernel, (1, 1, 1, 1), gain=4.0)


def modulated_conv2d(
    x: Tensor,
    weight: Tensor,
    styles: Tensor,
    demodulate: bool = True,
    up: int = 1,
    kernel: Tensor | None = None,
) -> Tensor:
    """StyleGAN2's modulated convolution: the weight's input channels are scaled by the
    sample's styles [N, I], and (demodulate) every output channel renormalised to unit norm.

    `weight` is [O, I, k, k], shared by the batch, or [N, O, I, k, k], one per sample.
    Coefficients are computed in float32 whatever the activations' dtype.
    """
    n = x.shape[0]
    styles = styles.float()
    if weight.ndim == 4:
        # Shared weight: scale the activations instead of the weights, so the convolution is one
        # batched call (stylegan2-ada's non-fused path; the same sums).
        x = x * styles.to(x.dtype).reshape(n, -1, 1, 1)
        x = _conv(x, weight.to(x.dtype), up, kernel)
        if demodulate:
            energy = styles.square() @ weight.float().square().sum(dim=(2, 3)).T  # [N, O]
            x = x * (energy + 1e-8).rsqrt().to(x.dtype).reshape(n, -1, 1, 1)
        return x
    # Per-sample weights: modulate and demodulate each sample's weight, then convolve each sample.
    w = weight.float() * styles.reshape(n, 1, -1, 1, 1)
    if demodulate:
        w = w * (w.square().sum(dim=(2, 3, 4), keepdim=True) + 1e-8).rsqrt()
    return _grouped_conv(x, w, up, kernel)


def modulated_rank_one_conv2d(
    x: Tensor, filters: Tensor, gains: Tensor, styles: Tensor, up: int = 1, kernel: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """`modulated_conv2d` (demodulated) for per-sample weights w[n, o, i] = gains[n, o] * filters[n, i].

    Such a weight has rank one across channels, so every output channel is a multiple of one map:
        out[n, o] = scale[n, o] * c[n],   scale = gains / sqrt(gains^2 * E + 1e-8),
        c[n] = sum_i filters[n, i] * styles[n, i] (*) x[n, i],   E[n] = sum_i,k (filters * styles)^2.
    Returns (c [N, 1, H, W], scale [N, O] float32). Computing c once costs a convolution with one
    output channel instead of O of them: the numbers of the full modulated convolution (up to
    rounding), hundreds of times cheaper.
    """
    n = x.shape[0]
    modulated = filters.float() * styles.float().reshape(n, -1, 1, 1)  # [N, I, k, k]
    energy = modulated.square().sum(dim=(1, 2, 3))  # [N]
    gains = gains.float()
    scale = gains * (gains.square() * energy[:, None] + 1e-8).rsqrt()  # [N, O]
    return _grouped_conv(x, modulated[:, None], up, kernel), scale


def _grouped_conv(x: Tensor, weights: Tensor, up: int, kernel: Tensor | None) -> Tensor:
    """Convolve sample n with its own weight weights[n] ([N, O, I, k, k], float32)."""
    n, out_channels = weights.shape[:2]
    weights = weights.to(x.dtype)
    if x.device.type == "cpu":
        # One convolution per sample: 1.5-3.5x faster on the CPU than one grouped convolution
        # with a group per sample (oneDNN), and the same shapes whatever the batch.
        return torch.cat([_conv(x[k : k + 1], weights[k], up, kernel) for k in range(n)])
    x = x.reshape(1, -1, *x.shape[2:])
    x = _conv(x, weights.reshape(n * out_channels, *weights.shape[2:]), up, kernel, groups=n)
    return x.reshape(n, out_channels, *x.shape[2:])


def normalize_2nd_moment(x: Tensor, eps: float = 1e-8) -> Tensor:
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


# --- layers ---------------------------------------------------------------------------------


class FullyConnectedLayer(nn.Module):
    """A dense layer with stylegan2's equalised learning rate: the weight is stored as
    randn / lr_multiplier and scaled by lr_multiplier / sqrt(in_features) at run time."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        activation: str = "linear",
        lr_multiplier: float = 1.0,
        bias_init: float = 0.0,
    ) -> None:
        super().__init__()
        self.activation = activation
        self.lr_multiplier = lr_multiplier
        self.bias_init = bias_init
        self.weight = nn.Parameter(torch.zeros(out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features))
        self.weight_gain = lr_multiplier / math.sqrt(in_features)

    def forward(self, x: Tensor) -> Tensor:
        x = x.float() @ (self.weight * self.weight_gain).T
        return bias_act(x, self.bias * self.lr_multiplier, self.activation)


class MappingNetwork(nn.Module):
    """z (and a one-hot class) -> w, broadcast to the `num_ws` inputs of the synthesis network."""

    def __init__(self, arch: Architecture, num_ws: int) -> None:
        super().__init__()
        self.num_ws = num_ws
        self.classes = arch.classes
        embed = arch.w_dim if arch.classes else 0
        if arch.classes:
            self.embed = FullyConnectedLayer(arch.classes, embed)
        features = [arch.z_dim + embed] + [arch.w_dim] * arch.mapping_layers
        for idx in range(arch.mapping_layers):
            layer = FullyConnectedLayer(features[idx], features[idx + 1], activation="lrelu", lr_multiplier=0.01)
            setattr(self, f"fc{idx}", layer)
        self.mapping_layers = arch.mapping_layers
        # The running mean of w from training (truncation toward it is not used by synthgen).
        self.register_buffer("w_avg", torch.zeros(arch.w_dim))

    def forward(self, z: Tensor, c: Tensor | None = None) -> Tensor:
        x = normalize_2nd_moment(z.float())
        if self.classes:
            y = normalize_2nd_moment(self.embed(c.float()))
            x = torch.cat([x, y], dim=1)
        for idx in range(self.mapping_layers):
            x = getattr(self, f"fc{idx}")(x)
        return x.unsqueeze(1).repeat(1, self.num_ws, 1)


class SynthesisLayer(nn.Module):
    """Modulated 3x3 convolution (optionally 2x up-sampling), noise input, bias and activation."""

    def __init__(self, in_channels: int, out_channels: int, resolution: int, arch: Architecture, up: int = 1) -> None:
        super().__init__()
        self.resolution = resolution
        self.up = up
        self.activation = arch.activation
        self.conv_clamp = arch.conv_clamp
        self.register_buffer("resample_filter", resample_filter())
        self.affine = FullyConnectedLayer(arch.w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.zeros(out_channels, in_channels, 3, 3))
        self.register_buffer("noise_const", torch.zeros(resolution, resolution))
        self.noise_strength = nn.Parameter(torch.zeros([]))
        self.bias = nn.Parameter(torch.zeros(out_channels))

    @property
    def in_channels(self) -> int:
        return self.weight.shape[1]

    @property
    def out_channels(self) -> int:
        return self.weight.shape[0]

    def forward(self, x: Tensor, w: Tensor, draw: LayerDraw | None = None) -> Tensor:
        draw = draw or LayerDraw()
        styles = self.affine(w)
        bias = self.bias if draw.bias is None else draw.bias
        noise = None
        if draw.noise is not None:
            strength = self.noise_strength if draw.noise_strength is None else draw.noise_strength.reshape(-1, 1, 1, 1)
            noise = (draw.noise * strength).to(x.dtype)
        if draw.filters is not None:
            return self._rank_one(x, styles, draw, bias, noise)
        x = modulated_conv2d(x, self.weight, styles, up=self.up, kernel=self.resample_filter)
        if noise is not None:
            x.add_(noise)
        return bias_act(x, bias, self.activation, clamp=self.conv_clamp, inplace=True)

    def _rank_one(self, x: Tensor, styles: Tensor, draw: LayerDraw, bias: Tensor, noise: Tensor | None) -> Tensor:
        """The layer for rank-one weights: the same sums as `forward`, in three passes over the
        output. ReLU and leaky ReLU commute with positive scaling, so the activation gain is folded
        into the bias, the scale and the noise."""
        single, scale = modulated_rank_one_conv2d(x, draw.filters, draw.gains, styles, self.up, self.resample_filter)
        gain = ACTIVATION_GAINS[self.activation]
        bias = (bias.float() * gain).reshape(-1 if bias.ndim == 1 else bias.shape[0], scale.shape[1], 1, 1)
        x = torch.addcmul(bias.to(x.dtype), single, (scale * gain).to(x.dtype)[:, :, None, None])
        if noise is not None:
            x.add_(noise * gain)
        _activate_(x, self.activation)
        if self.conv_clamp is not None:
            x.clamp_(-self.conv_clamp, self.conv_clamp)
        return x


class ToRGBLayer(nn.Module):
    """Modulated 1x1 convolution to RGB, not demodulated."""

    def __init__(self, in_channels: int, arch: Architecture) -> None:
        super().__init__()
        self.conv_clamp = arch.conv_clamp
        self.affine = FullyConnectedLayer(arch.w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.zeros(3, in_channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(3))
        self.weight_gain = 1 / math.sqrt(in_channels)

    def forward(self, x: Tensor, w: Tensor, weight: Tensor | None = None) -> Tensor:
        """`weight` [N, 3, I, 1, 1] replaces the layer's weight per sample."""
        styles = self.affine(w) * self.weight_gain
        x = modulated_conv2d(x, self.weight if weight is None else weight, styles, demodulate=False)
        return bias_act(x, self.bias, "linear", clamp=self.conv_clamp)


class SynthesisBlock(nn.Module):
    """One resolution: (the learned constant, or conv0 up-sampling) then conv1, then toRGB."""

    def __init__(self, in_channels: int, out_channels: int, resolution: int, arch: Architecture) -> None:
        super().__init__()
        self.resolution = resolution
        self.register_buffer("resample_filter", resample_filter())
        if in_channels == 0:
            self.const = nn.Parameter(torch.zeros(out_channels, resolution, resolution))
        else:
            self.conv0 = SynthesisLayer(in_channels, out_channels, resolution, arch, up=2)
        self.conv1 = SynthesisLayer(out_channels, out_channels, resolution, arch)
        self.torgb = ToRGBLayer(out_channels, arch)
        self.num_conv = 1 if in_channels == 0 else 2

    def layers(self) -> list[SynthesisLayer]:
        return [self.conv1] if self.num_conv == 1 else [self.conv0, self.conv1]

    def forward(
        self,
        x: Tensor | None,
        img: Tensor | None,
        ws: Tensor,
        draws: Sequence[LayerDraw | None],
        rgb_weight: Tensor | None,
        dtype: torch.dtype,
    ) -> tuple[Tensor, Tensor]:
        if x is None:
            x = self.const.to(dtype).unsqueeze(0).expand(ws.shape[0], -1, -1, -1)
        for k, (layer, draw) in enumerate(zip(self.layers(), draws, strict=True)):
            x = layer(x, ws[:, k], draw)
        if img is not None:
            img = upsample2d(img, self.resample_filter)
        # The image accumulates in float32 whatever the activations' dtype (as stylegan2-ada).
        y = self.torgb(x, ws[:, self.num_conv], rgb_weight).float()
        return x, y if img is None else img + y


class SynthesisNetwork(nn.Module):
    """ws [N, num_ws, w_dim] -> images [N, 3, resolution, resolution] (float32)."""

    def __init__(self, arch: Architecture) -> None:
        super().__init__()
        self.resolutions = arch.block_resolutions
        self.num_ws = 0
        for res in self.resolutions:
            in_channels = arch.channels(res // 2) if res > 4 else 0
            block = SynthesisBlock(in_channels, arch.channels(res), res, arch)
            setattr(self, f"b{res}", block)
            self.num_ws += block.num_conv
        self.num_ws += 1  # the last toRGB; each other toRGB shares its w with the next block's conv0

    def blocks(self) -> Iterator[SynthesisBlock]:
        for res in self.resolutions:
            yield getattr(self, f"b{res}")

    def layers(self) -> list[SynthesisLayer]:
        """The synthesis layers in order: the ones a list of `LayerDraw`s addresses."""
        return [layer for block in self.blocks() for layer in block.layers()]

    def forward(
        self,
        ws: Tensor,
        draws: Sequence[LayerDraw | None] | None = None,
        rgb_weights: Sequence[Tensor | None] | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> Tensor:
        blocks = list(self.blocks())
        draws = list(draws) if draws is not None else [None] * len(self.layers())
        rgb_weights = list(rgb_weights) if rgb_weights is not None else [None] * len(blocks)
        x = img = None
        w_index = layer_index = 0
        for block, rgb_weight in zip(blocks, rgb_weights, strict=True):
            block_ws = ws[:, w_index : w_index + block.num_conv + 1]
            block_draws = draws[layer_index : layer_index + block.num_conv]
            x, img = block(x, img, block_ws, block_draws, rgb_weight, dtype)
            w_index += block.num_conv
            layer_index += block.num_conv
        return img


class StyleGAN2Generator(nn.Module):
    """z [N, z_dim] (and classes) -> images [N, 3, resolution, resolution], nominally in [-1, 1]."""

    def __init__(self, arch: Architecture) -> None:
        super().__init__()
        self.arch = arch
        self.synthesis = SynthesisNetwork(arch)
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(arch, self.num_ws)
        # Built at zero: weights come from a checkpoint or from `init_weights`.

    def forward(
        self,
        z: Tensor,
        labels: Tensor | None = None,
        draws: Sequence[LayerDraw | None] | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> Tensor:
        """`labels` [N] are class indices (class-conditional networks only)."""
        c = F.one_hot(labels, self.arch.classes).float() if self.arch.classes else None
        return self.synthesis(self.mapping(z, c), draws, dtype=dtype)


@torch.no_grad()
def init_weights(module: nn.Module, generator: torch.Generator, parts: str = "all") -> None:
    """stylegan2-ada's initialisation, drawn from `generator` in module order.

    Weights and constants ~ N(0, 1) (dense weights / lr_multiplier), biases at their init value,
    noise strengths 0. `parts="styles"` draws only the affine (style) layers and the constant
    input, for networks whose convolution weights are drawn per sample (untrained.py); the conv
    and toRGB weights are then left at zero, unused.
    """
    for name, sub in module.named_modules():
        if isinstance(sub, FullyConnectedLayer):
            if parts == "all" or name.endswith("affine"):
                sub.weight.copy_(torch.randn(sub.weight.shape, generator=generator) / sub.lr_multiplier)
            sub.bias.fill_(sub.bias_init)
        elif isinstance(sub, SynthesisBlock) and hasattr(sub, "const"):
            sub.const.copy_(torch.randn(sub.const.shape, generator=generator))
        elif isinstance(sub, SynthesisLayer | ToRGBLayer):
            if parts == "all":
                sub.weight.copy_(torch.randn(sub.weight.shape, generator=generator))
            else:
                sub.weight.zero_()
            sub.bias.zero_()
            if isinstance(sub, SynthesisLayer):
                sub.noise_strength.zero_()
                sub.noise_const.copy_(torch.randn(sub.noise_const.shape, generator=generator))
