"""Stroke the contours of a batch of views at once, with torch on the render device.

Each contour is a closed polygon; each of its edges becomes points spaced at most one pixel
apart along x and along y (a DDA line: n = ceil(max(|dx|, |dy|)) points, the end point being the
next edge's start), every point inks its nearest pixel and the pixels of its stroke disc, and a
scatter-max of contour numbers leaves each pixel the last contour drawn over it, as painting them
in order does. Edges wholly off the canvas are dropped first, which is most of the outer
contours of a large class.

Why it is exact: the points use only exactly rounded float64 operations (+, -, *, /, floor,
ceil), and a maximum of integers does not depend on the order of the scatter, so the pixels do
not depend on the batch, the chunking or (these operations being IEEE on both) the device.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from synthgen.sources.visualatom.atoms import Instance

# Points per chunk of the expansion (about 60 bytes each at its peak): bounds the memory of a
# batch of large contours.
CHUNK_POINTS = 1 << 20


@dataclass
class Edges:
    """The edges of a batch that touch the canvas, flattened over views and contours."""

    x0: np.ndarray  # float64 start point
    y0: np.ndarray
    dx: np.ndarray  # float64 edge vector
    dy: np.ndarray
    points: np.ndarray  # int64 points of the edge
    label: np.ndarray  # int32 contour number in the batch (later contours of a view: larger)
    view: np.ndarray  # int64 view in the batch
    width2: np.ndarray  # int64 line width squared (a pixel offset o is inked when 4 |o|^2 <= it)


def stencil(line_width: int) -> np.ndarray:
    """Pixel offsets (dx, dy) inked around a point: those within line_width / 2 (at least the
    point's own pixel)."""
    reach = line_width // 2
    offsets = np.array([(ox, oy) for oy in range(-reach, reach + 1) for ox in range(-reach, reach + 1)])
    inside = 4 * (offsets**2).sum(axis=1) <= line_width**2
    return offsets[inside]


def edges_of(instances: Sequence[Instance], height: int, width: int) -> tuple[Edges, np.ndarray]:
    """The batch's edges on the canvas, and its palette: row 0 black (no contour), then one
    row per contour of the batch, in label order."""
    parts: list[tuple[np.ndarray, ...]] = []
    palettes = [np.zeros((1, 3), np.uint8)]
    first = 0
    for view, instance in enumerate(instances):
        x0, y0 = instance.x, instance.y
        x1, y1 = np.roll(x0, -1, axis=1), np.roll(y0, -1, axis=1)
        margin = instance.line_width // 2 + 1
        off = (
            (np.maximum(x0, x1) < -margin)
            | (np.minimum(x0, x1) > width - 1 + margin)
            | (np.maximum(y0, y1) < -margin)
            | (np.minimum(y0, y1) > height - 1 + margin)
        )
        keep = ~off.ravel()
        contours = np.repeat(np.arange(first, first + len(x0), dtype=np.int32), x0.shape[1])
        dx, dy = (x1 - x0).ravel()[keep], (y1 - y0).ravel()[keep]
        points = np.maximum(np.ceil(np.maximum(np.abs(dx), np.abs(dy))), 1).astype(np.int64)
        parts.append((
            x0.ravel()[keep], y0.ravel()[keep], dx, dy, points, contours[keep],
            np.full(len(dx), view, np.int64), np.full(len(dx), instance.line_width**2, np.int64),
        ))  # fmt: skip
        palettes.append(instance.levels)
        first += len(x0)
    columns = [np.concatenate(column) for column in zip(*parts, strict=True)]
    return Edges(*columns), np.concatenate(palettes)


def stroke(instances: Sequence[Instance], height: int, width: int, device: torch.device) -> np.ndarray:
    """(views, H, W, 3) uint8: each view's contours stroked in their levels on black."""
    edges, palette = edges_of(instances, height, width)
    pixels = len(instances) * height * width
    # One slot past the canvases takes the points that fall outside them (cheaper than masking).
    labels = torch.full((pixels + 1,), -1, dtype=torch.int32, device=device)
    widest = max(instance.line_width for instance in instances)
    offsets = stencil(widest)
    # Per edge, as one gather per chunk: floats (x0, y0, dx, dy, points) and integers (the view's
    # first pixel, the label, the squared width, the edge's first point in the chunk).
    floats = np.stack([edges.x0, edges.y0, edges.dx, edges.dy, edges.points.astype(np.float64)], axis=1)
    integers = np.stack([edges.view * (height * width), edges.label.astype(np.int64), edges.width2], axis=1)
    ends = np.cumsum(edges.points)
    # Chunk boundaries at whole edges, each chunk about CHUNK_POINTS points.
    cuts = np.searchsorted(ends, np.arange(CHUNK_POINTS, int(ends[-1]) if len(ends) else 0, CHUNK_POINTS))
    bounds = [0, *np.unique(cuts).tolist(), len(ends)]
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        if hi > lo:
            chunk = Chunk(floats[lo:hi], integers[lo:hi], edges.points[lo:hi])
            _stroke_chunk(chunk, labels, offsets, height, width, device)
    table = torch.from_numpy(palette).to(device)
    images = table[(labels[:pixels] + 1).long()].view(len(instances), height, width, 3)
    return images.cpu().numpy()


@dataclass
class Chunk:
    """Consecutive edges of a batch, their columns side by side (see stroke)."""

    floats: np.ndarray  # (edges, 5) float64: x0, y0, dx, dy, points
    integers: np.ndarray  # (edges, 3) int64: first pixel of the view, label, width^2
    points: np.ndarray  # (edges,) int64


def _stroke_chunk(
    chunk: Chunk, labels: torch.Tensor, offsets: np.ndarray, height: int, width: int, device: torch.device
) -> None:
    points = torch.from_numpy(chunk.points).to(device)
    edge = torch.repeat_interleave(torch.arange(len(points), device=device), points)
    firsts = (torch.cumsum(points, 0) - points).double()
    per_edge = torch.from_numpy(np.ascontiguousarray(chunk.floats)).to(device)
    x0, y0, dx, dy, count = per_edge[edge].unbind(1)
    # Integers below 2^53 are exact in float64: k = the point's number along its edge.
    t = (torch.arange(len(edge), dtype=torch.float64, device=device) - firsts[edge]) / count
    px = torch.floor(x0 + t * dx + 0.5).long()
    py = torch.floor(y0 + t * dy + 0.5).long()
    base, label, width2 = torch.from_numpy(np.ascontiguousarray(chunk.integers)).to(device)[edge].unbind(1)
    label = label.int()
    dump = labels.numel() - 1
    for ox, oy in offsets.tolist():
        qx, qy = px + ox, py + oy
        outside = (qx < 0) | (qx >= width) | (qy < 0) | (qy >= height)
        if ox or oy:
            outside |= width2 < 4 * (ox * ox + oy * oy)
        flat = torch.where(outside, dump, base + qy * width + qx)
        labels.scatter_reduce_(0, flat, label, "amax")
