"""``extend --mask``: filmed pixels under a matte are generated too; everywhere else they stay
bit for bit, and the output's mask channel says which pixels were generated and how much."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from sora_vfx.cli import main
from sora_vfx.imaging import read_exr_header
from sora_vfx.plates import ExtendSettings, ExtensionPath, Padding, extend_plate, load_plate_model

from .conftest import bits, gradient, read_raw, write_plate

PAD = Padding(8, 8, 0, 0)
FAST = dict(steps=2, work_size=(64, 32), pad=PAD)
# The matte: a hard 6x5 square (a rig) and a soft column of 0.5 (a lens edge), plate coordinates.
SQUARE = (slice(10, 15), slice(20, 26))
SOFT = (slice(0, 32), slice(45, 48))


def plate_sequence(folder, frames=(1, 2, 3)):
    folder.mkdir(exist_ok=True)
    for index, frame in enumerate(frames):
        write_plate(folder / f"bg.{frame:04d}.exr", gradient(48, 32, seed=index))
    return folder / "bg.####.exr"


def matte(value_square: float = 1.0, soft: float = 0.5) -> np.ndarray:
    alpha = np.zeros((32, 48, 1), np.float32)
    alpha[SQUARE] = value_square
    alpha[SOFT] = soft
    return alpha


def write_matte(path, alpha: np.ndarray, **kwargs):
    return write_plate(path, alpha, channels=("A",), pixel_type="float", **kwargs)


def out_frame(out, frame):
    spec, pixels = read_raw(out / f"bg_ext.{frame:04d}.exr")
    names = list(spec.channelnames)
    return pixels, names


def test_filmed_pixels_under_the_matte_are_generated_the_rest_kept_bit_for_bit(tmp_path, inpaint_model):
    plate = plate_sequence(tmp_path / "plates")
    mask = write_matte(tmp_path / "matte.exr", matte())  # one frame for every plate frame
    out = tmp_path / "out"
    report = extend_plate(plate, out, ExtendSettings(**FAST, mask=mask), model=inpaint_model, progress=False)
    assert report.written == [1, 2, 3]

    for index, frame in enumerate((1, 2, 3)):
        pixels, names = out_frame(out, frame)
        filmed = pixels[:, 8:56]  # the plate, 8 pixels in from the left
        source = gradient(48, 32, seed=index).astype(np.float16)
        weight = filmed[..., names.index("mask")].astype(np.float32)
        clear = np.ones((32, 48), bool)
        clear[SQUARE] = clear[SOFT] = False
        assert np.array_equal(bits(filmed[..., :4][clear]), bits(source[clear]))  # untouched, bit for bit
        assert np.all(weight[clear] == 0)
        assert np.all(weight[SQUARE] == 1) and np.allclose(weight[SOFT], 0.5)
        # Under the square the picture is the model's, not the plate's.
        assert not np.allclose(filmed[SQUARE][..., :3], source[SQUARE][..., :3], atol=1e-2)
        assert np.all(filmed[SQUARE][..., 3] == 1)
        # The soft column is half plate, half generated.
        assert not np.allclose(filmed[SOFT][..., :3], source[SOFT][..., :3], atol=1e-3)
        assert np.all(pixels[:, :8, names.index("mask")] == 1)  # the border, as always
        header = read_exr_header(out / f"bg_ext.{frame:04d}.exr")
        assert header["sora_vfx:mask_input"] == str(mask)


def test_a_matte_per_frame_and_its_job_hash(tmp_path, inpaint_model):
    plate = plate_sequence(tmp_path / "plates")
    folder = tmp_path / "mattes"
    folder.mkdir()
    for frame in (1, 2, 3):
        alpha = np.zeros((32, 48, 1), np.float32)
        alpha[0:4, frame * 10:frame * 10 + 4] = 1.0  # the rig moves
        write_matte(folder / f"m.{frame:04d}.exr", alpha)
    out = tmp_path / "out"
    settings = ExtendSettings(**FAST, mask=folder / "m.####.exr")
    first = extend_plate(plate, out, settings, model=inpaint_model, progress=False)
    for frame in (1, 2, 3):
        pixels, names = out_frame(out, frame)
        weight = pixels[:, 8:56, names.index("mask")]
        assert np.argwhere(weight > 0)[:, 1].min() == frame * 10
    without = extend_plate(plate, tmp_path / "plain", ExtendSettings(**FAST), model=inpaint_model, progress=False)
    assert first.job_hash != without.job_hash
    assert extend_plate(plate, out, settings, model=inpaint_model, progress=False).kept == [1, 2, 3]


def test_the_video_path_and_static_take_the_matte(tmp_path):
    model = load_plate_model("shapes", device="cpu")
    plate = plate_sequence(tmp_path / "plates", frames=(1, 2))
    mask = write_matte(tmp_path / "matte.exr", matte(soft=0.0))
    for name, extra in (("video", {}), ("static", {"static": True})):
        out = tmp_path / name
        report = extend_plate(plate, out, ExtendSettings(**FAST, mask=mask, model="shapes", **extra), model=model,
                              progress=False)
        assert report.path is (ExtensionPath.VIDEO if name == "video" else ExtensionPath.STATIC)
        assert report.to_dict()["path"] == ("video" if name == "video" else "frame") and report.written == [1, 2]
        for index, frame in enumerate((1, 2)):
            pixels, names = out_frame(out, frame)
            filmed = pixels[:, 8:56]
            source = gradient(48, 32, seed=index).astype(np.float16)
            clear = np.ones((32, 48), bool)
            clear[SQUARE] = False
            assert np.array_equal(bits(filmed[..., :4][clear]), bits(source[clear]))
            assert np.all(filmed[SQUARE][..., names.index("mask")] == 1)
            assert not np.allclose(filmed[SQUARE][..., :3], source[SQUARE][..., :3], atol=1e-2)


@pytest.mark.parametrize("problem, message", [
    ("size", "its display window is 40x32, the plate's 48x32"),
    ("frame", "no frame 3 for the plate's frame 3"),
    ("missing", "--mask: "),
])
def test_a_bad_mask_is_refused_before_anything_is_written(tmp_path, problem, message):
    plate = plate_sequence(tmp_path / "plates")
    folder = tmp_path / "mattes"
    folder.mkdir()
    if problem == "size":
        mask = write_matte(folder / "m.exr", np.ones((32, 40, 1), np.float32))
    elif problem == "frame":
        for frame in (1, 2):
            write_matte(folder / f"m.{frame:04d}.exr", matte())
        mask = folder / "m.####.exr"
    else:
        mask = folder / "nothing.exr"
    result = CliRunner().invoke(main, ["extend", str(plate), "-o", str(tmp_path / "out"), "--pad", "8,8,0,0",
                                       "--mask", str(mask)])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_the_model_is_asked_to_draw_under_the_matte(inpaint_model):
    from sora_vfx.imaging import OutputTransform
    from sora_vfx.plates.border import Prompting, generate_border
    from sora_vfx.plates.geometry import Box, Layout

    layout = Layout.build(Box(0, 0, 48, 32), PAD)
    alpha = matte(soft=0.0)[..., 0]
    border = generate_border(layout=layout, filmed=layout.filmed(Box(0, 0, 48, 32)), rgb=gradient(48, 32),
                             model=inpaint_model, work_size=(64, 32), prompting=Prompting("", "", 2, 5.0, 1),
                             transform=OutputTransform("srgb"), colorspace="ACEScg", matte=alpha)
    mask = border.model_mask  # working size 64x32 = the new frame's 64x32: one pixel each
    assert np.all(mask[:, :8] == 1) and np.all(mask[:, 56:] == 1)
    assert np.all(mask[10:15, 28:34] == 1)  # the square, 8 pixels in
    assert mask[:, 8:56].sum() == 30
    ((box, rgb, weights),) = border.patches
    assert (box.x, box.y, box.width, box.height) == (28, 10, 6, 5) and rgb.shape == (5, 6, 3)
    assert np.all(weights == 1)
