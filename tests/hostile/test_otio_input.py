"""OTIO files a damaged exporter or a hostile user could hand over: each is read or refused
with a message naming the file and clip, exit 2, never an internal error or a crash."""

from __future__ import annotations

import json
import subprocess
import sys

import opentimelineio as otio
import pytest
from click.testing import CliRunner

from sora_vfx.cli import main


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def timeline(*clips: otio.schema.Clip) -> otio.schema.Timeline:
    track = otio.schema.Track(name="V1")
    track.extend(clips)
    result = otio.schema.Timeline(name="hostile")
    result.tracks.append(track)
    return result


def clip(name: str, frames: float, rate: float = 24.0) -> otio.schema.Clip:
    return otio.schema.Clip(name=name, source_range=otio.opentime.TimeRange(
        otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(frames, rate)))


def write(tmp_path, document) -> str:
    path = tmp_path / "cut.otio"
    path.write_text(document if isinstance(document, str) else otio.adapters.write_to_string(document))
    return path


def test_a_clip_of_ten_to_the_twelve_frames_is_refused_when_the_edit_is_read(tmp_path):
    path = write(tmp_path, timeline(clip("A", 24), clip("HUGE", 10**12)))
    for command in (["shots"], ["farm", "export", "-o", tmp_path / "bundle"]):
        result = run(*command, path)
        assert result.exit_code == 2, result.output
        assert "shot sh020 is 1000000000016 frames long with its handles, more than the 86400" in result.stderr
    assert not (tmp_path / "bundle").exists()


def test_the_shot_length_limit_can_be_moved(tmp_path):
    path = write(tmp_path, timeline(clip("A", 100)))
    assert run("shots", path, "--handles", "0").exit_code == 0
    result = run("shots", path, "--handles", "0", "--max-shot-frames", "50")
    assert result.exit_code == 2 and "100 frames long with its handles, more than the 50" in result.stderr


@pytest.mark.parametrize(("value", "rate"), [("NaN", 24), ("Infinity", 24), (24, 0), (24, "NaN")])
def test_a_clip_without_a_finite_duration_or_rate_is_refused_by_name(tmp_path, value, rate):
    document = json.loads(otio.adapters.write_to_string(timeline(clip("A", 24), clip("BROKEN", 24))))
    broken = document["tracks"]["children"][0]["children"][1]
    broken["source_range"]["duration"] = {"OTIO_SCHEMA": "RationalTime.1", "rate": rate, "value": value}
    path = write(tmp_path, json.dumps(document).replace('"NaN"', "NaN").replace('"Infinity"', "Infinity"))
    result = run("shots", path)
    assert result.exit_code == 2, result.output
    assert "clip 'BROKEN'" in result.stderr and "Traceback" not in result.stderr


def test_an_otio_file_nested_fifty_thousand_deep_is_refused_without_a_crash(tmp_path):
    path = tmp_path / "deep.otio"
    path.write_text('{"OTIO_SCHEMA": "Timeline.1", "metadata": ' + '{"a": ' * 50_000 + "1" + "}" * 50_001)
    # In a child process: a crash inside OTIO's reader would take the test run with it.
    result = subprocess.run([sys.executable, "-m", "sora_vfx", "shots", str(path)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2, result.stderr
    assert f"{path}: nests objects and lists more than 1000 deep" in result.stderr


def test_a_stack_inside_the_timelines_tracks_is_read_when_it_holds_video(tmp_path):
    inner = otio.schema.Track(name="inner V1")
    inner.extend([clip("NESTED", 12)])
    stack = otio.schema.Stack(name="nested stack")
    stack.append(inner)
    edit = timeline(clip("A", 24))
    edit.tracks.append(stack)
    result = run("shots", write(tmp_path, edit), "--json", "--handles", "0")
    assert result.exit_code == 0, result.output
    shots = json.loads(result.stdout)
    assert [(shot["clip_name"], shot["track"], shot["duration"]) for shot in shots] == [("A", "V1", 24),
                                                                                      ("NESTED", "inner V1", 12)]
