"""What the example tests share: a test photo, the checks every cloud's outputs must pass, and a
way to load the example app fresh under the reference a generated entry point uses.

The output checks look at pixels, not at file names: the watermark must change the bottom-right
corner (where it is documented to go) and leave the rest of the picture alone, and the thumbnail
must fit the box with the original's aspect ratio.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parent.parent.parent
PIPELINE = ROOT / "examples" / "image_pipeline"
IOT = ROOT / "examples" / "iot_site"
SAMPLES = PIPELINE / "samples"
PIPELINE_REF = "examples/image_pipeline/app.py:app"

#: what a test photo looks like: big enough that the watermark is a small part of it
PHOTO_SIZE = (1600, 1200)
#: format setting → what Pillow reports for the output
FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WEBP"}


def photo(size: tuple[int, int] = PHOTO_SIZE, fmt: str = "JPEG") -> bytes:
    """A test photo with detail everywhere (so a watermark anywhere would show)."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(image)
    for i in range(0, size[0], 80):
        draw.line((i, 0, size[0] - i, size[1]), fill=(200, 60 + i % 150, 40), width=5)
    draw.rectangle((size[0] // 10, size[1] // 10, size[0] // 3, size[1] // 3), fill=(20, 120, 220))
    image = image.filter(ImageFilter.GaussianBlur(3))  # a photo's edges, not a diagram's: lossy codecs keep it
    out = io.BytesIO()
    image.save(out, fmt, **({"quality": 92} if fmt == "JPEG" else {}))
    return out.getvalue()


@dataclass
class Checked:
    watermarked: Image.Image
    thumbnail: Image.Image


def _changed(a: Image.Image, b: Image.Image, box: tuple[int, int, int, int], threshold: int) -> float:
    """The share of pixels in ``box`` where some channel differs by more than ``threshold``."""
    diff = ImageChops.difference(a.crop(box).convert("RGB"), b.crop(box).convert("RGB"))
    r, g, bl = diff.split()
    worst = ImageChops.lighter(ImageChops.lighter(r, g), bl)
    changed = worst.point(lambda v: 255 if v > threshold else 0).histogram()[255]
    return changed / (worst.width * worst.height)


def check_outputs(
    original: bytes,
    watermarked: bytes,
    thumbnail: bytes,
    *,
    fmt: str,
    box: tuple[int, int] = (320, 320),
    lossless: bool = False,
) -> Checked:
    """The watermarked copy: same size as the original, in ``fmt``, changed in the bottom-right
    corner and (almost, for lossy formats) nowhere else. The thumbnail: within ``box``, touching
    it on one side, with the original's aspect ratio."""
    source = Image.open(io.BytesIO(original))
    source.load()
    marked = Image.open(io.BytesIO(watermarked))
    marked.load()
    thumb = Image.open(io.BytesIO(thumbnail))
    thumb.load()
    assert marked.format == FORMATS[fmt] and thumb.format == FORMATS[fmt], (marked.format, thumb.format)
    assert marked.size == source.size
    w, h = source.size
    corner = (int(w * 0.70), int(h * 0.88), w, h)  # bottom-right: where the watermark goes
    rest = (0, 0, int(w * 0.6), int(h * 0.8))  # everything far from it
    threshold = 0 if lossless else 40  # lossy re-encoding moves pixels a little; a watermark, a lot
    in_corner, elsewhere = _changed(source, marked, corner, threshold), _changed(source, marked, rest, threshold)
    assert in_corner > 0.02, (
        f"the watermark does not show in the bottom-right corner ({in_corner:.2%} of pixels changed)"
    )
    limit = 0.0 if lossless else 0.002
    assert elsewhere <= limit, f"{elsewhere:.3%} of the pixels away from the watermark changed (limit {limit:.1%})"
    assert thumb.width <= box[0] and thumb.height <= box[1]
    assert thumb.width == box[0] or thumb.height == box[1], (
        f"thumbnail {thumb.size} does not fill the box {box} on any side"
    )
    assert abs(thumb.width / thumb.height - w / h) < 0.01, f"aspect changed: {thumb.size} from {source.size}"
    return Checked(marked, thumb)


def forget_app_modules() -> None:
    """Drop every loaded copy of the example apps (module refs ``app:app``, file refs) so the next
    load reads the environment of the test that loads it."""
    from corefn import loader

    for ref in [r for r in loader._cache if r.startswith(("app:", "examples/"))]:
        del loader._cache[ref]
    for name in [
        n
        for n in sys.modules
        if n in ("app", "imaging") or n.startswith(("corefn_user_image_pipeline", "corefn_user_iot_site"))
    ]:
        del sys.modules[name]


@pytest.fixture
def fresh_apps(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Example apps load fresh in this test (and are forgotten after it); ``app:app`` refs (what
    the AWS and OpenWhisk generators write) find the pipeline's folder on sys.path, as they do in
    the deployed bundle."""
    forget_app_modules()
    monkeypatch.syspath_prepend(str(PIPELINE))
    for name in [n for n in os.environ if n.startswith(("PIPELINE_", "COREFN_SINK_"))]:
        monkeypatch.delenv(name)  # a developer's own settings must not change what the tests see
    for name in ("COREFN_NAMES", "COREFN_APP", "COREFN_HANDLER", "COREFN_STATE_DIR", "COREFN_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    yield
    forget_app_modules()
