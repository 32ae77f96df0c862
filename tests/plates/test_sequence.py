"""Plate inputs: every accepted form finds the same frames; missing frames are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from sora_vfx.errors import PlateError
from sora_vfx.layout import extended_frame_name, extended_frame_path, extended_frame_pattern
from sora_vfx.plates.sequence import PlateSequence, frame_ranges, read_plate_sequence

from .conftest import BEACHBALL, DISPLAYWINDOW, need


def output_name(sequence: PlateSequence, frame: int | None) -> str:
    """The name ``extend`` gives ``frame`` of ``sequence`` (``layout.extended_frame_name``)."""
    return extended_frame_name(sequence.name, frame, padding=sequence.padding)


def touch_frames(folder: Path, name: str, frames, *, pad: int = 4, ext: str = ".exr") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for frame in frames:
        (folder / f"{name}.{frame:0{pad}d}{ext}").write_bytes(b"")


@pytest.mark.parametrize("form", ["plate.####.exr", "plate.%04d.exr", "plate.1001-1005#.exr",
                                  "plate.1001-1005.exr", "plate.1001-1005%04d.exr", ""])
def test_every_form_finds_the_same_frames(tmp_path, form):
    touch_frames(tmp_path, "plate", range(1001, 1006))
    sequence = read_plate_sequence(tmp_path / form if form else tmp_path)
    assert sequence.frames == (1001, 1002, 1003, 1004, 1005)
    assert [p.name for p in sequence.paths] == [f"plate.{f}.exr" for f in range(1001, 1006)]
    assert sequence.name == "plate"
    assert output_name(sequence, 1003) == "plate_ext.1003.exr"
    assert sequence.pattern.endswith("plate.####.exr")


def test_a_range_selects_part_of_the_frames(tmp_path):
    touch_frames(tmp_path, "plate", range(1, 11))
    assert read_plate_sequence(tmp_path / "plate.0003-0005#.exr").frames == (3, 4, 5)
    assert read_plate_sequence(tmp_path / "plate.3-5@@@@.exr").frames == (3, 4, 5)


def test_padding_must_match(tmp_path):
    touch_frames(tmp_path, "plate", [1, 2], pad=4)
    touch_frames(tmp_path, "plate", [3], pad=3)
    assert read_plate_sequence(tmp_path / "plate.####.exr").frames == (1, 2)
    assert read_plate_sequence(tmp_path / "plate.###.exr").frames == (3,)
    with pytest.raises(PlateError, match="no files match"):
        read_plate_sequence(tmp_path / "plate.#####.exr")


def test_missing_frames_are_listed(tmp_path):
    touch_frames(tmp_path, "plate", [1001, 1002, 1006, 1009, 1010])
    with pytest.raises(PlateError) as caught:
        read_plate_sequence(tmp_path / "plate.####.exr")
    assert "5 missing frames: 1003-1005, 1007-1008" in str(caught.value)
    assert "(found 1001-1002, 1006, 1009-1010)" in str(caught.value)
    with pytest.raises(PlateError, match="missing frames: 1011-1012"):
        read_plate_sequence(tmp_path / "plate.1009-1012#.exr")


def test_single_frames(tmp_path):
    touch_frames(tmp_path, "shot_plate_v2", [1001])
    (tmp_path / "still.exr").write_bytes(b"")
    numbered = read_plate_sequence(tmp_path / "shot_plate_v2.1001.exr")
    assert (numbered.frames, numbered.name) == ((1001,), "shot_plate_v2")
    assert output_name(numbered, 1001) == "shot_plate_v2_ext.1001.exr"
    still = read_plate_sequence(tmp_path / "still.exr")
    assert (still.frames, output_name(still, None)) == ((None,), "still_ext.exr")
    assert extended_frame_pattern(still.name, padding=still.padding, numbered=False) == "still_ext.exr"


def test_frame_numbers_keep_wider_padding(tmp_path):
    touch_frames(tmp_path, "plate", [100001, 100002], pad=6)
    sequence = read_plate_sequence(tmp_path / "plate.######.exr")
    assert output_name(sequence, 100001) == "plate_ext.100001.exr"
    assert extended_frame_pattern(sequence.name, padding=sequence.padding) == "plate_ext.######.exr"
    touch_frames(tmp_path / "short", "plate", [7, 8], pad=1)
    short = read_plate_sequence(tmp_path / "short")
    assert output_name(short, 7) == "plate_ext.0007.exr"
    assert extended_frame_pattern(short.name, padding=short.padding) == "plate_ext.####.exr"
    assert extended_frame_path(tmp_path, short.name, 7, padding=short.padding) == tmp_path / "plate_ext.0007.exr"


def test_folder_with_two_sequences_is_an_error(tmp_path):
    touch_frames(tmp_path, "bg", [1, 2])
    touch_frames(tmp_path, "fg", [1, 2])
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(PlateError, match="holds 2 sequences"):
        read_plate_sequence(tmp_path)


def test_bad_inputs(tmp_path):
    with pytest.raises(PlateError, match="no such file or folder"):
        read_plate_sequence(tmp_path / "nothing.exr")
    with pytest.raises(PlateError, match="does not exist"):
        read_plate_sequence(tmp_path / "nowhere" / "plate.####.exr")
    (tmp_path / "empty").mkdir()
    with pytest.raises(PlateError, match="no image files"):
        read_plate_sequence(tmp_path / "empty")
    touch_frames(tmp_path, "plate", [1, 2])
    with pytest.raises(PlateError, match="ends before it starts"):
        read_plate_sequence(tmp_path / "plate.2-1#.exr")


def test_real_plate_folder_is_grouped_by_pyseq():
    sequence = read_plate_sequence(need(BEACHBALL))
    assert sequence.frames == tuple(range(1, 9))
    assert sequence.name == "singlepart"
    assert sequence.describe().endswith("singlepart.####.exr (1-8, 8 frames)")
    # The displaywindow folder holds t01..t16 beside a README: one sequence, named "t".
    assert read_plate_sequence(need(DISPLAYWINDOW)).frames == tuple(range(1, 17))


def test_frame_ranges():
    assert frame_ranges([5, 1, 2, 3, 7, 9, 10]) == "1-3, 5, 7, 9-10"
    assert frame_ranges([]) == ""
