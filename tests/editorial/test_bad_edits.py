"""Bad edits give one EditError naming the file and the event or line."""

from __future__ import annotations

import pytest

from sora_vfx.editorial import read_shots
from sora_vfx.errors import EditError

GOOD_EVENT = "001  A001 V     C        10:00:00:00 10:00:01:00 01:00:00:00 01:00:01:00\n"


def test_missing_file(tmp_path):
    with pytest.raises(EditError, match=r"missing\.edl: no such edit file"):
        read_shots(tmp_path / "missing.edl")


def test_empty_edl(tmp_path):
    path = tmp_path / "empty.edl"
    path.write_text("")
    with pytest.raises(EditError, match=r"empty\.edl: no video shots"):
        read_shots(path)


def test_binary_file(tmp_path):
    path = tmp_path / "movie.edl"
    path.write_bytes(b"\x00\x01\x02\xff" * 64)
    with pytest.raises(EditError, match=r"movie\.edl: is not a text file"):
        read_shots(path)


def test_truncated_event_names_the_line(tmp_path):
    path = tmp_path / "cut.edl"
    path.write_text("TITLE: x\n" + GOOD_EVENT + "002  A002 V     C        11:00:00:00 11:00:\n")
    with pytest.raises(EditError, match=r"cut\.edl, line 3"):
        read_shots(path)


def test_garbage_text(tmp_path):
    path = tmp_path / "notes.edl"
    path.write_text("Dear editor,\nhere are my notes for the cut.\n")
    with pytest.raises(EditError, match=r"notes\.edl.*Unknown event type"):
        read_shots(path)


@pytest.mark.parametrize(
    ("timecode", "message"),
    [
        ("01:00:61:00", "minutes and seconds run 00-59"),
        ("01:00:0x:00", "invalid timecode '01:00:0x:00'"),
        ("01:00:01:24", "has frame 24, too high for 24 fps"),
        ("01:00:01;00", "drop-frame timecode '01:00:01;00' needs a frame rate (fps) of 29.97df"),
    ],
)
def test_invalid_timecode_names_line_and_event(tmp_path, timecode, message):
    path = tmp_path / "cut.edl"
    path.write_text(
        "TITLE: x\n" + GOOD_EVENT + f"002  A002 V     C        11:00:00:00 11:00:01:00 01:00:01:00 {timecode}\n"
    )
    with pytest.raises(EditError) as err:
        read_shots(path)
    assert "cut.edl, line 3 (event 002)" in str(err.value)
    assert message in str(err.value)


def test_unknown_extension(tmp_path):
    path = tmp_path / "cut.docx"
    path.write_text("hello")
    with pytest.raises(EditError, match=r"unknown edit format '\.docx'; known: .*\.edl.*\.otio"):
        read_shots(path)


def test_truncated_otio(tmp_path):
    path = tmp_path / "cut.otio"
    path.write_text('{"OTIO_SCHEMA": "Timeline.1", "tracks": {')
    with pytest.raises(EditError, match=r"cut\.otio: cannot read as otio_json"):
        read_shots(path)


def test_source_record_mismatch_names_the_line(tmp_path):
    path = tmp_path / "cut.edl"
    path.write_text("TITLE: x\n001  A001 V     C        10:00:00:00 10:00:02:00 01:00:00:00 01:00:01:00\n"
                    "* FROM CLIP NAME:  plate_a\n")
    with pytest.raises(EditError, match=r"cut\.edl, line 3: Source and record duration don't match"):
        read_shots(path)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../x", "must not contain '..'"),
        ("a/b", "must not contain '..', '/'"),
        ("", "cannot be empty"),
        ("my shot", "may only use letters"),
    ],
)
def test_unsafe_shot_names(tmp_path, name, message):
    path = tmp_path / "cut.edl"
    path.write_text("TITLE: x\n" + GOOD_EVENT + f"* SHOT: {name}\n")
    with pytest.raises(EditError) as err:
        read_shots(path)
    assert "cut.edl, event 001 (line 2)" in str(err.value)
    assert message in str(err.value)


def test_duplicate_shot_names_name_both_events(tmp_path):
    path = tmp_path / "cut.edl"
    path.write_text(
        "TITLE: x\n" + GOOD_EVENT + "* SHOT: ABC_0010\n"
        "002  A002 V     C        11:00:00:00 11:00:01:00 01:00:01:00 01:00:02:00\n* SHOT: ABC_0010\n"
    )
    with pytest.raises(EditError, match=r"'ABC_0010' is used twice: event 001 \(line 2\) and event 002 \(line 4\)"):
        read_shots(path)


def test_bad_seed_comment(tmp_path):
    path = tmp_path / "cut.edl"
    path.write_text("TITLE: x\n" + GOOD_EVENT + "* SEED: lucky\n")
    with pytest.raises(EditError, match=r"event 001 \(line 2\): shot sh010: seed must be a whole number"):
        read_shots(path)


def test_unknown_fps(tmp_path):
    path = tmp_path / "cut.edl"
    path.write_text("TITLE: x\n" + GOOD_EVENT)
    from sora_vfx.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown frame rate '23.9'"):
        read_shots(path, fps="23.9")
