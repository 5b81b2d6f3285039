"""Images people attach: decoded, checked and re-encoded with Pillow, never stored or served as uploaded.

`process(data)` returns the image as microblog keeps it: at most ORIGINAL_PIXELS
(Mastodon's 3840x2160), turned upright by its EXIF orientation, with no
metadata at all (a phone photo's location goes with its EXIF), a small
preview, and a blurhash.  JPEG stays JPEG; what has transparency becomes PNG;
a GIF or WebP keeps its first frame, as PNG (a screenshot's text stays sharp).  Anything else is refused with
ImageRefused: not an image, another format, more pixels than allowed, a
decompression bomb, a truncated file.

Decoding is the slow part: a JPEG is decoded at the smallest scale that is
still large enough (Pillow's draft mode decodes 1/2, 1/4 or 1/8 of the pixels),
and `bounded()` lets a process decode only a few at a time, so that its memory
stays bounded however many arrive at once, and under gevent runs the work in
a thread, so that the process's other requests go on meanwhile.
"""

from __future__ import annotations

import io
import math
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar, cast

import blurhash
from PIL import Image, ImageOps

ORIGINAL_PIXELS = 3840 * 2160
SMALL_PIXELS = 640 * 360
# The longest side an image may have: a 1 x 49,000,000 strip is "under 50 megapixels" but decodes
# line by line into gigabytes, and scaled down it stays a strip past every pixel budget.
MAX_SIDE = 16384
MAX_ASPECT = 20  # a panorama, yes; a strip, no
JPEG_QUALITY = 85

# Pillow's format -> (content type, extension) of what is stored.
_KEPT = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png")}
ACCEPTED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")


class ImageRefused(ValueError):
    """The upload is not an image microblog keeps; `reason` says which rule it broke."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Variant:
    """One stored file of an image: its bytes and size in pixels."""

    data: bytes
    width: int
    height: int


@dataclass(frozen=True)
class Processed:
    """An image as microblog keeps it."""

    original: Variant
    small: Variant
    content_type: str
    ext: str
    blurhash: str


def _fit(width: int, height: int, pixels: int) -> tuple[int, int]:
    """Return the size of width x height scaled down (never up) to at most `pixels`."""
    if width * height <= pixels:
        return width, height
    scale = math.sqrt(pixels / (width * height))
    return max(1, int(width * scale)), max(1, int(height * scale))


def process(data: bytes, *, max_pixels: int) -> Processed:
    """Decode, check and re-encode an uploaded image; raise ImageRefused for anything else.

    `max_pixels` bounds the decoded size (the pixels of a 50-megapixel photo
    are 200 MB as RGBA): checked from the header, before decoding.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return _process(data, max_pixels)
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRefused("too_large") from error
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError) as error:
        # Pillow's ways of saying a file is not an image, or not a whole one.
        raise ImageRefused("unreadable") from error


def _process(data: bytes, max_pixels: int) -> Processed:
    with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as image:  # reads the header only
        width, height = image.size
        if width < 1 or height < 1:
            raise ImageRefused("unreadable")
        if width * height > max_pixels or max(width, height) > MAX_SIDE:
            raise ImageRefused("too_large")
        if max(width, height) > MAX_ASPECT * min(width, height):
            raise ImageRefused("too_narrow")
        source_format = image.format
        if source_format == "JPEG":  # decode at the smallest scale that still fills the target
            image.draft("RGB", _fit(width, height, ORIGINAL_PIXELS))
        image.load()  # a truncated file fails here
        if source_format != "JPEG":
            image.seek(0)  # a GIF's or WebP's first frame
        alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
        mode = "RGBA" if alpha else "RGB"
        pixels = image if image.mode == mode else image.convert(mode)
        ImageOps.exif_transpose(pixels, in_place=True)  # upright, and its EXIF gone with the rest
        kept = "PNG" if alpha or source_format != "JPEG" else "JPEG"
        original = _resized(pixels, ORIGINAL_PIXELS)
        small = _resized(original, SMALL_PIXELS)
        content_type, ext = _KEPT[kept]
        return Processed(
            original=Variant(_encode(original, kept), *original.size),
            small=Variant(_encode(small, kept), *small.size),
            content_type=content_type,
            ext=ext,
            blurhash=_blurhash(small),
        )


def _resized(image: Image.Image, pixels: int) -> Image.Image:
    size = _fit(*image.size, pixels)
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)


def _encode(image: Image.Image, kept: str) -> bytes:
    """Write the pixels only: no EXIF, no ICC profile, no comments."""
    out = io.BytesIO()
    if kept == "JPEG":
        image.save(out, "JPEG", quality=JPEG_QUALITY)
    else:
        image.save(out, "PNG", optimize=False, compress_level=6)
    return out.getvalue()


def _blurhash(image: Image.Image) -> str:
    """Return the blurhash of an image, computed from a tiny copy (4x3 components, as Mastodon)."""
    tiny = image.convert("RGB")
    tiny.thumbnail((24, 24), Image.Resampling.BILINEAR)
    width, height = tiny.size
    values = tiny.get_flattened_data()  # an RGB image: a (r, g, b) tuple per pixel
    rows = [[list(cast(tuple[int, ...], values[y * width + x])) for x in range(width)] for y in range(height)]
    return str(blurhash.encode(rows, components_x=4, components_y=3))


T = TypeVar("T")

_DECODING = threading.BoundedSemaphore(2)  # decodes at once in one process: its memory's bound


def bounded(work: Callable[[], T]) -> T:
    """Run image work with the process's other requests going on, at most two at once.

    Under gevent (the deployed worker) in gevent's thread pool: Pillow releases
    the GIL while it decodes, resizes and encodes, so the event loop keeps serving.
    An image refused there comes back as a result and is raised here: the pool
    would log every refusal's traceback as a failure.
    """
    with _DECODING:
        try:
            from gevent import get_hub, monkey
        except ImportError:  # pragma: no cover (gevent is a requirement)
            return work()
        if not monkey.is_module_patched("threading"):
            return work()

        def caught() -> tuple[T | None, ImageRefused | None]:
            try:
                return work(), None
            except ImageRefused as refused:
                return None, refused

        result, refused = get_hub().threadpool.apply(caught)
        if refused is not None:
            raise refused
        return cast(T, result)
