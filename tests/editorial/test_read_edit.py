"""read_edit on small EDLs written here: one rule of the editor's expectations per test."""

from __future__ import annotations

from fractions import Fraction

import pytest

from sora_vfx.editorial import read_shots
from sora_vfx.errors import ConfigError, EditError
from sora_vfx.seeds import shot_seed

THREE_SHOTS = """
    TITLE: three shots
    FCM: NON-DROP FRAME
    001  A001 V     C        10:00:00:00 10:00:01:00 01:00:00:00 01:00:01:00
    * FROM CLIP NAME:  plate_a
    002  A002 V     C        11:00:00:00 11:00:00:12 01:00:01:00 01:00:01:12
    * FROM CLIP NAME:  plate_b
    003  A003 V     C        12:00:00:00 12:00:02:00 01:00:01:12 01:00:03:12
    * FROM CLIP NAME:  plate_c
"""


def test_frame_ranges_and_timecodes(write_edl):
    jobs = read_shots(write_edl(THREE_SHOTS))
    assert [j.name for j in jobs] == ["sh010", "sh020", "sh030"]
    assert [j.duration for j in jobs] == [24, 12, 48]
    first = jobs[0]
    assert (first.head_in, first.cut_in, first.cut_out, first.tail_out) == (1001, 1009, 1032, 1040)
    assert first.frame_count == 40
    assert (first.record_in, first.record_out) == ("01:00:00:00", "01:00:01:00")
    assert (first.source_in, first.source_out) == ("10:00:00:00", "10:00:01:00")
    assert (first.clip_name, first.reel, first.track, first.index) == ("plate_a", "A001", "V", 1)
    assert jobs[2].record_in == "01:00:01:12" and jobs[2].index == 3
    assert first.fps == 24.0 and first.speed == 1.0


def test_handles_and_start_frame(write_edl):
    job = read_shots(write_edl(THREE_SHOTS), handles=12, start_frame=1)[1]
    assert (job.head_in, job.cut_in, job.cut_out, job.tail_out) == (1, 13, 24, 36)
    job = read_shots(write_edl(THREE_SHOTS), handles=0)[1]
    assert (job.head_in, job.cut_in, job.cut_out, job.tail_out) == (1001, 1001, 1012, 1012)
    with pytest.raises(ConfigError, match="handles"):
        read_shots(write_edl(THREE_SHOTS), handles=-1)


def test_annotations_from_comments_any_case(write_edl, tmp_path):
    edl = write_edl("""
        TITLE: notes
        001  A001 V     C        10:00:00:00 10:00:01:00 01:00:00:00 01:00:01:00
        * FROM CLIP NAME:  plate_a
        * PROMPT: a harbour at dawn,
        * prompt: fishing boats leaving
        * Negative: text, logos
        * style: film
        * SEED: 42
        * REFERENCE: refs/harbour.png
        * shot: HBR_0010
        * SOURCE FILE: something.mov
    """)
    job = read_shots(edl)[0]
    assert job.name == "HBR_0010"
    assert job.prompt == "a harbour at dawn, fishing boats leaving"
    assert job.negative_prompt == "text, logos"
    assert job.style == "film"
    assert job.seed == 42
    assert job.reference == str((tmp_path / "refs" / "harbour.png").resolve())
    assert job.source["prompt"] == "edl comment"
    assert job.source["seed"] == "edl comment"
    assert job.source["name"] == "edl comment"


def test_loc_markers_name_shots_and_notes_are_kept(write_edl):
    edl = write_edl("""
        TITLE: locs
        001  A001 V     C        10:00:00:00 10:00:01:00 01:00:00:00 01:00:01:00
        * LOC: 01:00:00:05 YELLOW  ABC_0010
        * LOC: 01:00:00:09 RED     ANIM FIX NEEDED
        002  A002 V     C        11:00:00:00 11:00:01:00 01:00:01:00 01:00:02:00
        * LOC: 01:00:01:05 RED     TEMP
        003  A003 V     C        12:00:00:00 12:00:01:00 01:00:02:00 01:00:03:00
        * LOC: 01:00:02:05 RED     ABC_0030
        * SHOT: ABC_0031
    """)
    jobs = read_shots(edl)
    assert [j.name for j in jobs] == ["ABC_0010", "TEMP", "ABC_0031"]
    assert jobs[0].notes == ["ANIM FIX NEEDED"]
    assert jobs[0].source["name"] == "loc marker"
    narrowed = read_shots(edl, shot_pattern=r"^[A-Z]{3}_\d{4}$")
    assert [j.name for j in narrowed] == ["ABC_0010", "sh020", "ABC_0031"]
    assert narrowed[1].notes == ["TEMP"]
    assert narrowed[1].source["name"] == "numbered in edit order"
    with pytest.raises(ConfigError, match="not a valid regex"):
        read_shots(edl, shot_pattern="([")


def test_gaps_black_bars_and_audio_are_not_shots(write_edl):
    edl = write_edl("""
        TITLE: structure
        001  BL       V     C        00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00
        002  BARS     V     C        00:00:00:00 00:00:01:00 01:00:01:00 01:00:02:00
        003  A001     V     C        10:00:00:00 10:00:01:00 01:00:02:00 01:00:03:00
        004  MUSIC    A     C        00:00:00:00 00:00:05:00 01:00:00:00 01:00:05:00
        005  A002     V     C        11:00:00:00 11:00:01:00 01:00:04:00 01:00:05:00
        006  A003     AA    C        11:00:00:00 11:00:01:00 01:00:05:00 01:00:06:00
    """)
    jobs = read_shots(edl)
    assert [(j.reel, j.record_in) for j in jobs] == [("A001", "01:00:02:00"), ("A002", "01:00:04:00")]


def test_audio_only_edit_is_a_clear_error(write_edl):
    edl = write_edl("""
        TITLE: audio
        001  MUSIC    A     C        00:00:00:00 00:00:05:00 01:00:00:00 01:00:05:00
    """)
    with pytest.raises(EditError, match=r"no video shots in this edit \(1 audio clips skipped\)"):
        read_shots(edl)


def test_dissolve_overlap_extends_the_outgoing_shot(write_edl):
    edl = write_edl("""
        TITLE: dissolve
        001  A001 V     C        10:00:00:00 10:00:01:00 01:00:00:00 01:00:01:00
        002  A001 V     C        10:00:01:00 10:00:01:00 01:00:01:00 01:00:01:00
        002  A002 V     D    020 11:00:00:00 11:00:01:00 01:00:01:00 01:00:02:00
        003  A003 V     C        12:00:00:00 12:00:01:00 01:00:02:00 01:00:03:00
    """)
    jobs = read_shots(edl, handles=8)
    outgoing = jobs[0]
    # The 20-frame dissolve shows 20 frames of A001 past its cut: more than the 8-frame handle.
    assert outgoing.tail_handles == 20 and outgoing.head_handles == 8
    assert outgoing.tail_out == outgoing.cut_out + 20
    assert outgoing.duration == 24
    # With handles longer than the dissolve, handles already cover it.
    assert read_shots(edl, handles=24)[0].tail_handles == 24
    assert [j.duration for j in jobs] == [24, 24, 24]


def test_speed_effects_and_freeze_frames(write_edl):
    edl = write_edl("""
        TITLE: speed
        001  A001 V     C        10:00:00:00 10:00:02:00 01:00:00:00 01:00:01:00
        M2   A001       048.0                10:00:00:00
        002  A002 V     C        11:00:00:00 11:00:00:01 01:00:01:00 01:00:01:12
        M2   A002       000.0                11:00:00:00
        * * FREEZE FRAME
        003  A003 V     C        12:00:00:00 12:00:01:00 01:00:01:12 01:00:02:12
    """)
    jobs = read_shots(edl)
    assert [j.speed for j in jobs] == [2.0, 0.0, 1.0]
    assert [j.duration for j in jobs] == [24, 12, 24]


def test_same_source_twice_is_two_shots_with_different_seeds(write_edl):
    edl = write_edl("""
        TITLE: reuse
        001  A001 V     C        10:00:00:00 10:00:01:00 01:00:00:00 01:00:01:00
        * FROM CLIP NAME:  plate_a
        002  A001 V     C        10:00:00:00 10:00:01:00 01:00:01:00 01:00:02:00
        * FROM CLIP NAME:  plate_a
    """)
    jobs = read_shots(edl)
    assert [j.name for j in jobs] == ["sh010", "sh020"]
    assert jobs[0].source_in == jobs[1].source_in
    assert jobs[0].seed != jobs[1].seed


def test_seed_depends_only_on_project_seed_and_name(write_edl):
    forward = write_edl(THREE_SHOTS.replace("plate_b", "plate_b\n    * SHOT: MID_0010"), "a.edl")
    jobs = {j.name: j.seed for j in read_shots(forward, handles=4)}
    # The same shot, first in another edit, with other handles: the same seed.
    other = write_edl("""
        TITLE: other
        001  A009 V     C        10:00:00:00 10:00:03:00 02:00:00:00 02:00:03:00
        * SHOT: MID_0010
    """, "b.edl")
    assert read_shots(other, handles=16)[0].seed == jobs["MID_0010"] == shot_seed(0, "MID_0010")
    assert read_shots(other, project_seed=5)[0].seed != jobs["MID_0010"]


@pytest.mark.parametrize(
    ("fps", "edl_rate", "body_tc", "expected"),
    [
        ("23.976", Fraction(24000, 1001), ("01:00:00:00", "01:00:01:00"), 24),
        ("25", Fraction(25), ("01:00:00:00", "01:00:01:00"), 25),
        ("29.97df", Fraction(30000, 1001), ("01:00:00;00", "01:00:01;00"), 30),
        ("59.94df", Fraction(60000, 1001), ("00:59:59;50", "01:00:00;50"), 60),
        ("48", Fraction(48), ("01:00:00:00", "01:00:01:00"), 48),
        ("24000/1001", Fraction(24000, 1001), ("01:00:00:00", "01:00:00:12"), 12),
    ],
)
def test_edl_frame_rates(write_edl, fps, edl_rate, body_tc, expected):
    tc_in, tc_out = body_tc
    edl = write_edl(f"""
        TITLE: rate
        001  A001 V     C        {tc_in} {tc_out} {tc_in} {tc_out}
    """)
    job = read_shots(edl, fps=fps)[0]
    assert job.duration == expected
    assert job.fps == float(edl_rate)
    assert Fraction(job.rate) == edl_rate
    assert job.record_in == tc_in


def test_drop_frame_from_fcm_line(write_edl):
    edl = write_edl("""
        TITLE: df
        FCM: DROP FRAME
        001  A001 V     C        01:00:00;00 01:00:01;00 01:00:00;00 01:00:01;00
    """)
    job = read_shots(edl, fps="29.97")[0]
    assert job.drop_frame and job.record_out == "01:00:01;00"
    with pytest.raises(EditError, match=r"DROP FRAME, which needs a frame rate \(fps\) of 29.97"):
        read_shots(edl, fps="25")


def test_semicolon_timecode_is_drop_frame_at_ntsc_rates(write_edl):
    edl = write_edl("""
        TITLE: df without FCM
        001  A001 V     C        01:00:00;00 01:00:01;00 01:00:00;00 01:00:01;00
    """)
    job = read_shots(edl, fps="29.97")[0]
    assert job.drop_frame and job.duration == 30 and job.record_in == "01:00:00;00"
    with pytest.raises(EditError, match=r"drop-frame timecode '01:00:00;00' needs a frame rate \(fps\) of 29.97df"):
        read_shots(edl, fps="24")


def test_multiple_tracks_and_track_selection(write_edl):
    edl = write_edl("""
        TITLE: tracks
        001  A001 V     C        10:00:00:00 10:00:02:00 01:00:00:00 01:00:02:00
        002  A002 V     C        11:00:00:00 11:00:01:00 01:00:02:00 01:00:03:00
    """)
    import opentimelineio as otio

    timeline = otio.adapters.read_from_file(str(edl), rate=24)
    overlay = otio.schema.Track(name="V2", kind=otio.schema.TrackKind.Video)
    overlay.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(
        otio.opentime.RationalTime(0, 24), otio.opentime.RationalTime(12, 24))))
    overlay.append(otio.schema.Clip(name="fx", source_range=otio.opentime.TimeRange(
        otio.opentime.RationalTime(0, 24), otio.opentime.RationalTime(6, 24))))
    # The EDL adapter places record 01:00:00:00 at track time 0 by trimming the track.
    overlay.source_range = otio.opentime.TimeRange(
        timeline.tracks[0].source_range.start_time, otio.opentime.RationalTime(18, 24))
    timeline.tracks.append(overlay)
    timeline.tracks[0].name = "V1"
    path = edl.with_suffix(".otio")
    otio.adapters.write_to_file(timeline, str(path))
    jobs = read_shots(path)
    assert [(j.track, j.duration) for j in jobs] == [("V1", 48), ("V2", 6), ("V1", 24)]
    assert [j.index for j in jobs] == [1, 2, 3]
    assert [j.duration for j in read_shots(path, tracks=["V2"])] == [6]
    assert [j.duration for j in read_shots(path, tracks=["1"])] == [48, 24]
    with pytest.raises(EditError, match=r"no video track 'V3'; video tracks: V1 \('V1'\), V2 \('V2'\)"):
        read_shots(path, tracks=["V3"])
