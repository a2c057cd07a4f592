"""The contact sheet of `synthgen preview`: a corpus's samples in a grid, each sample's views side
by side, each labelled under its images (index, class, program or prompt)."""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from synthgen.corpus.format import parse_sample_key
from synthgen.corpus.inspect import decode_or_skip, sample_class
from synthgen.corpus.read import locate_corpus
from synthgen.errors import CorpusError, StorageError

# Contact sheet formats by file suffix: the bytes are what the name says.
SHEET_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}
# Without --scale, images are shrunk (never enlarged) to fit a cell of this side.
THUMB = 128
# Background, gaps and the labels' colour.
_BACKGROUND, _INK = (32, 32, 32), (230, 230, 230)
_GAP, _GROUP_GAP = 2, 10


def sheet_format(out_path: str) -> str:
    """The image format that `out_path`'s suffix names; ValueError for another suffix."""
    suffix = Path(out_path).suffix.lower()
    if suffix not in SHEET_FORMATS:
        raise ValueError(f"expected a file name ending in {', '.join(SHEET_FORMATS)}, got {out_path!r}")
    return SHEET_FORMATS[suffix]


@dataclass(frozen=True)
class _Shown:
    images: list[np.ndarray]
    label: list[str]  # its lines


def write_preview(
    url: str,
    out_path: str,
    count: int = 64,
    *,
    scale: float | None = None,
    randomly: bool = False,
    seed: int = 0,
    labels: bool = True,
    storage_options: dict[str, Any] | None = None,
) -> int:
    """A contact sheet of `count` samples of the corpus `url` (any spec training reads: a corpus
    folder or URL, a brace pattern, a saved stream), as PNG, JPEG or WebP after `out_path`'s
    suffix (its folder is made if needed); returns how many samples are shown.

    The first samples, or with `randomly` a choice drawn with `seed` (the same seed, the same
    samples). Each image is zoomed by `scale` (2 shows 32 px images at 64 px), or else shrunk to
    fit THUMB pixels. With `labels`, each sample's index and class and its program or prompt
    are written under it, clipped to its width. A sample that does not decode is named in the
    log and left out.
    """
    location = locate_corpus(url, storage_options)
    positions = None
    if randomly:
        positions = sorted(random.Random(seed).sample(range(location.nsamples), min(count, location.nsamples)))
    bad: list[str] = []
    shown = []
    for shard, sample in location.located_samples(None if randomly else count, positions):
        images = decode_or_skip(shard, sample, bad)
        if images is not None:
            shown.append(_Shown(images, sample_label(sample) if labels else []))
    if not shown:
        first = f" (the first: {bad[0]})" if bad else ""
        which = f"the {count} samples drawn" if randomly else f"the first {count} samples"
        raise CorpusError(f"{url}: none of {which} decodes{first}")
    sheet = _sheet(shown, scale)
    out = Path(out_path)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        sheet.save(out, format=sheet_format(out_path))
    except OSError as err:
        raise StorageError(f"{out_path}: cannot write the contact sheet: {err.strerror or err}") from None
    return len(shown)


def sample_label(sample: dict[str, Any]) -> list[str]:
    """`#12  cls 3` and the sample's program id or prompt, as its json and txt fields say."""
    meta: dict[str, Any] = {}
    try:
        found = json.loads(sample["json"]) if "json" in sample else {}
        meta = found if isinstance(found, dict) else {}
    except (ValueError, RecursionError):
        pass  # verify names a bad json; the sheet shows what it can
    index = meta.get("index")
    if not isinstance(index, int):
        try:
            index = parse_sample_key(sample["__key__"], "")
        except CorpusError:
            index = sample["__key__"]
    label = sample_class(sample)
    lines = [f"#{index}" + ("" if label is None else f"  cls {label}")]
    program = meta.get("program")
    if isinstance(program, dict) and program.get("id"):
        lines.append(str(program["id"]))
    elif "txt" in sample:
        lines.append(sample["txt"].decode("utf-8", "replace"))
    elif meta.get("prompt"):
        lines.append(str(meta["prompt"]))
    # The default font draws Latin text; anything else shows as '?', on one line.
    return [" ".join(line.split()).encode("latin-1", "replace").decode("latin-1") for line in lines]


def _sheet(shown: list[_Shown], scale: float | None) -> Image.Image:
    views = max(len(s.images) for s in shown)
    height, width = shown[0].images[0].shape[:2]
    factor = scale if scale is not None else min(1.0, THUMB / max(height, width))
    cell_w, cell_h = max(1, round(width * factor)), max(1, round(height * factor))
    # Whole zoom factors keep pixels square and sharp (a 32 px image read at 64 px).
    resample = Image.Resampling.NEAREST if factor >= 1 and factor == int(factor) else Image.Resampling.BILINEAR
    font = ImageFont.load_default()
    line_h = font.getbbox("Ag#")[3] + 2
    label_h = max(len(s.label) for s in shown) * line_h + (2 if any(s.label for s in shown) else 0)
    per_row = max(1, round(math.sqrt(len(shown) / views)))
    rows = math.ceil(len(shown) / per_row)
    group_w = views * cell_w + (views - 1) * _GAP
    group_h = cell_h + label_h
    sheet = Image.new(
        "RGB",
        (per_row * group_w + (per_row + 1) * _GROUP_GAP, rows * group_h + (rows + 1) * _GROUP_GAP),
        _BACKGROUND,
    )
    for n, item in enumerate(shown):
        row, col = divmod(n, per_row)
        x0 = _GROUP_GAP + col * (group_w + _GROUP_GAP)
        y0 = _GROUP_GAP + row * (group_h + _GROUP_GAP)
        for v, image in enumerate(item.images):
            tile = Image.fromarray(image).resize((cell_w, cell_h), resample)
            sheet.paste(tile, (x0 + v * (cell_w + _GAP), y0))
        if item.label:
            # Drawn on a strip of the group's width, then pasted: text longer than that is clipped.
            strip = Image.new("RGB", (group_w, label_h), _BACKGROUND)
            draw = ImageDraw.Draw(strip)
            for k, line in enumerate(item.label):
                draw.text((0, 2 + k * line_h), line, fill=_INK, font=font)
            sheet.paste(strip, (x0, y0 + cell_h))
    return sheet
