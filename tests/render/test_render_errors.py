"""Bad render input fails before any frame with exit 2; a shot failing mid-render gives exit 1."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from sora_vfx.cli import main
from sora_vfx.imaging import is_complete_frame, read_exr_header, read_exr_pixels
from tests.conftest import SAMPLES

EDL = SAMPLES / "sequence_24fps.edl"
FAST = ["--steps", "2", "--handles", "1"]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_render_command_json(tmp_path):
    result = run("render", EDL, "-o", tmp_path / "out", *FAST, "--shots", "LHT_0020,LHT_0040", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert [s["name"] for s in summary["shots"]] == ["LHT_0020", "LHT_0040"]
    assert [s["frames_written"] for s in summary["shots"]] == [22, 26]
    assert Path(summary["conform"]).exists() and Path(summary["manifest"]).exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--model", "{tmp}/nowhere"], "model folder not found: {tmp}/nowhere"),
        (["--model", "{tmp}"], "is not a diffusers pipeline folder (no model_index.json)"),
        (["--style", "gothic"], "unknown style 'gothic'; known styles: documentary, film, noir, none, previs"),
        (["--size", "100x50"], "`height` and `width` have to be divisible by 16 but are 50 and 100."),
        (["--size", "wide"], "--size 'wide': expected WIDTHxHEIGHT"),
        (["--shots", "LHT_0010,NOPE"], "shots to render: no shot 'NOPE' in the edit; shots: LHT_0010, LHT_0020"),
        (["--compression", "jpeg"], "jpeg"),
        (["--colorspace", "Rec.9999"], "Rec.9999"),
    ],
)
def test_bad_input_exits_2_before_rendering(tmp_path, extra, message):
    out = tmp_path / "out"
    result = run("render", EDL, "-o", out, *FAST, *[e.format(tmp=tmp_path) for e in extra])
    assert result.exit_code == 2, result.output
    assert message.format(tmp=tmp_path) in result.stderr
    assert "Traceback" not in result.output
    assert not list(out.rglob("*.exr"))


def test_pickle_only_model_is_refused(tmp_path):
    model = tmp_path / "model"
    (model / "transformer").mkdir(parents=True)
    (model / "model_index.json").write_text('{"_class_name": "WanPipeline"}')
    (model / "transformer" / "diffusion_pytorch_model.bin").write_bytes(b"pickle")
    result = run("render", EDL, "-o", tmp_path / "out", *FAST, "--model", model)
    assert result.exit_code == 2
    assert "diffusion_pytorch_model.bin" in result.stderr and "safetensors" in result.stderr


def test_unreadable_reference_image(tmp_path, write_edl):
    edl = write_edl("""
        TITLE: ref
        001  A001 V     C        10:00:00:00 10:00:00:12 01:00:00:00 01:00:00:12
        * SHOT: REF_0010
        * REFERENCE: refs/missing.png
    """)
    result = run("render", edl, "-o", tmp_path / "out", *FAST)
    assert result.exit_code == 2
    assert f"shot REF_0010: reference image {tmp_path.resolve()}/refs/missing.png: cannot read" in result.stderr


def test_unwritable_output_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run("render", EDL, "-o", blocker / "out", *FAST)
    assert result.exit_code == 2
    assert f"output folder {blocker / 'out'} is not writable" in result.stderr


def test_disk_full_fails_that_shot_and_the_others_finish(tmp_path, monkeypatch):
    from sora_vfx.imaging import exr

    real_encode = exr._encode

    def encode(tmp, spec, pixels):
        if "LHT_0020.1010" in tmp.name:
            tmp.write_bytes(b"half a frame")
            raise OSError(errno.ENOSPC, "No space left on device")
        real_encode(tmp, spec, pixels)

    monkeypatch.setattr(exr, "_encode", encode)
    out = tmp_path / "out"
    result = run("render", EDL, "-o", out, *FAST, "--json")
    assert result.exit_code == 1
    summary = {s["name"]: s for s in json.loads(result.stdout)["shots"]}
    assert summary["LHT_0020"]["status"] == "failed"
    assert "LHT_0020.1010.exr: No space left on device" in summary["LHT_0020"]["error"]
    assert [summary[n]["status"] for n in ("LHT_0010", "LHT_0030", "LHT_0040")] == ["rendered"] * 3
    assert "shot LHT_0020 FAILED" in result.stderr
    assert not (out / "LHT_0020" / "LHT_0020.1010.exr").exists()
    assert not [p for p in (out / "LHT_0020").iterdir() if p.name.startswith(".")]
    manifest = {s["name"]: s for s in json.loads((out / "manifest.json").read_text())["shots"]}
    assert manifest["LHT_0020"]["status"] == "failed"
    # The frames the shot wrote before the disk filled are on disk, and the manifest says so.
    on_disk = len(list((out / "LHT_0020").glob("LHT_0020.*.exr")))
    assert on_disk > 0 and manifest["LHT_0020"]["frames_written"] == on_disk == summary["LHT_0020"]["frames_written"]


def _sora_vfx() -> list[str]:
    script = Path(sys.executable).parent / "sora-vfx"
    return [str(script)] if script.exists() else [sys.executable, "-m", "sora_vfx"]


def test_resume_after_the_process_is_killed(tmp_path, write_edl, tiny_model):
    edl = write_edl("""
        TITLE: long
        001  A001 V     C        10:00:00:00 10:00:08:00 01:00:00:00 01:00:08:00
        * SHOT: KILL_0010
        * PROMPT: storm clouds over the sea
    """)
    args = ["render", str(edl), "--handles", "0", "--steps", "3", "--size", "96x48"]
    killed = tmp_path / "killed"
    process = subprocess.Popen([*_sora_vfx(), *args, "-o", str(killed)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env=os.environ.copy())
    shot = killed / "KILL_0010"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if shot.is_dir() and len(list(shot.glob("KILL_0010.*.exr"))) >= 40:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the render finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    frames = sorted(shot.glob("KILL_0010.*.exr"))
    complete = [f for f in frames if is_complete_frame(f, job_hash=read_exr_header(f)["sora_vfx:job_hash"])]
    assert 40 <= len(complete) < 192

    resumed = subprocess.run([*_sora_vfx(), *args, "-o", str(killed), "--json"], capture_output=True, text=True,
                             timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    shot_summary = json.loads(resumed.stdout)["shots"][0]
    assert shot_summary["frames_reused"] == len(complete)
    assert shot_summary["frames_written"] == 192 - len(complete)

    clean = tmp_path / "clean"
    done = subprocess.run([*_sora_vfx(), *args, "-o", str(clean)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    for frame in sorted((clean / "KILL_0010").glob("*.exr")):
        ours = read_exr_pixels(shot / frame.name).astype(np.float16).tobytes()
        assert ours == read_exr_pixels(frame).astype(np.float16).tobytes(), frame.name
    # The killed writer's temporary frames are cleaned up; none ever had a final name.
    assert not [p for p in shot.iterdir() if p.name.startswith(".")]
