"""Extending small plates written in code: headers, channels and types, blend, colour, resume,
other input formats, the command line's JSON and exit codes."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import OpenImageIO as oiio
import pytest
from click.testing import CliRunner

from sora_vfx.cli import main
from sora_vfx.imaging import OutputTransform, get_converter, read_exr_header, write_exr_frame
from sora_vfx.plates import ExtendSettings, Padding, extend_plate
from sora_vfx.plates.border import UP_FILTER, Prompting, generate_border
from sora_vfx.plates.geometry import Box, Layout

from .conftest import bits, generated_area, gradient, read_raw, write_plate

FAST = dict(steps=2, work_size=(64, 48))
REC709 = (0.64, 0.33, 0.30, 0.60, 0.15, 0.06, 0.3127, 0.3290)


def extend(plate, out, model, **settings):
    merged = {**FAST, "pad": Padding(8, 16, 4, 12), **settings}
    return extend_plate(plate, out, ExtendSettings(**merged), model=model, progress=False)


@pytest.fixture
def sequence(tmp_path) -> Path:
    """Three 48x32 half RGBA frames 1001-1003 with timecodes, a rate and Rec.709 primaries."""
    folder = tmp_path / "plates"
    folder.mkdir()
    for i, frame in enumerate((1001, 1002, 1003)):
        write_exr_frame(
            folder / f"bg.{frame}.exr", gradient(48, 32, seed=i),
            attributes={"timeCode": f"01:00:00:{i:02d}", "framesPerSecond": Fraction(24000, 1001),
                        "chromaticities": REC709, "oiio:ColorSpace": "lin_rec709_scene", "owner": "Plate Unit",
                        "capDate": "2026:03:01 10:00:00", "studio:take": "3B"},
        )
    return folder / "bg.####.exr"


def test_header_attributes_carry_over(sequence, tmp_path, inpaint_model):
    report = extend(sequence, tmp_path / "out", inpaint_model)
    assert report.written == [1001, 1002, 1003]
    for i, frame in enumerate((1001, 1002, 1003)):
        header = read_exr_header(tmp_path / "out" / f"bg_ext.{frame}.exr")
        assert header["timeCode"] == f"01:00:00:{i:02d}"  # each frame keeps its own
        assert header["framesPerSecond"] == Fraction(24000, 1001)
        assert header["chromaticities"] == pytest.approx(REC709, abs=1e-6)
        assert header["Copyright"] == "Plate Unit" and header["studio:take"] == "3B"  # OIIO's name for owner
        plate = read_exr_header(sequence.parent / f"bg.{frame}.exr")
        structure = {"width", "height", "channels", "data_window", "display_window", "oiio:RowsPerChunk"}
        assert {k: v for k, v in plate.items() if k not in structure} == {
            k: v for k, v in header.items() if k in plate and k not in structure}
        assert header["oiio:ColorSpace"] == "lin_rec709_scene"  # the plate's space, read from its header
        assert header["sora_vfx:plate_colorspace"] == get_converter().resolve("lin_rec709_scene")
        assert header["sora_vfx:plate_frame"] == frame
        assert header["sora_vfx:static"] == 0
        assert header["display_window"] == (0, 0, 47 + 24, 31 + 16)
        assert header["data_window"] == header["display_window"]


def test_resume_keeps_complete_frames_and_redoes_the_rest(sequence, tmp_path, inpaint_model):
    out = tmp_path / "out"
    first = extend(sequence, out, inpaint_model)
    assert (first.written, first.kept) == ([1001, 1002, 1003], [])
    assert extend(sequence, out, inpaint_model).kept == [1001, 1002, 1003]
    (out / "bg_ext.1002.exr").unlink()
    damaged = out / "bg_ext.1003.exr"
    damaged.write_bytes(damaged.read_bytes()[:500])
    again = extend(sequence, out, inpaint_model)
    assert (again.written, again.kept) == ([1002, 1003], [1001])
    assert extend(sequence, out, inpaint_model, force=True).written == [1001, 1002, 1003]
    assert extend(sequence, out, inpaint_model, prompt="a harbour").written == [1001, 1002, 1003]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_static_generates_once_from_the_reference_frame(sequence, tmp_path, inpaint_model):
    out = tmp_path / "out"
    report = extend(sequence, out, inpaint_model, static=True, ref_frame=1002)
    assert report.written == [1001, 1002, 1003]
    frames = [read_raw(out / f"bg_ext.{f}.exr")[1] for f in (1001, 1002, 1003)]
    top = (slice(0, 12), slice(None))
    assert np.array_equal(bits(frames[0][top]), bits(frames[1][top]))
    assert np.array_equal(bits(frames[0][top]), bits(frames[2][top]))
    moving = extend(sequence, tmp_path / "moving", inpaint_model)
    assert moving.written == [1001, 1002, 1003]
    # The reference frame's own output is the same either way: same noise, same picture.
    static_ref = read_raw(out / "bg_ext.1002.exr")[1]
    moving_ref = read_raw(tmp_path / "moving" / "bg_ext.1002.exr")[1]
    assert np.array_equal(bits(static_ref), bits(moving_ref))


def test_mixed_channel_types_and_extra_channels(tmp_path, inpaint_model):
    """RGBA half, Z float, a second view: kept with --keep-channels, each in its own type."""
    height, width = 24, 40
    rgba = gradient(width, height)
    depth = np.linspace(1.0, 100.0, height * width, dtype=np.float32).reshape(height, width, 1)
    left = gradient(width, height, 3, seed=5)[..., :1]
    pixels = np.concatenate([rgba, depth, left], axis=2)
    names = ("R", "G", "B", "A", "Z", "left.R")
    spec = oiio.ImageSpec(width, height, 6, "float")
    spec.channelnames = names
    spec.channelformats = tuple(oiio.TypeDesc(t) for t in ("half", "half", "half", "half", "float", "half"))
    spec.attribute("multiView", oiio.TypeDesc("string[2]"), ("right", "left"))
    path = tmp_path / "stereo.0001.exr"
    out = oiio.ImageOutput.create(str(path))
    assert out.open(str(path), spec) and out.write_image(pixels) and out.close()
    _, plate = read_raw(path)

    kept = extend(path, tmp_path / "kept", inpaint_model, keep_extra_channels=True)
    assert kept.channels == ("R", "G", "B", "A", "mask", "Z", "left.R")
    result_spec, result = read_raw(tmp_path / "kept" / "stereo_ext.0001.exr")
    types = dict(zip(result_spec.channelnames, (str(t) for t in result_spec.channelformats), strict=True))
    assert types == {"R": "half", "G": "half", "B": "half", "A": "half", "Z": "float", "left.R": "half",
                     "mask": "half"}
    filmed = result[12:12 + height, 8:8 + width]
    order = [list(result_spec.channelnames).index(n) for n in names]
    assert np.array_equal(filmed[..., order], plate)  # float32 holds every half exactly
    assert np.all(result[:12][..., order[4:]] == 0)
    assert result_spec.getattribute("multiView") == ("right", "left")

    dropped = extend(path, tmp_path / "dropped", inpaint_model)
    assert dropped.dropped_channels == ("Z", "left.R")
    header = read_exr_header(tmp_path / "dropped" / "stereo_ext.0001.exr")
    assert header["channels"] == ("R", "G", "B", "A", "mask") and header["pixel_type"] == "half"
    assert header["sora_vfx:dropped_channels"] == "Z,left.R"
    assert "multiView" not in header


def test_float_and_three_channel_plates(tmp_path, inpaint_model):
    rgb = gradient(40, 30, 3)
    rgb[3, 4] = [np.nan, np.inf, -0.0]
    path = write_plate(tmp_path / "f.exr", rgb, channels=("R", "G", "B"), pixel_type="float")
    extend(path, tmp_path / "out", inpaint_model)
    spec, pixels = read_raw(tmp_path / "out" / "f_ext.exr")
    assert pixels.dtype == np.float32
    filmed = pixels[12:42, 8:48]
    assert np.array_equal(bits(filmed[..., :3]), bits(rgb))  # NaN, inf and -0 included
    assert np.all(filmed[..., 3] == 1) and np.all(filmed[..., 4] == 0)
    assert np.all(np.isfinite(pixels[:12]))


def test_blend_feathers_only_the_generated_side(tmp_path, inpaint_model):
    path = write_plate(tmp_path / "p.exr", gradient(64, 48))
    pad = Padding(0, 0, 0, 16)
    extend(path, tmp_path / "hard", inpaint_model, pad=pad)
    extend(path, tmp_path / "soft", inpaint_model, pad=pad, blend=6)
    hard = read_raw(tmp_path / "hard" / "p_ext.exr")[1].astype(np.float32)
    soft = read_raw(tmp_path / "soft" / "p_ext.exr")[1].astype(np.float32)
    assert np.array_equal(soft[16:], hard[16:])  # filmed rows untouched
    assert np.array_equal(soft[:16 - 6], hard[:16 - 6])  # beyond the feather: as generated
    edge = hard[16, :, :3]  # the first filmed row
    # The generated row next to the seam moves most of the way to the filmed edge.
    assert np.abs(soft[15, :, :3] - edge).mean() < 0.25 * np.abs(hard[15, :, :3] - edge).mean()
    assert np.abs(soft[10, :, :3] - edge).mean() > np.abs(soft[15, :, :3] - edge).mean()
    assert np.all(soft[:16, :, 4] == 1)  # feathered pixels are still generated ones


@pytest.mark.parametrize("kind", ["inverse-view", "srgb"])
def test_colour_goes_through_ocio_for_the_generated_part_only(inpaint_model, kind):
    """A flat ACEScg plate: the model sees it through the output transform forward (the view, or
    sRGB texture); the border is the model's picture through the transform back."""
    converter = get_converter()
    transform = OutputTransform.resolve(kind)
    colour = np.array([0.18, 0.09, 0.03], np.float32)
    rgb = np.broadcast_to(colour, (30, 40, 3)).copy()
    layout = Layout.build(Box(0, 0, 40, 30), Padding(24, 0, 0, 0))
    border = generate_border(
        layout=layout, filmed=layout.filmed(Box(0, 0, 40, 30)), rgb=rgb, model=inpaint_model,
        work_size=(32, 16), prompting=Prompting("", "", 2, 5.0, 3), transform=transform, colorspace="ACEScg",
    )
    if kind == "srgb":
        expected = converter.convert(colour[None], src="ACEScg", dst="srgb_tx")[0]
    else:
        expected = converter.apply_view(colour[None], colorspace="ACEScg", display=transform.display,
                                        view=transform.view, inverse=False)[0]
    known = border.model_mask == 0
    assert known.sum() > 100
    assert np.allclose(border.model_input[known], expected, atol=1e-5)
    assert np.all(border.model_mask[:, :8] == 1)  # the model's left third is to be generated
    [(box, pixels)] = border.strips
    assert box == Box(0, 0, 24, 30)
    back = transform.to_scene(border.model_output, "ACEScg")
    full = oiio.ROI(0, 64, 0, 30, 0, 1, 0, 3)  # the new frame: 40 + 24 wide
    upsized = oiio.ImageBufAlgo.resize(oiio.ImageBuf(back), filtername=UP_FILTER, roi=full)
    assert np.allclose(pixels, upsized.get_pixels(oiio.FLOAT)[:, :24], atol=1e-6)


def test_plate_colorspace_option_changes_the_border_not_the_plate(tmp_path, inpaint_model):
    path = write_plate(tmp_path / "p.exr", gradient(48, 32))
    extend(path, tmp_path / "cg", inpaint_model)
    extend(path, tmp_path / "709", inpaint_model, plate_colorspace="lin_rec709_scene")
    cg = read_raw(tmp_path / "cg" / "p_ext.exr")[1]
    rec = read_raw(tmp_path / "709" / "p_ext.exr")[1]
    assert np.array_equal(bits(cg[12:44, 8:56]), bits(rec[12:44, 8:56]))
    assert not np.array_equal(cg[:12], rec[:12])
    assert read_exr_header(tmp_path / "709" / "p_ext.exr")["oiio:ColorSpace"] == "lin_rec709_scene"


@pytest.mark.parametrize("extension, bits_per_sample", [("tif", 16), ("dpx", 10), ("png", 8)])
def test_other_formats_come_out_as_float_exr(tmp_path, inpaint_model, extension, bits_per_sample):
    rng = np.random.default_rng(1)
    top = 2**bits_per_sample - 1
    codes = rng.integers(0, top + 1, (20, 30, 3)).astype(np.uint16)
    path = tmp_path / f"scan.0100.{extension}"
    spec = oiio.ImageSpec(30, 20, 3, "uint8" if bits_per_sample == 8 else "uint16")
    spec.attribute("oiio:BitsPerSample", bits_per_sample)
    out = oiio.ImageOutput.create(str(path))
    stored = codes.astype(np.uint8) if bits_per_sample == 8 else codes << (16 - bits_per_sample)
    assert out.open(str(path), spec) and out.write_image(stored) and out.close()
    decoded = oiio.ImageBuf(str(path)).get_pixels(oiio.FLOAT)
    extend(path, tmp_path / "out", inpaint_model, plate_colorspace="srgb_tx")
    header = read_exr_header(tmp_path / "out" / "scan_ext.0100.exr")
    assert header["pixel_type"] == "float" and header["compression"] == "zip"
    filmed = read_raw(tmp_path / "out" / "scan_ext.0100.exr")[1][12:32, 8:38]
    assert np.array_equal(bits(filmed[..., :3]), bits(decoded))  # OIIO's own decode, exactly
    assert np.array_equal(np.round(filmed[..., :3] * top).astype(np.uint16), codes)  # the code values


def test_command_line_json_and_exit_code_when_a_frame_cannot_be_written(sequence, tmp_path, inpaint_model,
                                                                        monkeypatch):
    # The session's model, loaded through the real loader, instead of loading it again.
    monkeypatch.setattr("sora_vfx.plates.extend.load_plate_model", lambda *a, **k: inpaint_model)
    out = tmp_path / "out"
    (out / "bg_ext.1002.exr").mkdir(parents=True)  # a folder where a frame should go
    result = CliRunner().invoke(main, ["extend", str(sequence), "-o", str(out), "--to-size", "64x40",
                                       "--anchor", "top-left", "--json", "--steps", "2", "--work-size", "64x40"])
    assert result.exit_code == 1, result.output
    summary = json.loads(result.stdout)
    assert summary["status"] == "failed" and summary["written"] == 2
    assert summary["failed"][0]["frame"] == 1002 and "bg_ext.1002.exr" in summary["failed"][0]["error"]
    assert summary["display_window"] == [0, 0, 63, 39] and summary["offset"] == [0, 0]
    assert (out / "bg_ext.1001.exr").is_file() and (out / "bg_ext.1003.exr").is_file()
    assert "Traceback" not in result.output
    text = CliRunner().invoke(main, ["extend", str(sequence), "-o", str(tmp_path / "again"), "--pad", "0,8,0,0",
                                     "--steps", "2", "--work-size", "64x40"])
    assert text.exit_code == 0, text.output
    assert "3 written, 0 kept, 0 failed" in text.stdout


def test_model_folder(tmp_path, sequence):
    from sora_vfx.models.tiny_inpaint import ensure_tiny_inpaint_model

    folder = ensure_tiny_inpaint_model(tmp_path / "cache")
    result = CliRunner().invoke(main, ["extend", str(sequence).replace("####", "1001-1001#"), "-o",
                                       str(tmp_path / "out"), "--pad", "4,4,4,4", "--model", str(folder),
                                       "--steps", "2", "--work-size", "48x40", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["model"] == str(folder)
    assert read_exr_header(tmp_path / "out" / "bg_ext.1001.exr")["sora_vfx:model"] == str(folder)


def test_generated_area_helper_matches_the_layout():
    spec = oiio.ImageSpec(10, 8, 1, "half")
    spec.full_width, spec.full_height = 10, 8
    area = generated_area(spec, (2, 0, 8, 8), (2, 2, 4, 4))
    assert area.sum() == 16 and area[:, :2].all()
