"""Visual atoms: the parameters of a class, and the contours of one instance (numpy, per view).

What follows is VisualAtom's released renderer (masora1030/CVPR2023-FDSL-on-VisualAtom,
`render_VisualAtom.py` with its `make_VisualAtom.sh` settings), written again from its formulas:

- A class draws, in this order: its number of vertices V, of contours L, a Perlin coefficient c,
  a radial step s (the script's `line_width`), a start radius r0, frequencies n1 and n2 (n2
  redrawn until it differs from n1, unless n1 is 0), and oval rates ox, oy; then, beyond the
  script (fixed there), the two sinusoid amplitudes a1, a2 (default 0.5 each) and the stroke
  width (default 1 pixel).
- An instance draws its centre, one level per contour (grey 0..255, or an RGB colour) and noise
  for every vertex of every contour, separately for x and y.
- Vertex v of a contour sits at angle theta_v = 2 pi v / V. Starting from the ellipse
  (r0 ox cos theta_v, r0 oy sin theta_v) around the centre, each contour moves every vertex
  outwards, along its own angle, by

      step(theta_v) = c (1 - p) + a1 sin(n1 theta_v) + a2 sin(n2 theta_v) + s

  where p is 1-D Perlin noise at a uniform random position, drawn afresh per vertex, contour and
  axis; contour l is drawn after l + 1 steps, so the waves (and the noise, as a random walk) grow
  outwards. The contour is the closed polygon through its V vertices, stroked in its level on a
  black canvas, later contours over earlier ones.
- p is modelled as the `noise` package's pnoise1 (the script's Perlin noise) at a random
  position: 0.4 lerp(fade(t), g0 t, g1 (t - 1)) with t uniform in [0, 1) and fade(t) =
  t^3 (6t^2 - 15t + 10), and gradients g from a 4-bit hash h: (h & 7) + 1 when h & 8 is 0, else
  -1 (that package's grad1, as written). Its hashes come from a fixed permutation of adjacent
  lattice points; here the two hashes are independent uniform draws, which is the same
  distribution but for the permutation's neighbour correlations.

Not confirmed from the paper itself (only the released code was read): the paper's formula may
name further terms, and the released script draws its classes from `random.seed(thread + 1)`
streams, so its exact 1,000 classes cannot be reproduced; here class k is drawn from its own
seed, a pure function of (recipe seed, k).

Lengths are in pixels of the script's 512-pixel canvas (config.REFERENCE_SIZE) and are scaled
to the image's shorter side. Everything here is float64 numpy computed on each view's own
arrays, so a view's contours do not depend on the batch it is rendered in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from synthgen.errors import SourceError
from synthgen.seeds import sample_rng
from synthgen.sources.visualatom.config import REFERENCE_SIZE, VisualAtomSourceConfig

# Tags the seeds of class draws, so that they never coincide with sample seeds.
CLASS_STREAM = 0x5641_544F  # "VATO"
# Draws per class before a finite parameter space is declared exhausted (finite spaces only).
MAX_CLASS_ATTEMPTS = 10_000


@dataclass(frozen=True)
class AtomClass:
    """The parameters of one class (see the module docstring); `attempt` is the draw that gave it."""

    index: int
    frequencies: tuple[int, int]
    amplitudes: tuple[float, float]
    vertices: int
    contours: int
    noise: float
    spacing: float
    radius: int
    oval: tuple[float, float]
    line_width: int
    attempt: int = 0

    def key(self) -> tuple[Any, ...]:
        """What makes two classes the same class (sin(a) + sin(b) is symmetric in a, b)."""
        waves = tuple(sorted(zip(self.frequencies, self.amplitudes, strict=True)))
        return (waves, self.vertices, self.contours, self.noise, self.spacing, self.radius, self.oval, self.line_width)

    def meta(self) -> dict[str, Any]:
        return {
            "frequencies": list(self.frequencies),
            "amplitudes": [round(a, 4) for a in self.amplitudes],
            "vertices": self.vertices,
            "contours": self.contours,
            "noise": round(self.noise, 4),
            "spacing": round(self.spacing, 4),
            "radius": self.radius,
            "oval": [round(o, 4) for o in self.oval],
            "line_width": self.line_width,
        }


def draw_class(config: VisualAtomSourceConfig, recipe_seed: int, index: int, attempt: int = 0) -> AtomClass:
    """Class `index`'s draw number `attempt`, from a seed of (recipe seed, index, attempt) only."""
    state = np.random.SeedSequence([recipe_seed, CLASS_STREAM, index, attempt]).generate_state(1, np.uint64)
    rng = sample_rng(int(state[0] >> np.uint64(1)))

    def integer(section: Any) -> int:
        return int(rng.integers(section.min, section.max + 1))

    def uniform(section: Any) -> float:
        return float(rng.uniform(section.min, section.max))

    vertices, contours = integer(config.quantization), integer(config.contours)
    noise, spacing, radius = uniform(config.noise), uniform(config.spacing), integer(config.radius)
    n1 = integer(config.frequency)
    while True:  # the released renderer's rule; config validation rules out a range with no pair
        n2 = integer(config.frequency)
        if n2 != n1 or n1 == 0:
            break
    oval = (uniform(config.oval), uniform(config.oval))
    amplitudes = (uniform(config.amplitude), uniform(config.amplitude))
    line_width = integer(config.line_width)
    return AtomClass(index, (n1, n2), amplitudes, vertices, contours, noise, spacing, radius, oval, line_width, attempt)


class AtomClasses:
    """The classes of a recipe, drawn on first use.

    Where some float range has width, the parameter space is continuous and class k is its first
    draw: a pure function of (recipe seed, k). Where every float range is fixed, the space is
    finite, and two classes could draw the same parameters: then the whole table is drawn at
    once, class k redrawn (attempt 1, 2, ...) while it repeats an earlier class, so every class
    is distinct (class k then depends on the classes before it, still a function of the recipe).
    """

    def __init__(self, config: VisualAtomSourceConfig, recipe_seed: int) -> None:
        self.config = config
        self.seed = recipe_seed
        self._cache: dict[int, AtomClass] = {}
        if config.distinct_classes() != float("inf"):
            self._draw_distinct_table()

    def __len__(self) -> int:
        return self.config.classes

    def __getitem__(self, index: int) -> AtomClass:
        if not 0 <= index < self.config.classes:
            raise IndexError(index)
        atom = self._cache.get(index)
        if atom is None:
            atom = self._cache[index] = draw_class(self.config, self.seed, index)
        return atom

    def _draw_distinct_table(self) -> None:
        seen: set[tuple[Any, ...]] = set()
        for index in range(self.config.classes):
            for attempt in range(MAX_CLASS_ATTEMPTS):
                atom = draw_class(self.config, self.seed, index, attempt)
                if atom.key() not in seen:
                    break
            else:
                raise SourceError(
                    f"source.classes: no new parameter set for class {index} in {MAX_CLASS_ATTEMPTS} draws "
                    f"({self.config.distinct_classes()} exist); use fewer classes or wider ranges"
                )
            seen.add(atom.key())
            self._cache[index] = atom


@dataclass
class Instance:
    """One view's contours: vertex coordinates in output pixels (pixel centres at integers) and
    one RGB level per contour; `center` in pixels, for the json."""

    x: np.ndarray  # (L, V) float64
    y: np.ndarray  # (L, V) float64
    levels: np.ndarray  # (L, 3) uint8
    line_width: int
    center: tuple[float, float]

    def meta(self, seed: int) -> dict[str, Any]:
        return {"seed": seed, "center": [round(c, 2) for c in self.center]}


# The `noise` package's grad1 for hashes 0..15: (h & 7) + 1, but -1 (not -g) when bit 3 is set.
GRADIENTS = np.array([(h & 7) + 1.0 if not h & 8 else -1.0 for h in range(16)])


def perlin_at_random(t: np.ndarray, hashes: np.ndarray) -> np.ndarray:
    """pnoise1 at positions with fractional part `t`, given the uint8 `hashes` whose low and
    high nibbles are the hashes of the two lattice points (see the module docstring)."""
    g0, g1 = GRADIENTS[hashes & 15], GRADIENTS[hashes >> 4]
    fade = t * t * t * (t * (t * 6.0 - 15.0) + 10.0)
    near, far = g0 * t, g1 * (t - 1.0)
    return 0.4 * (near + fade * (far - near))


def draw_instance(atom: AtomClass, seed: int, config: VisualAtomSourceConfig, height: int, width: int) -> Instance:
    """The contours of one instance of `atom`, drawn from `seed` only."""
    rng = sample_rng(seed)
    offset = rng.uniform(config.center.min, config.center.max, size=2)
    center = (width / 2 + offset[0] * width, height / 2 + offset[1] * height)
    count, vertices = atom.contours, atom.vertices
    if config.color == "grey":
        levels = np.repeat(rng.integers(0, 256, size=(count, 1), dtype=np.uint8), 3, axis=1)
    else:
        levels = rng.integers(0, 256, size=(count, 3), dtype=np.uint8)
    t = rng.random((2, count, vertices))
    hashes = rng.integers(0, 256, size=(2, count, vertices), dtype=np.uint8)
    p = perlin_at_random(t, hashes)  # (axis, contour, vertex)

    theta = np.arange(vertices) * (2 * np.pi / vertices)
    (n1, n2), (a1, a2) = atom.frequencies, atom.amplitudes
    waves = a1 * np.sin(n1 * theta) + a2 * np.sin(n2 * theta) + atom.spacing
    steps = atom.noise * (1.0 - p) + waves
    start = atom.radius * np.asarray(atom.oval)[:, None, None]
    radial = start + np.cumsum(steps, axis=1)  # (axis, contour, vertex): along cos for x, sin for y
    scale = min(height, width) / REFERENCE_SIZE
    x = center[0] + scale * np.cos(theta) * radial[0]
    y = center[1] + scale * np.sin(theta) * radial[1]
    return Instance(x, y, levels, atom.line_width, (float(center[0]), float(center[1])))
