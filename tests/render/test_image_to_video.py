"""Image-to-video models take the shot's reference image as the first frame's conditioning."""

from __future__ import annotations

import json

import numpy as np
import OpenImageIO as oiio
from click.testing import CliRunner

from sora_vfx.cli import main
from sora_vfx.imaging import read_exr_header, read_exr_pixels

EDL = """TITLE: i2v
001  A001 V     C        10:00:00:00 10:00:00:05 01:00:00:00 01:00:00:05
* SHOT: REF_0010
* PROMPT: waves rolling in
{reference}"""


def write_png(path, colour):
    pixels = np.zeros((24, 40, 3), np.uint8)
    pixels[:] = colour
    pixels[:, :20] = 255 - np.array(colour, np.uint8)
    buf = oiio.ImageBuf(oiio.ImageSpec(40, 24, 3, oiio.UINT8))
    buf.set_pixels(oiio.ROI(), pixels)
    assert buf.write(str(path))


def render(tmp_path, name, reference_line):
    edl = tmp_path / f"{name}.edl"
    edl.write_text(EDL.format(reference=reference_line))
    return CliRunner().invoke(main, ["render", str(edl), "-o", str(tmp_path / name), "--model", "tiny-i2v",
                                     "--handles", "0", "--size", "32x32", "--steps", "2", "--json"])


def test_reference_image_conditions_the_render(tmp_path):
    write_png(tmp_path / "red.png", (200, 30, 30))
    write_png(tmp_path / "blue.png", (30, 30, 200))
    red = render(tmp_path, "red", "* REFERENCE: red.png\n")
    blue = render(tmp_path, "blue", "* REFERENCE: blue.png\n")
    assert red.exit_code == 0, red.output
    assert blue.exit_code == 0, blue.output
    assert json.loads(red.stdout)["shots"][0]["frames_written"] == 5
    frame = "REF_0010/REF_0010.1001.exr"
    a, b = read_exr_pixels(tmp_path / "red" / frame), read_exr_pixels(tmp_path / "blue" / frame)
    assert np.isfinite(a).all() and np.abs(a - b).mean() > 1e-4, "the reference image must change the pictures"
    assert read_exr_header(tmp_path / "red" / frame)["sora_vfx:job_hash"] != read_exr_header(
        tmp_path / "blue" / frame)["sora_vfx:job_hash"]


def test_image_to_video_without_reference_is_bad_input(tmp_path):
    result = render(tmp_path, "none", "")
    assert result.exit_code == 2
    assert "shot REF_0010: model tiny-i2v is image-to-video and needs a reference image" in result.stderr


def test_unreadable_reference(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    result = render(tmp_path, "broken", "* REFERENCE: broken.png\n")
    assert result.exit_code == 2
    assert "reference image" in result.stderr and "broken.png: cannot read" in result.stderr
