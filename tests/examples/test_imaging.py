"""The pipeline's image work on its own (no sinks, no runtime): every bundled sample, each case
the README promises, checked on the pixels."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageCms

from tests.examples.conftest import PIPELINE, SAMPLES, check_outputs, photo

sys.path.insert(0, str(PIPELINE))
import imaging  # noqa: E402
import watermark  # noqa: E402

SETTINGS = imaging.Settings()


def render(
    name_or_data: str | bytes, settings: imaging.Settings = SETTINGS, logo: bytes | None = None
) -> imaging.Renditions:
    data = (SAMPLES / name_or_data).read_bytes() if isinstance(name_or_data, str) else name_or_data
    return imaging.render(data, settings, logo)


def opened(rendition: imaging.Rendition) -> Image.Image:
    image = Image.open(io.BytesIO(rendition.data))
    image.load()
    return image


# ---------------------------------------------------------------------------- good uploads

#: sample → (format out with PIPELINE_FORMAT=auto, size after orientation, mode out)
GOOD = {
    "photo-srgb.jpg": ("JPEG", (1200, 800), "RGB"),
    "photo-exif-rotated.jpg": ("JPEG", (480, 640), "RGB"),
    "print-cmyk.jpg": ("JPEG", (800, 600), "RGB"),
    "logo-transparent.png": ("PNG", (600, 400), "RGBA"),
    "palette.png": ("PNG", (640, 480), "RGBA"),
    "poster.webp": ("WEBP", (800, 600), "RGB"),
    "animated.gif": ("PNG", (320, 240), "RGB"),
}


@pytest.mark.parametrize("name", sorted(GOOD))
def test_every_good_sample_gives_a_watermarked_copy_and_a_bounded_thumbnail(name: str) -> None:
    fmt, size, mode = GOOD[name]
    result = render(name)
    marked, thumb = opened(result.watermarked), opened(result.thumbnail)
    assert (marked.format, marked.size, marked.mode) == (fmt, size, mode)
    assert thumb.format == fmt and thumb.width <= 320 and thumb.height <= 320
    assert max(thumb.size) == min(320, max(size))
    assert abs(thumb.width / thumb.height - size[0] / size[1]) < 0.01


def test_exif_orientation_is_applied_to_the_pixels() -> None:
    stored = Image.open(SAMPLES / "photo-exif-rotated.jpg")
    assert stored.size == (640, 480) and stored.getexif()[0x0112] == 6
    marked = opened(render("photo-exif-rotated.jpg").watermarked)
    assert marked.size == (480, 640)
    assert 0x0112 not in marked.getexif()  # the pixels are upright: no viewer may rotate them again
    # the sample's red arrow points up once the orientation is applied: red near the top centre
    r, g, b = marked.convert("RGB").getpixel((240, 240))  # type: ignore[misc]
    assert r > 150 and g < 80 and b < 80


def test_icc_profile_is_kept() -> None:
    source = Image.open(SAMPLES / "photo-srgb.jpg").info["icc_profile"]
    result = render("photo-srgb.jpg")
    assert opened(result.watermarked).info["icc_profile"] == source
    assert opened(result.thumbnail).info["icc_profile"] == source


def test_cmyk_with_a_profile_is_converted_through_it_to_srgb() -> None:
    image = Image.new("CMYK", (400, 300), (0, 255, 255, 0))  # pure magenta + yellow: red on paper
    cmyk_profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))  # littleCMS makes no CMYK profile
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    plain = opened(render(out.getvalue()).watermarked)
    assert plain.mode == "RGB"
    r, g, b = plain.getpixel((10, 10))  # type: ignore[misc]
    assert r > 200 and g < 60 and b < 60
    # a profile that cannot convert CMYK is not fatal: the plain conversion is used
    broken = io.BytesIO()
    image.save(broken, "JPEG", quality=95, icc_profile=cmyk_profile.tobytes())
    assert opened(render(broken.getvalue()).watermarked).mode == "RGB"


def test_transparency_is_kept_in_png_and_flattened_onto_white_in_jpeg() -> None:
    png = opened(render("logo-transparent.png").watermarked)
    assert png.getpixel((2, 2))[3] == 0  # type: ignore[index]  # still transparent, far from the mark
    jpeg = opened(render("logo-transparent.png", imaging.Settings(format="JPEG")).watermarked)
    assert jpeg.format == "JPEG" and jpeg.mode == "RGB"
    assert min(jpeg.getpixel((2, 2))) > 245  # type: ignore[arg-type]


def test_gif_uses_the_first_frame() -> None:
    result = render("animated.gif")
    assert result.frames == 4
    first = Image.open(SAMPLES / "animated.gif").convert("RGB")
    marked = opened(result.watermarked).convert("RGB")
    assert marked.getpixel((70, 120)) == first.getpixel((70, 120))  # the red dot of frame 0
    assert marked.getpixel((70, 120))[0] > 180  # type: ignore[index]


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_output_format_and_watermark_region(fmt: str) -> None:
    original = photo(fmt="PNG")
    result = render(original, imaging.Settings(format=fmt, quality=90))
    assert result.watermarked.content_type == {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}[fmt]
    check_outputs(original, result.watermarked.data, result.thumbnail.data, fmt=fmt, lossless=fmt == "PNG")


def test_quality_setting_changes_the_jpeg() -> None:
    original = photo()
    low = render(original, imaging.Settings(quality=20)).watermarked.data
    high = render(original, imaging.Settings(quality=95)).watermarked.data
    assert len(low) < len(high) / 2


def test_watermark_scales_with_the_image() -> None:
    small = watermark.text_masks("corefn", (800, 600), SETTINGS)[0].size
    large = watermark.text_masks("corefn", (3200, 2400), SETTINGS)[0].size
    assert 3.5 < large[1] / small[1] < 4.5 and 3.5 < large[0] / small[0] < 4.5


def test_watermark_position_and_opacity() -> None:
    original = photo(fmt="PNG")
    top_left = opened(render(original, imaging.Settings(position="top-left", format="PNG")).watermarked)
    source = Image.open(io.BytesIO(original)).convert("RGB")
    box = watermark.watermark_box(
        source.size, watermark.text_masks("corefn", source.size, SETTINGS)[0].size, "top-left"
    )
    assert box[0] < 100 and box[1] < 100
    assert top_left.crop(box).tobytes() != source.crop(box).tobytes()
    assert top_left.crop((800, 600, 1600, 1200)).tobytes() == source.crop((800, 600, 1600, 1200)).tobytes()
    invisible = opened(render(original, imaging.Settings(opacity=0.0, format="PNG")).watermarked)
    assert invisible.tobytes() == source.tobytes()


def test_logo_watermark() -> None:
    original = photo(fmt="PNG")
    logo = (SAMPLES / "logo-transparent.png").read_bytes()
    result = render(original, imaging.Settings(format="PNG"), logo=logo)
    check_outputs(original, result.watermarked.data, result.thumbnail.data, fmt="PNG", lossless=True)


def test_thumbnail_is_not_upscaled_and_box_is_configurable() -> None:
    tiny = photo((100, 50))
    assert opened(render(tiny).thumbnail).size == (100, 50)
    assert opened(render(photo(), imaging.Settings(thumb_size=(200, 100))).thumbnail).size == (133, 100)


def test_thumbnail_by_draft_matches_the_box() -> None:
    thumb = imaging.make_thumbnail_by_draft(photo((4000, 3000)), (320, 320), SETTINGS)
    assert thumb.size == (320, 240)


# ----------------------------------------------------------------------------- bad uploads

BAD = {
    "README.txt": imaging.NotAnImage,
    "truncated.jpg": imaging.TruncatedImage,
    "empty.jpg": imaging.EmptyUpload,
    "bomb.png": imaging.TooLarge,
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_samples_are_rejected_with_a_reason(name: str) -> None:
    with pytest.raises(imaging.RejectedUpload) as caught:
        render(name)
    assert type(caught.value) is BAD[name]
    assert caught.value.reason in ("not-an-image", "truncated", "empty", "too-large")


def test_a_bomb_is_refused_before_any_pixel_is_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    decoded: list[Any] = []
    monkeypatch.setattr(Image.Image, "load", lambda self: decoded.append(self))
    with pytest.raises(imaging.TooLarge):
        render("bomb.png")
    assert decoded == []
    # the limit is configurable: a small one refuses an ordinary photo
    with pytest.raises(imaging.TooLarge):
        render(photo(), imaging.Settings(max_pixels=1_000_000))
    # far beyond Pillow's own 2x limit: DecompressionBombError, still a TooLarge
    huge = io.BytesIO()
    Image.new("1", (20000, 20000)).save(huge, "PNG")
    with pytest.raises(imaging.TooLarge):
        render(huge.getvalue())


def test_a_bomb_is_one_rejection_not_also_a_pillow_warning() -> None:
    """Pillow's own DecompressionBombWarning (between 1x and 2x its limit) would print a raw
    second line beside the handler's rejection: open_image keeps it quiet, whatever filters the
    process had (here: every warning shown)."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(imaging.TooLarge):
            render("bomb.png")
    assert [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)] == []


def test_formats_outside_the_accepted_ones_are_not_images() -> None:
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "BMP")
    with pytest.raises(imaging.NotAnImage):
        render(out.getvalue())


# -------------------------------------------------------------------------------- settings


def test_settings_from_environment() -> None:
    env = {
        "PIPELINE_FORMAT": "webp",
        "PIPELINE_QUALITY": "70",
        "PIPELINE_THUMB_SIZE": "200x100",
        "PIPELINE_WATERMARK": "ACME",
        "PIPELINE_WATERMARK_LOGO": "logo.png",
        "PIPELINE_WATERMARK_OPACITY": "0.3",
        "PIPELINE_WATERMARK_SCALE": "0.1",
        "PIPELINE_WATERMARK_POSITION": "top-left",
        "PIPELINE_MAX_PIXELS": "50000000",
    }
    got = imaging.Settings.from_env(env)
    assert got == imaging.Settings("WEBP", 70, (200, 100), "ACME", "logo.png", 0.3, 0.1, "top-left", 50_000_000)
    assert imaging.Settings.from_env({}) == imaging.Settings()
    assert imaging.Settings.from_env({"PIPELINE_THUMB_SIZE": "256"}).thumb_size == (256, 256)
    assert imaging.Settings.from_env({"PIPELINE_FORMAT": "jpg"}).format == "JPEG"
    assert imaging.Settings.from_env({"PIPELINE_WATERMARK": ""}).watermark == ""


@pytest.mark.parametrize(
    "name,value",
    [("FORMAT", "tiff"), ("QUALITY", "0"), ("QUALITY", "high"), ("THUMB_SIZE", "0x10"), ("THUMB_SIZE", "a"),
     ("WATERMARK_OPACITY", "2"), ("WATERMARK_POSITION", "middle")],
)  # fmt: skip
def test_bad_settings_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=f"PIPELINE_{name}"):
        imaging.Settings.from_env({f"PIPELINE_{name}": value})


@pytest.mark.parametrize(
    "key,ext,expected",
    [("cat.jpg", ".jpg", "cat.jpg"), ("a/b/cat.jpeg", ".jpg", "a/b/cat.jpg"), ("x.gif", ".png", "x.png"),
     ("noext", ".png", "noext.png"), (".hidden", ".png", ".hidden.png")],
)  # fmt: skip
def test_output_key(key: str, ext: str, expected: str) -> None:
    assert imaging.output_key(key, ext) == expected


def test_samples_are_small_and_licensed() -> None:
    total = sum(p.stat().st_size for p in SAMPLES.iterdir())
    assert total < 400_000
    assert "CC0" in (SAMPLES / "README.txt").read_text()


def describe(data: bytes) -> tuple[object, ...]:
    """What a sample is, independent of the Pillow version's exact encoder output."""
    try:
        image = Image.open(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - not an image: its bytes are what it is
        return ("bytes", len(data) if len(data) < 100 else data[:40])
    return (
        image.format,
        image.size,
        image.mode,
        getattr(image, "n_frames", 1),
        image.getexif().get(0x0112),
        "icc_profile" in image.info,
    )


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # describe() opens the bomb with Pillow itself
def test_samples_are_what_make_samples_draws(tmp_path: Path) -> None:
    import make_samples

    make_samples.main(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in SAMPLES.iterdir())
    for path in sorted(SAMPLES.iterdir()):
        assert describe((tmp_path / path.name).read_bytes()) == describe(path.read_bytes()), (
            f"{path.name}: rerun make_samples.py"
        )
