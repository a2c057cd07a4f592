"""The chaos game, batched in torch: many images and many chains per image at once.

FractalDB draws an image with one chain of `points` steps (start (0, 0), each step a map chosen
with its probability), a Python loop over points. Here each image runs CHAINS chains side by
side, each for ceil(points / CHAINS) steps after BURN_IN steps that are not drawn (so the chains
have reached the attractor), and all the images of a batch step together: a step is a handful
of tensor operations over (images x chains) values, on the CPU or a GPU.

Rasterising follows FractalDB's `ifs_function`: the points (and the origin, FractalDB's first
point, so the bounding box is the same) are scaled to [pad, size - pad] on each axis, truncated
to pixels and drawn with y up. `point`: the pixel is lit (grey 127, or in colour the hue of the
point's index mod 128, FractalDB's `convert_color`). `patch`: a 3x3 patch of a random 9-bit mask
(1..511) is pasted with its corner at (x + 1, y + 1), unlit mask cells included, as PIL's paste
does. Later points paint over earlier ones: each pixel keeps the latest point (in the order
step x CHAINS + chain) that covers it, found with an integer `amax` scatter, so the result does
not depend on the order the scatter runs in.

Randomness: each image draws its map choices and patch masks from its own numpy generator (its
`seed`); the tensor work is elementwise or per-image, so an image's bytes do not depend on the
batch it is rendered in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

# Chains per image, and steps each chain makes before its points are drawn. 20 steps contract
# the distance to the attractor by at least 2^-20 for maps with a contraction factor below 1/2
# (the typical FractalDB map); longer chains would only add sequential steps.
CHAINS = 1024
BURN_IN = 20
# FractalDB's colour wheel: `convert_color(index, 128)`.
HUES = 128
# FractalDB's grey level.
GREY = 127
# The 3x3 patch: cell (row i, column j) is bit 8 - (3i + j) of the mask (FractalDB reads the
# mask as a 9-character binary string, most significant bit first).
PATCH = [(i, j) for i in range(3) for j in range(3)]


@dataclass(frozen=True)
class Job:
    """One image: an IFS (coefficients (M, 6) as a..f, probabilities (M,)), the seed of its
    random draws, and the flip applied at the end (0 none, 1 top-bottom, 2 left-right, 3 both)."""

    coefficients: np.ndarray
    probabilities: np.ndarray
    seed: int
    flip: int = 0


@dataclass(frozen=True)
class Canvas:
    """A rendered batch: uint8 (B, H, W, 3) images, the share of lit pixels of each, and the share
    of each image's points that stayed finite (a diverging IFS overflows)."""

    images: np.ndarray
    filling: np.ndarray
    finite: np.ndarray


def hue_table() -> np.ndarray:
    """(HUES, 3) uint8: FractalDB's colours, a hexcone of intensity and saturation 0.75 at HUES
    equally spaced hues, channels in the order its code writes them."""
    table = np.zeros((HUES, 3), np.uint8)
    intensity, saturation = 0.75, 0.75
    for k in range(HUES):
        sector_pos = 6.0 * k / HUES  # (3 / pi) * H, with H = 2 pi k / HUES
        sector = math.floor(sector_pos)
        frac = sector_pos - sector
        p = intensity * (1 - saturation)
        q = intensity * (1 - saturation * frac)
        t = intensity * (1 - saturation * (1 - frac))
        values = [int(v * 255.0) for v in (intensity, p, q, t)]
        i, p8, q8, t8 = values
        table[k] = [(p8, t8, i), (p8, i, q8), (t8, i, p8), (i, q8, p8), (i, p8, t8), (q8, p8, i)][sector]
    return table


def _draws(job: Job, points: int, chains: int, patch: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """The map chosen at every step of every chain ((BURN_IN + steps, chains) uint8) and, for
    patches, the mask of every drawn point ((points,) int32), from the job's own generator."""
    rng = np.random.Generator(np.random.PCG64(job.seed))
    steps = BURN_IN + math.ceil(points / chains)
    cumulative = np.cumsum(job.probabilities)[:-1]
    # FractalDB: the first map whose cumulative probability is >= the uniform draw, i.e. the
    # number of cumulative sums below it (the last map takes what rounding leaves above 1).
    uniform = rng.random((steps, chains))
    choice = np.zeros((steps, chains), np.uint8)
    for bound in cumulative:
        choice += uniform > bound
    masks = rng.integers(1, 512, size=points, dtype=np.int32) if patch else None
    return choice, masks


def chaos_game(coefficients: torch.Tensor, choices: torch.Tensor, points: int) -> torch.Tensor:
    """(B, points, 2) float32 points: coefficients (B, M, 6) float32, choices (B, steps, chains)
    uint8; the first BURN_IN steps are not kept, the kept ones are ordered step x chains + chain."""
    batch, steps, chains = choices.shape
    maps = coefficients.shape[1]
    flat = coefficients.reshape(batch * maps, 6)
    offset = (torch.arange(batch, device=choices.device) * maps)[:, None]
    x = torch.zeros(batch, chains, device=coefficients.device)
    y = torch.zeros_like(x)
    out = torch.empty(batch, steps - BURN_IN, chains, 2, device=coefficients.device)
    for step in range(steps):
        c = flat[choices[:, step].long() + offset]  # (B, chains, 6)
        # FractalDB: x' = a x + b y + e, y' = c x + d y + f.
        x, y = x * c[..., 0] + y * c[..., 1] + c[..., 4], x * c[..., 2] + y * c[..., 3] + c[..., 5]
        if step >= BURN_IN:
            out[:, step - BURN_IN, :, 0] = x
            out[:, step - BURN_IN, :, 1] = y
    return out.reshape(batch, -1, 2)[:, :points]


def render(
    jobs: Sequence[Job],
    height: int,
    width: int,
    points: int,
    mode: str,
    color: str,
    pad: int,
    device: torch.device,
    images: bool = True,
) -> Canvas:
    """Render `jobs` (one image each) at height x width; `mode` point|patch, `color` grey|color.
    `images=False`: only the filling rates and finite shares (the category search's test)."""
    patch = mode == "patch"
    chains = min(CHAINS, points)
    batch = len(jobs)
    maps = max(len(job.probabilities) for job in jobs)
    coefficients = np.zeros((batch, maps, 6), np.float32)
    draws = [_draws(job, points, chains, patch) for job in jobs]
    for b, job in enumerate(jobs):
        coefficients[b, : len(job.probabilities)] = job.coefficients
    choices = torch.from_numpy(np.stack([choice for choice, _ in draws])).to(device)
    xy = chaos_game(torch.from_numpy(coefficients).to(device), choices, points)

    finite = torch.isfinite(xy).all(dim=2)  # (B, P)
    all_finite = bool(finite.all())
    if not all_finite:
        # A point that overflowed goes to the origin, inside the bounding box anyway, and is
        # not drawn (below).
        xy = torch.where(finite[..., None], xy, 0.0)
    # The bounding box of the points and the origin (FractalDB's first point).
    low = xy.amin(dim=1).clamp(max=0.0)  # (B, 2)
    high = xy.amax(dim=1).clamp(min=0.0)
    span = high - low
    span = torch.where(span > 0, span, torch.ones_like(span))
    scale = torch.tensor([width - 2 * pad, height - 2 * pad], dtype=torch.float32, device=device)
    # In [pad, size - pad]: the farthest point lands on pixel size - pad (FractalDB's uint16 cast).
    pixel = ((xy - low[:, None]) / span[:, None] * scale + pad).floor_().long()

    # Each pixel shows the latest point whose patch (or point) covers it. The latest point of
    # each anchor cell comes from one integer scatter; a pixel's winner is then the latest of
    # the anchors of the 9 patch cells over it, a max over 9 shifted canvases, which costs
    # canvas pixels rather than points. Coordinates here are y up (row = y), flipped at the end.
    # The anchor canvas has 2 spare columns and rows, so that every anchor (at most size - pad
    # + 1) fits without a bounds check; they are cropped.
    rows, cols = height + 2, width + 2
    shift = 1 if patch else 0  # FractalDB pastes a patch with its corner at (x + 1, y + 1)
    base = (torch.arange(batch, device=device) * (rows * cols) + shift * (cols + 1))[:, None]
    index = pixel[..., 1] * cols + pixel[..., 0] + base
    order = torch.arange(points, device=device).expand(batch, points)
    if not all_finite:
        order = torch.where(finite, order, -1)
    anchors = torch.full((batch * rows * cols,), -1, dtype=torch.long, device=device)
    anchors.scatter_reduce_(0, index.reshape(-1), order.reshape(-1), "amax")
    anchors = anchors.reshape(batch, rows, cols)
    if patch:
        # Pixel (y, x) lies in cell (i, j) of the patch anchored at (y - i, x - j); an empty
        # anchor (-1) gives a negative key whatever the cell.
        keys = torch.nn.functional.pad(anchors, (2, 0, 2, 0), value=-1) * 9
        winner = torch.full((batch, height, width), -1, dtype=torch.long, device=device)
        for o, (i, j) in enumerate(PATCH):
            torch.maximum(winner, keys[:, 2 - i : 2 - i + height, 2 - j : 2 - j + width] + o, out=winner)
        winner = winner.reshape(batch, -1)
        covered = winner >= 0
        winner = winner.clamp_(min=0)
        masks = torch.from_numpy(np.stack([m for _, m in draws])).to(device)  # (B, P)
        point = winner // 9
        lit = covered & (((masks.gather(1, point) >> (8 - winner % 9)) & 1) == 1)
    else:
        anchors = anchors[:, :height, :width].reshape(batch, -1)
        lit = anchors >= 0
        point = anchors.clamp(min=0)
    filling = lit.float().mean(dim=1).cpu().numpy()
    finite_share = finite.float().mean(dim=1).cpu().numpy()
    if not images:
        return Canvas(images=np.empty((batch, 0, 0, 3), np.uint8), filling=filling, finite=finite_share)
    if color == "color":
        table = torch.from_numpy(hue_table()).to(device)
        pixels = table[point % HUES] * lit[..., None].to(torch.uint8)
    else:
        pixels = (lit.to(torch.uint8) * GREY)[..., None].expand(-1, -1, 3)
    # y up, as FractalDB flips its canvas before saving.
    drawn = pixels.reshape(batch, height, width, 3).flip(1).cpu().numpy()
    out = np.empty_like(drawn)
    for b, job in enumerate(jobs):
        image = drawn[b]
        if job.flip in (1, 3):
            image = image[::-1]
        if job.flip in (2, 3):
            image = image[:, ::-1]
        out[b] = image
    return Canvas(images=out, filling=filling, finite=finite_share)
