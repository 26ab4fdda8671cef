"""Test images made with Pillow: photos with EXIF (GPS, orientation), animations,
decompression bombs, polyglots."""

from __future__ import annotations

import io

from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F


def photo_with_gps(width: int = 1200, height: int = 600, orientation: int = 6) -> bytes:
    """A JPEG whose EXIF carries a GPS position, a camera make and an orientation (6: the
    camera was turned: the picture must be turned 90 degrees clockwise to show upright)."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, width // 2, height))  # left half blue
    exif = Image.Exif()
    exif[MAKE] = "SecretCam"
    exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def png(width: int = 64, height: int = 48, alpha: bool = False) -> bytes:
    image = Image.new("RGBA" if alpha else "RGB", (width, height), (10, 120, 10, 128))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def animated_gif(frames: int = 3, side: int = 40) -> bytes:
    """A GIF of `frames` frames of clearly different colours (identical frames would be
    merged into one by the encoder)."""
    colors = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]
    images = [Image.new("RGB", (side, side), colors[i % len(colors)]) for i in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=80, loop=0)
    return out.getvalue()


def bomb(side: int = 15_000) -> bytes:
    """A PNG of a few KB that would decode to side x side pixels (225 MP by default)."""
    out = io.BytesIO()
    Image.new("1", (side, side), 0).save(out, "PNG", optimize=True)
    return out.getvalue()


def exif_of(data: bytes) -> dict[int, object]:
    with Image.open(io.BytesIO(data)) as image:
        return dict(image.getexif())


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def pixel(data: bytes, x: int, y: int) -> tuple[int, ...]:
    with Image.open(io.BytesIO(data)) as image:
        value = image.convert("RGB").getpixel((x, y))
        assert isinstance(value, tuple)
        return value
