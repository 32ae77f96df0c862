"""Extending the real plates of the shared corpus: the beachball sequence (a 911x876 data window
that moves through a 2048x1556 display window and out of it, 20 channels) and the OpenEXR
display-window test images."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from sora_vfx.cli import main
from sora_vfx.errors import PlateError
from sora_vfx.imaging import read_exr_header
from sora_vfx.plates import ExtendSettings, Padding, extend_plate

from .conftest import BEACHBALL, DISPLAYWINDOW, WORK, bits, generated_area, need, read_raw

PAD = (64, 64, 32, 32)  # left, right, bottom, top
NEW_DISPLAY = (0, 0, 2048 + 128, 1556 + 64)


def plate(frame: int):
    return read_raw(BEACHBALL / f"singlepart.{frame:04d}.exr", channels=4)


def filmed_box(plate_spec, left: int, top: int) -> tuple[int, int, int, int]:
    return plate_spec.x + left, plate_spec.y + top, plate_spec.width, plate_spec.height


def crop(pixels, spec, box):
    x, y, w, h = box
    return pixels[y - spec.y:y - spec.y + h, x - spec.x:x - spec.x + w]


@pytest.fixture(scope="module")
def static_run(tmp_path_factory, sora_cache):
    need(BEACHBALL)
    out = tmp_path_factory.mktemp("beachball_static")
    args = ["extend", str(BEACHBALL / "singlepart.####.exr"), "-o", str(out), "--pad", ",".join(map(str, PAD)),
            "--static", "--ref-frame", "3", *WORK, "--json"]
    result = CliRunner().invoke(main, args)
    return out, result, args


def test_static_run_writes_every_frame(static_run):
    out, result, _ = static_run
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["status"] == "extended" and summary["written"] == 8 and summary["failed"] == []
    assert summary["display_window"] == [0, 0, 2175, 1619]
    assert summary["channels"] == ["R", "G", "B", "A", "mask"]
    assert "Z" in summary["dropped_channels"] and "left.R" in summary["dropped_channels"]
    assert summary["pattern"] == str(out / "singlepart_ext.####.exr")
    assert sorted(p.name for p in out.iterdir()) == [f"singlepart_ext.{n:04d}.exr" for n in range(1, 9)]


def test_every_frame_filmed_bits_mask_and_static_border(static_run):
    """Per frame: the new display window; the filmed RGBA bit for bit where it was, moved by
    (left, top); the mask exactly on the generated area; and, with --static, the same border
    bits on every frame (where every frame has border: the ball covers some of it late on)."""
    out, _, _ = static_run
    common = reference = None
    for frame in range(1, 9):
        plate_spec, plate_pixels = plate(frame)
        spec, pixels = read_raw(out / f"singlepart_ext.{frame:04d}.exr")
        assert (spec.full_x, spec.full_y, spec.full_width, spec.full_height) == (0, 0, 2176, 1620)
        assert tuple(spec.channelnames) == ("R", "G", "B", "A", "mask") and pixels.dtype == np.float16
        filmed = filmed_box(plate_spec, PAD[0], PAD[3])
        assert np.array_equal(bits(crop(pixels, spec, filmed)[..., :4]), bits(plate_pixels[..., :4])), frame
        generated = generated_area(spec, (64, 32, 2048, 1556), filmed)
        mask = pixels[..., 4]
        assert set(np.unique(mask).tolist()) <= {0.0, 1.0}
        assert np.array_equal(mask == 1, generated), frame
        assert np.all(pixels[..., 3][generated] == 1)
        # The data window is the new frame, grown where the ball leaves it (frames 7 and 8).
        assert (spec.x, spec.y, spec.height) == (0, 0, 1620)
        assert spec.width == max(2176, filmed[0] + filmed[2])
        border = bits(pixels[:1620, :2176, :4])
        generated = generated[:1620, :2176]
        if reference is None:
            common, reference = generated, border
        else:
            common = common & generated
            assert np.array_equal(border[common], reference[common]), frame
    assert common.sum() > 250_000
    assert reference[common].std() > 0  # a picture, not a flat fill


def test_header_carries_the_plate_and_says_what_was_done(static_run):
    out, _, _ = static_run
    import OpenImageIO as oiio

    spec = oiio.ImageInput.open(str(out / "singlepart_ext.0005.exr")).spec()
    assert spec.get_string_attribute("name") == "rgba"
    assert spec.get_float_attribute("PixelAspectRatio") == 1.0
    assert spec.get_float_attribute("screenWindowWidth") == 1.0
    assert spec.getattribute("multiView") is None  # the left view's channels were dropped
    assert spec.get_string_attribute("compression") == "zips"  # the plate's, lossless
    assert spec.get_string_attribute("oiio:ColorSpace") == "lin_ap1_scene"  # ACEScg by default
    assert spec.getattribute("sora_vfx:static") == 1
    assert spec.getattribute("sora_vfx:ref_frame") == 3
    assert spec.getattribute("sora_vfx:plate_frame") == 5
    assert spec.get_string_attribute("sora_vfx:pad") == "64,64,32,32"
    assert spec.get_string_attribute("sora_vfx:plate_offset") == "64,32"
    assert spec.get_string_attribute("sora_vfx:filmed_window") == "1137,351,2052,1240"
    assert spec.get_string_attribute("sora_vfx:plate").endswith("singlepart.0005.exr")
    assert spec.get_string_attribute("sora_vfx:model") == "tiny"
    assert len(spec.get_string_attribute("sora_vfx:job_hash")) == 16


def test_without_static_every_frame_starts_from_the_same_noise(tmp_path, inpaint_model):
    """Frames 1 and 3 are the same picture: generated from the same noise, their borders match
    bit for bit; frame 2 differs, and so does its border."""
    folder = tmp_path / "plate"
    folder.mkdir()
    for frame, source in ((1, 1), (2, 2), (3, 1)):
        (folder / f"bb.{frame:04d}.exr").symlink_to(need(BEACHBALL) / f"singlepart.{source:04d}.exr")
    out = tmp_path / "out"
    settings = ExtendSettings(pad=Padding(0, 0, 0, 32), steps=2, work_size=(64, 48), compression="none")
    report = extend_plate(folder, out, settings, model=inpaint_model, progress=False)
    assert report.written == [1, 2, 3] and not report.failed
    frames = [read_raw(out / f"bb_ext.{n:04d}.exr", channels=5) for n in (1, 2, 3)]
    strip = (slice(0, 32), slice(0, 2048))  # the new top strip
    assert all(np.all(p[strip][..., 4] == 1) for _, p in frames)
    first, second, third = (bits(p[strip][..., :3]) for _, p in frames)
    assert np.array_equal(first, third)
    assert not np.array_equal(first, second)


CASES = ["t01", "t03", "t06", "t07", "t08", "t13", "t15"]


@pytest.mark.parametrize("name", CASES)
def test_display_window_layouts(tmp_path, inpaint_model, name):
    source = need(DISPLAYWINDOW) / f"{name}.exr"
    plate_spec, plate_pixels = read_raw(source)
    settings = ExtendSettings(pad=Padding(20, 30, 10, 40), steps=2, work_size=(64, 48), blend=3)
    report = extend_plate(source, tmp_path, settings, model=inpaint_model, progress=False)
    assert report.written == [None]
    spec, pixels = read_raw(tmp_path / f"{name}_ext.exr")
    # The display window keeps its origin and grows by the pad; the plate moves by (left, top).
    assert (spec.full_x, spec.full_y) == (plate_spec.full_x, plate_spec.full_y)
    assert (spec.full_width, spec.full_height) == (plate_spec.full_width + 50, plate_spec.full_height + 50)
    filmed = filmed_box(plate_spec, 20, 40)
    x0 = min(spec.full_x, filmed[0])
    y0 = min(spec.full_y, filmed[1])
    assert (spec.x, spec.y) == (x0, y0)
    assert spec.x + spec.width == max(spec.full_x + spec.full_width, filmed[0] + filmed[2])
    assert np.array_equal(bits(crop(pixels, spec, filmed)[..., :3]), bits(plate_pixels))
    assert np.all(crop(pixels, spec, filmed)[..., 3] == 1)  # RGB plates are opaque
    plate_display = (plate_spec.full_x + 20, plate_spec.full_y + 40, plate_spec.full_width, plate_spec.full_height)
    generated = generated_area(spec, plate_display, filmed)
    assert generated.sum() > 0
    assert np.array_equal(pixels[..., 4] == 1, generated)
    assert np.all(pixels[..., 4][~generated] == 0)
    assert spec.get_float_attribute("PixelAspectRatio") == plate_spec.get_float_attribute("PixelAspectRatio")


def test_to_aspect_counts_the_pixel_aspect(tmp_path, inpaint_model):
    source = need(DISPLAYWINDOW) / "t15.exr"  # 481x371 display window, pixels 1.5 wide
    settings = ExtendSettings(to_aspect=2.39, anchor="left", steps=2, work_size=(64, 32))
    report = extend_plate(source, tmp_path, settings, model=inpaint_model, progress=False)
    assert report.layout.display.width == round(371 * 2.39 / 1.5)
    assert report.layout.padding.left == 0 and report.layout.offset == (0, 0)


def test_data_window_outside_the_new_frame_is_an_error(tmp_path, inpaint_model):
    # t09's data window lies left of its display window; growing to the right reveals none of it.
    settings = ExtendSettings(pad=Padding(0, 10, 0, 0), steps=2)
    with pytest.raises(PlateError, match="no filmed pixels to extend"):
        extend_plate(need(DISPLAYWINDOW) / "t09.exr", tmp_path, settings, model=inpaint_model)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("kind", ["inverse-view", "srgb"])
def test_the_border_goes_through_the_output_transform(tmp_path, kind):
    """The beachball's frame 3 extended: the filmed pixels bit for bit either way; the border is
    the model's picture through the inverse of the view (finite, up to the view's white) or as
    sRGB texture (up to 1.0); the header says which."""
    need(BEACHBALL)
    result = CliRunner().invoke(main, ["extend", str(BEACHBALL / "singlepart.0003.exr"), "-o", str(tmp_path),
                                       "--pad", ",".join(map(str, PAD)), *WORK, "--output-transform", kind])
    assert result.exit_code == 0, result.output
    plate_spec, plate_pixels = plate(3)
    spec, pixels = read_raw(tmp_path / "singlepart_ext.0003.exr")
    filmed = filmed_box(plate_spec, PAD[0], PAD[3])
    assert np.array_equal(bits(crop(pixels, spec, filmed)[..., :4]), bits(plate_pixels[..., :4]))
    border = pixels[..., :3][pixels[..., 4] > 0.5].astype(np.float32)
    assert border.size and np.isfinite(border).all()
    header = read_exr_header(tmp_path / "singlepart_ext.0003.exr")
    assert header["sora_vfx:output_transform"] == kind
    if kind == "srgb":
        assert border.max() <= 1.0 + 1e-3
    else:
        assert header["sora_vfx:view"] == "ACES 2.0 - SDR 100 nits (Rec.709)"
        assert 1.0 < border.max() <= 128.1  # the model's brightest border pixels are highlights
