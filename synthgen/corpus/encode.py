"""The image codec of a corpus: encoding views for writers, decoding them for readers.
Encoders run with fixed settings, so the bytes are deterministic."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, UnidentifiedImageError

from synthgen.corpus.format import IMAGE_FORMATS


def encode_image(image: np.ndarray, fmt: str, quality: int = 95) -> bytes:
    """Encode a uint8 HxWx3 array as jpg, png or webp."""
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected a uint8 HxWx3 image, got {image.dtype} {image.shape}")
    buffer = io.BytesIO()
    pil = Image.fromarray(image)
    if fmt == "jpg":
        pil.save(buffer, format="JPEG", quality=quality, optimize=False, progressive=False)
    elif fmt == "png":
        pil.save(buffer, format="PNG", compress_level=6, optimize=False)
    elif fmt == "webp":
        # method 4 is libwebp's default speed/size trade-off; lossless at quality 100.
        pil.save(buffer, format="WEBP", quality=quality, method=4, lossless=quality == 100)
    else:
        raise ValueError(f"unknown image format {fmt!r}; expected one of {', '.join(IMAGE_FORMATS)}")
    return buffer.getvalue()


def open_image(data: bytes) -> Image.Image:
    """Open image bytes with Pillow; bytes of no image format raise a ValueError that shows
    their start (Pillow's own message names a memory address)."""
    try:
        return Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ValueError(f"not an image format Pillow reads (it starts {data[:12]!r})") from None


def decode_image(data: bytes) -> np.ndarray:
    """Decode image bytes to a uint8 HxWx3 array."""
    with open_image(data) as pil:
        return np.asarray(pil.convert("RGB"))
