"""The Blender extension inside the real ``bpy`` module (PyPI wheel, its own venv: ``make test`` builds it).

One Blender session (blender_session.py, run under .venv-blender/bin/python) installs the
extension zip that plugins/package.py built (``make plugins``; conftest.py's ``packaged``), renders
a three-strip timeline with the real sora-vfx (tiny model, 32x32, 2 steps) and reports what it
saw; the tests assert on that. Blender's own extension tool validates that zip.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import opentimelineio as otio
import pytest

from tests.conftest import ROOT

BLENDER_PYTHON = ROOT / ".venv-blender" / "bin" / "python"
SORA_VFX = str(Path(sys.executable).with_name("sora-vfx"))
SESSION = Path(__file__).with_name("blender_session.py")

needs_bpy = pytest.mark.skipif(not BLENDER_PYTHON.exists(),
                               reason="no .venv-blender (make test builds it: bpy==5.0.1 from PyPI)")


def blender_ext_tool() -> Path:
    """Blender's extension command-line tool (what `blender --command extension` runs), shipped in the wheel."""
    found = sorted((ROOT / ".venv-blender" / "lib").glob(
        "python3*/site-packages/bpy/*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
    if not found:
        pytest.fail("bpy is installed but its blender_ext.py extension tool was not found")
    return found[-1]


def run_blender_python(*args: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    result = subprocess.run([str(BLENDER_PYTHON), *args], capture_output=True, text=True, env=env, timeout=timeout)
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


@pytest.fixture(scope="module")
def extension_dir(packaged) -> Path:
    """The extension's folder as ``make plugins`` assembles it."""
    return packaged / "blender" / "sora_vfx_blender"


@pytest.fixture(scope="module")
def extension_zip(packaged) -> Path:
    """The zip a user installs, as ``make plugins`` builds it."""
    return packaged / "blender" / "sora_vfx-0.1.0.zip"


@pytest.fixture(scope="module")
def session(extension_zip, tmp_path_factory, sora_cache, fake_sora_vfx) -> dict:
    work = tmp_path_factory.mktemp("blender")
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(work / "user"), SORA_VFX_CACHE=str(sora_cache))
    result_path = work / "result.json"
    completed = run_blender_python(str(SESSION), str(extension_zip), str(work), SORA_VFX, str(result_path),
                                   fake_sora_vfx, env=env)
    result = json.loads(result_path.read_text())
    result["work"], result["log"] = str(work), completed.stdout + completed.stderr
    assert result["errors"] == [], result["log"]
    return result


# --- the extension package ---------------------------------------------------------------------

def test_manifest(extension_dir):
    manifest = tomllib.loads((extension_dir / "blender_manifest.toml").read_text())
    assert manifest["schema_version"] == "1.0.0" and manifest["type"] == "add-on"
    assert manifest["id"] == "sora_vfx" and manifest["version"] == "0.1.0"
    assert manifest["blender_version_min"] == "4.4.0"
    assert set(manifest["permissions"]) == {"files"}


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@needs_bpy
def test_extension_zip_is_what_blenders_tool_builds_and_validates(extension_zip, extension_dir, tmp_path):
    assert extension_zip.is_file()
    with zipfile.ZipFile(extension_zip) as archive:
        names = archive.namelist()
    assert names == ["blender_manifest.toml", "__init__.py", "operators.py", "preferences.py", "process.py",
                     "timeline.py"]
    checked = run_blender_python(str(blender_ext_tool()), "validate", str(extension_zip))
    assert "Success" in checked.stdout
    # `blender --command extension build` of the packaged folder: the same name, files and bytes.
    run_blender_python(str(blender_ext_tool()), "build", "--source-dir", str(extension_dir),
                       "--output-dir", str(tmp_path))
    (built,) = tmp_path.glob("*.zip")
    assert built.name == extension_zip.name
    assert members(built) == members(extension_zip)


# --- inside Blender ------------------------------------------------------------------------------

@needs_bpy
@pytest.mark.slow
def test_render_from_timeline_adds_image_strips(session):
    assert session["install"] == ["FINISHED"]
    assert session["timeline_run"] == {"result": ["FINISHED"], "error": None}
    renders = Path(session["work"]) / "renders"
    strips = session["timeline_strips"]
    # The cut of each shot lands on its source strip's frames; one frame of handle each side, trimmed.
    expected = [("SH_0010", 10, 15), ("SH_0020", 15, 22), ("SH_0030", 30, 39)]
    assert [(s["sora_shot"], s["final_start"], s["final_end"]) for s in strips] == expected
    for strip, (shot, start, end) in zip(strips, expected, strict=True):
        assert strip["type"] == "IMAGE" and strip["channel"] == 3 and strip["name"] == f"{shot}_render"
        assert (strip["frame_start"], strip["offset_start"], strip["offset_end"]) == (start - 1, 1, 1)
        assert strip["directory"] == f"{renders / shot}/"
        assert strip["files"] == [f"{shot}.{frame}.exr" for frame in range(1001, 1001 + end - start + 2)]
        assert all((renders / shot / name).is_file() for name in strip["files"])
        assert strip["colorspace"] == "ACEScg"
    manifest = json.loads((renders / "manifest.json").read_text())
    assert {s["name"]: str(s["seed"]) for s in manifest["shots"]} == {s["sora_shot"]: s["sora_seed"] for s in strips}
    assert strips[2]["sora_seed"] == "42"  # the strip's sora_seed property pins it
    assert manifest["settings"]["size"] == [32, 32] and manifest["settings"]["steps"] == 2


@needs_bpy
@pytest.mark.slow
def test_render_from_edit_file_places_the_edit_at_the_scene_start(session):
    assert session["edit_run"] == {"result": ["FINISHED"], "error": None}
    strips = session["edit_strips"]
    # The exported edit's first cut (frame 10) goes to the scene's first frame (1).
    assert [(s["sora_shot"], s["final_start"], s["final_end"], s["channel"]) for s in strips] == [
        ("SH_0010", 1, 6, 4), ("SH_0020", 6, 13, 4), ("SH_0030", 21, 30, 4)]


@needs_bpy
@pytest.mark.slow
def test_failures_are_reported_and_add_nothing(session):
    assert session["empty_channel_run"]["error"].startswith("Error: Sora VFX: no strips to render on channel(s) 9")
    assert session["bad_model_run"]["error"] == (
        f"Error: Sora VFX: sora-vfx: error: model folder not found: {session['work']}/no_such_model\n")
    assert "sora-vfx executable not found at" in session["missing_executable_run"]["error"]
    assert session["missing_edit_run"]["error"].startswith("Error: Sora VFX: edit file not found:")
    assert session["channels_after_failures"] == [1, 2, 3, 4, 5]


@needs_bpy
@pytest.mark.slow
def test_an_unknown_manifest_version_is_refused(session):
    # fake_sora_vfx.py writes a version 3 manifest: an ERROR report, nothing added (see the channels above).
    manifest = Path(session["work"]) / "fake_renders" / "manifest.json"
    assert session["unknown_manifest_run"] == {"result": None, "error": (
        f"Error: Sora VFX: {manifest}: manifest version 3 is unknown to this plugin (it reads versions 1, 2); "
        "install the Sora VFX plugin that comes with sora_vfx fake\n")}


@needs_bpy
@pytest.mark.slow
def test_strips_read_the_frames_where_the_manifest_says(session):
    # fake_sora_vfx.py puts its frames in elsewhere/, not OUT/<shot>/: the strip follows frames.pattern.
    assert session["elsewhere_run"] == {"result": ["FINISHED"], "error": None}
    (strip,) = session["elsewhere_strips"]
    assert (strip["name"], strip["sora_shot"], strip["sora_seed"]) == ("FK_0010_render", "FK_0010", "7")
    assert strip["directory"] == f"{Path(session['work']) / 'fake_renders' / 'elsewhere'}/"
    assert strip["files"] == ["FK_0010.v1.1001.exr", "FK_0010.v1.1002.exr", "FK_0010.v1.1003.exr"]
    assert (strip["final_start"], strip["final_end"], strip["channel"]) == (1, 4, 6)


@needs_bpy
@pytest.mark.slow
def test_modal_run_polls_reports_progress_and_cleans_up(session):
    # Blender's event loop is not in the bpy module: the session drives modal() with timer events.
    modal = session["modal"]
    assert modal["started"] == ["RUNNING_MODAL"] and modal["returned"] == ["FINISHED"]
    assert modal["reports"] == [["INFO", f"Sora VFX: 3 shots rendered to {session['work']}/renders/, "
                                          "added on channel 5"]]
    assert {"event_timer_add", "modal_handler_add", "progress_begin", "progress_end",
            "event_timer_remove"} <= set(modal["wm_calls"])
    assert modal["statuses"] >= 2 and modal["last_status"] is None  # status bar text set, then cleared
    assert [(s["sora_shot"], s["final_start"], s["final_end"]) for s in modal["strips"]] == [
        ("SH_0010", 100, 105), ("SH_0020", 105, 112), ("SH_0030", 120, 129)]


@needs_bpy
@pytest.mark.slow
def test_escape_cancels_the_process(session):
    escape = session["modal_escape"]
    assert escape["returned"] == ["CANCELLED"] and escape["cancelled"] is True
    assert escape["returncode"] is not None and escape["returncode"] < 0  # killed by the signal
    assert escape["reports"][0][0] == "WARNING" and "cancelled" in escape["reports"][0][1]
    assert escape["wm_calls"][-2:] == ["event_timer_remove", "progress_end"]


@needs_bpy
@pytest.mark.slow
def test_disable_unregisters_cleanly(session):
    everything = {"addon": True, "header_menu": ["bl_ext.user_default.sora_vfx.operators"],
                  "operators": ["SEQUENCER_OT_sora_render_timeline", "SEQUENCER_OT_sora_render_edit",
                                "SEQUENCER_MT_sora_vfx"]}
    nothing = {"addon": False, "header_menu": [], "operators": []}
    assert session["registered"] == everything and session["after_enable"] == everything
    assert session["after_disable"] == nothing and session["after_second_disable"] == nothing


@needs_bpy
@pytest.mark.slow
def test_exported_timeline_reads_back_with_opentimelineio(session):
    timeline = otio.adapters.read_from_file(session["timeline_otio"])
    (track,) = timeline.video_tracks()
    assert track.name == "Channel 2"
    clips = list(track.find_clips())
    assert [c.name for c in clips] == ["SH_0010", "SH 0020", "SH_0030"]
    assert [(c.range_in_parent().start_time.value, c.duration().value) for c in clips] == [
        (10, 5), (15, 7), (30, 9)]
    assert [c.metadata["sora_vfx"].get("prompt") for c in clips] == [
        "fog over a harbour", "a lighthouse beam at night", None]
    assert [c.metadata["sora_vfx"]["shot"] for c in clips] == ["SH_0010", "SH_0020", "SH_0030"]
    assert clips[2].metadata["sora_vfx"]["seed"] == 42
    assert timeline.global_start_time.rate == 24

    shots = json.loads(subprocess.run([SORA_VFX, "shots", session["timeline_otio"], "--handles", "0", "--json"],
                                      capture_output=True, text=True, check=True).stdout)
    assert [(s["name"], s["record_in"], s["duration"], s["prompt"]) for s in shots] == [
        ("SH_0010", "00:00:00:10", 5, "fog over a harbour"),
        ("SH_0020", "00:00:00:15", 7, "a lighthouse beam at night"),
        ("SH_0030", "00:00:01:06", 9, ""),
    ]


# --- the strip export without Blender (timeline.py imports no bpy) -----------------------------

@pytest.fixture(scope="module")
def timeline_module(extension_dir):
    spec = importlib.util.spec_from_file_location("sora_vfx_blender_timeline", extension_dir / "timeline.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def test_strip_names_become_valid_unique_shot_names(timeline_module):
    strips = [timeline_module.ShotStrip(name, 1, start, start + 5) for name, start in
              (("my shot", 0), ("my/shot", 5), ("a..b", 10), ("...", 15))]
    timeline_module.assign_shot_names(strips)
    assert [s.name for s in strips] == ["my_shot", "my_shot_2", "a.b", "shot"]


def test_overlapping_or_negative_strips_are_refused(timeline_module):
    strip = timeline_module.ShotStrip
    with pytest.raises(ValueError, match="starts before frame 0"):
        timeline_module.timeline_from_strips([strip("A", 1, -3, 5)], fps=24, name="t", exported_from="test")
    with pytest.raises(ValueError, match="no strips"):
        timeline_module.timeline_from_strips([], fps=24, name="t", exported_from="test")


def test_timecode_frames(timeline_module):
    frames = timeline_module.timecode_frames
    assert frames("01:00:00:00", 24) == 86400
    assert frames("00:00:01:06", 24) == 30
    assert frames("00:01:00;02", 30000 / 1001, drop_frame=True) == 1800
    assert frames("00:10:00;00", 30000 / 1001, drop_frame=True) == 17982
