"""SIGTERM, what farm schedulers send on cancel: the shots that finished keep their manifest
entries, one line says what happened, and the exit code is 143 (128 + 15)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time


def test_sigterm_keeps_finished_shots_in_the_manifest_and_exits_143(tmp_path, write_edl):
    edl = write_edl("""
        TITLE: cancel
        001  A001 V     C        10:00:00:00 10:00:00:05 01:00:00:00 01:00:00:05
        * SHOT: FIRST
        002  A002 V     C        10:00:00:00 10:01:00:00 01:00:00:05 01:01:00:05
        * SHOT: LONG
    """)
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "sora_vfx", "render", str(edl), "-o", str(out),
                                "--steps", "1", "--handles", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    last_of_first = out / "FIRST" / "FIRST.1005.exr"
    deadline = time.monotonic() + 240
    while not last_of_first.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert last_of_first.exists(), process.communicate(timeout=60)
    time.sleep(0.5)  # into the long shot
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr
    assert stderr.strip().splitlines()[-1] == "sora-vfx: terminated (SIGTERM)"
    assert "Traceback" not in stderr
    manifest = json.loads((out / "manifest.json").read_text())
    entries = {shot["name"]: shot for shot in manifest["shots"]}
    assert list(entries) == ["FIRST"]
    assert entries["FIRST"]["status"] == "rendered" and entries["FIRST"]["frames_written"] == 5
    assert not list(out.rglob("*.tmp*"))
