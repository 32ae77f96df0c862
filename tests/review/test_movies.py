"""Preview movies decoded with PyAV: frame counts, rate, size, burn-ins; thumbnails tone-mapped
through the OCIO view transform, not clipped."""

from __future__ import annotations

import json
from fractions import Fraction

import av
import numpy as np
import PyOpenColorIO as ocio
import pytest
from click.testing import CliRunner
from PIL import Image

from sora_vfx.cli import main
from sora_vfx.imaging import PINNED_CONFIG, read_exr_pixels
from sora_vfx.review.burnins import BurnInLayout, compose, top_bar
from sora_vfx.review.display import DisplayTransform, preview_size, resize

# 32x32 renders are enlarged 15x to 480x480 with a 22-pixel burn-in bar above and below.
LAYOUT = BurnInLayout.for_picture(480, 480)
BAR = np.array([16, 16, 16])


def decode(path):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        info = {"codec": stream.codec_context.name, "rate": stream.average_rate,
                "size": (stream.codec_context.width, stream.codec_context.height),
                "comment": container.metadata.get("comment", "")}
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
    return info, frames


def region(frame, box):
    x0, y0, x1, y1 = box
    return frame[y0:y1, x0:x1].astype(np.int16)


def red_pixels(area) -> int:
    return int(np.sum((area[..., 0] > 150) & (area[..., 1] < 90) & (area[..., 2] < 90)))


def test_layout_of_a_32_pixel_render():
    assert preview_size(32, 32, min_width=480, max_width=1920) == (480, 480)
    assert LAYOUT.frame_size == (480, 524)


def test_each_shot_movie_has_the_shots_frames_at_the_edit_rate(reviewed):
    out, report = reviewed
    manifest = {s["name"]: s for s in json.loads((out / "manifest.json").read_text())["shots"]}
    for shot in report.shots:
        info, frames = decode(out / "review" / shot.movie)
        assert info["codec"] == "h264"
        assert len(frames) == manifest[shot.name]["frames"]["count"]
        assert info["rate"] == Fraction(24)
        assert info["size"] == LAYOUT.frame_size and frames[0].shape == (524, 480, 3)
        assert info["comment"].startswith("AI GENERATED (trainedAlgorithmicMedia) by sora_vfx; model tiny")


def test_edit_movie_runs_with_the_edit(reviewed):
    out, report = reviewed
    info, frames = decode(report.edit_movie)
    # Four cuts of 24, 20, 28 and 24 frames, and the 12-frame black event before the last.
    assert len(frames) == 24 + 20 + 28 + 12 + 24
    assert info["rate"] == Fraction(24) and info["size"] == LAYOUT.frame_size
    gap = frames[24 + 20 + 28 + 5]
    assert region(gap, LAYOUT.picture_box()).max() < 20  # black picture
    assert red_pixels(region(gap, LAYOUT.top_box())) == 0  # no AI mark on black
    assert red_pixels(region(frames[0], LAYOUT.top_box())) > 50


def test_burn_ins_are_in_the_bars_and_the_picture_is_clean(reviewed):
    out, _ = reviewed
    _, frames = decode(out / "review" / "movies" / "LHT_0030.mp4")
    picture = DisplayTransform()(read_exr_pixels(out / "LHT_0030" / "LHT_0030.1001.exr"), "ACEScg")
    blank = np.broadcast_to(BAR, (LAYOUT.bar, LAYOUT.width, 3)).astype(np.uint8)
    clean = compose(blank, resize(picture, (480, 480)), blank).astype(np.int16)
    first = frames[0].astype(np.int16)
    # The picture survives H.264 closely; the bars carry text that the clean frame lacks.
    assert np.abs(region(first, LAYOUT.picture_box()) - region(clean, LAYOUT.picture_box())).mean() < 4
    for box in (LAYOUT.top_box(), LAYOUT.bottom_box()):
        differs = np.abs(region(first, box) - region(clean, box)).max(axis=-1) > 60
        assert differs.mean() > 0.01, box
    assert red_pixels(region(first, LAYOUT.top_box())) > 50  # the red AI GENERATED mark
    # The frame number and timecode change from frame to frame.
    bottom = [region(frame, LAYOUT.bottom_box()) for frame in frames[:2]]
    assert np.abs(bottom[0] - bottom[1]).max() > 60


def test_the_ai_mark_can_be_turned_off(render_copy):
    (render_copy / "sora_vfx.toml").write_text("[review]\nai_mark = false\n")
    result = CliRunner().invoke(main, ["review", str(render_copy), "--config", str(render_copy / "sora_vfx.toml")])
    assert result.exit_code == 0, result.output
    _, frames = decode(render_copy / "review" / "movies" / "LHT_0010.mp4")
    assert red_pixels(region(frames[0], LAYOUT.top_box())) == 0
    off, on = top_bar(LAYOUT, "LHT_0010", ai_mark=False), top_bar(LAYOUT, "LHT_0010", ai_mark=True)
    assert (off[:, LAYOUT.width // 2:] == BAR).all() and red_pixels(on.astype(np.int16)) > 50


@pytest.mark.parametrize("frame", [1001, 1014, 1028])
def test_thumbnails_use_the_ocio_view_transform_not_a_clip(reviewed, frame):
    out, _ = reviewed
    thumb = np.asarray(Image.open(out / "review" / "thumbs" / f"LHT_0030.{frame}.jpg").convert("RGB"))
    assert thumb.shape == (160, 160, 3)  # 32 pixels enlarged 5x
    linear = read_exr_pixels(out / "LHT_0030" / f"LHT_0030.{frame}.exr")[..., :3].copy()
    config = ocio.Config.CreateFromFile(PINNED_CONFIG)

    def through(processor) -> np.ndarray:
        rgb = linear.copy()
        processor.getDefaultCPUProcessor().applyRGB(rgb)
        display = (np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.int16)
        return np.repeat(np.repeat(display, 5, axis=0), 5, axis=1)

    view = through(config.getProcessor(ocio.DisplayViewTransform(
        src="ACEScg", display="sRGB - Display", view="ACES 2.0 - SDR 100 nits (Rec.709)")))
    clipped = through(config.getProcessor("ACEScg", "sRGB Encoded Rec.709 (sRGB)"))
    assert np.abs(thumb - view).mean() < 3
    assert np.abs(thumb - clipped).mean() > 8
