"""Every format OTIO's adapters read: OTIO JSON with sora_vfx metadata, otioz, otiod, FCP XML."""

from __future__ import annotations

import opentimelineio as otio
import pytest

from sora_vfx.editorial import read_shots
from tests.conftest import SAMPLES


def test_sample_otio_with_sora_vfx_metadata():
    jobs = read_shots(SAMPLES / "desert_25fps.otio")
    assert [j.name for j in jobs] == ["DSR_0010", "DSR_0020", "DSR_0025", "DSR_0030"]
    by_name = {j.name: j for j in jobs}
    assert by_name["DSR_0010"].style == "film"
    assert by_name["DSR_0010"].source["prompt"] == "otio metadata"
    assert by_name["DSR_0020"].seed == 99
    assert by_name["DSR_0030"].negative_prompt == "people, text"
    assert by_name["DSR_0025"].track == "FX"
    assert by_name["DSR_0010"].fps == 25.0
    assert by_name["DSR_0010"].record_in == "01:00:00:00"
    assert by_name["DSR_0030"].record_in == "01:00:02:15"  # after a 10-frame gap


def with_media(timeline: otio.schema.Timeline, folder) -> otio.schema.Timeline:
    """Point every clip at a real file, as an editor's timeline would (bundlers need media)."""
    for clip in timeline.find_clips():
        start = clip.source_range.start_time
        if isinstance(clip.media_reference, otio.schema.GeneratorReference):
            clip.media_reference.available_range = clip.source_range
            continue
        media = folder / f"{clip.name.replace(' ', '_')}.mov"
        media.write_bytes(b"not really a movie")
        clip.media_reference = otio.schema.ExternalReference(
            target_url=media.as_uri(),
            available_range=otio.opentime.TimeRange(start, otio.opentime.RationalTime(10000, start.rate)),
        )
    return timeline


@pytest.mark.parametrize("suffix", [".otioz", ".otiod"])
def test_otio_bundles(tmp_path, suffix):
    timeline = with_media(otio.adapters.read_from_file(str(SAMPLES / "desert_25fps.otio")), tmp_path)
    path = tmp_path / f"desert{suffix}"
    otio.adapters.write_to_file(timeline, str(path))
    jobs = read_shots(path)
    assert [j.name for j in jobs] == ["DSR_0010", "DSR_0020", "DSR_0025", "DSR_0030"]


def test_fcp_xml_written_by_otio(tmp_path):
    source = SAMPLES / "desert_25fps.otio"
    timeline = with_media(otio.adapters.read_from_file(str(source)), tmp_path)
    path = tmp_path / "desert.xml"
    otio.adapters.write_to_file(timeline, str(path), adapter_name="fcp_xml")
    from_xml = read_shots(path)
    from_otio = read_shots(source)
    assert [(j.duration, j.record_in) for j in from_xml] == [
        (j.duration, j.record_in) for j in from_otio
    ]
    assert {j.fps for j in from_xml} == {25.0}
