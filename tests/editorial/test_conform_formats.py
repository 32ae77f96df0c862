"""The conform in the editor's own format (``render --conform otio,xml,edl``): each file,
read back through OTIO's adapters, has the edit's cuts, record timecodes and shot names."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlparse

import opentimelineio as otio
import pytest
from click.testing import CliRunner

from sora_vfx.cli.main import main
from sora_vfx.editorial import EditOptions, read_edit
from sora_vfx.editorial.conform import conform_formats
from sora_vfx.errors import ConfigError
from tests.conftest import SAMPLES
from tests.editorial.aaf_edits import write_aaf


def run(*args):
    return CliRunner().invoke(main, [str(arg) for arg in args])


def cuts(path: Path, fps: str | None = None) -> list[tuple]:
    edit = read_edit(path, EditOptions(fps=fps))
    return [(job.name, job.record_in, job.record_out, job.duration) for job in edit.jobs]


@pytest.mark.parametrize("edit, fps, refused", [
    ("sequence_24fps.edl", None, {}),
    ("dissolve_speed_23976.edl", "23.976", {}),
    # Two video tracks: OTIO's CMX 3600 writer takes one, and says so.
    ("desert_25fps.otio", None, {"edl": "Only a single video track is supported"}),
])
def test_each_format_reads_back_with_the_edits_cuts_and_names(tmp_path, caplog, edit, fps, refused):
    source = SAMPLES / edit
    args = ["render", source, "--steps", "1", "-o", tmp_path, "--no-review", "--conform", "otio,xml,edl", "--json"]
    result = run(*args, *(["--fps", fps] if fps else []))
    assert result.exit_code == 0, result.output
    written = json.loads(result.stdout)["conforms"]
    expected = cuts(source, fps)
    for name in ("otio", "xml", "edl"):
        path = tmp_path / f"renders.{name}"
        if name in refused:
            assert not path.exists() and str(path) not in written
            assert f"conform renders.{name} not written" in caplog.text and refused[name] in caplog.text
            continue
        assert str(path) in written
        # The EDL's frame rate is the edit's; XML and OTIO carry their own.
        assert cuts(path, fps if name == "edl" else None) == expected, name


def test_the_edl_keeps_reels_and_source_timecodes_and_names_each_sequence(tmp_path):
    source = SAMPLES / "sequence_24fps.edl"
    assert run("render", source, "--steps", "1", "--handles", "2", "-o", tmp_path, "--no-review").exit_code == 0
    # An EDL edit gets OTIO and an EDL by default.
    assert sorted(p.name for p in tmp_path.glob("renders.*")) == ["renders.edl", "renders.otio"]
    conform = otio.adapters.read_from_file(str(tmp_path / "renders.edl"), rate=24)
    original = otio.adapters.read_from_file(str(source), rate=24)
    ours, theirs = ([c for track in timeline.video_tracks() for c in track.find_clips()
                     if not isinstance(c.media_reference, otio.schema.GeneratorReference)]
                    for timeline in (conform, original))
    assert len(ours) == len(theirs) == 4
    assert [c.metadata["cmx_3600"]["reel"] for c in ours] == [c.metadata["cmx_3600"]["reel"] for c in theirs]
    assert [c.source_range for c in ours] == [c.source_range for c in theirs]
    text = (tmp_path / "renders.edl").read_text()
    for job in read_edit(source, EditOptions(handles=2)).jobs:
        assert f"* FROM CLIP NAME:  {job.name}\n" in text
        assert f"{(tmp_path / job.name).resolve().as_uri()}/{job.name}.[{job.cut_in}-{job.cut_out}].exr" in text


def test_the_xml_points_at_each_sequences_first_frame(tmp_path):
    source = SAMPLES / "desert_25fps.otio"
    assert run("render", source, "--steps", "1", "-o", tmp_path, "--no-review", "--conform", "xml").exit_code == 0
    timeline = otio.adapters.read_from_file(str(tmp_path / "renders.xml"))
    rendered = [c for c in timeline.find_clips() if c.name in {job.name for job in read_edit(source).jobs}]
    assert rendered
    for clip in rendered:
        path = Path(urlparse(clip.media_reference.target_url).path)
        assert path.is_file() and path.name == f"{clip.name}.1001.exr"


def test_an_unknown_format_is_refused_before_anything_is_written(tmp_path):
    result = run("render", SAMPLES / "sequence_24fps.edl", "-o", tmp_path / "out", "--conform", "otio,mov")
    assert result.exit_code == 2 and "--conform mov: choose from otio, xml, edl, aaf" in result.output
    assert not (tmp_path / "out").exists()
    with pytest.raises(ConfigError):
        conform_formats("mov", Path("cut.edl"))
    assert conform_formats(None, Path("cut.xml")) == ("otio", "xml")
    assert conform_formats(None, Path("cut.otio")) == ("otio",)
    assert conform_formats("edl", Path("cut.otio")) == ("otio", "edl")


def test_farm_tasks_write_the_same_formats(tmp_path):
    result = run("farm", "export", SAMPLES / "sequence_24fps.edl", "-o", tmp_path / "bundle", "--conform", "xml,edl")
    assert result.exit_code == 0, result.output
    assert "--conform=xml,edl" in (tmp_path / "bundle" / "template.yaml").read_text()


# --- Avid's AAF ----------------------------------------------------------------------------------

def test_an_avid_aaf_becomes_shots_with_names_prompts_and_timecodes(tmp_path):
    path = write_aaf(tmp_path / "cut.aaf")
    result = run("shots", path, "--handles", "8", "--json")
    assert result.exit_code == 0, result.output
    shots = json.loads(result.stdout)
    # Names: a SHOT line in the bin's Comments column, a one-word locator, else numbered.
    assert [s["name"] for s in shots] == ["ABC_0010", "ABC_0020", "sh030"]
    assert [(s["record_in"], s["record_out"]) for s in shots] == [
        ("01:00:00:00", "01:00:02:00"), ("01:00:02:00", "01:00:03:12"), ("01:00:03:12", "01:00:06:00")]
    assert [s["source_in"] for s in shots] == ["14:22:10:00", "15:01:00:12", "10:00:05:00"]
    assert [s["reel"] for s in shots] == ["A001_R1AB", "A002_R1AB", "B001_R2CD"]
    assert shots[0]["prompt"] == "a lighthouse at dusk" and shots[0]["seed"] == 7
    assert shots[1]["prompt"] == "gulls over a cliff"
    assert shots[0]["notes"] == ["VFX REMOVE RIG"]
    assert shots[0]["source"]["prompt"] == "aaf comment"
    assert [s["cut_in"] for s in shots] == [1009, 1009, 1009]


def test_an_aaf_edit_renders_and_conforms_to_aaf_that_reads_back(tmp_path):
    path = write_aaf(tmp_path / "cut.aaf")
    out = tmp_path / "out"
    result = run("render", path, "--steps", "1", "-o", out, "--no-review", "--json")
    assert result.exit_code == 0, result.output
    # An AAF edit gets OTIO and AAF back by default.
    assert [Path(p).name for p in json.loads(result.stdout)["conforms"]] == ["renders.otio", "renders.aaf"]
    assert cuts(out / "renders.aaf") == cuts(path)
    clips = list(otio.adapters.read_from_file(str(out / "renders.aaf")).find_clips())
    comments = clips[0].metadata["AAF"]["UserComments"]
    assert comments["Shot"] == "ABC_0010" and comments["Seed"] == "7"
    assert comments["Sequence"] == f"{out.resolve()}/ABC_0010/ABC_0010.####.exr"


def test_farm_export_reads_an_aaf(tmp_path):
    path = write_aaf(tmp_path / "cut.aaf")
    result = run("farm", "export", path, "-o", tmp_path / "bundle", "--json")
    assert result.exit_code == 0, result.output
    assert "ABC_0010" in (tmp_path / "bundle" / "parameter_values.yaml").read_text() + \
        (tmp_path / "bundle" / "template.yaml").read_text()


@pytest.mark.parametrize("damage", ["text", "empty", "truncated"])
def test_an_aaf_the_adapter_cannot_read_gives_its_reason(tmp_path, damage):
    path = tmp_path / "bad.aaf"
    if damage == "text":
        path.write_text("this is not an AAF\n")
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        path.write_bytes(write_aaf(tmp_path / "cut.aaf").read_bytes()[:4096])
    result = run("render", path, "-o", tmp_path / "out")
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert f"{path}: cannot read as AAF:" in result.output
    assert not (tmp_path / "out").exists()
