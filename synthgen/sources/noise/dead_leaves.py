"""Dead leaves: shapes dropped on the canvas, each new one on top, until every pixel is covered.

As in the paper's generation code: radii follow a density proportional to r^-alpha between rmin
and rmax (the paper: 3, 0.03 and 1 times the image size), centres are uniform on the canvas,
colours uniform RGB, and drawing stops at the first shape that leaves no pixel uncovered (or at
`max_shapes`). Every shape is a circle or a convex polygon inscribed in the circle of its radius:
squares (axis-aligned or at a uniform angle), rectangles (corners at +-a and pi +- a on that
circle), triangles and quadrilaterals (3 or 4 uniform angles on it).

Each view draws its shapes from its own seed, in chunks, with numpy. Rasterization runs batched on
the device: each shape becomes one pixel span per row it crosses (float64 arithmetic with exactly
rounded operations only, so CPU and GPU agree), the spans become pixel indices, and a scatter-max
of shape numbers leaves each pixel the topmost shape covering it. A pixel belongs to a shape when
its centre lies inside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from synthgen.seeds import sample_rng
from synthgen.sources.noise.config import DeadLeavesConfig, NoiseSourceConfig
from synthgen.sources.noise.statistical import Generated, StatisticalDraw, StatisticalModel

KINDS = ("circle", "square", "oriented_square", "rectangle", "triangle", "quadrilateral")
KINDS_OF_SHAPE = {"squares": (1,), "oriented": (2,), "mixed": tuple(range(6)), "textured": tuple(range(6))}
# Shapes a view draws at a time: most images are covered after several hundred to a few thousand.
CHUNK_SHAPES = 256
# Uniform numbers per shape: kind, centre (2), radius, angles (4), colour (3), texture, shift (2).
UNIFORMS = 14


@dataclass
class ShapeChunk:
    """Shapes [start, start + n) of one view, as drawn: everything else is exact arithmetic on these.

    The cosines and sines of the shapes' angles are taken here, per view, because vectorized
    transcendental functions can round differently at different positions of an array: computed
    on each view's own arrays, they do not depend on the batch.
    """

    start: int
    kinds: np.ndarray  # (n,) index into KINDS
    centres: np.ndarray  # (n, 2) x, y in pixels
    radii: np.ndarray  # (n,) in pixels
    cos: np.ndarray  # (n, ANGLES): cosines of the angles below
    sin: np.ndarray  # (n, ANGLES)
    colors: np.ndarray  # (n, 3) uint8
    textures: np.ndarray | None = None  # (n,) index into the sample's texture bank
    shifts: np.ndarray | None = None  # (n, 2) circular shift of the texture, x and y


# A shape's angles: the turn of an oriented square, the corner of a rectangle (in [0, pi/2)),
# the 4 sorted corners of a quadrilateral, the 3 sorted corners of a triangle.
TURN, CORNER, QUAD, TRIANGLE = 0, 1, slice(2, 6), slice(6, 9)
ANGLES = 9


class ShapeStream:
    """The shapes of one view, drawn chunk after chunk from the view's seed.

    The random numbers of shape k depend on the seed and k only: not on the batch, the chunk
    size or the kinds the recipe allows.
    """

    def __init__(self, seed: int, config: DeadLeavesConfig, height: int, width: int, bank: int = 0) -> None:
        self.seed = seed
        self.rng = sample_rng(seed)
        self.config = config
        self.height, self.width = height, width
        self.kinds = np.array(KINDS_OF_SHAPE[config.shape])
        self.bank = bank
        self.drawn = 0

    def next_chunk(self, count: int) -> ShapeChunk:
        # One row of uniforms per shape, always all of them: shape k takes numbers
        # [k * UNIFORMS, (k + 1) * UNIFORMS) of the view's stream whatever the chunk size.
        u = self.rng.random((count, UNIFORMS))
        kinds = self.kinds[(u[:, 0] * len(self.kinds)).astype(np.int64)]
        centres = u[:, 1:3] * (self.width, self.height)
        radii = self._radii(u[:, 3])
        angles = u[:, 4:8] * (2 * np.pi)
        colors = (u[:, 8:11] * 256).astype(np.uint8)
        angles = np.hstack([angles[:, :1], angles[:, :1] / 4, np.sort(angles, axis=1), np.sort(angles[:, :3], axis=1)])
        chunk = ShapeChunk(self.drawn, kinds, centres, radii, np.cos(angles), np.sin(angles), colors)
        if self.bank:
            chunk.textures = (u[:, 11] * self.bank).astype(np.int64)
            chunk.shifts = (u[:, 12:14] * (self.width, self.height)).astype(np.int64)
        self.drawn += count
        return chunk

    def _radii(self, uniform: np.ndarray) -> np.ndarray:
        """Inverse CDF of the density r^-alpha on [rmin, rmax], in pixels of the shorter side."""
        low, high, alpha = self.config.rmin, self.config.rmax, self.config.alpha
        if abs(alpha - 1.0) < 1e-9:
            radius = low * (high / low) ** uniform
        else:
            power = 1.0 - alpha
            radius = (low**power + uniform * (high**power - low**power)) ** (1.0 / power)
        return radius * min(self.height, self.width)


@dataclass
class Canvas:
    """The outcome of painting a batch of views: each pixel's topmost shape (-1 where none),
    how many shapes each view dropped, and the shapes themselves."""

    labels: torch.Tensor  # (views, H * W) int32
    used: list[int]
    chunks: list[list[ShapeChunk]]


def paint(streams: Sequence[ShapeStream], max_shapes: int, height: int, width: int, device: torch.device) -> Canvas:
    """Drop shapes on every view, in chunks, until each view is covered or has `max_shapes`."""
    pixels = height * width
    labels = torch.full((len(streams), pixels), -1, dtype=torch.int32, device=device)
    used = [max_shapes] * len(streams)
    chunks: list[list[ShapeChunk]] = [[] for _ in streams]
    active = list(range(len(streams)))
    drawn = 0
    while active and drawn < max_shapes:
        count = min(CHUNK_SHAPES, max_shapes - drawn)
        batch = [streams[view].next_chunk(count) for view in active]
        for view, chunk in zip(active, batch, strict=True):
            chunks[view].append(chunk)
        flat, values, sizes = rasterize(batch, active, height, width, device)
        before = labels[active]  # indexing with a list copies: the rows as they were before this chunk
        labels.view(-1).scatter_reduce_(0, flat, values, "amax")
        covered = (labels[active].amin(dim=1) >= 0).tolist()
        ends = np.cumsum(sizes).tolist()
        for position, view in enumerate(active):
            if covered[position]:
                elements = slice(ends[position] - sizes[position], ends[position])
                used[view] = _stop_at_cover(
                    labels[view], before[position], flat[elements] - view * pixels, values[elements]
                )
        drawn += count
        active = [view for view, done in zip(active, covered, strict=True) if not done]
    return Canvas(labels, used, chunks)


def _stop_at_cover(label: torch.Tensor, before: torch.Tensor, flat: torch.Tensor, values: torch.Tensor) -> int:
    """For a view covered during this chunk, find the shape that completed the cover and repaint
    the chunk without the shapes after it. `label` is the view's row, `before` that row before
    the chunk, `flat` and `values` the chunk's pixels of this view. Returns the shapes used."""
    first = torch.full_like(label, torch.iinfo(torch.int32).max)
    first.scatter_reduce_(0, flat, values, "amin")
    # The cover completes with the last of the first shapes to reach the pixels still bare.
    last_needed = int(torch.where(before < 0, first, -1).amax())
    label.copy_(before)
    label.scatter_reduce_(0, flat, torch.where(values <= last_needed, values, -1), "amax")
    return last_needed + 1


def rasterize(
    chunks: Sequence[ShapeChunk], slots: Sequence[int], height: int, width: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
    """Pixels covered by the shapes of `chunks` (chunk i belongs to label row `slots[i]`).

    Returns flat indices into the (views * H * W) labels, each pixel's shape number (int32),
    and how many of those pixels each chunk has: they come in chunk order.
    """
    shapes = _gather_shapes(chunks, slots, device)
    vertices = _vertices(shapes)
    normals, offsets = _half_planes(vertices)
    circle = shapes["kinds"] == 0
    radii, centre_x, centre_y = shapes["radii"], shapes["centres"][:, 0], shapes["centres"][:, 1]

    # Rows whose pixel centres (y + 0.5) fall within each shape's vertical extent.
    top = torch.where(circle, -radii, vertices[..., 1].amin(dim=1)) + centre_y
    bottom = torch.where(circle, radii, vertices[..., 1].amax(dim=1)) + centre_y
    first_row = (top - 0.5).ceil_().clamp_(min=0).long()
    row_counts = ((bottom - 0.5).floor_().clamp_(max=height - 1).long() - first_row + 1).clamp_(min=0)
    shape = torch.repeat_interleave(row_counts)
    row = (first_row - _starts(row_counts)).index_select(0, shape) + torch.arange(len(shape), device=device)

    # Each row's span of pixel centres (x + 0.5) inside its shape: one gather of every property.
    properties = torch.cat([radii[:, None], centre_x[:, None], centre_y[:, None], normals.flatten(1), offsets], dim=1)
    per_row = properties.index_select(0, shape)
    dy = row.double() + 0.5 - per_row[:, 2]
    left, right, inside = _polygon_spans(per_row[:, 3:11].view(-1, 4, 2), per_row[:, 11:15], dy)
    reach = (per_row[:, 0].square() - dy.square()).clamp_(min=0).sqrt_()
    is_circle = circle.index_select(0, shape)
    left = torch.where(is_circle, -reach, left) + per_row[:, 1]
    right = torch.where(is_circle, reach, right) + per_row[:, 1]
    first_column = (left - 0.5).ceil_().clamp_(min=0).long()
    last_column = (right - 0.5).floor_().clamp_(max=width - 1).long()
    lengths = torch.where(inside | is_circle, last_column - first_column + 1, 0).clamp_(min=0)

    # Each pixel of a span: its row's start plus its place in the span.
    start = (shapes["slots"].index_select(0, shape) * height + row) * width + first_column
    pixel_row = torch.repeat_interleave(lengths)
    flat = (start - _starts(lengths)).index_select(0, pixel_row)
    flat += torch.arange(len(flat), device=device)
    values = shapes["numbers"].index_select(0, shape).index_select(0, pixel_row)
    chunk_of_row = shapes["chunk"].index_select(0, shape)
    sizes = torch.zeros(len(chunks), dtype=torch.int64, device=device).index_add_(0, chunk_of_row, lengths)
    return flat, values, sizes.tolist()


def _gather_shapes(chunks: Sequence[ShapeChunk], slots: Sequence[int], device: torch.device) -> dict[str, torch.Tensor]:
    """The chunks' shapes as one batch of tensors on `device` (float64 geometry)."""
    sizes = [len(chunk.kinds) for chunk in chunks]
    cat = np.concatenate
    host = {
        "kinds": cat([chunk.kinds for chunk in chunks]),
        "centres": cat([chunk.centres for chunk in chunks]),
        "radii": cat([chunk.radii for chunk in chunks]),
        "cos": cat([chunk.cos for chunk in chunks]),
        "sin": cat([chunk.sin for chunk in chunks]),
        "numbers": cat(
            [chunk.start + np.arange(size, dtype=np.int32) for chunk, size in zip(chunks, sizes, strict=True)]
        ),
        "slots": np.repeat(np.asarray(slots, dtype=np.int64), sizes),
        "chunk": np.repeat(np.arange(len(chunks)), sizes),
    }
    return {name: torch.as_tensor(value).to(device) for name, value in host.items()}


def _vertices(shapes: dict[str, torch.Tensor]) -> torch.Tensor:
    """Corners (shapes, 4, 2) of each polygon on the circle of its radius (zeros for circles)."""
    r, cos, sin = shapes["radii"][:, None], shapes["cos"], shapes["sin"]
    half = r / np.sqrt(2.0)  # a square inscribed in the circle
    square = torch.stack([torch.cat([-half, half, half, -half], 1), torch.cat([-half, -half, half, half], 1)], -1)
    turn_cos, turn_sin = cos[:, TURN, None], sin[:, TURN, None]
    oriented = torch.stack(
        [square[..., 0] * turn_cos - square[..., 1] * turn_sin, square[..., 0] * turn_sin + square[..., 1] * turn_cos],
        dim=-1,
    )
    cx, cy = r * cos[:, CORNER, None], r * sin[:, CORNER, None]  # one corner, mirrored into the others
    rectangle = torch.stack([torch.cat([cx, -cx, -cx, cx], 1), torch.cat([cy, cy, -cy, -cy], 1)], dim=-1)
    quadrilateral = torch.stack([r * cos[:, QUAD], r * sin[:, QUAD]], dim=-1)
    triangle = torch.stack([r * cos[:, TRIANGLE], r * sin[:, TRIANGLE]], dim=-1)
    triangle = torch.cat([triangle, triangle[:, 2:]], dim=1)  # the last corner twice: a 4th, empty edge
    choices = torch.stack([torch.zeros_like(square), square, oriented, rectangle, triangle, quadrilateral])
    return choices[shapes["kinds"], torch.arange(len(r), device=r.device)]


def _starts(counts: torch.Tensor) -> torch.Tensor:
    """Exclusive cumulative sum: where each run of `counts` starts."""
    return counts.cumsum(0) - counts


def _half_planes(vertices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Outward normals n (shapes, 4, 2) and offsets d (shapes, 4): inside means n . p <= d for
    every edge. A repeated corner gives an empty edge (n = 0, d = 0), always satisfied; a polygon
    without area gets an edge that nothing satisfies."""
    following = vertices.roll(-1, dims=1)
    edges = following - vertices
    area = (vertices[..., 0] * following[..., 1] - following[..., 0] * vertices[..., 1]).sum(dim=1)
    orientation = torch.sign(area)[:, None]  # +1 counter-clockwise, -1 clockwise, 0 flat
    normals = torch.stack([edges[..., 1], -edges[..., 0]], dim=-1) * orientation[..., None]
    offsets = (normals * vertices).sum(dim=-1)
    # Flat: every normal is 0, and 0 <= -1 fails for every row.
    return normals, torch.where(orientation == 0, -1.0, offsets)


def _polygon_spans(
    normals: torch.Tensor, offsets: torch.Tensor, dy: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """x range of each row (height dy from the centre) inside a convex polygon, and whether the
    row meets it at all: nx * x <= d - ny * dy for every edge."""
    nx, ny = normals[..., 0], normals[..., 1]
    bound = offsets - ny * dy[:, None]
    ratio = bound / torch.where(nx == 0, 1.0, nx)
    right = torch.where(nx > 0, ratio, torch.inf).amin(dim=1)
    left = torch.where(nx < 0, ratio, -torch.inf).amax(dim=1)
    inside = ((nx != 0) | (bound >= 0)).all(dim=1)
    return left, right, inside


@dataclass
class DeadLeavesDraw:
    """A sample: its texture bank's seeds and draws (textured shapes only), and one seed per view."""

    texture_seeds: list[int] = field(default_factory=list)
    textures: list[StatisticalDraw] = field(default_factory=list)
    view_seeds: list[int] = field(default_factory=list)


class DeadLeavesModel:
    """Dead leaves of one shape family at one image size."""

    def __init__(self, config: NoiseSourceConfig, height: int, width: int, device: torch.device) -> None:
        self.config = config.dead_leaves
        self.height, self.width = height, width
        self.device = device
        self.textures = None
        if self.config.shape == "textured":
            self.bank = config.texture.bank
            self.textures = StatisticalModel(config.texture.model, config, height, width, device)

    def draw(self, rng: np.random.Generator, views: int) -> DeadLeavesDraw:
        """The texture bank's parameters first (shared by the views), then one seed per view."""
        seeds, textures = [], []
        if self.textures is not None:
            seeds = [int(seed) for seed in rng.integers(0, 2**63, size=self.bank)]
            textures = [self.textures.draw(sample_rng(seed), 1) for seed in seeds]
        return DeadLeavesDraw(seeds, textures, [int(seed) for seed in rng.integers(0, 2**63, size=views)])

    def render(self, draws: Sequence[DeadLeavesDraw]) -> list[Generated]:
        owners = [sample for sample, draw in enumerate(draws) for _ in draw.view_seeds]
        bank = self.bank if self.textures is not None else 0
        streams = [
            ShapeStream(seed, self.config, self.height, self.width, bank) for draw in draws for seed in draw.view_seeds
        ]
        canvas = paint(streams, self.config.max_shapes, self.height, self.width, self.device)
        results = [Generated() for _ in draws]
        if self.textures is None:
            pixels = self._colors(canvas)
        else:
            pixels = self._textures(canvas, owners, self._texture_bank(draws, results))
        coverage = (canvas.labels >= 0).sum(dim=1).tolist()
        for view, sample in enumerate(owners):
            results[sample].images.append(pixels[view])
            results[sample].views.append(
                {
                    "seed": streams[view].seed,
                    "shapes": canvas.used[view],
                    "coverage": round(coverage[view] / (self.height * self.width), 6),
                }
            )
        return results

    def _colors(self, canvas: Canvas) -> np.ndarray:
        """Each pixel takes its shape's colour; pixels no shape reached stay black."""
        tables, offsets = _shape_tables(canvas, lambda chunk: chunk.colors, np.zeros((1, 3), np.uint8))
        index = _table_index(canvas.labels, offsets)
        pixels = torch.as_tensor(tables, device=self.device)[index]
        return pixels.view(-1, self.height, self.width, 3).cpu().numpy()

    def _texture_bank(self, draws: Sequence[DeadLeavesDraw], results: list[Generated]) -> torch.Tensor:
        """Every sample's textures, rendered in one batch: (samples * bank, H * W, 3) uint8. A
        texture that failed fails its sample."""
        rendered = self.textures.render([texture for draw in draws for texture in draw.textures])
        for number, texture in enumerate(rendered):
            if texture.failure is not None:
                results[number // self.bank].failure = f"texture {number % self.bank}: {texture.failure}"
        images = np.stack([texture.images[0] for texture in rendered])
        return torch.as_tensor(images, device=self.device).view(len(rendered), -1, 3)

    def _textures(self, canvas: Canvas, owners: list[int], bank: torch.Tensor) -> np.ndarray:
        """Each pixel shows its shape's texture at the shape's circular shift."""
        height, width = self.height, self.width
        first_texture = [owner * self.bank for owner in owners]
        textures, offsets = _shape_tables(
            canvas,
            lambda chunk, view: np.column_stack([chunk.textures + first_texture[view], chunk.shifts]),
            np.zeros((1, 3), np.int64),
            with_view=True,
        )
        index = _table_index(canvas.labels, offsets)
        shape_texture = torch.as_tensor(textures, device=self.device)[index]  # (views, H * W, 3)
        pixel = torch.arange(height * width, device=self.device)
        y = (pixel // width + shape_texture[..., 2]) % height
        x = (pixel % width + shape_texture[..., 1]) % width
        values = bank[shape_texture[..., 0], y * width + x]
        bare = canvas.labels < 0
        values[bare] = 0
        return values.view(-1, height, width, 3).cpu().numpy()

    def meta(self, draw: DeadLeavesDraw) -> dict[str, Any]:
        """The shape family and, for textures, each texture's seed and main parameters (a full
        record of every texture's palette and sub-band exponents would outweigh the image)."""
        meta: dict[str, Any] = {"shape": self.config.shape}
        if draw.textures:
            bank = [
                {"seed": seed, **texture.summary()}
                for seed, texture in zip(draw.texture_seeds, draw.textures, strict=True)
            ]
            meta["texture"] = {"model": self.textures.model, "bank": bank}
        return meta


def _shape_tables(
    canvas: Canvas, part: Any, blank: np.ndarray, with_view: bool = False
) -> tuple[np.ndarray, list[int]]:
    """One table of a per-shape property for all views (a blank row first, for bare pixels) and
    where each view's shapes start in it."""
    rows, offsets, position = [blank], [], len(blank)
    for view, chunks in enumerate(canvas.chunks):
        offsets.append(position)
        for chunk in chunks:
            rows.append(part(chunk, view) if with_view else part(chunk))
            position += len(chunk.kinds)
    return np.concatenate(rows), offsets


def _table_index(labels: torch.Tensor, offsets: list[int]) -> torch.Tensor:
    """Row of each pixel's shape in a `_shape_tables` table (row 0 for bare pixels)."""
    shift = torch.as_tensor(offsets, device=labels.device)[:, None]
    return torch.where(labels >= 0, labels.long() + shift, 0)
