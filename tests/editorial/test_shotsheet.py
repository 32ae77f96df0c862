from __future__ import annotations

import pytest

from sora_vfx.editorial import read_shots
from sora_vfx.errors import EditError, ShotSheetError
from tests.conftest import SAMPLES

EDL = SAMPLES / "sequence_24fps.edl"


def test_sample_sheet_overrides_and_renames():
    jobs = {j.name: j for j in read_shots(EDL, shot_sheet=SAMPLES / "shot_sheet.toml")}
    assert set(jobs) == {"LHT_0010", "LHT_0020", "LHT_0030", "LHT_0045"}
    assert jobs["LHT_0020"].prompt.startswith("gulls circling over a chalk cliff")
    assert jobs["LHT_0020"].style == "noir"
    assert jobs["LHT_0020"].source["prompt"] == "shot sheet shot_sheet.toml"
    assert jobs["LHT_0045"].seed == 7
    # Untouched fields keep what the EDL said.
    assert jobs["LHT_0030"].seed == 1234
    assert jobs["LHT_0010"].style == "film"


def write(tmp_path, text):
    path = tmp_path / "sheet.toml"
    path.write_text(text)
    return path


def test_sheet_naming_a_missing_shot(tmp_path):
    sheet = write(tmp_path, '[shots.LHT_9999]\nprompt = "x"\n')
    with pytest.raises(ShotSheetError, match=r"sheet\.toml: \[shots\.LHT_9999\] names a shot that is not in the edit; "
                                             r"shots: LHT_0010, LHT_0020"):
        read_shots(EDL, shot_sheet=sheet)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[shots.LHT_0010]\ncolour = "red"\n', r"unknown key\(s\) colour; valid: name, prompt"),
        ('[shots.LHT_0010]\nseed = "big"\n', "seed must be a whole number"),
        ('[shots.LHT_0010]\nprompt = 5\n', "prompt must be a string"),
        ("[shots.LHT_0010\n", "not valid TOML"),
        ('[defaults]\nstyle = "x"\n', r"unknown table\(s\) defaults"),
        ('[shots.LHT_0010]\nname = "../evil"\n', "must not contain '..'"),
    ],
)
def test_bad_sheets(tmp_path, text, message):
    with pytest.raises(ShotSheetError, match=message):
        read_shots(EDL, shot_sheet=write(tmp_path, text))


def test_rename_that_collides_names_both_events(tmp_path):
    sheet = write(tmp_path, '[shots.LHT_0010]\nname = "LHT_0020"\n')
    with pytest.raises(EditError, match=r"'LHT_0020' is used twice: event 001 \(line 4\) and event 002 \(line 11\)"):
        read_shots(EDL, shot_sheet=sheet)


def test_missing_sheet(tmp_path):
    with pytest.raises(ShotSheetError, match="no such shot sheet"):
        read_shots(EDL, shot_sheet=tmp_path / "nope.toml")
