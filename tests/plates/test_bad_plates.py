"""Bad plates and bad options: one readable message naming the file, frame or value, exit code 2,
no traceback, and nothing written under a final name."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from sora_vfx.cli import main

from .conftest import BEACHBALL, DAMAGED, need, write_plate


def run(*args: str):
    return CliRunner().invoke(main, ["extend", *map(str, args)])


def final_frames(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")] if folder.exists() else []


def assert_refused(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    # One message; only the log's progress lines (a loaded model's memory plan) may come before it.
    lines = [line for line in result.stderr.splitlines() if not line.startswith("sora-vfx: INFO: ")]
    assert len(lines) == 1 and lines[0].startswith("sora-vfx: error: "), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def test_every_damaged_file_is_refused_by_name(tmp_path):
    files = sorted(p for p in need(DAMAGED).iterdir() if p.is_file() and p.suffix != ".rst")
    assert len(files) > 150
    out = tmp_path / "out"
    for path in files:
        result = run(path, "-o", out, "--pad", "8,8,8,8")
        assert_refused(result, path.name)
        assert len(result.stderr.strip().splitlines()) == 1
    assert final_frames(out) == []
    assert not [p for p in out.iterdir()] if out.exists() else True  # no temporary files either


def test_damaged_frame_in_a_sequence_names_the_frame(tmp_path):
    folder = tmp_path / "plate"
    folder.mkdir()
    (folder / "bb.0001.exr").symlink_to(need(BEACHBALL) / "singlepart.0001.exr")
    damaged = sorted(need(DAMAGED).glob("*_exr"))[0]
    (folder / "bb.0002.exr").write_bytes(damaged.read_bytes())
    result = run(folder / "bb.####.exr", "-o", tmp_path / "out", "--pad", "8,8,8,8")
    assert_refused(result, "bb.####.exr frame 2", "bb.0002.exr")
    assert final_frames(tmp_path / "out") == []


def test_missing_frames_are_listed(tmp_path):
    folder = tmp_path / "plate"
    folder.mkdir()
    for frame in (1, 2, 5):
        (folder / f"bb.{frame:04d}.exr").symlink_to(need(BEACHBALL) / f"singlepart.{frame:04d}.exr")
    result = run(folder / "bb.####.exr", "-o", tmp_path / "out", "--pad", "8,8,8,8")
    assert_refused(result, "2 missing frames: 3-4", "(found 1-2, 5)")
    result = run(folder / "bb.1-6#.exr", "-o", tmp_path / "out", "--pad", "8,8,8,8")
    assert_refused(result, "3 missing frames: 3-4, 6")
    assert not (tmp_path / "out").exists()


@pytest.fixture
def plate(tmp_path) -> Path:
    rgba = np.ones((16, 24, 4), np.float32) * 0.5
    return write_plate(tmp_path / "p.1001.exr", rgba)


@pytest.mark.parametrize("options, fragments", [
    (["--pad", "10,-2,0,0"], ["pad '10,-2,0,0'", "crop"]),
    (["--pad", "0,0,0,0"], ["adds no pixels"]),
    (["--pad", "8,8"], ["four whole numbers"]),
    (["--to-size", "0x100"], ["--to-size '0x100'", "positive"]),
    (["--to-size", "-24x-16"], ["positive"]),
    (["--to-size", "20x100"], ["smaller than the plate's 24x16", "never crops"]),
    (["--to-size", "24x16"], ["nothing to extend"]),
    (["--to-aspect", "0"], ["positive ratio"]),
    (["--to-aspect", "1.5"], ["already is 1.500:1"]),
    (["--to-size", "64x64", "--anchor", "middle"], ["unknown, available: center"]),
    (["--pad", "8,8,8,8", "--anchor", "middle"], ["--anchor 'middle'"]),
    (["--pad", "8,8,8,8", "--to-size", "64x64"], ["exactly one of pad"]),
    (["--pad", "9000000,0,0,9000000"], ["is too large"]),
    ([], ["exactly one of pad"]),
    (["--pad", "8,8,8,8", "--ref-frame", "1001"], ["reference frame (ref_frame) only applies to a static plate"]),
    (["--pad", "8,8,8,8", "--static", "--ref-frame", "7"], ["reference frame 7 is not a frame of", "1001"]),
    (["--pad", "8,8,8,8", "--plate-colorspace", "AcesCGG"], ["unknown colour space 'AcesCGG'", "ACEScg"]),
    (["--pad", "8,8,8,8", "--compression", "lzma"], ["unknown EXR compression 'lzma'"]),
    (["--pad", "8,8,8,8", "--work-size", "60x50"], ["divisible by 8 but are 50 and 60"]),
])
def test_bad_options(plate, tmp_path, options, fragments):
    result = run(plate, "-o", tmp_path / "out", *options)
    assert_refused(result, *fragments)
    assert final_frames(tmp_path / "out") == []


def test_frames_of_one_plate_keep_one_format(tmp_path):
    from .conftest import DISPLAYWINDOW

    folder = tmp_path / "plate"
    folder.mkdir()
    (folder / "mixed.0001.exr").symlink_to(need(DISPLAYWINDOW) / "t01.exr")
    (folder / "mixed.0002.exr").symlink_to(need(DISPLAYWINDOW) / "t03.exr")
    assert_refused(run(folder, "-o", tmp_path / "out", "--pad", "4,4,4,4"),
                   "mixed.0002.exr: its display window (30, 20, 399, 299) differs from mixed.0001.exr's")


def test_plate_without_rgb(tmp_path):
    depth = write_plate(tmp_path / "depth.exr", np.ones((8, 8, 2), np.float32), channels=("Z", "A"))
    assert_refused(run(depth, "-o", tmp_path / "out", "--pad", "4,4,4,4"),
                   "depth.exr", "no R, G, B channels", "(it has ", "Z")


def test_header_colour_space_the_config_does_not_know(tmp_path):
    # OIIO reads an EXR's colorInteropID as oiio:ColorSpace.
    path = write_plate(tmp_path / "log.exr", np.ones((8, 8, 4), np.float32),
                       attributes={"colorInteropID": ("string", "ArriLogC9_Fantasy")})
    assert_refused(run(path, "-o", tmp_path / "out", "--pad", "4,4,4,4"),
                   "log.exr", "'ArriLogC9_Fantasy'", "(plate_colorspace)")
    assert final_frames(tmp_path / "out") == []


def test_bad_model_folders(plate, tmp_path):
    video = tmp_path / "t2v"
    video.mkdir()
    (video / "model_index.json").write_text(json.dumps({"_class_name": "WanPipeline"}))
    assert_refused(run(plate, "-o", tmp_path / "out", "--pad", "4,4,4,4", "--model", video),
                   "WanPipeline is a video pipeline without a mask", "video outpainting pipeline (WanVACEPipeline)",
                   "image inpainting")
    empty = tmp_path / "vace"
    empty.mkdir()
    (empty / "model_index.json").write_text(json.dumps({"_class_name": "WanVACEPipeline"}))
    assert_refused(run(plate, "-o", tmp_path / "out", "--pad", "4,4,4,4", "--model", empty),
                   f"cannot load model {empty}")
    pickled = tmp_path / "pickled"
    (pickled / "unet").mkdir(parents=True)
    (pickled / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionInpaintPipeline"}))
    (pickled / "unet" / "diffusion_pytorch_model.bin").write_bytes(b"\x80\x04")
    assert_refused(run(plate, "-o", tmp_path / "out", "--pad", "4,4,4,4", "--model", pickled),
                   "pickle weights")
    assert_refused(run(plate, "-o", tmp_path / "out", "--pad", "4,4,4,4", "--model", tmp_path / "nowhere"),
                   "model folder not found")
    assert final_frames(tmp_path / "out") == []


def test_unwritable_output(plate, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert_refused(run(plate, "-o", blocker / "out", "--pad", "4,4,4,4"), "not writable")


def test_a_real_process_refuses_a_damaged_plate(tmp_path):
    damaged = sorted(need(DAMAGED).glob("*_exr"))[-1]
    result = subprocess.run(
        [sys.executable, "-m", "sora_vfx", "extend", str(damaged), "-o", str(tmp_path / "out"), "--pad", "8,8,8,8"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"sora-vfx: error: cannot read {damaged}: ")
    assert "Traceback" not in result.stderr and result.stdout == ""
