"""`sora-vfx farm export`: the job bundle, its golden copy, and bad input.

Regenerate the golden files after an intended change with
``SORA_VFX_UPDATE_GOLDEN=1 python -m pytest tests/farm/test_bundle.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from sora_vfx.cli import main
from sora_vfx.editorial import EditOptions
from sora_vfx.errors import FarmError
from sora_vfx.farm import FarmRender, job_template
from sora_vfx.farm.bundle import validate_template
from tests.farm.conftest import BIN, LINKED_EDL, LINKED_SHOTS, SAMPLE_EDL

GOLDEN = Path(__file__).parent / "golden" / "sequence_24fps"
FILES = ("template.yaml", "parameter_values.yaml", "asset_references.yaml")


def export(*args: str):
    return CliRunner().invoke(main, ["farm", "export", *args])


def test_bundle_matches_the_golden_copy(tmp_path):
    bundle, out = tmp_path / "bundle", tmp_path / "renders"
    result = export(str(SAMPLE_EDL), "-o", str(bundle), "--render-out", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in bundle.iterdir()) == sorted(FILES)
    for name in FILES:
        # Machine paths live only in parameter_values.yaml; the template is the same everywhere.
        text = (bundle / name).read_text().replace(str(SAMPLE_EDL.resolve()), "{EDIT}").replace(str(out), "{OUT}")
        if os.environ.get("SORA_VFX_UPDATE_GOLDEN"):
            GOLDEN.mkdir(parents=True, exist_ok=True)
            (GOLDEN / name).write_text(text)
        assert text == (GOLDEN / name).read_text(), f"{name} differs from {GOLDEN / name}"
    assert "submit:   deadline bundle submit" in result.stdout
    assert f"openjd run {bundle / 'template.yaml'} -p Edit={SAMPLE_EDL.resolve()} -p OutputDir={out}" in result.stdout


def test_golden_template_is_valid_open_job_description(tmp_path):
    from openjd.model import decode_job_template

    template = decode_job_template(template=yaml.safe_load((GOLDEN / "template.yaml").read_text()))
    render, conform = template.steps
    assert (render.name, conform.name) == ("Render", "Conform")
    assert [d.dependsOn for d in conform.dependencies] == ["Render"]
    shots = render.parameterSpace.taskParameterDefinitions[0]
    assert (shots.name, list(shots.range)) == ("Shot", ["LHT_0010", "LHT_0020", "LHT_0030", "LHT_0040"])
    assert {p.name for p in template.parameterDefinitions} >= {"Edit", "OutputDir", "Model", "Style", "Size",
                                                               "Steps", "Seed"}
    # openjd-cli's own check agrees.
    check = subprocess.run([str(BIN / "openjd"), "check", str(GOLDEN / "template.yaml")],
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr


def test_gpus_shot_sheet_config_and_fixed_options(tmp_path):
    sheet = tmp_path / "sheet.toml"
    sheet.write_text('[shots.LHT_0010]\nprompt = "a red lighthouse"\n')
    config = tmp_path / "sora_vfx.toml"
    config.write_text("")
    bundle = tmp_path / "bundle"
    result = export(str(SAMPLE_EDL), "-o", str(bundle), "--render-out", str(tmp_path / "out"), "--gpus", "1",
                    "--shot-sheet", str(sheet), "--config", str(config), "--handles", "2", "--fps", "24",
                    "--shots", "LHT_0020,LHT_0030", "--steps", "3", "--size", "96x64", "--seed", "7",
                    "--style", "film", "--guidance", "4.5", "--windows", "crossfade", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["shots"] == ["LHT_0020", "LHT_0030"]
    template = yaml.safe_load((bundle / "template.yaml").read_text())
    render, conform = template["steps"]
    assert render["hostRequirements"] == {"amounts": [{"name": "amount.worker.gpu", "min": 1}]}
    assert "hostRequirements" not in conform
    args = render["script"]["actions"]["onRun"]["args"]
    assert args[-3:] == ["--shots", "{{Task.Param.Shot}}", "--no-review"]
    for arg in ("--handles=2", "--fps=24", "--guidance=4.5", "--windows=crossfade", "{{Param.ShotSheet}}",
                "{{Param.Config}}"):
        assert arg in args
    conform_args = conform["script"]["actions"]["onRun"]["args"]
    assert conform_args[-3:] == ["--shots", "LHT_0020,LHT_0030", "--conform-only"]
    values = {v["name"]: v["value"] for v in yaml.safe_load((bundle / "parameter_values.yaml").read_text())
              ["parameterValues"]}
    assert values == {"Edit": str(SAMPLE_EDL.resolve()), "OutputDir": str(tmp_path / "out"), "Model": "tiny",
                      "Style": "film", "Size": "96x64", "Steps": 3, "Seed": 7, "SoraVfx": "sora-vfx",
                      "ShotSheet": str(sheet), "Config": str(config)}


def test_relative_edit_becomes_absolute(tmp_path, monkeypatch):
    (tmp_path / "edits").mkdir()
    (tmp_path / "edits" / "cut.edl").write_text(SAMPLE_EDL.read_text())
    monkeypatch.chdir(tmp_path)
    result = export("edits/cut.edl", "-o", "bundle", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["parameter_values"]["Edit"] == str(tmp_path / "edits" / "cut.edl")
    assert summary["output"] == str(tmp_path / "renders")  # beside the bundle folder by default
    assert summary["bundle"] == str(tmp_path / "bundle")


def test_non_empty_bundle_folder_needs_force(tmp_path):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "notes.txt").write_text("mine")
    (bundle / "template.json").write_text("{}")
    args = [str(SAMPLE_EDL), "-o", str(bundle), "--render-out", str(tmp_path / "out")]
    result = export(*args)
    assert result.exit_code == 2
    assert f"bundle folder {bundle} is not empty (notes.txt, template.json)" in result.stderr
    assert "--force" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()  # refused before anything was created
    result = export(*args, "--force")
    assert result.exit_code == 0, result.output
    # Our files replace the old bundle's (a template.json beside template.yaml would be ambiguous).
    assert sorted(p.name for p in bundle.iterdir()) == sorted([*FILES, "notes.txt"])
    assert export(*args).exit_code == 2  # our own bundle is not overwritten silently either


def test_bad_edit_and_bundle_path_are_clear_errors(tmp_path):
    result = export(str(tmp_path / "missing.edl"), "-o", str(tmp_path / "bundle"))
    assert result.exit_code == 2
    assert str(tmp_path / "missing.edl") in result.stderr and "Traceback" not in result.output
    afile = tmp_path / "afile"
    afile.write_text("")
    result = export(str(SAMPLE_EDL), "-o", str(afile))
    assert result.exit_code == 2 and f"bundle folder {afile} is a file" in result.stderr
    result = export(str(SAMPLE_EDL), "-o", str(tmp_path / "b2"), "--style", "no-such-style")
    assert result.exit_code == 2 and "unknown style 'no-such-style'" in result.stderr
    assert not (tmp_path / "b2").exists()


def test_warns_for_inputs_on_another_file_system(tmp_path):
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("no second file system to put the edit on")
    import tempfile

    with tempfile.TemporaryDirectory(dir=shm) as elsewhere:
        edit = Path(elsewhere) / "cut.edl"
        edit.write_text(SAMPLE_EDL.read_text())
        result = export(str(edit), "-o", str(tmp_path / "bundle"), "--render-out", str(tmp_path / "out"), "--json")
    assert result.exit_code == 0, result.output
    warnings = json.loads(result.stdout)["warnings"]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"edit {edit} is on another file system than the output folder {tmp_path / 'out'}")


def test_placeholder_braces_in_a_fixed_option_are_refused():
    render = FarmRender(edit=Path("/e/cut.edl"), out_dir=Path("/o"), shots=("sh010",), subset=False,
                        reading=EditOptions(shot_pattern=r"^sh\d{{3}}$"))
    with pytest.raises(FarmError, match="Open Job Description reads as a placeholder"):
        job_template(render=render)


def test_more_shots_than_a_step_holds_is_refused():
    shots = tuple(f"sh{n:04d}" for n in range(1025))
    render = FarmRender(edit=Path("/e/cut.edl"), out_dir=Path("/o"), shots=shots, subset=False)
    with pytest.raises(FarmError, match="1025 shots in step Render: an Open Job Description step holds at most "
                                        "1024 tasks"):
        job_template(render=render)


def test_each_render_step_holds_up_to_the_task_limit():
    # Every shot after the first 1024 continues one of them: two full steps are one job.
    shots = tuple(f"sh{n:04d}" for n in range(2049))
    render = FarmRender(edit=Path("/e/cut.edl"), out_dir=Path("/o"), shots=shots[:2048], subset=False,
                        depths=(0,) * 1024 + (1,) * 1024)
    steps = job_template(render=render)["steps"]
    assert [(step["name"], len(step["parameterSpace"]["taskParameterDefinitions"][0]["range"]))
            for step in steps[:-1]] == [("Render", 1024), ("Render 2", 1024)]
    render = FarmRender(edit=Path("/e/cut.edl"), out_dir=Path("/o"), shots=shots, subset=False,
                        depths=(0,) * 1024 + (1,) * 1025)
    with pytest.raises(FarmError, match="1025 shots in step Render 2: an Open Job Description step holds"):
        job_template(render=render)


def test_continued_shots_render_in_steps_after_the_shots_they_continue(tmp_path, write_edl):
    bundle = tmp_path / "bundle"
    result = export(str(write_edl(LINKED_EDL)), "-o", str(bundle), "--render-out", str(tmp_path / "out"),
                    "--gpus", "1", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["shots"] == LINKED_SHOTS
    template = yaml.safe_load((bundle / "template.yaml").read_text())
    steps = {step["name"]: step for step in template["steps"]}
    assert list(steps) == ["Render", "Render 2", "Render 3", "Conform"]
    assert {name: step["parameterSpace"]["taskParameterDefinitions"][0]["range"]
            for name, step in steps.items() if name != "Conform"} == {
        "Render": ["LNK_0010", "LNK_0030"], "Render 2": ["LNK_0020"], "Render 3": ["LNK_0040"]}
    assert {name: [d["dependsOn"] for d in step.get("dependencies", [])] for name, step in steps.items()} == {
        "Render": [], "Render 2": ["Render"], "Render 3": ["Render 2"],
        "Conform": ["Render", "Render 2", "Render 3"]}
    # The steps differ in their shots only: each task renders its shot as a Render task would.
    for name in ("Render 2", "Render 3"):
        assert steps[name]["script"] == steps["Render"]["script"]
        assert steps[name]["hostRequirements"] == steps["Render"]["hostRequirements"]
    assert "--shots" not in steps["Conform"]["script"]["actions"]["onRun"]["args"]

    values = {v["name"]: v["value"] for v in yaml.safe_load((bundle / "parameter_values.yaml").read_text())
              ["parameterValues"]}
    validate_template(template=template, values=values, bundle_dir=bundle)  # raises if OpenJD disagrees
