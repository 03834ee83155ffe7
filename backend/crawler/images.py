"""Download and decode one sample image, with its bytes and its decoded size bounded.

Image URLs come from untrusted rows, so a body is refused past `MAX_IMAGE_BYTES`, and a header
that declares more than `MAX_IMAGE_PIXELS` is refused before any pixel is decoded (a small
compressed file can declare a huge image). Decoded images are reduced so that their shorter
side stays at least `KEEP_SHORT_SIDE` pixels: CLIP resizes them to 224 anyway, and a batch of
full-size photos would otherwise hold gigabytes.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

import httpx2
from huggingface_hub import get_session

from backend.crawler._http import read_bounded, retry_after_seconds
from backend.crawler._retry import TransientError
from backend.crawler.rows import RowsError

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 25_000_000
KEEP_SHORT_SIDE = 256


class BrokenImage(Exception):
    """This image cannot be used (gone, oversized, not an image, truncated): skip it."""


def download_image(url: str, *, timeout_s: float, max_bytes: int = MAX_IMAGE_BYTES) -> bytes:
    """The bytes at `url`.

    No token is sent: the viewer's image URLs are signed, and a URL taken from a row may
    point at any host.

    Raises:
        TransientError: 429, 5xx or a network error.
        BrokenImage: another HTTP error, or a body over `max_bytes`.
    """
    if not url.startswith(("https://", "http://")):
        raise BrokenImage(f"not an http(s) URL: {url[:80]!r}")
    try:
        with get_session().stream("GET", url, timeout=timeout_s) as response:
            status = response.status_code
            if status == 429 or status >= 500:
                raise TransientError(
                    f"image HTTP {status}", retry_after=retry_after_seconds(response.headers)
                )
            if status >= 400:
                raise BrokenImage(f"image HTTP {status}")
            try:
                return read_bounded(response, max_bytes, "image", RowsError)
            except RowsError as err:
                raise BrokenImage(str(err)) from err
    except (httpx2.TransportError, httpx2.DecodingError) as err:
        raise TransientError(f"image {type(err).__name__}: {err}") from err


def decode_image(data: bytes, *, max_pixels: int = MAX_IMAGE_PIXELS) -> Any:
    """An RGB PIL image of `data`, its shorter side reduced towards `KEEP_SHORT_SIDE`.

    Raises:
        BrokenImage: not an image, truncated, or declaring more than `max_pixels` pixels.
    """
    from PIL import Image

    try:
        with warnings.catch_warnings():
            # Pillow warns (then errors) on "decompression bombs" at its own global limit;
            # ours is checked below, from the header, before anything is decoded.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width < 1 or height < 1 or width * height > max_pixels:
                raise BrokenImage(f"image of {width}x{height} pixels exceeds {max_pixels}")
            image.draft("RGB", (KEEP_SHORT_SIDE, KEEP_SHORT_SIDE))  # JPEG: decode scaled down
            factor = min(image.size) // KEEP_SHORT_SIDE
            rgb = image.convert("RGB")
            return rgb.reduce(factor) if factor >= 2 else rgb
    except BrokenImage:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
        # Pillow raises OSError for truncated data, UnidentifiedImageError (an OSError) for
        # non-images, and SyntaxError or ValueError from some malformed headers.
        raise BrokenImage(f"cannot decode image: {type(err).__name__}: {str(err)[:120]}") from err
