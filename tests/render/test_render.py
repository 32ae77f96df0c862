"""Rendering edits with the built-in tiny model: frames, headers, pixels, determinism, resume."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest

from sora_vfx.editorial import EditOptions, read_edit
from sora_vfx.imaging import read_exr_header, read_exr_pixels
from sora_vfx.render import RenderSettings, render_edit
from tests.conftest import SAMPLES

EDL = SAMPLES / "sequence_24fps.edl"
FAST = dict(steps=2)


def render(edit, out, tiny_model, *, handles=2, **settings):
    reading = read_edit(edit, EditOptions(handles=handles))
    return render_edit(reading, out, RenderSettings(**{**FAST, **settings}), model=tiny_model, progress=False)


def frame_bits(path: Path) -> bytes:
    """The decoded pixels as raw half-float bits (files differ in their DateTime stamp)."""
    return read_exr_pixels(path).astype(np.float16).tobytes()


@pytest.fixture(scope="module")
def sample_render(tmp_path_factory, tiny_model):
    out = tmp_path_factory.mktemp("render")
    report = render(EDL, out, tiny_model)
    return out, report


def test_every_shot_gets_its_frames(sample_render):
    out, report = sample_render
    assert [r.status for r in report.results] == ["rendered"] * 4
    expected = {"LHT_0010": 24, "LHT_0020": 20, "LHT_0030": 28, "LHT_0040": 24}
    for shot, duration in expected.items():
        files = sorted(p.name for p in (out / shot).iterdir())
        numbers = list(range(1001, 1001 + duration + 4))
        assert files == [f"{shot}.{n:04d}.exr" for n in numbers]


def test_header_says_what_made_the_frame(sample_render):
    out, _ = sample_render
    header = read_exr_header(out / "LHT_0030" / "LHT_0030.1003.exr")
    assert header["channels"] == ("R", "G", "B", "A")
    assert header["pixel_type"] == "half"
    assert header["compression"] == "zip"
    assert (header["width"], header["height"]) == (64, 32)
    assert header["sora_vfx:colorspace"] == "ACEScg"
    assert header["oiio:ColorSpace"] == "lin_ap1_scene"
    assert header["chromaticities"] == pytest.approx((0.713, 0.293, 0.165, 0.830, 0.128, 0.044, 0.32168, 0.33767),
                                                     abs=1e-4)
    # Frame 1003 is the cut's first frame (handles 2): the event's source in, 09:12:00:00.
    assert header["timeCode"] == "09:12:00:00"
    assert header["framesPerSecond"] == 24
    assert header["sora_vfx:shot"] == "LHT_0030"
    assert header["sora_vfx:seed"] == "1234"
    assert header["sora_vfx:prompt"] == "the lighthouse keeper climbs a spiral staircase, lantern light"
    assert header["sora_vfx:model"] == "tiny"
    assert header["sora_vfx:steps"] == 2
    assert len(header["sora_vfx:job_hash"]) == 16
    assert header["software"].startswith("sora_vfx ")
    styled = read_exr_header(out / "LHT_0010" / "LHT_0010.1001.exr")
    assert styled["sora_vfx:style"] == "film"
    assert styled["sora_vfx:prompt"].endswith("shot on 35mm film, natural light, soft film grain, "
                                              "shallow depth of field")
    assert styled["timeCode"] == "14:02:09:22"


def test_pixels_are_finite_scene_linear(sample_render):
    out, _ = sample_render
    pixels = np.stack([read_exr_pixels(p) for p in sorted((out / "LHT_0020").glob("*.exr"))])
    assert np.isfinite(pixels).all()
    rgb, alpha = pixels[..., :3], pixels[..., 3]
    assert (alpha == 1).all()
    # The model's picture through the inverse of the ACES 2.0 SDR view: from about 0 up to the
    # view's white, 128 in ACEScg (tests/imaging/test_output_transform.py has the round trip).
    assert rgb.min() > -0.05 and rgb.max() <= 128.1
    assert rgb.std() > 0.05, "the tiny model should give varied pictures, not a flat frame"


def test_a_reader_we_did_not_write_reads_our_exr(sample_render):
    out, _ = sample_render
    frame = out / "LHT_0010" / "LHT_0010.1001.exr"
    if not shutil.which("exrheader"):
        pytest.fail("exrheader (Debian package openexr) is missing: run `make sysdeps`")
    header = subprocess.run(["exrheader", str(frame)], capture_output=True, text=True, check=True).stdout
    assert "timeCode (type timecode)" in header
    assert "framesPerSecond (type rational): 24/1" in header
    assert "chromaticities (type chromaticities)" in header
    assert "compression (type compression): zip" in header
    stats = subprocess.run(["oiiotool", "--stats", str(frame)], capture_output=True, text=True, check=True).stdout
    assert "NanCount: 0 0 0 0" in stats.replace("  ", " ")


def test_rendering_twice_is_bit_identical(sample_render, tmp_path, tiny_model):
    out, _ = sample_render
    render(EDL, tmp_path, tiny_model, shots=["LHT_0020"])
    for frame in sorted((out / "LHT_0020").glob("*.exr")):
        assert frame_bits(frame) == frame_bits(tmp_path / "LHT_0020" / frame.name), frame.name


def test_reordering_the_edit_keeps_a_shots_pixels(sample_render, tmp_path, tiny_model, write_edl):
    out, _ = sample_render
    reordered = write_edl("""
        TITLE: reordered
        001  A002C004 V     C        09:20:00:00 09:20:02:00 01:00:00:00 01:00:02:00
        * SHOT: LHT_0040
        * PROMPT: the lighthouse beam sweeps across fog at night
        002  A001C007 V     C        14:05:00:00 14:05:00:20 01:00:02:00 01:00:02:20
        * LOC: 01:00:02:05 YELLOW  LHT_0020
        * PROMPT: gulls circling over a cliff edge, overcast sky
    """)
    render(reordered, tmp_path, tiny_model)
    for frame in sorted((out / "LHT_0020").glob("*.exr")):
        assert frame_bits(frame) == frame_bits(tmp_path / "LHT_0020" / frame.name), frame.name


def test_resume_skips_complete_frames_and_replaces_bad_ones(sample_render, tmp_path, tiny_model):
    out, _ = sample_render
    shutil.copytree(out / "LHT_0030", tmp_path / "LHT_0030")
    frames = sorted((tmp_path / "LHT_0030").glob("*.exr"))
    frames[5].unlink()
    frames[20].write_bytes(frames[20].read_bytes()[:300])  # a torn frame from a crash
    report = render(EDL, tmp_path, tiny_model, shots=["LHT_0030"])
    result = report.results[0]
    assert (result.frames_written, result.frames_reused) == (2, 30)
    for frame in sorted((out / "LHT_0030").glob("*.exr")):
        assert frame_bits(frame) == frame_bits(tmp_path / "LHT_0030" / frame.name)
    again = render(EDL, tmp_path, tiny_model, shots=["LHT_0030"]).results[0]
    assert again.status == "skipped" and again.frames_written == 0
    forced = render(EDL, tmp_path, tiny_model, shots=["LHT_0030"], force=True).results[0]
    assert forced.frames_written == 32


def test_changed_settings_re_render(sample_render, tmp_path, tiny_model):
    out, _ = sample_render
    shutil.copytree(out / "LHT_0020", tmp_path / "LHT_0020")
    result = render(EDL, tmp_path, tiny_model, shots=["LHT_0020"], steps=3).results[0]
    assert result.frames_written == 24 and result.frames_reused == 0


def test_crossfaded_windows_join_without_a_jump(tmp_path, tiny_model, write_edl):
    """``--windows crossfade``: windows denoised apart, cross-faded in pixels where they overlap.
    (The other methods are measured on the trained shapes model: tests/render/test_long_shots.py.)"""
    long_edl = write_edl("""
        TITLE: long
        001  A001 V     C        10:00:00:00 10:00:04:00 01:00:00:00 01:00:04:00
        * SHOT: LONG_0010
        * PROMPT: a slow drift through clouds
    """)
    render(long_edl, tmp_path, tiny_model, handles=0, windows="crossfade")
    frames = np.stack([read_exr_pixels(p)[..., :3] for p in sorted((tmp_path / "LONG_0010").glob("*.exr"))])
    assert len(frames) == 96  # six windows of at most 17 frames
    steps = np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2, 3))
    from sora_vfx.render.windows import plan_windows

    windows = plan_windows(96, max_frames=tiny_model.max_frames, overlap=tiny_model.max_frames // 4, align=4)
    assert len(windows) >= 6
    joins = sorted({w.start for w in windows[1:]} | {w.end - 1 for w in windows[:-1]})
    join_steps = [steps[j - 1] for j in joins if 0 < j < len(steps)]
    others = np.delete(steps, [j - 1 for j in joins if 0 < j < len(steps)])
    # A jump at a join would stand out against the ordinary frame-to-frame change.
    limit = np.median(others) + 4 * np.median(np.abs(others - np.median(others))) + 1e-3
    assert max(join_steps) <= max(limit, np.percentile(others, 95)), (join_steps, np.median(others))


def test_conform_timeline_round_trips(sample_render):
    out, _ = sample_render
    timeline = otio.adapters.read_from_file(str(out / "renders.otio"))
    clips = [c for c in timeline.find_clips() if "sora_vfx" in c.metadata]
    assert [c.metadata["sora_vfx"]["shot"] for c in clips] == ["LHT_0010", "LHT_0020", "LHT_0030", "LHT_0040"]
    clip = clips[2]
    reference = clip.media_reference
    assert isinstance(reference, otio.schema.ImageSequenceReference)
    assert reference.start_frame == 1001 and reference.frame_zero_padding == 4
    assert reference.number_of_images_in_sequence() == 32
    first = Path(otio.url_utils.filepath_from_url(reference.target_url_for_image_number(0)))
    assert first == out.resolve() / "LHT_0030" / "LHT_0030.1001.exr" and first.exists()
    assert clip.source_range.start_time.value == 1003 and clip.source_range.duration.value == 28
    # The edit itself is unchanged: the same cut points as the EDL.
    original = otio.adapters.read_from_file(str(EDL), rate=24)
    cut = [c for c in original.video_tracks()[0].find_clips()
           if not isinstance(c.media_reference, otio.schema.GeneratorReference)]
    assert [c.duration().value for c in cut] == [c.duration().value for c in clips]
    assert timeline.duration() == original.duration()
    otiotool = Path(sys.executable).parent / "otiotool"
    done = subprocess.run([str(otiotool), "-i", str(out / "renders.otio"), "--list-clips", "--verify-ranges"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # Every rendered clip's cut lies inside its EXR sequence's frames.
    assert done.stdout.count("IN BOUNDS") == 4, done.stdout


def test_manifest_lists_every_shot(sample_render):
    out, _ = sample_render
    manifest = json.loads((out / "manifest.json").read_text())
    assert [s["name"] for s in manifest["shots"]] == ["LHT_0010", "LHT_0020", "LHT_0030", "LHT_0040"]
    entry = manifest["shots"][0]
    assert entry["status"] == "rendered" and entry["frames"]["count"] == 28
    assert entry["job_hash"] == read_exr_header(out / "LHT_0010" / "LHT_0010.1001.exr")["sora_vfx:job_hash"]
    assert entry["spec"]["seed"] == entry["seed"] and entry["seconds"] > 0
