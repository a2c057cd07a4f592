"""Quality of the procedural program generator against the bundled program library.

    python bench/bench_generator.py --count 1000 --seed 0 --size 64

Generates `--count` programs (synthgen.sources.shader.generator), renders each in-process at
`--size` x `--size` at iTime 1, 2, 4 and 7, and renders every program of the bundled library
(`builtin: library`; the .frag files of its folder if that set name is not accepted yet) the
same way. Reported, as a markdown table:

- generation speed: programs/s of `generate_programs(--speed-count, seed)` (generation only);
- validity: the share of programs that compile and render non-degenerate images, i.e. pixel
  std (all channels, 0..255) >= 2.0 (synthgen's default `min_pixel_std`) at iTime 1 AND 7;
  also the share with std > 20 at both times, and the share of images (iTime 1, 2, 4, 7) with
  more than 10% near-black or near-white pixels (every channel <= 8, or every channel >= 247);
- distinctness: the minimum, over all pairs of valid generated programs, of the mean absolute
  pixel difference (0..255) of their frames at iTime 2 (target: >= 1.0), and how many pairs
  fall below 1.0;
- diversity, generated against library, two measures, each over (a) one frame per program at
  iTime 2 and (b) the frames at all 4 times of every program pooled (so pairs of frames of one
  program count too: a program that barely moves lowers it):
    * primary, random-network feature distance: the mean pairwise cosine distance (1 - cos)
      between features of a FIXED random convolutional network (torch, seeded: 4 conv layers
      3->32->64->128->256, 3x3, stride 2, ReLU after each, global average pooling, default
      PyTorch initialisation under torch.manual_seed(0)). Inputs are the 64x64 frames scaled
      to 0..1 and normalised per channel with the mean and std of the union of both sets (one
      fixed transform for both, so neither set is rescaled in its own favour). Random
      networks respond to image statistics (colour, contrast, orientation, scale, texture),
      the intuition of "Learning to See by Looking at Noise";
    * secondary, pixel distance: the mean pairwise L2 distance between the frames downsampled
      to 16x16 (area average), RGB in 0..1 (768 values per image);
  both are means over all unordered pairs of distinct images of one set, so sets of different
  sizes compare fairly;
- frame time: per-program time of one 256x256 frame (median of 5 renders at different iTime,
  after a warm-up render that includes the JIT compile), as median / p95 / max, for the first
  `--timing-count` generated programs and all library programs.

Programs that do not compile are left out of the distinctness and diversity measures (and
counted as invalid). `--sheet PATH` also writes a contact sheet (PNG) of the first 64 generated
programs at iTime 2.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from synthgen.sources.shader.generator import generate_programs
from synthgen.sources.shader.gl import ShaderCompileError, ShaderRenderer
from synthgen.sources.shader.programs import ShaderProgram, program_from_glsl

TIMES = (1.0, 2.0, 4.0, 7.0)
VALIDITY_TIMES = (1.0, 7.0)
DISTINCT_TIME = 2.0
MIN_PIXEL_STD = 2.0


def load_library() -> list[ShaderProgram]:
    try:
        from synthgen.sources.shader.config import ProgramSetEntry
        from synthgen.sources.shader.programs import load_program_set

        return load_program_set([ProgramSetEntry(builtin="library")]).programs
    except Exception:  # the set name may not be registered yet: read the folder directly
        folder = Path(__file__).resolve().parents[1] / "synthgen" / "sources" / "shader" / "programs" / "library"
        files = sorted(p for p in folder.rglob("*") if p.suffix in (".frag", ".glsl"))
        return [program_from_glsl(f"library/{p.stem}", p.read_text(encoding="utf-8")) for p in files]


def render_set(programs: list[ShaderProgram], size: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Frames (N, len(TIMES), size, size, 3) uint8, a compiled mask, and compile errors."""
    renderer = ShaderRenderer(size, size)
    frames = np.zeros((len(programs), len(TIMES), size, size, 3), dtype=np.uint8)
    compiled = np.zeros(len(programs), dtype=bool)
    errors = []
    for i, program in enumerate(programs):
        try:
            handle = renderer.compile(program.id, program.code)
        except ShaderCompileError as err:
            errors.append(f"{program.id}: {err}")
            continue
        compiled[i] = True
        for k, t in enumerate(TIMES):
            frames[i, k] = renderer.render(handle, t)
    renderer.close()
    return frames, compiled, errors


def frame_times(programs: list[ShaderProgram], size: int = 256, reps: int = 5) -> list[float]:
    renderer = ShaderRenderer(size, size)
    result = []
    for program in programs:
        try:
            handle = renderer.compile(program.id, program.code)
        except ShaderCompileError:
            continue
        renderer.render(handle, 0.5)
        samples = []
        for k in range(reps):
            started = time.perf_counter()
            renderer.render(handle, 1.0 + 1.3 * k)
            samples.append(time.perf_counter() - started)
        result.append(statistics.median(samples) * 1e3)
    renderer.close()
    return result


def pixel_std(frames: np.ndarray) -> np.ndarray:
    """Std over all pixels and channels of each frame; frames (..., H, W, 3)."""
    flat = frames.reshape(*frames.shape[:-3], -1).astype(np.float32)
    return flat.std(axis=-1)


def extreme_fraction(frames: np.ndarray) -> np.ndarray:
    """Share of near-black or near-white pixels in each frame."""
    dark = (frames <= 8).all(axis=-1)
    bright = (frames >= 247).all(axis=-1)
    return (dark | bright).mean(axis=(-1, -2))


def min_pairwise_mad(images: np.ndarray, chunk: int = 64) -> tuple[float, int, tuple[int, int]]:
    """Minimum mean absolute difference over pairs, pairs below 1.0, and the closest pair."""
    import torch

    x = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32))
    best, below, pair = float("inf"), 0, (-1, -1)
    for start in range(0, len(x), chunk):
        block = torch.cdist(x[start : start + chunk], x, p=1.0) / x.shape[1]
        rows = torch.arange(start, min(start + chunk, len(x)))
        block[torch.arange(len(x))[None, :] <= rows[:, None]] = float("inf")  # each pair once (j > i)
        value, flat = torch.min(block.reshape(-1), dim=0)
        below += int((block < 1.0).sum())
        if float(value) < best:
            best = float(value)
            pair = (int(rows[int(flat) // len(x)]), int(flat) % len(x))
    return best, below, pair


def random_features(images: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    import torch
    from torch import nn

    torch.manual_seed(0)
    layers: list[nn.Module] = []
    channels = (3, 32, 64, 128, 256)
    for cin, cout in zip(channels[:-1], channels[1:], strict=True):
        layers += [nn.Conv2d(cin, cout, 3, stride=2, padding=1), nn.ReLU()]
    net = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten()).eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(images), 256):
            x = torch.from_numpy(images[start : start + 256].astype(np.float32) / 255.0).permute(0, 3, 1, 2)
            x = (x - torch.from_numpy(mean).view(1, 3, 1, 1)) / torch.from_numpy(std).view(1, 3, 1, 1)
            out.append(net(x).numpy())
    return np.concatenate(out).astype(np.float64)


def mean_pairwise(matrix: np.ndarray) -> float:
    n = len(matrix)
    upper = np.triu_indices(n, k=1)
    return float(matrix[upper].mean())


def cosine_diversity(features: np.ndarray) -> float:
    unit = features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
    return mean_pairwise(1.0 - unit @ unit.T)


def pixel_diversity(images: np.ndarray) -> float:
    n, h, w, _ = images.shape
    small = images.astype(np.float64).reshape(n, 16, h // 16, 16, w // 16, 3).mean(axis=(2, 4)) / 255.0
    flat = small.reshape(n, -1)
    sq = (flat**2).sum(axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * flat @ flat.T, 0.0)
    return mean_pairwise(np.sqrt(d2))


def contact_sheet(frames: np.ndarray, path: str, columns: int = 8) -> None:
    from PIL import Image

    n, h, w, _ = frames.shape
    rows = -(-n // columns)
    sheet = np.full((rows * (h + 2), columns * (w + 2), 3), 255, dtype=np.uint8)
    for i in range(n):
        r, c = divmod(i, columns)
        sheet[r * (h + 2) : r * (h + 2) + h, c * (w + 2) : c * (w + 2) + w] = frames[i]
    Image.fromarray(sheet).resize((sheet.shape[1] * 2, sheet.shape[0] * 2), Image.NEAREST).save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="generated programs to render")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=64, help="render size for validity and diversity")
    parser.add_argument("--speed-count", type=int, default=21000, help="programs generated for the speed figure")
    parser.add_argument("--timing-count", type=int, default=200, help="generated programs timed at 256x256")
    parser.add_argument("--sheet", default=None, help="write a contact sheet of 64 generated programs here")
    parser.add_argument("--list-failures", action="store_true", help="print invalid programs and why")
    args = parser.parse_args()

    started = time.perf_counter()
    generate_programs(args.speed_count, args.seed)
    gen_seconds = time.perf_counter() - started
    programs = generate_programs(args.count, args.seed)
    library = load_library()
    print(f"generated {args.count}, library {len(library)}; rendering ...", file=sys.stderr)

    gen_frames, gen_ok, gen_errors = render_set(programs, args.size)
    lib_frames, lib_ok, lib_errors = render_set(library, args.size)
    if args.sheet:
        contact_sheet(gen_frames[:64, TIMES.index(DISTINCT_TIME)], args.sheet)

    vt = [TIMES.index(t) for t in VALIDITY_TIMES]
    rows: list[tuple[str, str, str]] = []

    def validity(frames: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        stds = pixel_std(frames[:, vt])
        return ok & (stds >= MIN_PIXEL_STD).all(axis=1), ok & (stds > 20.0).all(axis=1)

    gen_valid, gen_rich = validity(gen_frames, gen_ok)
    lib_valid, lib_rich = validity(lib_frames, lib_ok)
    if args.list_failures:
        stds = pixel_std(gen_frames[:, vt])
        for i in np.flatnonzero(~gen_valid):
            print(f"invalid {programs[i].id} {programs[i].name} std={stds[i].round(2).tolist()}", file=sys.stderr)
        for line in gen_errors:
            print(f"compile error {line}", file=sys.stderr)
    gen_extreme = extreme_fraction(gen_frames[gen_ok])
    lib_extreme = extreme_fraction(lib_frames[lib_ok])

    def pct(x: np.ndarray) -> str:
        return f"{100.0 * float(np.mean(x)):.1f}%"

    rows.append(("programs", str(len(programs)), str(len(library))))
    rows.append(("compile", pct(gen_ok), pct(lib_ok)))
    rows.append(("valid: compiles, pixel std >= 2 at iTime 1 and 7", pct(gen_valid), pct(lib_valid)))
    rows.append(("pixel std > 20 at iTime 1 and 7", pct(gen_rich), pct(lib_rich)))
    rows.append(("images with > 10% near-black/white pixels", pct(gen_extreme > 0.1), pct(lib_extreme > 0.1)))
    med = [float(np.median(pixel_std(f[ok]))) for f, ok in ((gen_frames, gen_ok), (lib_frames, lib_ok))]
    rows.append(("median pixel std", f"{med[0]:.1f}", f"{med[1]:.1f}"))

    k2 = TIMES.index(DISTINCT_TIME)
    valid_idx = np.flatnonzero(gen_valid)
    mad, below, pair = min_pairwise_mad(gen_frames[valid_idx, k2])
    closest = f" ({programs[valid_idx[pair[0]]].id} vs {programs[valid_idx[pair[1]]].id})" if pair[0] >= 0 else ""
    rows.append((f"min pairwise mean abs diff at iTime {DISTINCT_TIME:g} (0..255){closest}", f"{mad:.2f}", "-"))
    rows.append(("pairs with mean abs diff < 1.0", str(below), "-"))

    gen_single, lib_single = gen_frames[gen_ok, k2], lib_frames[lib_ok, k2]
    gen_all = gen_frames[gen_ok].reshape(-1, args.size, args.size, 3)
    lib_all = lib_frames[lib_ok].reshape(-1, args.size, args.size, 3)
    union = np.concatenate([gen_all, lib_all]).astype(np.float64) / 255.0
    mean = union.mean(axis=(0, 1, 2)).astype(np.float32)
    std = union.std(axis=(0, 1, 2)).astype(np.float32)
    del union
    for label, g, lset in (
        (f"iTime {DISTINCT_TIME:g}", gen_single, lib_single),
        (f"{len(TIMES)} times pooled", gen_all, lib_all),
    ):
        gd = cosine_diversity(random_features(g, mean, std))
        ld = cosine_diversity(random_features(lset, mean, std))
        rows.append((f"diversity, random-net cosine distance ({label})", f"{gd:.4f}", f"{ld:.4f}"))
        rows.append(
            (f"diversity, 16x16 pixel L2 ({label})", f"{pixel_diversity(g):.3f}", f"{pixel_diversity(lset):.3f}")
        )

    gen_ms = frame_times(programs[: args.timing_count])
    lib_ms = frame_times(library)
    for name, q in (("median", 50), ("p95", 95), ("max", 100)):
        rows.append(
            (
                f"frame time 256x256, {name} (ms)",
                f"{np.percentile(gen_ms, q):.2f}",
                f"{np.percentile(lib_ms, q):.2f}",
            )
        )
    rows.append(("generation (programs/s)", f"{args.speed_count / gen_seconds:,.0f}", "-"))

    renderer = ShaderRenderer(8, 8)
    gl_name = renderer.renderer_name
    renderer.close()
    print(
        f"\nMachine: {platform.system()} {platform.machine()}, os.cpu_count() = {os.cpu_count()}, GL: {gl_name}. "
        f"Generated: {args.count} programs, seed {args.seed}; {args.speed_count} for the speed figure; "
        f"{min(args.timing_count, len(programs))} timed. Frames {args.size}x{args.size}. "
        f"Bench took {time.perf_counter() - started:.0f} s.\n"
    )
    print("| measure | generated | library |")
    print("|---|---|---|")
    for row in rows:
        print(f"| {row[0]} | {row[1]} | {row[2]} |")
    if gen_errors:
        print(f"\n{len(gen_errors)} generated programs failed to compile; first: {gen_errors[0][:300]}")


if __name__ == "__main__":
    main()
