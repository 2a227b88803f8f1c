"""The watermark: text or a logo, in a corner (or the centre) with a margin, scaled relative to the
image's shorter side, blended semi-transparently. Only the watermark's box is read and written,
so its cost does not grow with the image (a full-size RGBA layer composited over a 12 MP photo
costs more than decoding it).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Literal

from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:
    from imaging import Settings

Position = Literal["bottom-right", "bottom-left", "top-right", "top-left", "center"]

#: watermark position → (x, y) as fractions of the free space (image minus watermark minus margins)
PLACEMENT: dict[str, tuple[float, float]] = {
    "bottom-right": (1.0, 1.0),
    "bottom-left": (0.0, 1.0),
    "top-right": (1.0, 0.0),
    "top-left": (0.0, 0.0),
    "center": (0.5, 0.5),
}

#: the colour of the blended watermark per image mode
WHITE: dict[str, int | tuple[int, ...]] = {"RGB": (255, 255, 255), "L": 255}
SHADOW: dict[str, int | tuple[int, ...]] = {"RGB": (0, 0, 0), "L": 0}


def _margin(size: tuple[int, int]) -> int:
    return max(2, round(min(size) * 0.02))


def _place(size: tuple[int, int], mark: tuple[int, int], position: Position) -> tuple[int, int]:
    margin = _margin(size)
    fx, fy = PLACEMENT[position]
    free_x = max(0, size[0] - mark[0] - 2 * margin)
    free_y = max(0, size[1] - mark[1] - 2 * margin)
    return margin + round(free_x * fx), margin + round(free_y * fy)


def watermark_box(size: tuple[int, int], mark: tuple[int, int], position: Position) -> tuple[int, int, int, int]:
    """Where the watermark goes: ``(left, top, right, bottom)`` in image pixels."""
    x, y = _place(size, mark, position)
    return x, y, x + mark[0], y + mark[1]


def text_masks(text: str, size: tuple[int, int], settings: Settings) -> tuple[Image.Image, Image.Image]:
    """Two ``L`` masks of the same size: the text and a soft outline that keeps it readable on
    white. The font's size is ``scale`` of the image's shorter side (Pillow's bundled font, so no
    system font is needed)."""
    font_size = max(8, round(min(size) * settings.scale))
    font = ImageFont.load_default(size=font_size)
    stroke = max(1, font_size // 16)
    left, top, right, bottom = (int(v) for v in font.getbbox(text, stroke_width=stroke))
    box = (max(1, right - left), max(1, bottom - top))
    alpha = round(255 * settings.opacity)
    fill, outline = Image.new("L", box, 0), Image.new("L", box, 0)
    ImageDraw.Draw(outline).text(
        (-left, -top), text, font=font, fill=alpha // 2, stroke_width=stroke, stroke_fill=alpha // 2
    )
    ImageDraw.Draw(fill).text((-left, -top), text, font=font, fill=alpha)
    return fill, outline


def logo_overlay(logo: bytes, size: tuple[int, int], settings: Settings) -> Image.Image:
    """The logo as RGBA, its height ``2 * scale`` of the shorter side (a logo reads smaller
    than text of the same height), its alpha multiplied by the opacity."""
    with Image.open(io.BytesIO(logo)) as opened:
        mark = opened.convert("RGBA")
    height = max(4, round(min(size) * settings.scale * 2))
    width = max(1, round(mark.width * height / mark.height))
    width, height = min(width, size[0]), min(height, size[1])
    mark = mark.resize((width, height), Image.Resampling.LANCZOS)
    alpha = mark.getchannel("A").point(lambda a: round(a * settings.opacity))
    mark.putalpha(alpha)
    return mark


def apply_watermark(
    image: Image.Image, settings: Settings, logo: bytes | None = None
) -> tuple[int, int, int, int] | None:
    """Blend the watermark into ``image`` in place; returns its box (``None`` when there is
    nothing to draw). Only the box is read and written."""
    if logo is not None:
        overlay = logo_overlay(logo, image.size, settings)
        box = watermark_box(image.size, overlay.size, settings.position)
        _blend_rgba(image, overlay, box)
        return box
    if not settings.watermark or settings.opacity == 0:
        return None
    fill, outline = text_masks(settings.watermark, image.size, settings)
    box = watermark_box(image.size, fill.size, settings.position)
    if image.mode == "RGBA":  # blend colour and alpha: the mark stays visible over transparent pixels
        shadow = Image.new("RGBA", fill.size, (0, 0, 0, 0))
        shadow.putalpha(outline)
        white = Image.new("RGBA", fill.size, (255, 255, 255, 0))
        white.putalpha(fill)
        _blend_rgba(image, Image.alpha_composite(shadow, white), box)
    else:
        image.paste(SHADOW[image.mode], box, outline)
        image.paste(WHITE[image.mode], box, fill)
    return box


def _blend_rgba(image: Image.Image, overlay: Image.Image, box: tuple[int, int, int, int]) -> None:
    if image.mode == "RGBA":
        region = image.crop(box)
        region.alpha_composite(overlay)
        image.paste(region, box[:2])
    else:
        colour = overlay.convert(image.mode)
        image.paste(colour, box[:2], overlay.getchannel("A"))
