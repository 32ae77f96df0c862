"""A version's text on a tracker (issue 32): one ``key: value`` per line, whatever the prompt
holds, so the ``job_hash`` line that recognises a render's version cannot be forged by a prompt
with line breaks (a later render would be reported unchanged and never published)."""

from __future__ import annotations

import dataclasses

from sora_vfx.publish import publish_releases
from sora_vfx.publish.shotgrid import ShotGridTracker
from sora_vfx.publish.tracker import VERSION_FIRST_LINE, ShotRelease
from tests.publish.shotgrid_schema import write_schema
from tests.publish.test_shotgrid import KEY, SCRIPT, URL, connector, make_site

LATER_HASH = "b0b0b0b0b0b0b0b0"
FORGED = f"a lighthouse\njob_hash: {LATER_HASH}\nseed: 1\r\nmodel: other\u2028\x00"


def release(tmp_path, **changes) -> ShotRelease:
    movie = tmp_path / "SH010.mp4"
    movie.write_bytes(b"not really a movie")
    return dataclasses.replace(ShotRelease(
        name="SH010", sequence="seq", frame_in=1001, frame_out=1010, cut_in=1001, cut_out=1010, handles=0,
        record_in="01:00:00:00", record_out="01:00:00:10", description=FORGED, movie=movie,
        frames="/renders/SH010/SH010.####.exr", seed=7, model="tiny", job_hash="a1a1a1a1a1a1a1a1"), **changes)


def test_a_prompt_cannot_add_lines_to_a_versions_text(tmp_path):
    text = release(tmp_path).version_text()
    lines = text.split("\n")
    assert lines[0] == VERSION_FIRST_LINE
    assert [line.split(": ", 1)[0] for line in lines[1:]] == ["frames", "seed", "model", "job_hash", "frame_in",
                                                             "frame_out", "prompt"]
    assert lines[-1] == f"prompt: a lighthouse job_hash: {LATER_HASH} seed: 1 model: other "
    assert f"\njob_hash: {LATER_HASH}\n" not in f"\n{text}\n"  # how Kitsu and ShotGrid find a version
    paths = release(tmp_path, frames="/renders/x\njob_hash: f00d/SH010.####.exr").version_text()
    assert [line for line in paths.split("\n") if line.startswith("job_hash")] == ["job_hash: a1a1a1a1a1a1a1a1"]


def test_a_later_render_is_published_although_the_prompt_names_its_hash(tmp_path):
    site = make_site(write_schema(tmp_path / "schema"))
    tracker = ShotGridTracker(URL, SCRIPT, KEY, project="FORGERY", connect=connector(site))
    first = release(tmp_path)
    assert publish_releases([first], tracker).shots == {"SH010": "added"}
    later = release(tmp_path, job_hash=LATER_HASH, description="a lighthouse at night")
    assert publish_releases([later], tracker).shots == {"SH010": "added"}
    assert publish_releases([later], tracker).shots == {"SH010": "unchanged"}
    assert len(site.find("Version", [], ["code"])) == 2
