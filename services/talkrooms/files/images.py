"""Images are decoded and encoded again, never kept as sent.

Re-encoding drops whatever rode along in the file: EXIF (GPS position, camera, owner),
XMP, comments, and any payload appended to a valid image (a polyglot). The orientation
EXIF asked for is applied to the pixels first. The size is read from the header before
any pixel is decoded, so a decompression bomb (a few KB that decode to gigapixels) is
refused without the memory. An animated GIF or WebP keeps its animation in the full-size
copy (frames bounded the same way) and its first frame as the thumbnail.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from talkrooms.files.kinds import Refused

# Pillow's own bomb check is replaced by ours (a clear 413 instead of a warning or error).
Image.MAX_IMAGE_PIXELS = None

THUMB_SIDE = 320
DISPLAY_SIDE = 1600
JPEG_QUALITY = 88
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}


@dataclass(frozen=True)
class Variant:
    """One stored rendition of an image."""

    name: str
    data: bytes
    content_type: str
    width: int
    height: int


def process(data: bytes, content_type: str, max_pixels: int) -> list[Variant]:
    """The variants to store: `original` (full size, clean), `display` (at most
    DISPLAY_SIDE) when smaller than the original, and `thumb` (at most THUMB_SIDE)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            frames = getattr(image, "n_frames", 1)
            if width * height > max_pixels or width * height * frames > 4 * max_pixels:
                raise Refused(
                    413,
                    "image_too_large",
                    f"The image is too large ({width}x{height}, {frames} frames)",
                )
            fmt = FORMATS[content_type]
            animated = frames > 1 and fmt in ("GIF", "WEBP")
            if animated:
                original = _encode_animation(image, fmt)
                first = _upright(_first_frame(image))
            else:
                first = _upright(_first_frame(image))
                original = _encode(first, content_type)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise Refused(415, "unreadable_image", "This image cannot be read") from exc
    variants = [Variant("original", original, content_type, first.width, first.height)]
    if max(first.size) > DISPLAY_SIDE and not animated:
        display = _fit(first, DISPLAY_SIDE)
        variants.append(
            Variant("display", _encode(display, content_type), content_type, *display.size)
        )
    thumb = _fit(first, THUMB_SIDE)
    thumb_type = "image/png" if _has_alpha(thumb) else "image/jpeg"
    variants.append(Variant("thumb", _encode(thumb, thumb_type), thumb_type, *thumb.size))
    return variants


def _first_frame(image: Image.Image) -> Image.Image:
    image.seek(0)
    frame = image.copy()
    frame.load()
    return frame


def _upright(image: Image.Image) -> Image.Image:
    """The pixels turned as the EXIF orientation says (the tag itself is dropped later)."""
    turned = ImageOps.exif_transpose(image)
    return turned if turned is not None else image


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )


def _fit(image: Image.Image, side: int) -> Image.Image:
    copy = image.copy()
    copy.thumbnail((side, side), Image.Resampling.LANCZOS)
    return copy


def _clean(image: Image.Image) -> Image.Image:
    """Pixels only: a new image of the same mode, so no info, EXIF or XMP comes along."""
    if image.mode not in ("1", "L", "LA", "RGB", "RGBA", "P", "PA"):
        image = image.convert("RGBA" if _has_alpha(image) else "RGB")
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    if image.mode in ("P", "PA") and image.palette is not None:
        clean.putpalette(image.getpalette() or [])
        if "transparency" in image.info:
            clean.info["transparency"] = image.info["transparency"]
    return clean


def _encode(image: Image.Image, content_type: str) -> bytes:
    fmt = FORMATS[content_type]
    clean = _clean(image)
    if fmt == "JPEG" and clean.mode not in ("RGB", "L"):
        clean = clean.convert("RGB")
    out = io.BytesIO()
    options: dict[str, object] = {}
    if fmt == "JPEG":
        options = {"quality": JPEG_QUALITY, "optimize": True}
    elif fmt == "WEBP":
        options = {"quality": JPEG_QUALITY}
    clean.save(out, fmt, **options)
    return out.getvalue()


def _encode_animation(image: Image.Image, fmt: str) -> bytes:
    """Every frame again, clean, with its duration; nothing else of the file."""
    frames: list[Image.Image] = []
    durations: list[int] = []
    for frame in ImageSequence.Iterator(image):
        frames.append(_clean(frame.convert("RGBA")))
        durations.append(int(frame.info.get("duration", 100)))
    out = io.BytesIO()
    frames[0].save(
        out,
        fmt,
        save_all=True,
        append_images=frames[1:],
        duration=durations,
        loop=int(image.info.get("loop", 0)),
        disposal=2,
    )
    return out.getvalue()
