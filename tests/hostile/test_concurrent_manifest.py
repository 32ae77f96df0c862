"""Farm tasks rendering different shots into one output folder at the same moment: every
shot keeps its manifest entry (the read-modify-write holds a lock that works on NFS too)."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time

import pytest

from sora_vfx.errors import RenderError
from sora_vfx.files import HOST, exclusive_lock, lock_name

SHOTS = [f"SH{n:03d}0" for n in range(1, 7)]


def test_six_renders_of_one_shot_each_into_one_folder_keep_all_six_entries(tmp_path):
    lines = ["TITLE: farm", ""]
    for number, name in enumerate(SHOTS, start=1):
        lines += [f"{number:03d}  A001 V     C        10:00:00:00 10:00:00:03 01:00:0{number}:00 01:00:0{number}:03",
                  f"* SHOT: {name}"]
    edl = tmp_path / "cut.edl"
    edl.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    processes = [subprocess.Popen([sys.executable, "-m", "sora_vfx", "render", str(edl), "-o", str(out), "--shots",
                                   name, "--steps", "1", "--handles", "0"], stderr=subprocess.PIPE, text=True)
                 for name in SHOTS]
    errors = [process.communicate(timeout=600)[1] for process in processes]
    assert [process.returncode for process in processes] == [0] * 6, errors
    manifest = json.loads((out / "manifest.json").read_text())
    assert [shot["name"] for shot in manifest["shots"]] == SHOTS
    assert not lock_name(out / "manifest.json").exists()


def _count(path: str, times: int) -> None:
    for _ in range(times):
        with exclusive_lock(path, what="counter", error=RenderError):
            value = int(open(path).read())
            time.sleep(0.001)  # widen the window a lost update needs
            with open(path, "w") as handle:
                handle.write(str(value + 1))


def test_the_lock_loses_no_update_between_processes(tmp_path):
    counter = tmp_path / "counter"
    counter.write_text("0")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_count, args=(str(counter), 40)) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert [worker.exitcode for worker in workers] == [0] * 6
    assert counter.read_text() == "240"


def test_a_lock_left_by_a_dead_process_is_broken(tmp_path):
    target = tmp_path / "manifest.json"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock_name(target).write_text(f"{HOST}-{dead.stdout.strip()}-abcd\n")
    with exclusive_lock(target, what="manifest", error=RenderError, timeout=5):
        assert lock_name(target).read_text().startswith(f"{HOST}-{os.getpid()}-")
    assert not lock_name(target).exists()


def test_a_live_lock_from_another_host_makes_a_clear_error_after_the_timeout(tmp_path):
    target = tmp_path / "manifest.json"
    lock_name(target).write_text("rendernode_17-4242-abcd\n")
    with pytest.raises(RenderError, match=r"cannot lock manifest .*manifest.json: .* held by rendernode_17-4242"):
        with exclusive_lock(target, what="manifest", error=RenderError, timeout=0.3):
            pass
    assert lock_name(target).read_text() == "rendernode_17-4242-abcd\n"
