"""Edits whose values no file system, timecode or timeline can hold (issue 32): shot names too
long for a file name, frame rates SMPTE timecode cannot count, names that are not UTF-8, cuts
that run backwards, clips at another rate than their timeline. Each is refused when the edit
is read (exit 2, one line naming the file, the clip or shot and the value, nothing written),
or, for mixed rates, read with every record position on the timeline's clock."""

from __future__ import annotations

import dataclasses
import json
import re
from fractions import Fraction
from pathlib import PurePath

import opentimelineio as otio
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sora_vfx.cli import main
from sora_vfx.editorial import EditOptions, read_edit
from sora_vfx.editorial.rates import FrameRate, from_timecode, parse_fps, rate_from_float
from sora_vfx.editorial.shotjob import shot_name_length_problem
from sora_vfx.errors import ConfigError, EditError
from sora_vfx.files import longest_temporary_name
from sora_vfx.layout import MAX_FILE_NAME_BYTES, shot_file_names
from tests.editorial.aaf_edits import CUT, write_aaf

EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def clip(name: str, frames: float, rate: float = 24.0, *, shot: str | None = None) -> otio.schema.Clip:
    made = otio.schema.Clip(name=name, source_range=otio.opentime.TimeRange(
        otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(frames, rate)))
    if shot is not None:
        made.metadata["sora_vfx"] = {"shot": shot}
    return made


def write(tmp_path, *items, start: otio.opentime.RationalTime | None = None, name: str = "cut.otio"):
    track = otio.schema.Track(name="V1")
    track.extend(items)
    timeline = otio.schema.Timeline(name="hostile")
    timeline.tracks.append(track)
    timeline.global_start_time = start
    path = tmp_path / name
    otio.adapters.write_to_file(timeline, str(path))
    return path


def refused_everywhere(tmp_path, path, *expected: str) -> None:
    """``shots``, ``render`` and ``farm export`` refuse ``path`` with one line holding each of
    ``expected``, exit 2, and write nothing."""
    out, bundle = tmp_path / "out", tmp_path / "bundle"
    for command in (["shots"], ["render", "-o", out], ["farm", "export", "-o", bundle]):
        result = run(*command, path)
        assert result.exit_code == 2, (command, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and str(path) in lines[0], lines
        assert all(text in lines[0] for text in expected), lines[0]
        assert "Traceback" not in result.output
    assert not out.exists() and not bundle.exists()


# --- 1. shot names too long for the names of their files ----------------------------------------

@pytest.mark.parametrize("length", [300, 250, 245, 240])
def test_a_shot_name_too_long_for_its_files_is_refused_when_the_edit_is_read(tmp_path, length):
    path = write(tmp_path, clip("A", 24, shot="S" * length))
    limit = MAX_FILE_NAME_BYTES - (len(longest_temporary_name("S.latents.safetensors", suffix=".safetensors")) - 1)
    refused_everywhere(tmp_path, path, "clip 'A' on V1", f"is {length} bytes long",
                       f"at most {MAX_FILE_NAME_BYTES}", f"use a shot name of at most {limit} bytes")


def test_a_shot_name_at_the_limit_is_read_and_one_byte_more_is_refused(tmp_path):
    limit = int(re.search(r"at most (\d+) bytes", shot_name_length_problem("S" * 300, last_frame=1040))[1])
    assert read_edit(write(tmp_path, clip("A", 24, shot="S" * limit))).jobs[0].name == "S" * limit
    with pytest.raises(EditError, match=f"is {limit + 1} bytes long"):
        read_edit(write(tmp_path, clip("A", 24, shot="S" * (limit + 1))))


def test_frame_numbers_of_more_digits_count_against_the_name(tmp_path):
    # The same name fits frames 1001.. but not frames of thirty digits (longer than its latents' name).
    name = "S" * int(re.search(r"at most (\d+) bytes", shot_name_length_problem("S" * 300, last_frame=1040))[1])
    path = write(tmp_path, clip("A", 24, shot=name))
    assert read_edit(path, EditOptions(start_frame=1001)).jobs[0].name == name
    with pytest.raises(EditError, match="too long for its files"):
        read_edit(path, EditOptions(start_frame=10**30))


def test_a_shot_sheet_rename_too_long_is_refused_naming_the_sheet(tmp_path):
    path = write(tmp_path, clip("A", 24, shot="ABC_0010"))
    sheet = tmp_path / "sheet.toml"
    sheet.write_text(f'[shots.ABC_0010]\nname = "{"R" * 240}"\n')
    result = run("shots", path, "--shot-sheet", sheet)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"sora-vfx: error: {sheet}: [shots.ABC_0010] shot name 'RRR")
    assert "is 240 bytes long, too long for its files" in result.stderr


@EXAMPLES
@given(length=st.integers(1, 300), last_frame=st.sampled_from([0, 1040, 99_999, 10**7, 10**15]))
def test_a_shot_name_is_refused_exactly_when_a_file_of_its_shot_could_not_be_made(tmp_path, length, last_frame):
    name = "s" * length
    problem = shot_name_length_problem(name, last_frame=last_frame)
    written = [longest_temporary_name(file, suffix=PurePath(file).suffix)
               for file in shot_file_names(name, last_frame=last_frame)]
    longest = max(written, key=lambda file: len(file.encode()))
    assert (problem is None) == (len(longest.encode()) <= MAX_FILE_NAME_BYTES)
    if problem is None:  # the file system takes the longest of them
        (tmp_path / longest).touch()
        (tmp_path / longest).unlink()


# --- 2. frame rates SMPTE timecode cannot count --------------------------------------------------

@pytest.mark.parametrize("rate", [1 / 1000, 1_000_000, 1000, 7.5])
def test_an_otio_rate_timecode_cannot_count_is_refused_as_fps_refuses_it(tmp_path, rate):
    with pytest.raises(ConfigError):
        parse_fps(str(rate_from_float(rate)))
    path = write(tmp_path, clip("A", 24, rate))
    refused_everywhere(tmp_path, path, f"clip 'A' on V1 is at {rate:.10g} fps", "SMPTE timecode cannot count",
                       "valid: 23.976, 24")


def test_a_timeline_start_at_a_rate_timecode_cannot_count_is_refused(tmp_path):
    path = write(tmp_path, clip("A", 24), start=otio.opentime.RationalTime(0, 1 / 1000))
    refused_everywhere(tmp_path, path, "the timeline is at 0.001 fps")


def test_an_aaf_at_a_rate_timecode_cannot_count_is_refused(tmp_path):
    path = write_aaf(tmp_path / "cut.aaf", fps=1000)
    refused_everywhere(tmp_path, path, "is at 1000 fps, a rate SMPTE timecode cannot count")


_TIMECODE = re.compile(r"^(\d\d):([0-5]\d):([0-5]\d)[:;](\d\d)$")


@EXAMPLES
@given(rate=st.one_of(st.sampled_from([24.0, 25.0, 30.0, 24000 / 1001, 30000 / 1001, 60000 / 1001, 23.976, 50.0]),
                      st.floats(min_value=1e-6, max_value=1e7, allow_nan=False)))
def test_an_edit_rate_is_read_exactly_when_fps_would_take_it(tmp_path, rate):
    path = write(tmp_path, clip("A", 48, rate), clip("B", 24, rate))
    try:
        parse_fps(str(rate_from_float(rate)))
    except ConfigError:
        with pytest.raises(EditError, match="clip 'A' on V1 is at .* a rate SMPTE timecode cannot count"):
            read_edit(path)
        return
    jobs = read_edit(path).jobs
    for job in jobs:
        base = FrameRate(Fraction(job.rate)).timecode_base
        for timecode in (job.record_in, job.record_out, job.source_in, job.source_out):
            match = _TIMECODE.match(timecode)
            assert match and int(match[4]) < base, timecode
    assert jobs[1].record_in == jobs[0].record_out


# --- 3. names that are not UTF-8 ----------------------------------------------------------------

@pytest.mark.parametrize("bad", [b"\xff\xfe", b"\xc3", b"\xed\xa0\x80", b"\xc0\x80", b"\xf4\x90\x80\x80"])
def test_an_otio_clip_name_that_is_not_utf8_is_refused_naming_the_byte(tmp_path, bad):
    text = write(tmp_path, clip("A", 24), clip("BAD", 24)).read_bytes()
    path = tmp_path / "cut.otio"
    path.write_bytes(text.replace(b'"BAD"', b'"B' + bad + b'D"'))
    byte = text.index(b'"BAD"') + 2
    line = text.count(b"\n", 0, byte) + 1
    refused_everywhere(tmp_path, path, f"not UTF-8 text at byte {byte} (line {line},", '"name": "B\ufffd')


def test_a_prompt_that_is_not_utf8_in_an_otiod_bundle_is_refused(tmp_path):
    bundle = tmp_path / "cut.otiod"
    bundle.mkdir()
    made = clip("A", 24)
    made.metadata["sora_vfx"] = {"prompt": "PROMPT"}
    text = write(tmp_path, made).read_bytes()
    (bundle / "content.otio").write_bytes(text.replace(b"PROMPT", b"a \x80 lighthouse"))
    result = run("shots", bundle)
    assert result.exit_code == 2, result.output
    assert f"{bundle / 'content.otio'}: not UTF-8 text at byte" in result.stderr


# --- 4. cuts that run backwards -----------------------------------------------------------------

def test_a_negative_length_otio_clip_is_refused_by_name(tmp_path):
    path = write(tmp_path, clip("A", 24), clip("BACKWARDS", -10), clip("C", 24))
    refused_everywhere(tmp_path, path, "clip 'BACKWARDS' on V1 has a negative duration (-10 frames at 24 fps)")


def test_a_negative_length_gap_is_refused_naming_the_clip_before_it(tmp_path):
    gap = otio.schema.Gap(source_range=otio.opentime.TimeRange(duration=otio.opentime.RationalTime(-30, 24)))
    path = write(tmp_path, clip("A", 24), gap, clip("C", 24))
    refused_everywhere(tmp_path, path, "a gap after clip 'A' on V1 has a negative duration (-30 frames")


def test_a_negative_length_aaf_clip_is_refused_by_name(tmp_path):
    path = write_aaf(tmp_path / "cut.aaf", [CUT[0], dataclasses.replace(CUT[1], duration=-10), CUT[2]])
    refused_everywhere(tmp_path, path, f"clip '{CUT[1].name}' on V1 has a negative duration (-10 frames")


# --- 5. clips at another rate than their timeline -----------------------------------------------

RATES = [24.0, 25.0, 30.0, 24000 / 1001, 30000 / 1001, 48.0, 60000 / 1001]


@EXAMPLES
@given(cuts=st.lists(st.tuples(st.sampled_from(RATES), st.integers(1, 400)), min_size=2, max_size=6),
       timeline_rate=st.sampled_from([24.0, 25.0, 24000 / 1001]),
       start_seconds=st.sampled_from([0, 3600, 36000]))
def test_record_positions_are_counted_on_the_timelines_clock(tmp_path, cuts, timeline_rate, start_seconds):
    start = otio.opentime.RationalTime(round(start_seconds * timeline_rate), timeline_rate)
    path = write(tmp_path, *(clip(f"C{n}", frames, rate) for n, (rate, frames) in enumerate(cuts)), start=start)
    jobs = read_edit(path).jobs
    record = FrameRate(rate_from_float(timeline_rate))
    assert [job.clip_name for job in jobs] == [f"C{n}" for n in range(len(cuts))]
    assert from_timecode(jobs[0].record_in, record) == round(start.value)
    for job, (rate, frames) in zip(jobs, cuts, strict=True):
        assert job.duration == frames and job.fps == pytest.approx(rate)  # the clip's own frames
    for before, after in zip(jobs, jobs[1:], strict=False):  # one track: each cut starts where the last ends
        assert after.record_in == before.record_out
        assert from_timecode(after.record_in, record) >= from_timecode(before.record_in, record)


def test_a_2997_clip_on_a_24_fps_timeline_starts_where_the_shot_before_it_ends(tmp_path):
    path = write(tmp_path, clip("A", 24), clip("NTSC", 30, 30000 / 1001), clip("C", 24),
                 start=otio.opentime.RationalTime(86400, 24))
    jobs = read_edit(path).jobs
    assert [(job.clip_name, job.record_in, job.record_out) for job in jobs] == [
        ("A", "01:00:00:00", "01:00:01:00"), ("NTSC", "01:00:01:00", "01:00:02:00"),
        ("C", "01:00:02:00", "01:00:03:00")]
    assert (jobs[1].duration, jobs[1].rate) == (30, "30000/1001")
    shots = json.loads(run("shots", path, "--json").stdout)
    assert [shot["record_in"] for shot in shots] == ["01:00:00:00", "01:00:01:00", "01:00:02:00"]
