"""The editors' conforms read back as the edit (issue 32): every shot with its own name, where
the editor's notes, a ``--shots`` subset or hostile text in names and locators once made
another. The conform is written straight from the edit (no render: only names and text matter)."""

from __future__ import annotations

from pathlib import Path

import opentimelineio as otio

from sora_vfx.editorial import EditOptions, read_edit
from sora_vfx.editorial.conform import conform_timeline, write_conforms
from tests.editorial.aaf_edits import CUT, write_aaf

FORMATS = ("otio", "xml", "edl", "aaf")


def conform(edit_path: Path, out: Path, rendered: set[str] | None = None, **options) -> dict[str, list]:
    """Write every conform of ``edit_path`` with ``rendered`` (default: every shot) rendered;
    each conform read back as an edit, by format."""
    edit = read_edit(edit_path, EditOptions(**options))
    rendered = {job.name for job in edit.jobs} if rendered is None else rendered
    out.mkdir(parents=True, exist_ok=True)
    conformed = conform_timeline(edit.timeline, edit.clips, edit.jobs, out, rendered=rendered)
    written = write_conforms(conformed, out, FORMATS, jobs=edit.jobs, rendered=rendered, record_rate=edit.record_rate)
    return {path.suffix[1:]: read_edit(path, EditOptions(fps=24 if path.suffix == ".edl" else None)).jobs
            for path in written}


PICKUP_EDL = """\
    TITLE: PICKUPS
    FCM: NON-DROP FRAME

    001  A001C003 V     C        14:02:10:00 14:02:11:00 01:00:00:00 01:00:01:00
    * FROM CLIP NAME:  A001C003_LIGHTHOUSE
    * LOC: 01:00:00:12 YELLOW  PICKUP
    * SHOT: LHT_0010
    * PROMPT: a lighthouse at dusk
    002  A001C007 V     C        14:05:00:00 14:05:00:20 01:00:01:00 01:00:01:20
    * FROM CLIP NAME:  A001C007_CLIFF
    * LOC: 01:00:01:05 YELLOW  LHT_0020
    * LOC: 01:00:01:10 RED     REFRAME
    * PROMPT: gulls over a cliff
"""


def test_an_editors_one_word_note_does_not_rename_the_shot(write_edl, tmp_path):
    edl = write_edl(PICKUP_EDL)
    # Read from the edit: the SHOT comment names the shot, the one-word locator is a note.
    assert [(job.name, job.notes) for job in read_edit(edl).jobs] == [("LHT_0010", ["PICKUP"]),
                                                                       ("LHT_0020", ["REFRAME"])]
    for name, jobs in conform(edl, tmp_path / "out").items():
        assert [job.name for job in jobs] == ["LHT_0010", "LHT_0020"], name
        assert [job.notes for job in jobs][:1] in ([["PICKUP"]], [[]]), name  # AAF keeps no markers
        assert [job.prompt for job in jobs] == ["a lighthouse at dusk", "gulls over a cliff"], name


def test_a_clip_at_another_rate_than_its_cut_keeps_its_name_and_place_in_every_conform(tmp_path):
    """A 29.97 clip cut into a 24 fps timeline: its record timecodes are on the timeline's
    clock, and so are its name locator and the EDL's events (once, the EDL took 29.97 drop
    frame from the clip and put the locator seconds after its event; it did not read back)."""
    track = otio.schema.Track(name="V1")
    for name, frames, rate in (("sh010", 24, 24.0), ("sh020", 30, 30000 / 1001), ("sh030", 48, 24.0)):
        track.append(otio.schema.Clip(name=f"{name}_src", metadata={"sora_vfx": {"shot": name}},
                                      source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, rate),
                                                                           otio.opentime.RationalTime(frames, rate))))
    timeline = otio.schema.Timeline(name="MIXED", global_start_time=otio.opentime.RationalTime(86400, 24))
    timeline.tracks.append(track)
    for start, name in ((None, "uncut"), (timeline.global_start_time, "cut")):
        timeline.global_start_time = start
        path = tmp_path / f"{name}.otio"
        otio.adapters.write_to_file(timeline, str(path))
        hour = "01" if start is not None else "00"
        record = [f"{hour}:00:00:00", f"{hour}:00:01:00", f"{hour}:00:02:00"]
        assert [job.record_in for job in read_edit(path).jobs] == record
        for kind, jobs in conform(path, tmp_path / name).items():
            placed = [(job.name, job.record_in) for job in jobs]
            assert placed == list(zip(["sh010", "sh020", "sh030"], record, strict=True)), kind
            assert jobs[-1].record_out == f"{hour}:00:04:00", kind
    edl = (tmp_path / "cut" / "renders.edl").read_text()
    assert "* LOC: 01:00:01:00 YELLOW  SH020" in edl and ";" not in edl


def test_the_name_marker_is_at_the_clips_record_position(write_edl, tmp_path):
    out = tmp_path / "out"
    conform(write_edl(PICKUP_EDL), out)
    lines = (out / "renders.edl").read_text().splitlines()
    # An EDL's locators are in record time, the shot's name first, then the editor's.
    assert [line for line in lines if line.startswith("* LOC:")] == [
        "* LOC: 01:00:00:00 YELLOW  LHT_0010", "* LOC: 01:00:00:12 YELLOW  PICKUP",
        "* LOC: 01:00:01:00 YELLOW  LHT_0020", "* LOC: 01:00:01:10 RED     REFRAME"]
    assert "* SHOT: LHT_0010" in lines and "* PROMPT: a lighthouse at dusk" in lines
    xml = otio.adapters.read_from_file(str(out / "renders.xml"))
    markers = [[(marker.name, marker.marked_range.start_time.value) for marker in clip.markers]
               for clip in xml.find_clips()]
    assert markers == [[("LHT_0010", 86400), ("PICKUP", 86412)], [("LHT_0020", 86424), ("REFRAME", 86434)]]


def test_an_aaf_conform_of_some_shots_keeps_every_name_and_the_bin_comments(tmp_path):
    source = write_aaf(tmp_path / "cut.aaf")
    edit = read_edit(source)
    out = tmp_path / "out"
    # Only the first shot rendered: the second, named by a locator, must not become sh020
    # (a new name, so a new seed).
    back = conform(source, out, rendered={"ABC_0010"})
    for name, jobs in back.items():
        assert [job.name for job in jobs] == ["ABC_0010", "ABC_0020", "sh030"], name
        assert [job.seed for job in jobs][1:] == [job.seed for job in edit.jobs][1:], name
    assert [job.prompt for job in back["aaf"]] == [job.prompt for job in edit.jobs]
    assert back["aaf"][0].seed == 7
    # The rendered clip keeps the editor's Comments column beside the shot's own columns.
    clips = list(otio.adapters.read_from_file(str(out / "renders.aaf")).find_clips())
    comments = clips[0].metadata["AAF"]["UserComments"]
    assert comments["Comments"] == CUT[0].comments["Comments"]
    assert comments["Shot"] == "ABC_0010" and comments["Seed"] == "7" and comments["Prompt"] == "a lighthouse at dusk"
    assert dict(clips[1].metadata["AAF"]["UserComments"]) == {"Prompt": "gulls over a cliff", "Shot": "ABC_0020"}


def test_shots_cut_from_one_master_clip_keep_their_own_names_in_aaf(tmp_path):
    from aaf2.mobid import MobID

    master = str(MobID.new())
    track = otio.schema.Track(name="V1")
    for name, start in (("SH_0100", 0), ("SH_0200", 48)):
        clip = otio.schema.Clip(name="A001C003", metadata={"AAF": {"MobID": master}},
                                source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(start, 24),
                                                                     otio.opentime.RationalTime(24, 24)))
        clip.markers.append(otio.schema.Marker(name=name))
        track.append(clip)
    timeline = otio.schema.Timeline(name="one master")
    timeline.tracks.append(track)
    source = tmp_path / "cut.otio"
    otio.adapters.write_to_file(timeline, str(source))
    for rendered in ({"SH_0100", "SH_0200"}, set()):
        back = conform(source, tmp_path / f"out{len(rendered)}", rendered=rendered)
        assert {name: [job.name for job in jobs] for name, jobs in back.items()} == dict.fromkeys(
            FORMATS, ["SH_0100", "SH_0200"])


def test_line_breaks_in_names_and_locators_add_no_shot(tmp_path):
    """A clip name and a locator that carry an EDL event and annotations after a line break,
    from an OTIO edit: every conform reads back with the edit's two shots and prompts."""
    evil = "\n002  AX       V     C        00:00:00:00 00:00:01:00 01:00:05:00 01:00:06:00\n* SHOT: EVIL_0666\n" \
           "* PROMPT: injected\r\n* SEED: 1\x00\u2028"
    track = otio.schema.Track(name="V1")
    for index, name in enumerate(("SH_0100", "SH_0200")):
        clip = otio.schema.Clip(name=f"A001C00{index}{evil}", metadata={"sora_vfx": {
            "shot": name, "prompt": f"a quiet harbour{evil}"}}, source_range=otio.opentime.TimeRange(
                otio.opentime.RationalTime(0, 24), otio.opentime.RationalTime(24, 24)))
        clip.markers.append(otio.schema.Marker(name=f"fix the sky{evil}"))
        track.append(clip)
    timeline = otio.schema.Timeline(name=f"CUT{evil}")
    timeline.tracks.append(track)
    source = tmp_path / "cut.otio"
    otio.adapters.write_to_file(timeline, str(source))
    flat = "a quiet harbour 002  AX       V     C        00:00:00:00 00:00:01:00 01:00:05:00 01:00:06:00 " \
           "* SHOT: EVIL_0666 * PROMPT: injected * SEED: 1"  # OTIO itself cuts a string at U+0000
    for rendered in ({"SH_0100"}, {"SH_0100", "SH_0200"}):
        out = tmp_path / f"out{len(rendered)}"
        for name, jobs in conform(source, out, rendered=rendered).items():
            assert [job.name for job in jobs] == ["SH_0100", "SH_0200"], name
            if name in ("edl", "aaf"):
                assert [job.prompt for job in jobs] == [flat, flat], name
            assert all(job.seed != 1 for job in jobs)
        text = (out / "renders.edl").read_text()
        assert "\r" not in text and "\x00" not in text and "\n* SHOT: EVIL_0666" not in text
        assert [line[:3] for line in text.splitlines() if line[:1].isdigit()] == ["001", "002"]


def test_a_dissolve_keeps_each_shots_prompt_in_the_edl(tmp_path):
    """OTIO's writer repeats the outgoing clip's comments in a dissolve's event, whose comments
    belong to the incoming clip: the conform writes each shot's fields once."""
    from tests.conftest import SAMPLES

    source = SAMPLES / "dissolve_speed_23976.edl"
    edit = read_edit(source, EditOptions(fps="23.976"))
    conformed = conform_timeline(edit.timeline, edit.clips, edit.jobs, tmp_path,
                                 rendered={job.name for job in edit.jobs})
    write_conforms(conformed, tmp_path, ("otio", "edl"), jobs=edit.jobs, rendered={job.name for job in edit.jobs})
    back = read_edit(tmp_path / "renders.edl", EditOptions(fps="23.976")).jobs
    assert [(job.name, job.prompt, job.seed) for job in back] == [(job.name, job.prompt, job.seed) for job in edit.jobs]


def test_a_dissolve_does_not_carry_the_outgoing_shots_name_as_a_note(tmp_path):
    """With named shots, the writer also repeats the outgoing clip's name locator in the
    dissolve's event; read back, it was a note on the incoming shot. An editor's own note there
    is kept."""
    from tests.conftest import SAMPLES

    text = (SAMPLES / "dissolve_speed_23976.edl").read_text()
    for clip, shot in (("B001C002_STREET", "STR_0010"), ("B003C010_TRAIN", "TRN_0020"), ("B004C001_CROWD", "CRD_0030")):
        text = text.replace(f"CLIP NAME:  {clip}\n", f"CLIP NAME:  {clip}\n* SHOT: {shot}\n")
    text = text.replace("* SHOT: TRN_0020\n", "* SHOT: TRN_0020\n* LOC: 00:00:01:20 RED     RETIME_CHECK\n")
    source = tmp_path / "named.edl"
    source.write_text(text)
    back = conform(source, tmp_path / "out", fps="23.976")
    for kind, jobs in back.items():
        notes = [(job.name, job.notes) for job in jobs]
        assert notes[:1] == [("STR_0010", [])] and notes[2:] == [("CRD_0030", [])], kind
        assert notes[1][0] == "TRN_0020" and "STR_0010" not in notes[1][1], kind
        if kind in ("edl", "otio", "xml"):
            assert notes[1][1] == ["RETIME_CHECK"], kind


def test_fcp_xml_comments_carry_prompts_and_keep_the_editors_own(tmp_path):
    """An FCP 7 XML clip item's comments (Master Comment 1-4, Comment A and B) may set fields
    with ``PROMPT: ...`` lines, as EDL comments do; the XML conform writes the shot's fields
    there, once, beside the editor's other comments."""
    track = otio.schema.Track(name="V1")
    kite = {"mastercomment1": "check the sky", "clipcommenta": "PROMPT: a red kite\nSEED: 42"}
    gull = {"mastercomment1": "SHOT: GUL_0020", "mastercomment2": "PROMPT: a gull"}
    for name, comments in (("kite", kite), ("gull", gull)):
        reference = otio.schema.ExternalReference(target_url=f"file:///plates/{name}.mov", available_range=(
            otio.opentime.TimeRange(otio.opentime.RationalTime(0, 24), otio.opentime.RationalTime(96, 24))))
        track.append(otio.schema.Clip(name=name, media_reference=reference,
                                      metadata={"fcp_xml": {"comments": comments}},
                                      source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, 24),
                                                                           otio.opentime.RationalTime(24, 24))))
    timeline = otio.schema.Timeline(name="KITES", global_start_time=otio.opentime.RationalTime(86400, 24))
    timeline.tracks.append(track)
    source = tmp_path / "kites.xml"
    otio.adapters.write_to_file(timeline, str(source), adapter_name="fcp_xml")
    jobs = read_edit(source).jobs
    assert [(job.name, job.prompt, job.seed) for job in jobs][1:] == [("GUL_0020", "a gull", jobs[1].seed)]
    assert (jobs[0].prompt, jobs[0].seed) == ("a red kite", 42)
    back = conform(source, tmp_path / "out")
    for kind, read in back.items():
        assert [(job.name, job.prompt, job.seed) for job in read] == [(j.name, j.prompt, j.seed) for j in jobs], kind
    written = otio.adapters.read_from_file(str(tmp_path / "out" / "renders.xml"), adapter_name="fcp_xml")
    comments = [clip.metadata["fcp_xml"]["comments"] for clip in written.find_clips()]
    assert comments[0]["mastercomment1"] == "check the sky"  # the editor's, where it was
    assert comments[0]["mastercomment2"] == f"SHOT: {jobs[0].name}\nPROMPT: a red kite\nSEED: 42"
    assert "clipcommenta" not in comments[0]  # held only fields, now written once with the others
    assert comments[1] == {"mastercomment1": f"SHOT: GUL_0020\nPROMPT: a gull\nSEED: {jobs[1].seed}"}
