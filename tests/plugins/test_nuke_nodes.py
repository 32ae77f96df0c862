"""The SoraGenerate and SoraExtend nodes against the small ``nuke`` stand-in (fake_nuke.py),
running the real ``sora-vfx`` (tiny model, small sizes, 2 steps).

The plugin folder is the packaged one (``packaged/nuke``, see conftest.py), as on NUKE_PATH.
"""

from __future__ import annotations

import json
import os
import runpy
import signal
import stat
import sys
from pathlib import Path

import click
import numpy as np
import OpenImageIO as oiio
import pytest

from sora_vfx.cli.main import main as sora_vfx_cli

from . import fake_nuke
from .conftest import record_commands, start_nuke_session
from .test_nuke import SORA_VFX, TINY_EDL

PLATE_SIZE = (48, 32)


@pytest.fixture
def nuke(monkeypatch, packaged, tmp_path):
    """A fresh stand-in Nuke session, the packaged plugin on the path, the menu installed, and
    the script saved as ``tmp_path/comp.nk`` (so versions go beside it)."""
    state = start_nuke_session(monkeypatch, packaged / "nuke", SORA_VFX)
    monkeypatch.delenv("SORA_VFX_FARM_SUBMIT", raising=False)
    runpy.run_path(str(packaged / "nuke" / "menu.py"))
    fake_nuke.scriptSave(str(tmp_path / "comp.nk"))
    return state


@pytest.fixture
def commands(monkeypatch, nuke):
    """The command lines the nodes run, in order."""
    from sora_vfx_nuke import runs

    return record_commands(monkeypatch, runs)


def write_plate(folder: Path, frames: range) -> Path:
    """A small ACEScg plate, a gradient that moves one pixel a frame: folder/plate.####.exr."""
    folder.mkdir(parents=True, exist_ok=True)
    width, height = PLATE_SIZE
    for frame in frames:
        x = np.linspace(0.0, 1.5, width, dtype=np.float32)
        pixels = np.stack(np.broadcast_arrays(np.roll(x, frame)[None, :], np.linspace(0, 1, height)[:, None],
                                              np.float32(0.25)), axis=-1).astype(np.float32)
        spec = oiio.ImageSpec(width, height, 3, oiio.HALF)
        spec.attribute("compression", "zip")
        output = oiio.ImageOutput.create(str(folder / f"plate.{frame:04d}.exr"))
        assert output.open(str(folder / f"plate.{frame:04d}.exr"), spec) and output.write_image(pixels)
        output.close()
    return folder / "plate.####.exr"


def plate_read(pattern: Path, first: int, last: int) -> fake_nuke.Node:
    read = fake_nuke.nodes.Read(file=str(pattern), first=first, last=last, origfirst=first, origlast=last)
    read.selected = True
    return read


def menu_item(path: str):
    menu, _, item = path.rpartition("/")
    found = fake_nuke.menu(menu.split("/")[0])
    for name in menu.split("/")[1:]:
        found = found.findItem(name)
    return found.findItem(item)


def inner_read(node) -> fake_nuke.Node:
    return next(n for n in node.children if n.Class() == "Read")


def parses(command: list[str]) -> click.Context:
    """``command`` parsed by sora-vfx's own command line (options, types, choices), not run."""
    group_context = click.Context(sora_vfx_cli)
    subcommand = sora_vfx_cli.get_command(group_context, command[1])
    return subcommand.make_context(command[1], command[2:], parent=group_context)


def exr_spec(path: Path) -> oiio.ImageSpec:
    image = oiio.ImageInput.open(str(path))
    assert image, oiio.geterror()
    try:
        return image.spec()
    finally:
        image.close()


# --- the nodes, their knobs, the script ---------------------------------------------------------

def test_menu_and_tab_menu_create_both_nodes(nuke):
    from sora_vfx_nuke import nodes

    for path in ("Nuke/Sora VFX/SoraGenerate", "Nodes/Sora VFX/SoraGenerate"):
        assert menu_item(path) is nodes.create_generate
    for path in ("Nuke/Sora VFX/SoraExtend", "Nodes/Sora VFX/SoraExtend"):
        assert menu_item(path) is nodes.create_extend
    assert (nodes.knob_changed, "Group") in nuke.knob_changed

    plate = plate_read(Path("/plates/p.####.exr"), 1, 4)
    extend = menu_item("Nuke/Sora VFX/SoraExtend")()
    generate = menu_item("Nodes/Sora VFX/SoraGenerate")()
    assert (extend.Class(), extend.name(), generate.name()) == ("Group", "SoraExtend1", "SoraGenerate1")
    assert extend.input(0) is plate  # connected to the selected node, as Nuke's createNode does
    for node in (extend, generate):
        for knob in ("prompt", "negative_prompt", "seed", "new_seed", "model", "steps", "guidance",
                     "output_transform", "display", "view", "first", "last", "render", "version", "status"):
            assert node.knob(knob) is not None, knob
    assert [n.name() for n in extend.children] == ["plate", "mask", "result", "Output1"]
    assert [n.name() for n in generate.children] == ["reference", "result", "Output1"]
    assert [extend[k].value() for k in ("pad", "model", "output_transform", "path")] == [
        "256,256,0,0", "tiny", "inverse-view", "video"]
    assert extend["path"].values() == ["video", "per frame", "static"]
    assert generate.knob("submit_to_farm") is not None and extend.knob("submit_to_farm") is None
    assert extend["label"].value() == "extend 256,256,0,0\nseed auto  model tiny"
    assert generate["label"].value() == "SoraGenerate1\nseed auto  model tiny"


def test_settings_survive_saving_and_reopening_the_script(nuke, tmp_path):
    from sora_vfx_nuke import nodes

    extend, generate = nodes.create_extend(), nodes.create_generate()
    chosen = {
        extend: {"prompt": "pine forest\nat dusk", "negative_prompt": "text", "seed": "8675309",
                 "model": "/models/wan-vace", "steps": 12, "guidance": 4.5, "extend_by": "size",
                 "to_size": "2048x858", "anchor": "top", "path": "static", "frame_range": "custom",
                 "first": 1001, "last": 1048, "output_transform": "srgb", "colour_match": False,
                 "display": "ACES", "view": "Rec.709", "output_folder": "/shows/x/ext"},
        generate: {"source": "prompt", "shot_name": "AB_0010", "prompt": "a harbour, \"quoted\" [not tcl]",
                   "seed": "42", "first": 1001, "last": 1121, "fps": 23.976, "size": "832x480",
                   "colorspace": "ACES2065-1", "style": "film"},
    }
    for node, values in chosen.items():
        for knob, value in values.items():
            fake_nuke.change(node, knob, value)
    generate["version"].setValues(["v001", "v002"])
    generate["version"].setValue("v001")
    script = tmp_path / "comp.nk"
    fake_nuke.scriptSave(str(script))
    text = script.read_text()
    assert '"pine forest\\nat dusk"' in text and "SoraGenerate1" in text

    fake_nuke.scriptOpen(str(script))
    reopened = {n.name(): n for n in fake_nuke.allNodes()}
    for node, values in chosen.items():
        again = reopened[node.name()]
        assert nodes.sora_kind(again) == nodes.sora_kind(node)
        for knob, value in values.items():
            assert again[knob].value() == value, knob
        assert again["label"].value() == node["label"].value()
        assert [n.name() for n in again.children] == [n.name() for n in node.children]
    assert reopened["SoraGenerate1"]["version"].values() == ["v001", "v002"]
    assert reopened["SoraGenerate1"]["version"].value() == "v001"
    assert reopened["SoraExtend1"]["label"].value() == "extend 2048x858\nseed 8675309  model wan-vace"
    # The buttons work in the reopened script: their Python is in the knobs, not in the session.
    fake_nuke.press(reopened["SoraExtend1"], "new_seed")
    assert reopened["SoraExtend1"]["seed"].value() != "8675309"
    assert reopened["SoraExtend1"]["seed"].value().isdigit()


def test_command_lines_from_the_knobs_are_sora_vfx_command_lines(nuke, tmp_path):
    from sora_vfx_nuke import jobs, nodes

    extend = nodes.create_extend()
    for knob, value in (("prompt", "pine forest"), ("seed", "7"), ("steps", 2), ("extend_by", "aspect"),
                        ("to_aspect", "2.39"), ("anchor", "left"), ("path", "per frame"), ("blend", 4),
                        ("colour_match", False), ("view", "Rec.709")):
        fake_nuke.change(extend, knob, value)
    command = jobs.extend_command(nodes.settings(extend), executable=SORA_VFX, plate="/p/plate.1-4####.exr",
                                  out=str(tmp_path / "v001"), plate_colorspace="ACEScg")
    assert command == [SORA_VFX, "extend", "/p/plate.1-4####.exr", "-o", str(tmp_path / "v001"),
                       "--to-aspect", "2.39", "--anchor", "left", "--prompt", "pine forest", "--seed", "7",
                       "--model", "tiny", "--steps", "2", "--guidance", "5.0", "--output-transform",
                       "inverse-view", "--view", "Rec.709", "--blend", "4", "--per-frame", "--no-colour-match",
                       "--plate-colorspace", "ACEScg", "--json"]
    parsed = parses(command).params
    assert (parsed["to_aspect"], parsed["anchor"], parsed["seed"], parsed["per_frame"], parsed["colour_match"]) == (
        "2.39", "left", 7, True, False)

    generate = nodes.create_generate()
    for knob, value in (("prompt", "a red kite"), ("seed", "99"), ("first", 1001), ("last", 1008),
                        ("size", "32x32"), ("steps", 2)):
        fake_nuke.change(generate, knob, value)
    out = tmp_path / "v002"
    command = jobs.generate_command(nodes.settings(generate), executable=SORA_VFX, out=str(out),
                                    node_name=generate.name())
    assert command == [SORA_VFX, "render", str(out / "sora_node.otio"), "-o", str(out), "--handles", "0",
                       "--start-frame", "1001", "--size", "32x32", "--model", "tiny", "--steps", "2",
                       "--guidance", "5.0", "--output-transform", "inverse-view", "--colorspace", "ACEScg",
                       "--no-review", "--json"]
    parses(command)
    clip = json.loads((out / "sora_node.otio").read_text())["tracks"]["children"][0]["children"][0]
    assert clip["metadata"]["sora_vfx"] == {"shot": "SoraGenerate1", "prompt": "a red kite", "seed": 99}
    assert clip["source_range"]["duration"]["value"] == 8

    for knob, value, error in (("seed", "-3", "seed: '-3' is not a whole number"),
                               ("size", "big", "size: 'big' is not a size WxH")):
        fake_nuke.change(generate, knob, value)
        with pytest.raises(jobs.ShimError, match=error):
            jobs.generate_command(nodes.settings(generate), executable=SORA_VFX, out=str(out), node_name="n")
        fake_nuke.change(generate, knob, {"seed": "99", "size": "32x32"}[knob])


# --- SoraExtend ----------------------------------------------------------------------------------

@pytest.mark.slow
def test_extend_renders_versions_and_skips_what_is_up_to_date(nuke, commands, tmp_path, capsys):
    from sora_vfx_nuke import nodes, runs

    plate = plate_read(write_plate(tmp_path / "plates", range(1, 4)), 1, 3)
    node = nodes.create_extend()
    for knob, value in (("pad", "8,8,0,0"), ("steps", 2), ("seed", "5")):
        fake_nuke.change(node, knob, value)
    runs.render(node).join(timeout=300)

    root = tmp_path / "sora" / "SoraExtend1"
    assert nuke.messages == [] and node["status"].value().startswith("rendered v001 (job ")
    (written,) = [p for p in (root / "inputs").iterdir() if p.is_dir()]
    assert sorted(os.listdir(written)) == [f"SoraExtend1.{f:04d}.exr" for f in (1, 2, 3)]
    assert len(commands) == 1 and commands[0][:7] == [
        SORA_VFX, "extend", str(written / "SoraExtend1.1-3####.exr"), "-o", str(root / "v001"), "--pad", "8,8,0,0"]
    assert commands[0][-3:] == ["--plate-colorspace", "ACEScg", "--json"]
    read = inner_read(node)
    assert read["file"].value() == f"{root}/v001/SoraExtend1_ext.####.exr"
    assert [read[k].value() for k in ("first", "last", "origfirst", "origlast")] == [1, 3, 1, 3]
    assert read["colorspace"].value() == "ACEScg"  # as written: no second conversion
    assert node["version"].values() == ["v001"] and node["version"].value() == "v001"
    assert node["label"].value() == "extend 8,8,0,0\nseed 5  model tiny\nv001"
    spec = exr_spec(root / "v001" / "SoraExtend1_ext.0002.exr")
    assert (spec.full_width, spec.full_height) == (PLATE_SIZE[0] + 16, PLATE_SIZE[1])
    assert "mask" in list(spec.channelnames)
    record = json.loads((root / "v001" / "sora_node.json").read_text())
    assert record["status"] == "done" and record["job_hash"] == spec.get_string_attribute("sora_vfx:job_hash")
    assert node["last_job_hash"].value() == record["job_hash"]

    # The same knobs and the same plate: nothing to do.
    assert runs.render(node) is None
    assert len(commands) == 1 and node["status"].value().startswith("v001 is up to date")
    # A knob change says so at once, and Render makes v002.
    fake_nuke.change(node, "prompt", "snowy peaks")
    assert node["status"].value() == "settings changed since v001: Render makes a new version"
    runs.render(node).join(timeout=300)
    assert len(commands) == 2 and node["version"].values() == ["v001", "v002"]
    assert read["file"].value() == f"{root}/v002/SoraExtend1_ext.####.exr"
    # A changed plate (same knobs) is a new render too.
    write_plate(tmp_path / "plates", range(2, 3))
    (tmp_path / "plates" / "plate.0002.exr").write_bytes((tmp_path / "plates" / "plate.0001.exr").read_bytes())
    runs.render(node).join(timeout=300)
    assert len(commands) == 3 and node["version"].value() == "v003"
    # Earlier versions stay selectable.
    fake_nuke.change(node, "version", "v001")
    assert read["file"].value() == f"{root}/v001/SoraExtend1_ext.####.exr"
    assert node["label"].value().endswith("\nv001")
    assert plate["file"].value().endswith("plate.####.exr")  # the source Read is left alone


def test_extend_errors_show_on_the_node_never_in_a_dialog(nuke, commands, tmp_path, capsys):
    from sora_vfx_nuke import runs

    node = fake_nuke.createNode("Group")
    del node  # a plain Group is not a Sora node: the callback leaves it alone
    from sora_vfx_nuke import nodes

    extend = nodes.create_extend()
    fake_nuke.press(extend, "render")
    assert extend["status"].value() == "ERROR: connect the plate to the node's input"
    assert extend["label"].value().endswith("\nERROR: connect the plate to the node's input")

    plate_read(write_plate(tmp_path / "plates", range(1, 3)), 1, 2)
    extend = nodes.create_extend()
    fake_nuke.change(extend, "pad", "8,8")
    runs.render(extend).join(timeout=120)
    status = extend["status"].value()
    assert status.startswith("ERROR: sora-vfx: error: ") and "8,8" in status, status
    assert nuke.messages == []
    assert "sora_vfx: SoraExtend2: sora-vfx: error: " in capsys.readouterr().out
    record = json.loads((tmp_path / "sora" / "SoraExtend2" / "v001" / "sora_node.json").read_text())
    assert record["status"] == "failed" and "8,8" in record["error"]
    assert extend["version"].values() == ["none"]

    # A bug in the plugin is reported the same way, with its traceback in the script editor only.
    def broken(*args, **kwargs):
        raise KeyError("boom")

    from sora_vfx_nuke import jobs

    jobs_inputs_hash = jobs.inputs_hash
    try:
        jobs.inputs_hash = broken
        fake_nuke.press(extend, "render")
    finally:
        jobs.inputs_hash = jobs_inputs_hash
    assert extend["status"].value() == "ERROR: internal error in the Sora VFX plugin: KeyError: 'boom'"
    assert "Traceback" in capsys.readouterr().err


def test_cancelled_render_is_taken_up_again_in_its_version(nuke, commands, tmp_path):
    from sora_vfx_nuke import nodes, runs

    plate_read(write_plate(tmp_path / "plates", range(1, 3)), 1, 2)
    node = nodes.create_extend()
    fake_nuke.change(node, "pad", "8,8,0,0")
    fake_nuke.change(node, "steps", 2)
    nuke.cancel = lambda task: True
    run = runs.render(node)
    run.join(timeout=120)
    assert run.cancelled and run.processes[-1].returncode == -signal.SIGTERM
    assert node["status"].value() == "cancelled; Render takes v001 up again"
    assert node["version"].values() == ["none"]

    nuke.cancel = lambda task: False
    runs.render(node).join(timeout=300)
    assert [c[4] for c in commands] == [str(tmp_path / "sora" / "SoraExtend1" / "v001")] * 2
    assert node["version"].values() == ["v001"] and node["status"].value().startswith("rendered v001")


# --- SoraGenerate --------------------------------------------------------------------------------

@pytest.mark.slow
def test_generate_an_edit_shot_with_its_handles(nuke, commands, tmp_path):
    from sora_vfx_nuke import nodes, runs

    edit = tmp_path / "cut.edl"
    edit.write_text(TINY_EDL)
    node = nodes.create_generate()
    fake_nuke.change(node, "source", "edit shot")
    fake_nuke.change(node, "handles", 2)
    fake_nuke.change(node, "edit_file", str(edit))  # reads the shots (sora-vfx shots --json)
    assert node["shot"].values() == ["NK_0010", "NK_0020"] and node["shot"].value() == "NK_0010"
    fake_nuke.change(node, "shot", "NK_0020")
    assert (node["first"].value(), node["last"].value()) == (1001, 1001 + 7 + 2 * 2 - 1)
    assert node["prompt"].value() == "blue sea" and node["seed"].value().isdigit()
    fake_nuke.change(node, "prompt", "blue sea, a red buoy")  # the node's prompt wins over the edit's
    for knob, value in (("size", "32x32"), ("steps", 2)):
        fake_nuke.change(node, knob, value)
    runs.render(node).join(timeout=300)

    out = tmp_path / "sora" / "SoraGenerate1" / "v001"
    assert node["status"].value().startswith("rendered v001"), node["status"].value()
    assert commands[-1][:9] == [SORA_VFX, "render", str(edit), "-o", str(out), "--shots", "NK_0020",
                                "--handles", "2"]
    manifest = json.loads((out / "manifest.json").read_text())
    (shot,) = manifest["shots"]
    assert (shot["name"], shot["spec"]["prompt"], str(shot["seed"])) == ("NK_0020", "blue sea, a red buoy",
                                                                 node["seed"].value())
    read = inner_read(node)
    assert read["file"].value() == f"{out}/NK_0020/NK_0020.####.exr"
    assert (read["first"].value(), read["last"].value()) == (1001, 1011)
    assert sorted(os.listdir(out / "NK_0020"))[:2] == ["NK_0020.1001.exr", "NK_0020.1002.exr"]
    assert read["colorspace"].value() == "ACEScg"
    assert node["label"].value() == f"NK_0020\nseed {node['seed'].value()}  model tiny\nv001"


def test_generate_from_a_prompt_with_a_reference_image(nuke, commands, tmp_path):
    from sora_vfx_nuke import nodes, runs

    plate_read(write_plate(tmp_path / "ref", range(7, 8)), 7, 7)
    node = nodes.create_generate()
    for knob, value in (("prompt", "a lighthouse"), ("seed", "11"), ("first", 1001), ("last", 1004),
                        ("size", "32x32"), ("steps", 2)):
        fake_nuke.change(node, knob, value)
    runs.render(node).join(timeout=300)

    out = tmp_path / "sora" / "SoraGenerate1" / "v001"
    assert node["status"].value().startswith("rendered v001"), node["status"].value()
    clip = json.loads((out / "sora_node.otio").read_text())["tracks"]["children"][0]["children"][0]
    reference = clip["metadata"]["sora_vfx"]["reference"]
    assert reference.endswith("SoraGenerate1_reference.0007.exr") and os.path.isfile(reference)
    read = inner_read(node)
    assert read["file"].value() == f"{out}/SoraGenerate1/SoraGenerate1.####.exr"
    assert (read["first"].value(), read["last"].value()) == (1001, 1004)
    assert exr_spec(out / "SoraGenerate1" / "SoraGenerate1.1004.exr").get_string_attribute("sora_vfx:seed") == "11"


# --- farm and headless ---------------------------------------------------------------------------

def test_submit_to_farm_writes_and_submits_the_bundle(nuke, commands, tmp_path, monkeypatch):
    from sora_vfx_nuke import nodes, runs

    node = nodes.create_generate()
    for knob, value in (("prompt", "a lighthouse"), ("first", 1001), ("last", 1004), ("size", "32x32")):
        fake_nuke.change(node, knob, value)
    fake_nuke.press(node, "submit_to_farm")
    assert node["status"].value().startswith("ERROR: no farm is configured: set $SORA_VFX_FARM_SUBMIT")

    # Deadline cannot run here: the submit command is a script that records what it was given.
    submitted = tmp_path / "submitted.txt"
    deadline = tmp_path / "deadline"
    deadline.write_text(f'#!/bin/sh\necho "$@" > "{submitted}"\necho "Submitted job: job-1234"\n')
    deadline.chmod(deadline.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("SORA_VFX_FARM_SUBMIT", f"{deadline} bundle submit")
    runs.submit_to_farm(node, wait=True)

    out = tmp_path / "sora" / "SoraGenerate1" / "v001"
    assert commands[0][1:4] == ["farm", "export", str(out / "sora_node.otio")]
    assert submitted.read_text().split() == ["bundle", "submit", str(out / "bundle")]
    assert (out / "bundle" / "template.yaml").is_file()
    assert node["status"].value() == "v001 submitted to the farm: Submitted job: job-1234"
    assert node["version"].values() == ["v001"]
    assert inner_read(node)["file"].value() == f"{out}/SoraGenerate1/SoraGenerate1.####.exr"


def test_nuke_t_renders_the_nodes_of_a_saved_script(nuke, tmp_path, monkeypatch, packaged, capsys):
    from sora_vfx_nuke import nodes

    plate_read(write_plate(tmp_path / "plates", range(1, 3)), 1, 2)
    node = nodes.create_extend()
    fake_nuke.change(node, "pad", "4,4,4,4")
    fake_nuke.change(node, "steps", 2)
    script = tmp_path / "comp.nk"
    fake_nuke.scriptSave(str(script))
    fake_nuke.reset()
    monkeypatch.setattr(fake_nuke, "GUI", False)  # nuke -t: no progress bar, no thread
    monkeypatch.setattr(sys, "argv", ["sora_render.py", str(script)])
    with pytest.raises(SystemExit) as exited:
        runpy.run_path(str(packaged / "nuke" / "sora_render.py"), run_name="__main__")
    assert exited.value.code == 0
    assert "sora_vfx: SoraExtend1: rendered v001 (job " in capsys.readouterr().out

    fake_nuke.scriptOpen(str(script))  # saved by the script: the node knows its version
    (again,) = [n for n in fake_nuke.allNodes() if n.name() == "SoraExtend1"]
    assert again["version"].value() == "v001"
    assert inner_read(again)["file"].value() == f"{tmp_path}/sora/SoraExtend1/v001/SoraExtend1_ext.####.exr"

    monkeypatch.setattr(sys, "argv", ["sora_render.py", str(script), "NoSuchNode"])
    with pytest.raises(SystemExit) as exited:
        runpy.run_path(str(packaged / "nuke" / "sora_render.py"), run_name="__main__")
    assert exited.value.code == 2
    assert "no Sora node named NoSuchNode (there are: SoraExtend1)" in capsys.readouterr().err


def test_extend_with_a_matte_on_the_mask_input(nuke, commands, tmp_path):
    from sora_vfx_nuke import nodes, runs

    plate = plate_read(write_plate(tmp_path / "plates", range(1, 3)), 1, 2)
    (tmp_path / "mattes").mkdir()
    alpha = np.zeros((PLATE_SIZE[1], PLATE_SIZE[0], 1), np.float32)
    alpha[4:10, 20:30] = 1.0
    for frame in (1, 2):
        output = oiio.ImageOutput.create(str(tmp_path / "mattes" / f"m.{frame:04d}.exr"))
        spec = oiio.ImageSpec(PLATE_SIZE[0], PLATE_SIZE[1], 1, oiio.FLOAT)
        spec.channelnames = ("A",)
        assert output.open(str(tmp_path / "mattes" / f"m.{frame:04d}.exr"), spec) and output.write_image(alpha)
        output.close()
    mask = fake_nuke.nodes.Read(file=str(tmp_path / "mattes" / "m.####.exr"), first=1, last=2)
    node = nodes.create_extend()
    node.setInput(0, plate)
    node.setInput(1, mask)
    fake_nuke.change(node, "pad", "8,8,0,0")
    fake_nuke.change(node, "steps", 2)
    runs.render(node).join(timeout=300)

    assert node["status"].value().startswith("rendered v001"), node["status"].value()
    root = tmp_path / "sora" / "SoraExtend1"
    (written,) = [p for p in (root / "inputs").iterdir() if p.name.startswith("SoraExtend1_mask_")]
    assert commands[0][commands[0].index("--mask") + 1] == str(written / "SoraExtend1_mask.1-2####.exr")
    image = oiio.ImageBuf(str(root / "v001" / "SoraExtend1_ext.0002.exr"))
    names = list(image.spec().channelnames)
    weight = image.get_pixels(oiio.FLOAT)[:, 8:8 + PLATE_SIZE[0], names.index("mask")]
    assert np.all(weight[4:10, 20:30] == 1) and weight.sum() == 60
