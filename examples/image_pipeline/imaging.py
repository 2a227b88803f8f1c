"""The image work of the pipeline, as pure functions on bytes and Pillow images (no sinks, no
cloud, no corefn): what a unit test, a benchmark or another app (the IoT site's photo uploads)
can call directly.

One upload → one :class:`Rendition` pair (watermarked copy, thumbnail), with these rules:

- **Decoded once.** The upload is decoded at full size a single time; the thumbnail is derived
  from that decoded image with ``reduce()`` (integer box downscale, cheap) and then a LANCZOS
  pass over the small result (``resize(reducing_gap=...)``), never by decoding again.
  ``benchmarks/image_pipeline.py`` measures the alternative (a second decode with JPEG
  ``draft()``, DCT scaling) and prints which is faster; this one is, because a second decode costs
  an entropy-decode pass over the whole file that ``reduce()`` does not.
- **Orientation** from EXIF is applied to the pixels (``ImageOps.exif_transpose``); EXIF itself
  is not copied (it can carry GPS positions), the **ICC profile** is. A CMYK JPEG is converted
  to sRGB through its own profile (littleCMS) when it has one, so colours survive; palette images
  become RGB, or RGBA when they have a transparent index.
- **Formats in**: JPEG, PNG (with transparency), WebP, GIF (first frame). Anything else is a
  :class:`NotAnImage`, even if Pillow could read it: the pipeline accepts what browsers show.
- **Bad input raises a** :class:`RejectedUpload` subclass (permanent: retrying cannot help);
  the handler decides what to do with it (see ``app.py``).
- **The watermark** (text or a logo, :mod:`watermark`) is placed in a corner with a margin,
  scaled relative to the image's shorter side, and blended semi-transparently; only its box is
  touched, so its cost does not grow with the image.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError
from watermark import PLACEMENT, Position, apply_watermark

#: formats accepted in (Pillow's format names)
INPUT_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")

#: output format setting → (Pillow format, file extension, content type)
OUTPUT_FORMATS: dict[str, tuple[str, str, str]] = {
    "JPEG": ("JPEG", ".jpg", "image/jpeg"),
    "PNG": ("PNG", ".png", "image/png"),
    "WEBP": ("WEBP", ".webp", "image/webp"),
}

#: ``PIPELINE_FORMAT=auto``: the output format for each input format (a GIF's first frame is a PNG)
AUTO_FORMAT: dict[str, str] = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WEBP", "GIF": "PNG"}

#: modes kept as they are; every other mode is converted by :func:`normalise_mode`
KEPT_MODES = frozenset({"RGB", "RGBA", "L"})

# ----------------------------------------------------------------------------------- errors


class RejectedUpload(Exception):
    """The upload can never become the outputs: retrying it is pointless. ``reason`` is a short
    stable code (``empty``, ``not-an-image``, ``truncated``, ``too-large``)."""

    reason = "rejected"


class EmptyUpload(RejectedUpload):
    reason = "empty"


class NotAnImage(RejectedUpload):
    reason = "not-an-image"


class TruncatedImage(RejectedUpload):
    reason = "truncated"


class TooLarge(RejectedUpload):
    """More pixels than ``Settings.max_pixels`` (Pillow's ``Image.MAX_IMAGE_PIXELS`` by default):
    a decompression bomb, refused before any pixel is decoded."""

    reason = "too-large"


# --------------------------------------------------------------------------------- settings


@dataclass(frozen=True, slots=True)
class Settings:
    """What the ``PIPELINE_*`` environment variables configure (see the README's table)."""

    format: str = "auto"
    quality: int = 85
    thumb_size: tuple[int, int] = (320, 320)
    watermark: str = "corefn"
    watermark_logo: str | None = None
    opacity: float = 0.5
    scale: float = 0.06
    position: Position = "bottom-right"
    max_pixels: int = field(default_factory=lambda: int(Image.MAX_IMAGE_PIXELS or 89_478_485))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        default = cls()

        def get(name: str) -> str | None:
            value = env.get(f"PIPELINE_{name}")
            return value.strip() if value is not None and value.strip() else None

        fmt = (get("FORMAT") or default.format).upper()
        if fmt != "AUTO" and fmt not in OUTPUT_FORMATS:
            fmt = {"JPG": "JPEG"}.get(fmt, fmt)
            if fmt not in OUTPUT_FORMATS:
                raise ValueError(f"PIPELINE_FORMAT must be auto, {', '.join(OUTPUT_FORMATS)}; got {get('FORMAT')!r}")
        position = get("WATERMARK_POSITION") or default.position
        if position not in PLACEMENT:
            raise ValueError(f"PIPELINE_WATERMARK_POSITION must be one of {', '.join(PLACEMENT)}; got {position!r}")
        return cls(
            format=fmt.lower() if fmt == "AUTO" else fmt,
            quality=int(_number(get("QUALITY"), default.quality, 1, 100, "QUALITY")),
            thumb_size=_size(get("THUMB_SIZE")) or default.thumb_size,
            watermark=env.get("PIPELINE_WATERMARK", default.watermark),
            watermark_logo=get("WATERMARK_LOGO"),
            opacity=_number(get("WATERMARK_OPACITY"), default.opacity, 0.0, 1.0, "WATERMARK_OPACITY"),
            scale=_number(get("WATERMARK_SCALE"), default.scale, 0.005, 1.0, "WATERMARK_SCALE"),
            position=position,  # type: ignore[arg-type]  # checked against PLACEMENT above
            max_pixels=int(_number(get("MAX_PIXELS"), default.max_pixels, 1, 1e12, "MAX_PIXELS")),
        )

    def output_format(self, input_format: str) -> str:
        return AUTO_FORMAT.get(input_format, "PNG") if self.format == "auto" else self.format


def _number(text: str | None, default: float, low: float, high: float, name: str) -> float:
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"PIPELINE_{name} must be a number; got {text!r}") from None
    if not low <= value <= high:
        raise ValueError(f"PIPELINE_{name} must be between {low:g} and {high:g}; got {text!r}")
    return value


def _size(text: str | None) -> tuple[int, int] | None:
    """``"320"`` (a square box) or ``"320x240"``."""
    if text is None:
        return None
    parts = text.lower().split("x")
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) not in (1, 2) or not all(1 <= n <= 10_000 for n in numbers):
        raise ValueError(f"PIPELINE_THUMB_SIZE must be N or WxH (1-10000); got {text!r}")
    return (numbers[0], numbers[-1])


# ---------------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Rendition:
    data: bytes
    format: str  # Pillow's name: JPEG, PNG, WEBP
    size: tuple[int, int]

    @property
    def extension(self) -> str:
        return OUTPUT_FORMATS[self.format][1]

    @property
    def content_type(self) -> str:
        return OUTPUT_FORMATS[self.format][2]

    def stream(self) -> IO[bytes]:
        return io.BytesIO(self.data)


@dataclass(frozen=True, slots=True)
class Renditions:
    watermarked: Rendition
    thumbnail: Rendition
    source_format: str
    source_size: tuple[int, int]  # after orientation
    frames: int


# --------------------------------------------------------------------------------- decoding


def open_image(source: bytes | IO[bytes], settings: Settings) -> Image.Image:
    """Read the header only (no pixels yet), and refuse what the pipeline must not decode."""
    data = source if isinstance(source, bytes) else source.read()  # Pillow would buffer a socket stream anyway
    if not data:
        raise EmptyUpload("the upload is empty (0 bytes)")
    _quiet_bomb_warning()
    try:  # above 2x MAX_IMAGE_PIXELS Pillow refuses by itself; between 1x and 2x it only warns
        image = Image.open(io.BytesIO(data), formats=INPUT_FORMATS)
    except Image.DecompressionBombError as exc:
        raise TooLarge(str(exc)) from None
    except UnidentifiedImageError:
        raise NotAnImage(f"not a {', '.join(INPUT_FORMATS)} image") from None
    except (OSError, SyntaxError, ValueError) as exc:  # a header Pillow recognised, then could not read
        raise TruncatedImage(f"unreadable {type(exc).__name__}: {exc}") from None
    width, height = image.size
    if width * height > settings.max_pixels:
        raise TooLarge(f"{width}x{height} is {width * height} pixels, more than the limit of {settings.max_pixels}")
    return image


def _quiet_bomb_warning() -> None:
    """Pillow warns (``DecompressionBombWarning``, a raw line on stderr) when it opens an image of
    1x to 2x its ``MAX_IMAGE_PIXELS``; :func:`open_image` refuses anything above
    ``Settings.max_pixels`` (that same limit by default) with its own TooLarge error, which the
    handler reports on one line, so the warning would be a second line about the same upload.
    Ignored by a filter (idempotent: ``filterwarnings`` replaces an identical entry), set on
    every call because test runners reset filters between tests; not ``catch_warnings()``
    around the open, which swaps global state and is unsafe in the local runtime's threads."""
    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


def decode(image: Image.Image) -> Image.Image:
    """Decode all pixels (first frame of an animation), apply the EXIF orientation, and bring
    the mode to RGB, RGBA or L. The ICC profile stays in ``image.info["icc_profile"]``."""
    try:
        image.seek(0)
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError) as exc:  # "image file is truncated", broken chunks
        raise TruncatedImage(f"cannot decode the image: {exc}") from None
    ImageOps.exif_transpose(image, in_place=True)
    return normalise_mode(image)


def normalise_mode(image: Image.Image) -> Image.Image:
    icc = image.info.get("icc_profile")
    if image.mode in KEPT_MODES:
        return image
    if image.mode == "CMYK":
        converted = _cmyk_to_srgb(image, icc)
        return converted
    transparent = "transparency" in image.info or image.mode in ("LA", "La", "PA", "RGBa")
    converted = image.convert("RGBA" if transparent else "RGB")
    if icc:
        converted.info["icc_profile"] = icc
    return converted


def _cmyk_to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """Through the image's own CMYK profile when it has one (a plain ``convert("RGB")`` ignores
    it and shifts colours); the result carries an sRGB profile."""
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(image, source, _srgb(), outputMode="RGB")
        except (ImageCms.PyCMSError, OSError):
            converted = None
        if converted is not None:
            converted.info["icc_profile"] = _srgb().tobytes()
            return converted
    return image.convert("RGB")


def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


# ------------------------------------------------------------------------------ thumbnails


def thumbnail_size(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """The largest size within ``box`` with the aspect ratio of ``size``; never larger than
    ``size`` (a small image is not blown up)."""
    width, height = size
    scale = min(box[0] / width, box[1] / height, 1.0)
    return max(1, round(width * scale)), max(1, round(height * scale))


def make_thumbnail(image: Image.Image, box: tuple[int, int]) -> Image.Image:
    """From the decoded image: ``reduce()`` by the largest integer factor that keeps at least
    twice the target size (so LANCZOS still has pixels to work with), then LANCZOS. Pillow's
    ``reducing_gap=2.0`` does exactly this in C."""
    target = thumbnail_size(image.size, box)
    if target == image.size:
        return image.copy()
    return image.resize(target, Image.Resampling.LANCZOS, reducing_gap=2.0)


def make_thumbnail_by_draft(data: bytes, box: tuple[int, int], settings: Settings) -> Image.Image:
    """The alternative the benchmark compares with: a second decode of the JPEG at the smallest
    DCT scale (1/2 .. 1/8) that still covers twice the box, then LANCZOS."""
    image = open_image(data, settings)
    image.draft("RGB", (box[0] * 2, box[1] * 2))
    decoded = decode(image)
    return make_thumbnail(decoded, box)


# --------------------------------------------------------------------------------- encoding


def encode(image: Image.Image, fmt: str, settings: Settings, icc: bytes | None) -> Rendition:
    """``fmt`` is JPEG, PNG or WEBP. A JPEG cannot hold alpha: transparent pixels are flattened
    onto white."""
    if fmt == "JPEG" and image.mode == "RGBA":
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, (0, 0), image.getchannel("A"))
        image = flat
    options: dict[str, object] = {}
    if icc:
        options["icc_profile"] = icc
    if fmt in ("JPEG", "WEBP"):
        options["quality"] = settings.quality
    if fmt == "PNG":
        options["compress_level"] = 6
    if fmt == "WEBP":
        options["method"] = 4
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return Rendition(out.getvalue(), fmt, image.size)


# ------------------------------------------------------------------------------- the whole job


def render(source: bytes | IO[bytes], settings: Settings, logo: bytes | None = None) -> Renditions:
    """The watermarked copy and the thumbnail of one upload (raises a RejectedUpload)."""
    image = open_image(source, settings)
    source_format = str(image.format)
    frames = int(getattr(image, "n_frames", 1))
    icc = image.info.get("icc_profile")
    decoded = decode(image)
    icc = decoded.info.get("icc_profile", icc)
    fmt = settings.output_format(source_format)
    thumb = make_thumbnail(decoded, settings.thumb_size)  # before the watermark is drawn in place
    apply_watermark(decoded, settings, logo)
    return Renditions(
        watermarked=encode(decoded, fmt, settings, icc),
        thumbnail=encode(thumb, fmt, settings, icc),
        source_format=source_format,
        source_size=decoded.size,
        frames=frames,
    )


def output_key(key: str, extension: str) -> str:
    """``photos/cat.jpeg`` → ``photos/cat.jpg`` for a JPEG output, ``photos/cat.png`` for a PNG."""
    folder, _, name = key.rpartition("/")
    stem, dot, _ = name.rpartition(".")
    base = stem if dot and stem else name
    return f"{folder}/{base}{extension}" if folder else f"{base}{extension}"
