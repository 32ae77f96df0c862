"""A 29.97 drop-frame EDL whose LOC lines use drop-frame (``;``) timecodes keeps their shot
names (OTIO's EDL reader alone drops those lines)."""

from __future__ import annotations

import json

import opentimelineio as otio
from click.testing import CliRunner

from sora_vfx.cli import main
from sora_vfx.editorial import EditOptions, read_edit


def test_drop_frame_locators_name_their_shots(write_edl):
    edl = write_edl("""
        TITLE: DF LOCATORS
        FCM: DROP FRAME
        001  A001     V     C        01:00:00;00 01:00:02;00 01:10:00;00 01:10:02;00
        * LOC: 01:10:00;10 YELLOW  DFX_0010
        002  A002     V     C        01:00:10;00 01:00:12;00 01:10:02;00 01:10:04;00
        * LOC: 01:10:02;05 YELLOW  DFX_0020
        """, name="df.edl")
    result = CliRunner().invoke(main, ["shots", str(edl), "--fps", "29.97df", "--json"])
    assert result.exit_code == 0, result.output
    assert [shot["name"] for shot in json.loads(result.stdout)] == ["DFX_0010", "DFX_0020"]
    # The marker keeps its frame: drop-frame 01:10:00;10 is the clip's 10th frame from its record in.
    edit = read_edit(edl, EditOptions(fps="29.97df"))
    marker = edit.clips["DFX_0010"].markers[0]
    frames = round(marker.marked_range.start_time.value)
    assert frames == round(otio.opentime.from_timecode("01:10:00;10", 30000 / 1001).value)
