"""Annotation comments read by the EDL reader instead of OTIO's adapter (sora_vfx.editorial.reader).

OTIO keeps every comment line as clip metadata, which costs most of its parse on an annotated
EDL, so the reader takes ``* PROMPT:``-style lines out before OTIO reads the text and pairs them
back with their clips. Every shot job must be exactly what it is when OTIO reads everything.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sora_vfx.editorial import read_edit, read_shots, reader
from sora_vfx.errors import EditError
from tests.conftest import CORPUS, SAMPLES

CORPUS_EDLS = sorted((CORPUS / "edls").glob("*.edl")) if CORPUS.exists() else []
RATES = {"25fps.edl": 25, "dissolve_speed_23976.edl": "23.976"}

TRICKY = {
    # A dissolve: comments after the cut line and after the D line belong to one event.
    "dissolve.edl": """TITLE: DISSOLVE
FCM: NON-DROP FRAME

001  A001     V     C        01:00:00:00 01:00:02:00 01:00:00:00 01:00:02:00
* FROM CLIP NAME: A001_TAKE1
* SHOT: SH_0010
* PROMPT: a harbour at dawn,
* PROMPT: mist on the water
002  A001     V     C        01:00:02:00 01:00:02:00 01:00:02:00 01:00:02:00
* PROMPT: said between the two lines of the dissolve
002  B002     V     D    012 01:10:00:00 01:10:03:00 01:00:02:00 01:00:05:00
* FROM CLIP NAME: B002_TAKE3
* SHOT: SH_0020
* SEED: 77
* a note that is not ours
""",
    # Audio-only and both-channel events, an AX reel, black, a second video track.
    "channels.edl": """TITLE: CHANNELS

001  A001     V     C        01:00:00:00 01:00:01:00 01:00:00:00 01:00:01:00
* SHOT: CH_0010
* PROMPT: video only
002  A002     A     C        01:00:00:00 01:00:01:00 01:00:00:00 01:00:01:00
* PROMPT: audio, not a shot
003  AX       B     C        01:00:01:00 01:00:02:00 01:00:01:00 01:00:02:00
* SHOT: CH_0030
* PROMPT: picture and sound from an unknown reel
004  BL       V     C        00:00:00:00 00:00:01:00 01:00:02:00 01:00:03:00
* PROMPT: black
005  A005     V2    C        01:00:00:00 01:00:01:00 01:00:00:00 01:00:01:00
* SHOT: CH_0050
* STYLE: noir
006  A006     AA/V  C        01:00:03:00 01:00:04:00 01:00:03:00 01:00:04:00
* SHOT: CH_0060
* NEGATIVE PROMPT: text
""",
    # Comments before the first event are OTIO's to refuse, as before.
    "before_first_event.edl": """TITLE: EARLY
* PROMPT: too early
001  A001     V     C        01:00:00:00 01:00:01:00 01:00:00:00 01:00:01:00
* SHOT: EA_0010
""",
}


def _jobs_or_error(path: Path, fps) -> list[dict] | str:
    try:
        return [job.to_dict() for job in read_shots(path, fps=fps)]
    except EditError as exc:
        return str(exc)


def _both_ways(path: Path, fps, monkeypatch) -> tuple[list[dict] | str, list[dict] | str]:
    fast = _jobs_or_error(path, fps)
    with monkeypatch.context() as patch:
        patch.setattr(reader, "split_annotation_comments", lambda lines: None)
        everything_by_otio = _jobs_or_error(path, fps)
    return fast, everything_by_otio


def _annotate(text: str) -> str:
    """A real EDL with our comments after each of its event lines."""
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        out.append(line)
        if re.match(r"^\s*\d+\s+\S", line):
            out += [f"* PROMPT: line {number} prompt", f"* SEED: {number}", f"* SHOT: L{number:04d}"]
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_tricky_edits_give_the_same_shots(name, tmp_path, monkeypatch):
    path = tmp_path / name
    path.write_text(TRICKY[name])
    fast, everything_by_otio = _both_ways(path, 24, monkeypatch)
    assert fast == everything_by_otio


def test_comments_are_taken_out_and_paired(tmp_path):
    path = tmp_path / "dissolve.edl"
    path.write_text(TRICKY["dissolve.edl"])
    reading = read_edit(path)
    _, source = reader.parse_edit_file(path)
    clips = [c for c in source._annotated_clips]
    assert [source.annotation_comments(c) for c in clips] == [
        ["SHOT: SH_0010", "PROMPT: a harbour at dawn,", "PROMPT: mist on the water"],
        ["PROMPT: said between the two lines of the dissolve", "SHOT: SH_0020", "SEED: 77"],
    ]
    jobs = {job.name: job for job in reading.jobs}
    assert jobs["SH_0010"].prompt == "a harbour at dawn, mist on the water"
    assert jobs["SH_0020"].prompt == "said between the two lines of the dissolve"
    assert jobs["SH_0020"].seed == 77
    comments = [c.metadata.get("cmx_3600", {}).get("comments", []) for c in reading.clips.values()]
    # OTIO kept the comment that is not ours, and none of ours.
    assert [list(c) for c in comments] == [[], ["a note that is not ours"]]


def test_sample_edits_give_the_same_shots(monkeypatch):
    for path in sorted(SAMPLES.glob("*.edl")):
        fast, everything_by_otio = _both_ways(path, RATES.get(path.name, 24), monkeypatch)
        assert fast == everything_by_otio, path.name


@pytest.mark.skipif(not CORPUS_EDLS, reason="shared corpus not found beside the project")
@pytest.mark.parametrize("edl", CORPUS_EDLS, ids=[p.name for p in CORPUS_EDLS])
def test_annotated_corpus_edits_give_the_same_shots(edl, tmp_path, monkeypatch):
    """Real exports (Avid, Premiere, Nucoda: dissolves, wipes, speed effects, audio) with our
    comments added after every event."""
    path = tmp_path / edl.name
    path.write_text(_annotate(edl.read_text(encoding="latin-1")), encoding="latin-1")
    fast, everything_by_otio = _both_ways(path, RATES.get(edl.name, 24), monkeypatch)
    assert fast == everything_by_otio
