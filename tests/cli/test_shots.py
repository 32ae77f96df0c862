"""`sora-vfx shots` through CliRunner and as a real installed process."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from sora_vfx.cli import main
from tests.conftest import SAMPLES

EDL = SAMPLES / "sequence_24fps.edl"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_table():
    result = run("shots", str(EDL))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["#", "SHOT", "TRACK", "FRAMES", "CUT", "DUR", "RECORD", "IN", "SPEED", "PROMPT"]
    assert lines[1].split()[:7] == ["1", "LHT_0010", "V", "1001-1040", "1009-1032", "24", "01:00:00:00"]
    assert lines[-1] == "4 shots, 96 frames in the cut (4.0 s at 24 fps)"


def test_json_is_the_list_of_shot_jobs():
    result = run("shots", str(EDL), "--json", "--handles", "4", "--start-frame", "101")
    assert result.exit_code == 0, result.output
    jobs = json.loads(result.stdout)
    assert [j["name"] for j in jobs] == ["LHT_0010", "LHT_0020", "LHT_0030", "LHT_0040"]
    first = jobs[0]
    for key in ("name", "index", "track", "clip_name", "reel", "record_in", "record_out", "source_in",
                "source_out", "fps", "duration", "handles", "head_in", "cut_in", "cut_out", "tail_out",
                "speed", "prompt", "negative_prompt", "style", "seed", "reference", "source"):
        assert key in first
    assert (first["head_in"], first["cut_in"], first["cut_out"], first["tail_out"]) == (101, 105, 128, 132)
    assert first["prompt"] == "a lighthouse on a rocky coast at dusk, waves breaking, slow push in"
    # One shot per line, so `grep LHT_0020` finds a whole shot.
    lines = result.stdout.splitlines()
    assert lines[0] == "[" and lines[-1] == "]" and len(lines) == 6
    assert json.loads(lines[2].rstrip(","))["name"] == "LHT_0020"


def test_shots_does_not_load_the_renderer():
    """Listing shots must not pay for torch, diffusers, OpenImageIO or OCIO (seconds of
    imports on a farm node), and every command is still listed and runs."""
    code = (
        "import sys; from sora_vfx.cli import main\n"
        f"main(['shots', {str(EDL)!r}, '--json'], standalone_mode=False)\n"
        "heavy = sorted(m for m in ('torch', 'diffusers', 'OpenImageIO', 'PyOpenColorIO', 'numpy')"
        " if m in sys.modules)\n"
        "print('HEAVY', heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "HEAVY []"
    listed = run("--help").stdout
    for command in ("shots", "render", "extend", "farm", "review", "verify"):
        assert f"  {command} " in listed
    assert run("farm", "export", "--help").exit_code == 0


def test_shot_sheet_fps_and_track_options():
    result = run("shots", str(EDL), "--json", "--shot-sheet", str(SAMPLES / "shot_sheet.toml"))
    assert [j["name"] for j in json.loads(result.stdout)][-1] == "LHT_0045"
    result = run("shots", str(SAMPLES / "dissolve_speed_23976.edl"), "--fps", "23.976", "--json")
    jobs = json.loads(result.stdout)
    assert jobs[0]["fps"] == pytest.approx(24000 / 1001) and jobs[0]["tail_handles"] == 12
    assert jobs[2]["speed"] == pytest.approx(48 / (24000 / 1001))
    result = run("shots", str(SAMPLES / "desert_25fps.otio"), "--json", "--track", "FX")
    assert [j["name"] for j in json.loads(result.stdout)] == ["DSR_0025"]


def test_bad_input_is_one_message_and_exit_2(tmp_path):
    bad = tmp_path / "cut.edl"
    bad.write_text("TITLE: x\n001  A001 V     C        10:00:00:00 10:00:01:00 01:00:00:00 01:00:61:00\n")
    result = run("shots", str(bad))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"sora-vfx: error: {bad}, line 2 (event 001): invalid timecode '01:00:61:00': minutes and seconds run 00-59"
    ]
    assert "Traceback" not in result.output


def test_unknown_fps_and_missing_file():
    result = run("shots", str(EDL), "--fps", "23.9")
    assert result.exit_code == 2 and "unknown frame rate '23.9'" in result.stderr
    result = run("shots", "nowhere.edl")
    assert result.exit_code == 2 and "nowhere.edl: no such edit file" in result.stderr


def test_debug_shows_the_traceback():
    result = run("shots", "nowhere.edl", "--debug")
    assert result.exit_code == 2
    assert "Traceback (most recent call last):" in result.stderr and "EditError: nowhere.edl" in result.stderr


def _installed_command() -> list[str]:
    script = Path(sys.executable).parent / "sora-vfx"
    if script.exists():
        return [str(script)]
    found = shutil.which("sora-vfx")
    return [found] if found else [sys.executable, "-m", "sora_vfx"]


def test_installed_command_as_a_process(tmp_path):
    done = subprocess.run([*_installed_command(), "shots", str(EDL), "--json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)) == 4
    bad = tmp_path / "movie.edl"
    bad.write_bytes(b"\x00\xff" * 100)
    done = subprocess.run([*_installed_command(), "shots", str(bad)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr == f"sora-vfx: error: {bad}: is not a text file (binary data), so not a CMX 3600 EDL\n"
    assert done.stdout == ""
