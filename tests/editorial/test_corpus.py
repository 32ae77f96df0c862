"""Every EDL in the shared corpus (real exports) reads as OTIO reads it, or fails cleanly."""

from __future__ import annotations

import opentimelineio as otio
import pytest
from click.testing import CliRunner

from sora_vfx.cli import main
from sora_vfx.editorial import read_shots
from sora_vfx.errors import EditError
from tests.conftest import CORPUS

EDLS = sorted((CORPUS / "edls").glob("*.edl")) if CORPUS.exists() else []
RATES = {"25fps.edl": 25}


def otio_video_clips(path, rate):
    timeline = otio.adapters.read_from_file(str(path), rate=rate)
    clips = []
    for track in timeline.video_tracks():
        for clip in track.find_clips(shallow_search=True):
            if not isinstance(clip.media_reference, otio.schema.GeneratorReference):
                clips.append(round(clip.duration().value))
    return clips


@pytest.mark.skipif(not EDLS, reason="shared corpus not found beside the project")
@pytest.mark.parametrize("edl", EDLS, ids=[p.name for p in EDLS])
def test_corpus_edl(edl):
    rate = RATES.get(edl.name, 24)
    try:
        expected = otio_video_clips(edl, rate)
    except Exception:
        expected = None
    if not expected:
        with pytest.raises(EditError) as err:
            read_shots(edl, fps=rate)
        assert edl.name in str(err.value)
        return
    jobs = read_shots(edl, fps=rate)
    assert sorted(j.duration for j in jobs) == sorted(expected)
    assert len({j.name for j in jobs}) == len(jobs)


@pytest.mark.skipif(not EDLS, reason="shared corpus not found beside the project")
@pytest.mark.parametrize("edl", EDLS, ids=[p.name for p in EDLS])
def test_corpus_edl_on_the_command_line(edl):
    result = CliRunner().invoke(main, ["shots", str(edl), "--json"])
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert edl.name in result.stderr
