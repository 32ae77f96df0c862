"""The Nuke shim against a small fake of the ``nuke`` module, running the real ``sora-vfx``.

The plugin folder is the packaged one (``packaged/nuke``, see conftest.py), as on NUKE_PATH.
"""

from __future__ import annotations

import json
import runpy
import signal
import sys
from pathlib import Path

import pytest

from . import fake_nuke
from .conftest import record_commands, start_nuke_session

SORA_VFX = str(Path(sys.executable).with_name("sora-vfx"))
TINY_EDL = """\
TITLE: NUKE SHIM
FCM: NON-DROP FRAME

001  A001 V     C        01:00:00:00 01:00:00:05 01:00:00:00 01:00:00:05
* SHOT: NK_0010
* PROMPT: red sky over a harbour
002  A002 V     C        01:00:01:00 01:00:01:07 01:00:00:05 01:00:00:12
* SHOT: NK_0020
* PROMPT: blue sea
"""


@pytest.fixture
def nuke_dir(packaged) -> Path:
    """The Nuke plugin folder as ``make plugins`` assembles it."""
    return packaged / "nuke"


@pytest.fixture
def nuke(monkeypatch, nuke_dir):
    """A fresh fake Nuke session with the packaged plugin folder on the plugin path; returns its state."""
    return start_nuke_session(monkeypatch, nuke_dir, SORA_VFX)


@pytest.fixture
def commands(monkeypatch, nuke):
    """The command lines the shim runs, in order."""
    from sora_vfx_nuke import actions

    return record_commands(monkeypatch, actions)


def read_nodes(state) -> list[fake_nuke.Node]:
    return [n for n in state.nodes if n.Class() == "Read"]


# --- loading into Nuke -------------------------------------------------------------------

def test_init_makes_no_ui(nuke, nuke_dir):
    runpy.run_path(str(nuke_dir / "init.py"))
    assert nuke.menus == {} and nuke.messages == [] and nuke.panels == [] and nuke.nodes == []


def test_menu_adds_the_nodes_and_the_edit_command(nuke, nuke_dir):
    from sora_vfx_nuke import process

    assert Path(process.__file__).parent == nuke_dir / "sora_vfx_nuke"  # the packaged copy, not plugins/
    runpy.run_path(str(nuke_dir / "menu.py"))
    from sora_vfx_nuke import actions, nodes

    menu = fake_nuke.menu("Nuke").findItem("Sora VFX")
    assert menu.findItem("SoraGenerate") is nodes.create_generate
    assert menu.findItem("SoraExtend") is nodes.create_extend
    assert menu.findItem("Render shots from edit...") is actions.render_edit


def test_broken_menu_prints_and_never_stops_nuke(nuke, nuke_dir, monkeypatch, capsys):
    def broken(name):
        raise RuntimeError("menu bar unavailable")

    monkeypatch.setattr(fake_nuke, "menu", broken)
    runpy.run_path(str(nuke_dir / "menu.py"))
    assert "the Sora VFX menu was not loaded: RuntimeError: menu bar unavailable" in capsys.readouterr().out


# --- command lines -----------------------------------------------------------------------

def test_command_lines(nuke, tmp_path):
    from sora_vfx_nuke import process

    edit, out = str(tmp_path / "cut.edl"), str(tmp_path / "renders")
    assert process.render_command(executable="sora-vfx", edit=edit, out=out, model="tiny", style=" ",
                                  size="32x32", steps=2, handles=0) == [
        "sora-vfx", "render", edit, "-o", out, "--model", "tiny", "--size", "32x32", "--steps", "2",
        "--handles", "0", "--json"]
    assert process.shots_command(executable="sora-vfx", edit=edit) == ["sora-vfx", "shots", edit, "--json"]


def test_host_python_settings_do_not_reach_sora_vfx(nuke):
    from sora_vfx_nuke import process

    env = process.subprocess_env({"PATH": "/bin", "PYTHONPATH": "/nuke/lib", "PYTHONHOME": "/nuke"})
    assert env == {"PATH": "/bin", "PYTHONUNBUFFERED": "1"}


def test_missing_executable_is_a_message(nuke, monkeypatch, tmp_path):
    from sora_vfx_nuke import actions

    monkeypatch.setenv("SORA_VFX_EXECUTABLE", str(tmp_path / "nowhere" / "sora-vfx"))
    edit = tmp_path / "cut.edl"
    edit.write_text(TINY_EDL)
    nuke.panel_answers = {actions.EDIT: str(edit)}
    assert actions.render_edit() is None
    assert len(nuke.messages) == 1 and "sora-vfx executable not found" in nuke.messages[0]


# --- render shots from edit --------------------------------------------------------------

@pytest.mark.slow
def test_render_edit_creates_one_read_per_shot(nuke, commands, tmp_path):
    from sora_vfx_nuke import actions

    edit, out = tmp_path / "cut.edl", tmp_path / "renders"
    edit.write_text(TINY_EDL)
    existing = fake_nuke.nodes.Read()
    existing.setXYpos(300, -50)
    nuke.panel_answers = {actions.EDIT: str(edit), actions.OUTPUT: str(out), actions.SIZE: "32x32",
                          actions.STEPS: "2", actions.HANDLES: "0"}
    run = actions.render_edit()
    run.join(timeout=600)

    assert nuke.messages == []
    assert commands == [
        [SORA_VFX, "shots", str(edit), "--handles", "0", "--json"],
        [SORA_VFX, "render", str(edit), "-o", str(out), "--model", "tiny", "--size", "32x32",
         "--steps", "2", "--handles", "0", "--json"],
    ]
    manifest = json.loads((out / "manifest.json").read_text())
    seeds = {shot["name"]: shot["seed"] for shot in manifest["shots"]}
    reads = read_nodes(nuke)[1:]
    assert [r.name() for r in reads] == ["sora_NK_0010", "sora_NK_0020"]
    for read, (shot, last) in zip(reads, (("NK_0010", 1005), ("NK_0020", 1007)), strict=True):
        assert read["file"].value() == f"{out}/{shot}/{shot}.####.exr"
        assert (read["first"].value(), read["last"].value()) == (1001, last)
        assert (read["origfirst"].value(), read["origlast"].value()) == (1001, last)
        assert read["colorspace"].value() == "ACEScg"
        assert read["label"].value() == f"{shot}\nseed {seeds[shot]}"
        assert all((out / shot / f"{shot}.{frame}.exr").is_file() for frame in range(1001, last + 1))
    # A row right of what was in the graph, one node apart.
    assert [(r.xpos(), r.ypos()) for r in reads] == [(420, -50), (540, -50)]
    task = nuke.tasks[0]
    assert task.title == "Sora VFX: Render shots"
    assert any(m.startswith("rendering 2 shots") for m in task.messages)
    assert task.progress and task.progress == sorted(task.progress)


def test_render_with_a_bad_edit_shows_the_error(nuke, commands, tmp_path):
    from sora_vfx_nuke import actions

    edit = tmp_path / "broken.edl"
    edit.write_text("TITLE: BROKEN\n\n001  A001 V     C        01:00:00:00 01:00:0\n")
    nuke.panel_answers = {actions.EDIT: str(edit), actions.OUTPUT: str(tmp_path / "out")}
    actions.render_edit().join(timeout=120)

    assert len(commands) == 1  # stopped after reading the edit
    assert len(nuke.messages) == 1
    assert nuke.messages[0].startswith("Sora VFX: Render shots: sora-vfx: error: ")
    assert "broken.edl" in nuke.messages[0]
    assert read_nodes(nuke) == []


def test_failing_render_shows_the_error(nuke, commands, tmp_path):
    from sora_vfx_nuke import actions

    edit = tmp_path / "cut.edl"
    edit.write_text(TINY_EDL)
    nuke.panel_answers = {actions.EDIT: str(edit), actions.OUTPUT: str(tmp_path / "out"),
                          actions.MODEL: str(tmp_path / "no_such_model"), actions.HANDLES: "0"}
    actions.render_edit().join(timeout=120)

    assert [c[1] for c in commands] == ["shots", "render"]
    assert nuke.messages == [
        f"Sora VFX: Render shots: sora-vfx: error: model folder not found: {tmp_path / 'no_such_model'}"]
    assert read_nodes(nuke) == []


def test_cancelling_stops_the_render(nuke, commands, tmp_path):
    from sora_vfx_nuke import actions

    edit, out = tmp_path / "cut.edl", tmp_path / "renders"
    edit.write_text(TINY_EDL)
    nuke.panel_answers = {actions.EDIT: str(edit), actions.OUTPUT: str(out), actions.HANDLES: "0"}
    nuke.cancel = lambda task: any(m.startswith("rendering") for m in task.messages)
    run = actions.render_edit()
    run.join(timeout=120)

    assert run.cancelled and [c[1] for c in commands] == ["shots", "render"]
    assert run.processes[-1].returncode == -signal.SIGTERM
    assert nuke.messages == [] and read_nodes(nuke) == []
    assert not (out / "manifest.json").exists()


def render_with_fake(nuke, tmp_path, fake_sora_vfx, monkeypatch, version: int):
    """Render shots with fake_sora_vfx.py (manifest ``version``, frames outside the default layout)."""
    from sora_vfx_nuke import actions

    monkeypatch.setenv("SORA_VFX_EXECUTABLE", fake_sora_vfx)
    monkeypatch.setenv("FAKE_SORA_VFX_MANIFEST_VERSION", str(version))
    edit, out = tmp_path / "cut.edl", tmp_path / "renders"
    edit.write_text(TINY_EDL)
    nuke.panel_answers = {actions.EDIT: str(edit), actions.OUTPUT: str(out)}
    actions.render_edit().join(timeout=60)
    return out


def test_reads_are_where_the_manifest_says(nuke, tmp_path, fake_sora_vfx, monkeypatch):
    out = render_with_fake(nuke, tmp_path, fake_sora_vfx, monkeypatch, version=1)

    assert nuke.messages == []
    (read,) = read_nodes(nuke)
    assert read["file"].value() == f"{out}/elsewhere/FK_0010.v1.####.exr"  # frames.pattern, not OUT/<shot>/
    assert (read["first"].value(), read["last"].value(), read["label"].value()) == (1001, 1003, "FK_0010\nseed 7")


def test_an_unknown_manifest_version_is_refused(nuke, tmp_path, fake_sora_vfx, monkeypatch):
    out = render_with_fake(nuke, tmp_path, fake_sora_vfx, monkeypatch, version=3)

    assert nuke.messages == [
        f"Sora VFX: Render shots: {out / 'manifest.json'}: manifest version 3 is unknown to this plugin "
        "(it reads versions 1, 2); install the Sora VFX plugin that comes with sora_vfx fake"]
    assert read_nodes(nuke) == []
