"""One value in one field (issue 32): text from an edit (clip names, locators, tape names,
prompts) with line breaks, NUL, escape sequences and Unicode separators goes through every
writer (the conforms in OTIO, EDL, FCP XML and AAF; EXR headers; movie tags and reel names;
a tracker's version text) and reads back as what it was: each conform read as an edit has
exactly the edit's shots, with their names, and the prompt intact (OTIO) or flattened to one
line (EDL, AAF). The rule: :mod:`sora_vfx.text`."""

from __future__ import annotations

import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import opentimelineio as otio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sora_vfx.editorial import EditOptions, read_edit
from sora_vfx.editorial.annotations import is_annotation_comment
from sora_vfx.editorial.conform import conform_timeline, write_conforms
from sora_vfx.imaging import read_exr_header, write_exr_frame
from sora_vfx.publish.tracker import ShotRelease
from sora_vfx.text import multi_line, one_line, printable

FOLDER = Path(tempfile.mkdtemp(prefix="sora_vfx-one-line-"))
PROPERTY = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
#: The characters that end a line somewhere (Python, EDL readers, XML, terminals) or cut a C string.
BREAKERS = ["\n", "\r", "\r\n", "\x00", "\x1b[31m", "\x1b]0;title\x07", "\x85", "\u2028", "\u2029", "\x0b", "\x0c",
            "\x1c", "\t", "\ufffe", "\uffff"]
#: Text an attacker puts after a line break: an EDL event, annotations, a tracker's hash line.
INJECTIONS = ["002  AX       V     C        00:00:00:00 00:00:01:00 01:00:05:00 01:00:06:00",
              "* SHOT: EVIL_0666", "* PROMPT: injected", "* LOC: 01:00:00:00 RED     EVIL_0777", "SHOT: EVIL_0888",
              "PROMPT: injected", "job_hash: 0123456789abcdef", "</name></clipitem>", "* SEED: 1", "BL", "01:00:00:00"]
hostile = st.lists(st.one_of(st.text(max_size=12), st.sampled_from(BREAKERS), st.sampled_from(INJECTIONS)),
                   max_size=6).map("".join)
SHOTS = ["SH010", "sh_0020", "Abc-0030.v2"]


def edit_with(names, tapes, notes, prompts, title) -> otio.schema.Timeline:
    """An OTIO edit whose clips are named by ``sora_vfx`` metadata and carry hostile text
    everywhere else."""
    track = otio.schema.Track(name=title)
    for index, (name, tape, note, prompt) in enumerate(zip(names, tapes, notes, prompts, strict=True)):
        clip = otio.schema.Clip(
            name=name, metadata={"sora_vfx": {"shot": SHOTS[index], "prompt": prompt}},
            source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(86400 + 100 * index, 24),
                                                 otio.opentime.RationalTime(12, 24)))
        if tape:  # an AAF clip's tape name: the key of its other media reference
            clip.set_media_references({otio.schema.Clip.DEFAULT_MEDIA_KEY: otio.schema.MissingReference(),
                                       tape: otio.schema.MissingReference()}, otio.schema.Clip.DEFAULT_MEDIA_KEY)
            lines = [line for line in f"hero take\n{note}".splitlines() if not is_annotation_comment(line)]
            clip.metadata["AAF"] = {"UserComments": {"Comments": "\n".join(lines)}}
        if not is_annotation_comment(note):
            clip.metadata["cmx_3600"] = {"comments": [note]}
        clip.markers.append(otio.schema.Marker(name=note, color=tape or "RED"))
        track.append(clip)
    timeline = otio.schema.Timeline(name=title, global_start_time=otio.opentime.RationalTime(86400, 24))
    timeline.tracks.append(track)
    return timeline


@PROPERTY
@given(count=st.integers(1, 3), texts=st.lists(hostile, min_size=12, max_size=12), title=hostile,
       rendered=st.lists(st.booleans(), min_size=3, max_size=3))
def test_every_conform_reads_back_with_the_edits_shots_and_prompts(count, texts, title, rendered):
    folder = Path(tempfile.mkdtemp(dir=FOLDER))
    names, tapes, notes, prompts = (texts[i * 3:i * 3 + count] for i in range(4))
    source = folder / "cut.otio"
    otio.adapters.write_to_file(edit_with(names, tapes, notes, prompts, title), str(source))
    edit = read_edit(source)
    assert [job.name for job in edit.jobs] == SHOTS[:count]
    done = {job.name for job, flag in zip(edit.jobs, rendered, strict=False) if flag}
    conformed = conform_timeline(edit.timeline, edit.clips, edit.jobs, folder, rendered=done)
    written = write_conforms(conformed, folder, ("otio", "xml", "edl", "aaf"), jobs=edit.jobs, rendered=done)
    assert [path.suffix for path in written] == [".otio", ".xml", ".edl", ".aaf"]
    for path in written:
        back = read_edit(path, EditOptions(fps=24 if path.suffix == ".edl" else None)).jobs
        assert [job.name for job in back] == SHOTS[:count], path.name
        for job, original in zip(back, edit.jobs, strict=True):
            if path.suffix == ".otio":
                assert job.prompt == multi_line(original.prompt)  # intact but for what OTIO cannot hold
            else:
                assert job.prompt == one_line(original.prompt).strip(), path.name
            assert job.seed == original.seed or (path.suffix == ".xml" and job.name not in done)
    edl = (folder / "renders.edl").read_text()
    assert not any(character in edl for character in "\x00\x1b\r\x85\u2028\u2029")
    assert len([line for line in edl.splitlines() if line[:3].isdigit()]) == count  # one event per clip


@PROPERTY
@given(prompt=hostile, tape=hostile)
def test_exr_headers_movie_tags_and_version_text_hold_one_line(prompt, tape):
    folder = Path(tempfile.mkdtemp(dir=FOLDER))
    frame = folder / "SH010.1001.exr"
    write_exr_frame(frame, np.zeros((2, 2, 3), np.float32),
                    attributes={"sora_vfx:prompt": prompt, "sora_vfx:shot": "SH010", "sora_vfx:reel": tape})
    header = read_exr_header(frame)
    assert header.get("sora_vfx:prompt", "") == one_line(prompt)  # nothing cut at a NUL, nothing dropped
    assert header.get("sora_vfx:reel", "") == one_line(tape)
    release = ShotRelease(name="SH010", sequence="seq", frame_in=1001, frame_out=1010, cut_in=1001, cut_out=1010,
                          handles=0, record_in="01:00:00:00", record_out="01:00:00:10", description=prompt,
                          movie=folder / "SH010.mp4", frames=f"/renders/{tape}/SH010.####.exr", seed=1, model="tiny",
                          job_hash="feedface")
    lines = release.version_text().split("\n")
    assert [line.split(":")[0] for line in lines[1:]] == [*release.data(), "prompt"]
    assert [line for line in lines if line.startswith("job_hash:")] == ["job_hash: feedface"]
    assert "\x1b" not in printable(prompt) and "\n" not in printable(prompt)


def test_movie_tags_and_the_reel_name_are_one_line(tmp_path):
    import av

    from sora_vfx.review.movies import PRORES_HQ, MovieWriter

    tape = "A001\n003  AX       V     C        00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00\x00"
    movie = tmp_path / "SH010.mov"
    tags = {"title": "SH010\nSH020", "comment": "prompt: a\x00b\u2028c\x1b[2J"}
    with MovieWriter(movie, size=(16, 16), rate=Fraction(24), movie_format=PRORES_HQ, timecode="01:00:00:00",
                     reel=tape, metadata=tags) as writer:
        writer.write(np.zeros((16, 16, 3), np.uint8))
        writer.close()
    with av.open(str(movie)) as container:
        tags = dict(container.metadata)
        [track] = [dict(stream.metadata) for stream in container.streams if stream.type == "data"]
    assert tags["title"] == "SH010 SH020"
    assert tags["comment"] == "prompt: a b c [2J"  # not cut at the NUL
    assert track["reel_name"] == one_line(tape).strip() and "\n" not in track["reel_name"]


def test_burn_in_bars_hold_one_line_of_text():
    from sora_vfx.review.burnins import BurnInLayout, slate, top_bar

    layout = BurnInLayout.for_picture(64, 32)
    assert np.array_equal(top_bar(layout, "SH010\nSH020", ai_mark=True), top_bar(layout, "SH010 SH020", ai_mark=True))
    assert np.array_equal(slate(layout, "a\u2028b"), slate(layout, "a b"))


def test_the_one_line_rule():
    assert one_line("a\r\nb\x00c\x1b[31md\u2028e\x85f\tg") == "a b c [31md e f g"
    assert one_line(None) == "" and one_line(1234) == "1234"
    assert one_line("plain text, é, 東京") == "plain text, é, 東京"
    assert multi_line("a\r\nb\x00c\x1b\td\u2028e") == "a\r\nb c \td\u2028e"
    assert printable("ok \x1b[2J\x07\u202e\n\ud800") == "ok \\x1b[2J\\x07\\u202e\\n\\ud800"
