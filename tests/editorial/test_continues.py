"""Cuts that continue: ``CONTINUES:`` in EDL comments, OTIO metadata and shot sheets, checked
when the edit is read, and the render order they give."""

from __future__ import annotations

import json

import opentimelineio as otio
import pytest
from click.testing import CliRunner

from sora_vfx.cli.main import main
from sora_vfx.editorial import EditOptions, read_edit
from sora_vfx.editorial.links import (
    check_links,
    continuation_depth,
    continuation_order,
    continued_frame,
    with_predecessors,
)
from sora_vfx.editorial.shotjob import ShotJob
from sora_vfx.errors import EditError

EDL = """
    TITLE: linked
    FCM: NON-DROP FRAME

    001  AX       V     C        00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00
    * SHOT: A_0010
    * PROMPT: a red ball moving right on a blue background
    002  AX       V     C        00:00:00:00 00:00:01:00 01:00:01:00 01:00:02:00
    * SHOT: A_0030
    * continues: A_0020
    003  AX       V     C        00:00:00:00 00:00:01:00 01:00:02:00 01:00:03:00
    * SHOT: A_0020
    * CONTINUES:  A_0010
    004  AX       V     C        00:00:00:00 00:00:01:00 01:00:03:00 01:00:04:00
    * SHOT: A_0040
"""


def test_edl_comments_link_shots_and_order_them(write_edl):
    edit = read_edit(write_edl(EDL))
    assert {job.name: job.continues for job in edit.jobs} == {
        "A_0010": None, "A_0030": "A_0020", "A_0020": "A_0010", "A_0040": None}
    assert edit.jobs[1].source["continues"] == "edl comment"
    # Each shot after the one it continues; otherwise edit order.
    assert [job.name for job in continuation_order(edit.jobs)] == ["A_0010", "A_0020", "A_0030", "A_0040"]
    assert continuation_depth(edit.jobs) == {"A_0010": 0, "A_0020": 1, "A_0030": 2, "A_0040": 0}
    assert with_predecessors(edit.jobs, ["A_0030"]) == {"A_0030", "A_0020", "A_0010"}


def test_shots_json_says_what_each_shot_continues(write_edl):
    result = CliRunner().invoke(main, ["shots", str(write_edl(EDL)), "--json"])
    assert result.exit_code == 0, result.output
    assert [shot["continues"] for shot in json.loads(result.stdout)] == [None, "A_0020", "A_0010", None]


@pytest.mark.parametrize("link, message", [
    ("A_0099", "event 002 (line 3): shot A_0020 continues 'A_0099', which is not a shot of this edit"),
    ("A_0020", "shot A_0020 continues itself"),
])
def test_a_link_to_no_shot_is_refused(write_edl, link, message):
    path = write_edl(f"""
        001  AX       V     C        00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00
        * SHOT: A_0010
        002  AX       V     C        00:00:00:00 00:00:01:00 01:00:01:00 01:00:02:00
        * SHOT: A_0020
        * CONTINUES: {link}
    """)
    with pytest.raises(EditError, match="continue") as caught:
        read_edit(path)
    assert message in str(caught.value) and str(path) in str(caught.value)
    result = CliRunner().invoke(main, ["render", str(path), "-o", str(path.parent / "out")])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output
    assert not (path.parent / "out").exists()


def test_a_loop_is_refused_naming_it(write_edl):
    path = write_edl("""
        001  AX       V     C        00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00
        * SHOT: L_0010
        * CONTINUES: L_0030
        002  AX       V     C        00:00:00:00 00:00:01:00 01:00:01:00 01:00:02:00
        * SHOT: L_0020
        * CONTINUES: L_0010
        003  AX       V     C        00:00:00:00 00:00:01:00 01:00:02:00 01:00:03:00
        * SHOT: L_0030
        * CONTINUES: L_0020
    """)
    result = CliRunner().invoke(main, ["shots", str(path)])
    assert result.exit_code == 2
    assert "shots continue each other in a loop: L_0010 -> L_0030 -> L_0020 -> L_0010" in result.output


def test_otio_metadata_and_the_shot_sheet_link_shots(tmp_path):
    timeline = otio.schema.Timeline("linked")
    track = otio.schema.Track("V1")
    timeline.tracks.append(track)
    rate = 24
    for name, metadata in (("O_0010", {}), ("O_0020", {"continues": "O_0010"}), ("O_0030", {})):
        clip = otio.schema.Clip(name, source_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(24, rate)))
        clip.metadata["sora_vfx"] = {"shot": name, **metadata}
        track.append(clip)
    path = tmp_path / "linked.otio"
    otio.adapters.write_to_file(timeline, str(path))
    sheet = tmp_path / "sheet.toml"
    sheet.write_text('[shots.O_0030]\ncontinues = "O_0020"\n')

    jobs = read_edit(path, EditOptions(shot_sheet=sheet)).jobs
    assert [(job.continues, job.source.get("continues")) for job in jobs] == [
        (None, None), ("O_0010", "otio metadata"), ("O_0020", "shot sheet sheet.toml")]


def test_the_continued_frame_lines_up_the_cuts(write_edl):
    first, second = read_edit(write_edl(EDL), EditOptions(handles=8)).jobs[0], read_edit(
        write_edl(EDL), EditOptions(handles=8)).jobs[2]
    # The second shot's cut starts on the frame after the first's cut ends, so its first
    # rendered frame, 8 frames of handle before that, is the first shot's frame 8 before it.
    assert (first.cut_out, second.head_in, second.cut_in) == (1032, 1001, 1009)
    assert continued_frame(first, second) == 1032 + 1 - 8
    # Without handles it is the frame after the cut, which the tail handle holds; with none, the last.
    unhandled = read_edit(write_edl(EDL), EditOptions(handles=0)).jobs
    assert continued_frame(unhandled[0], unhandled[2]) == unhandled[0].tail_out == 1024


def chain(count: int, *, loop: bool = False) -> list[ShotJob]:
    """``count`` shots in edit order, each continuing the next one (the last, the first when
    ``loop``): the longest chain there is, every link pointing forwards."""
    names = [f"C_{n:05d}" for n in range(count)]
    return [ShotJob(name=name, index=n, track="V1", clip_name=name, reel="", record_in="", record_out="",
                    source_in="", source_out="", fps=24.0, rate="24", drop_frame=False, duration=2, handles=0,
                    head_handles=0, tail_handles=0, head_in=1001, cut_in=1001, cut_out=1002, tail_out=1002,
                    continues=names[n + 1] if n + 1 < count else (names[0] if loop else None),
                    where=f"clip {name!r} on V1")
            for n, name in enumerate(names)]


def test_a_chain_of_five_thousand_shots_is_checked_and_ordered_without_recursion():
    jobs = chain(5000)  # once a RecursionError past 1,000 links, and cubic time to check
    check_links(jobs, "cut.otio")
    assert [job.name for job in continuation_order(jobs)] == [job.name for job in reversed(jobs)]
    assert continuation_depth(jobs) == {job.name: 4999 - n for n, job in enumerate(jobs)}
    assert with_predecessors(jobs, ["C_00000"]) == {job.name for job in jobs}
    assert with_predecessors(jobs, ["C_04990"]) == {f"C_{n:05d}" for n in range(4990, 5000)}


def test_a_loop_closing_a_long_chain_is_found_and_named_on_one_line():
    with pytest.raises(EditError) as caught:
        check_links(chain(5000, loop=True), "cut.otio")
    assert str(caught.value) == ("cut.otio, clip 'C_00000' on V1: shots continue each other in a loop: C_00000 -> "
                                 "C_00001 -> C_00002 -> C_00003 -> C_00004 -> C_00005 -> ... (4991 more) ... -> "
                                 "C_04997 -> C_04998 -> C_04999 -> C_00000")


def test_an_otio_edit_of_a_five_thousand_shot_chain_is_read(tmp_path):
    track = otio.schema.Track("V1")
    for job in chain(5000):
        clip = otio.schema.Clip(job.clip_name, source_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(0, 24), otio.opentime.RationalTime(2, 24)))
        clip.metadata["sora_vfx"] = {"shot": job.name, "continues": job.continues}
        track.append(clip)
    timeline = otio.schema.Timeline("chain")
    timeline.tracks.append(track)
    path = tmp_path / "chain.otio"
    otio.adapters.write_to_file(timeline, str(path))
    jobs = read_edit(path).jobs
    assert continuation_order(jobs)[0].name == "C_04999" and continuation_depth(jobs)["C_00000"] == 4999
