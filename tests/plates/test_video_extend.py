"""The video path: the shipped ``shapes`` outpainting model fills the whole shot's border at once.

Plates come from the shapes world, so the border is measured against what the world has there
(``sora_vfx.eval.plates``): the object that leaves the filmed area is found in the border, the
seam shows no colour step, and the filmed pixels stay bit for bit.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from sora_vfx.cli import main
from sora_vfx.eval.plates import (
    FLICKER_TARGET,
    SEAM_TARGET,
    measure_extension,
    plate_cases,
    summarize_plates,
    write_case_plate,
)
from sora_vfx.imaging import OutputTransform, get_converter, read_exr_header
from sora_vfx.imaging.images import read_display_frames
from sora_vfx.plates import ExtendSettings, ExtensionPath, Padding, extend_plate, load_plate_model

from .conftest import bits, read_raw

STEPS = 8


@pytest.fixture(scope="module")
def shapes_outpaint():
    return load_plate_model("shapes", device="cpu")


@pytest.fixture(scope="module")
def transform():
    return OutputTransform.resolve("inverse-view")


def write_case(case, folder: Path, transform) -> str:
    return write_case_plate(case, folder, transform=transform, colorspace=get_converter().resolve("ACEScg"))


def extend_case(case, plate: str, out: Path, model, **settings):
    left, right, bottom, top = case.pad
    merged = dict(pad=Padding(left, right, bottom, top), model="shapes", prompt=case.prompt, steps=STEPS, **settings)
    return extend_plate(plate, out, ExtendSettings(**merged), model=model, progress=False)


def pictures(out: Path, report) -> np.ndarray:
    return read_display_frames(sorted(out.glob("*.exr")), colorspace=report.colorspace)


def test_the_whole_shot_at_once_keeps_the_filmed_pixels(tmp_path, shapes_outpaint, transform):
    case = plate_cases(1, seed=3)[0]
    plate = write_case(case, tmp_path / "plate", transform)
    report = extend_case(case, plate, tmp_path / "out", shapes_outpaint)
    assert report.status == "extended" and len(report.written) == 25 and report.path is ExtensionPath.VIDEO
    assert report.windows == [(1001, 1025)]
    header = read_exr_header(tmp_path / "out" / f"{case.name}_ext.1013.exr")
    assert header["sora_vfx:extend_path"] == "video"
    assert header["sora_vfx:windows"] == "1001-1025"
    assert header["sora_vfx:colour_match"] == 1
    assert len(header["sora_vfx:colour_gain"].split(",")) == 3
    brightest = max(float(read_raw(Path(plate.replace("####", str(f))))[1][..., :3].max()) for f in range(1001, 1026))
    assert header["sora_vfx:plate_brightest"] == pytest.approx(brightest, rel=1e-6)
    highlights = report.to_dict()["highlights"]
    assert highlights["plate_brightest"] == pytest.approx(brightest, rel=1e-6)
    assert highlights["limit"] == pytest.approx(1.5 * brightest, rel=1e-6)
    assert header["sora_vfx:model"] == "shapes-outpaint"  # the twin that ran, as render names shapes-i2v
    spec, out = read_raw(tmp_path / "out" / f"{case.name}_ext.1013.exr")
    _, filmed = read_raw(Path(plate.replace("####", "1013")))
    left = case.pad[0]
    assert np.array_equal(bits(out[:, left:left + case.box.width, :4]), bits(filmed))
    assert (out[:, left:left + case.box.width, 4] == 0).all() and (out[:, :left, 4] == 1).all()
    assert np.isfinite(out).all()


def test_the_measure_finds_what_the_world_has_in_the_border():
    """The yardstick itself: the world's own full frames find every object in the border with
    no step at the seam; a border frozen on the first frame loses the objects that move."""
    cases = [case for case in plate_cases(6, seed=0) if case.kind != "still"]
    truth = summarize_plates([measure_extension(case, case.clip.frames) for case in cases])
    assert truth["border_frames"] >= 30 and truth["found"] == 1.0
    assert truth["seam_ratio"] <= SEAM_TARGET
    frozen = []
    for case in cases:
        frames = case.clip.frames.copy()
        left, right = case.box.x, case.box.x + case.box.width
        frames[:, :, :left] = frames[:1, :, :left]
        frames[:, :, right:] = frames[:1, :, right:]
        frozen.append(measure_extension(case, frames))
    assert summarize_plates(frozen)["found"] < 0.5


def test_a_still_plate_border_holds_as_still_as_the_plate(tmp_path, shapes_outpaint, transform):
    """The issue's flicker figure on short plates: the border changes from frame to frame no
    more than 1.2 times the filmed plate's own grain does."""
    cases = [case for case in plate_cases(6, seed=0) if case.kind == "still"]
    measures = []
    for case in cases:
        plate = write_case(case, tmp_path / "plates" / case.name, transform)
        report = extend_case(case, plate, tmp_path / "video" / case.name, shapes_outpaint)
        measures.append(measure_extension(case, pictures(tmp_path / "video" / case.name, report)))
    assert summarize_plates(measures)["flicker_ratio"] <= FLICKER_TARGET, [m.to_dict() for m in measures]


def test_a_long_plate_is_denoised_in_windows_and_resumes_bit_for_bit(tmp_path, shapes_outpaint, transform):
    case = plate_cases(2, seed=5, frames=41)[1]
    plate = write_case(case, tmp_path / "plate", transform)
    out = tmp_path / "out"
    report = extend_case(case, plate, out, shapes_outpaint)
    assert report.windows == [(1001, 1025), (1017, 1041)] and len(report.written) == 41
    first = {path.name: path.read_bytes() for path in out.glob("*.exr")}
    for frame in (1003, 1030):
        (out / f"{case.name}_ext.{frame}.exr").unlink()
    again = extend_case(case, plate, out, shapes_outpaint)
    assert again.written == [1003, 1030] and len(again.kept) == 39
    assert {path.name: path.read_bytes() for path in out.glob("*.exr")} == first


def test_static_and_per_frame_use_the_frame_path(tmp_path, shapes_outpaint, transform):
    case = plate_cases(3, seed=1, frames=5)[2]
    plate = write_case(case, tmp_path / "plate", transform)
    static = extend_case(case, plate, tmp_path / "static", shapes_outpaint, static=True)
    assert static.path is ExtensionPath.STATIC and static.to_dict()["path"] == "frame" and not static.windows
    header = read_exr_header(tmp_path / "static" / f"{case.name}_ext.1003.exr")
    assert header["sora_vfx:extend_path"] == "frame" and header["sora_vfx:static"] == 1
    _, one = read_raw(tmp_path / "static" / f"{case.name}_ext.1001.exr")
    _, three = read_raw(tmp_path / "static" / f"{case.name}_ext.1003.exr")
    assert np.array_equal(one[:, :case.pad[0]], three[:, :case.pad[0]])  # one border for every frame
    per_frame = extend_case(case, plate, tmp_path / "frame", shapes_outpaint, per_frame=True)
    assert per_frame.path is ExtensionPath.PER_FRAME and per_frame.to_dict()["path"] == "frame"
    assert per_frame.to_dict()["colour_gain"] is None and per_frame.to_dict()["highlights"] is None


def test_command_line(tmp_path, transform):
    case = plate_cases(1, seed=2, frames=5)[0]
    plate = write_case(case, tmp_path / "plate", transform)
    runner = CliRunner()
    pad = ",".join(map(str, case.pad))
    result = runner.invoke(main, [
        "extend", plate, "-o", str(tmp_path / "out"), "--pad", pad, "--model", "shapes", "--steps", "2",
        "--prompt", case.prompt, "--no-colour-match", "--device", "cpu", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["path"] == "video" and document["windows"] == [[1001, 1005]]
    assert document["colour_gain"] is None and document["highlights"] is None and document["written"] == 5
    assert read_exr_header(tmp_path / "out" / f"{case.name}_ext.1001.exr")["sora_vfx:colour_match"] == 0
    refused = runner.invoke(main, ["extend", plate, "-o", str(tmp_path / "tiny"), "--pad", pad, "--per-frame"])
    assert refused.exit_code == 2 and "per_frame: model tiny is an image inpainting model" in refused.stderr
    assert not (tmp_path / "tiny").exists()


def test_render_refuses_the_outpainting_model(tmp_path, write_edl):
    edl = write_edl("TITLE: T\n\n001  AX       V     C        00:00:00:00 00:00:00:09 01:00:00:00 01:00:00:09\n")
    result = CliRunner().invoke(main, ["render", str(edl), "-o", str(tmp_path / "out"), "--model", "shapes-outpaint"])
    assert result.exit_code == 2, result.output
    assert "video outpainting model" in result.stderr and "sora-vfx extend" in result.stderr
    assert "Traceback" not in result.output


def test_a_damaged_frame_stops_the_video_path_before_anything_is_written(tmp_path, transform):
    case = plate_cases(1, seed=4, frames=9)[0]
    plate = write_case(case, tmp_path / "plate", transform)
    damaged = Path(plate.replace("####", "1006"))
    data = damaged.read_bytes()
    damaged.write_bytes(data[:len(data) * 2 // 3])  # the header reads; the last pixel chunks are gone
    result = CliRunner().invoke(main, ["extend", plate, "-o", str(tmp_path / "out"), "--pad",
                                       ",".join(map(str, case.pad)), "--model", "shapes", "--steps", "2"])
    assert result.exit_code == 2, result.output
    assert str(damaged) in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_the_border_keeps_the_plates_highlights(tmp_path, shapes_outpaint, transform):
    """Issue 15: a plate whose white object is a scene-linear highlight, extended through the
    view's inverse, has highlights in the border too, not clipped at display white; through sRGB
    texture, the model's border stops at 1.0.

    Issue 15 asked for the border's 99.9th percentile within 2x of the plate's. The fourth shapes
    model's outpainting variant drew the continued white object whiter than the plate's, which
    the view's inverse turned into 2.6x here without the colour anchor (the fifth: 1.4x); the
    anchor rolls the border's highlights off above the plate's brightest value, towards 1.5x it
    (docs/benchmarks.md#highlights; the roll-off itself is tested in test_anchor.py)."""
    from sora_vfx.eval.plates import highlight_range

    case = plate_cases(1, seed=7, kinds=("crossing",), colour="white")[0]
    plate = write_case(case, tmp_path / "plate", transform)
    plate_files = sorted((tmp_path / "plate").glob("*.exr"))
    figures = {}
    runs = {"inverse-view": dict(output_transform="inverse-view"),
            "unanchored": dict(output_transform="inverse-view", colour_match=False),
            # Without the colour anchor, whose gain (up to 2x) would lift an sRGB border past 1.0.
            "srgb": dict(output_transform="srgb", colour_match=False)}
    for kind, options in runs.items():
        extend_case(case, plate, tmp_path / kind, shapes_outpaint, **options)
        figures[kind] = highlight_range(plate_files, sorted((tmp_path / kind).glob("*.exr")))
    plate_p, border_p = figures["inverse-view"]
    assert plate_p > 2.0  # the white object is a highlight in the plate
    assert plate_p / 2 <= border_p <= plate_p * 2, figures  # highlights, neither clipped nor blown out
    assert border_p <= plate_p * 1.6, figures  # rolled off towards 1.5x (resizing rings a little past)
    assert figures["unanchored"][1] > plate_p, figures  # the model alone draws the white past the plate's
    assert figures["srgb"][1] <= 1.0 + 1e-3 < plate_p / 2
