"""The exported bundle, run by the real `openjd run` (openjd-cli) on this machine."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import yaml
from click.testing import CliRunner

from sora_vfx.cli import main
from tests.farm.conftest import (
    BIN,
    SAMPLE_EDL,
    SMALL,
    assert_rendered_after,
    assert_same_frames,
    subprocess_env,
)

# Two of the sample's shots keep the run short: one sora-vfx process per task, then Conform.
SHOTS = ["LHT_0020", "LHT_0040"]


def export_and_run(edit, bundle, out, shots: list[str], sora_vfx_command: str) -> str:
    """``farm export`` the shots of ``edit``, then run the bundle with ``openjd run``; its log."""
    result = CliRunner().invoke(main, ["farm", "export", str(edit), "-o", str(bundle), "--render-out", str(out),
                                       *SMALL, "--shots", ",".join(shots), "--json"])
    assert result.exit_code == 0, result.output

    # What `deadline bundle submit` would send, as `openjd run` parameters; the tasks call the
    # sora-vfx of this venv.
    values = yaml.safe_load((bundle / "parameter_values.yaml").read_text())["parameterValues"]
    params = {v["name"]: v["value"] for v in values} | {"SoraVfx": sora_vfx_command}
    assert params["Steps"] == 2
    command = [str(BIN / "openjd"), "run", str(bundle / "template.yaml")]
    for name, value in params.items():
        command += ["-p", f"{name}={value}"]
    run = subprocess.run(command, cwd=bundle.parent, env=subprocess_env(), capture_output=True, text=True,
                         timeout=600)
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-4000:]
    return log


@pytest.mark.slow
def test_openjd_run_renders_the_same_pixels_as_a_local_render(tmp_path, local_sample, sora_vfx_command):
    bundle, out = tmp_path / "bundle", tmp_path / "renders"
    log = export_and_run(SAMPLE_EDL, bundle, out, SHOTS, sora_vfx_command)
    assert "Session ended successfully" in log
    assert [f"Shot(STRING) = {shot}" in log for shot in SHOTS] == [True, True]  # one task per shot

    assert assert_same_frames(out, local_sample, SHOTS) == 20 + 24
    manifest = json.loads((out / "manifest.json").read_text())
    assert [(s["name"], s["status"]) for s in manifest["shots"]] == [(s, "rendered") for s in SHOTS]
    local = {s["name"]: s for s in json.loads((local_sample / "manifest.json").read_text())["shots"]}
    assert all(s["job_hash"] == local[s["name"]]["job_hash"] for s in manifest["shots"])
    assert (out / "renders.otio").is_file()
    # Render tasks skip the review; Conform builds it once, with every shot.
    assert log.count("/review/index.html (previews unsigned)") == 1, log[-4000:]
    page = (out / "review" / "index.html").read_text()
    assert all(shot in page for shot in SHOTS)


@pytest.mark.slow
def test_openjd_run_renders_a_shot_after_the_shot_it_continues(tmp_path, linked_edl, local_linked,
                                                               sora_vfx_command):
    # LNK_0040 alone: the two shots it continues, through LNK_0020, render first.
    bundle, out = tmp_path / "bundle", tmp_path / "renders"
    log = export_and_run(linked_edl, bundle, out, ["LNK_0040"], sora_vfx_command)
    shots = ["LNK_0010", "LNK_0020", "LNK_0040"]
    steps = [step["name"] for step in yaml.safe_load((bundle / "template.yaml").read_text())["steps"]]
    assert steps == ["Render", "Render 2", "Render 3", "Conform"]
    assert "Session ended successfully" in log
    assert_rendered_after(out, "LNK_0020", "LNK_0010")
    assert_rendered_after(out, "LNK_0040", "LNK_0020")
    assert assert_same_frames(out, local_linked, shots) == 3 * 12
    manifest = json.loads((out / "manifest.json").read_text())
    assert [(s["name"], s["status"]) for s in manifest["shots"]] == [(s, "rendered") for s in shots]

    # With LNK_0020 on disk, LNK_0040 continues no shot of the job: one render step again.
    result = CliRunner().invoke(main, ["farm", "export", str(linked_edl), "-o", str(tmp_path / "again"),
                                       "--render-out", str(out), *SMALL, "--shots", "LNK_0040", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["shots"] == ["LNK_0040"]
    render, conform = yaml.safe_load((tmp_path / "again" / "template.yaml").read_text())["steps"]
    assert (render["name"], render["parameterSpace"]["taskParameterDefinitions"][0]["range"]) == (
        "Render", ["LNK_0040"])
    assert [d["dependsOn"] for d in conform["dependencies"]] == ["Render"]


def test_conform_only_reports_missing_frames(tmp_path, local_sample):
    out = tmp_path / "renders"
    shutil.copytree(local_sample, out)
    (out / "LHT_0030" / "LHT_0030.1010.exr").unlink()
    result = CliRunner().invoke(main, ["render", str(SAMPLE_EDL), "-o", str(out), *SMALL, "--conform-only",
                                       "--json"])
    assert result.exit_code == 1, result.output
    shots = {s["name"]: s for s in json.loads(result.stdout)["shots"]}
    assert [shots[n]["status"] for n in ("LHT_0010", "LHT_0020", "LHT_0040")] == ["rendered"] * 3
    assert shots["LHT_0030"]["status"] == "failed"
    assert shots["LHT_0030"]["error"].startswith(
        f"1 of 28 frames missing or from another render (job_hash is not {shots['LHT_0030']['job_hash']}), "
        f"first: {out / 'LHT_0030' / 'LHT_0030.1010.exr'}")
    manifest = json.loads((out / "manifest.json").read_text())
    assert [s["status"] for s in manifest["shots"]] == ["rendered", "rendered", "failed", "rendered"]
