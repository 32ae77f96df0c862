"""Farm test helpers: a local reference render, EXR comparison, real dask processes.

Every farm test renders small: the tiny model at its 64x32 default, 2 steps, no handles.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from sora_vfx.cli import main
from tests.conftest import ROOT, SAMPLES

SAMPLE_EDL = SAMPLES / "sequence_24fps.edl"
SMALL = ["--handles", "0", "--steps", "2"]
BIN = Path(sys.executable).parent
#: Four shots of 12 frames: LNK_0020 continues LNK_0010 and LNK_0040 continues LNK_0020;
#: LNK_0030 continues none.
LINKED_EDL = """
    TITLE: LINKED
    FCM: NON-DROP FRAME

    001  A001C001 V     C        10:00:00:00 10:00:00:12 01:00:00:00 01:00:00:12
    * SHOT: LNK_0010
    * PROMPT: a fishing boat leaves the harbour at dawn
    002  A001C002 V     C        10:01:00:00 10:01:00:12 01:00:00:12 01:00:01:00
    * SHOT: LNK_0020
    * CONTINUES: LNK_0010
    * PROMPT: the fishing boat passes the lighthouse
    003  A002C001 V     C        11:00:00:00 11:00:00:12 01:00:01:00 01:00:01:12
    * SHOT: LNK_0030
    * PROMPT: the lighthouse keeper watches from the gallery
    004  A001C003 V     C        10:02:00:00 10:02:00:12 01:00:01:12 01:00:02:00
    * SHOT: LNK_0040
    * CONTINUES: LNK_0020
    * PROMPT: the fishing boat heads out to open sea
"""
LINKED_SHOTS = ["LNK_0010", "LNK_0020", "LNK_0030", "LNK_0040"]


def subprocess_env() -> dict[str, str]:
    """The environment for processes we start: this checkout first on the path, and the
    session's model cache (tests/conftest.py sets SORA_VFX_CACHE in os.environ)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    assert "SORA_VFX_CACHE" in env
    return env


@pytest.fixture(scope="session")
def sora_vfx_command(tmp_path_factory) -> str:
    """The venv's ``sora-vfx`` (what ``make install`` puts there); where the checkout is not
    installed, a script that runs this venv's python on it."""
    installed = BIN / "sora-vfx"
    if installed.is_file():
        return str(installed)
    script = tmp_path_factory.mktemp("bin") / "sora-vfx"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m sora_vfx "$@"\n')
    script.chmod(0o755)
    return str(script)


@pytest.fixture(scope="session")
def local_sample(tmp_path_factory, sora_cache) -> Path:
    """A local ``sora-vfx render`` of the sample edit: what every farm render must equal."""
    out = tmp_path_factory.mktemp("local") / "renders"
    result = CliRunner().invoke(main, ["render", str(SAMPLE_EDL), "-o", str(out), *SMALL, "--json"])
    assert result.exit_code == 0, result.output
    assert [s["status"] for s in json.loads(result.stdout)["shots"]] == ["rendered"] * 4
    return out


@pytest.fixture(scope="session")
def linked_edl(tmp_path_factory) -> Path:
    """``LINKED_EDL`` in a file, for the session's renders of it."""
    path = tmp_path_factory.mktemp("linked") / "linked.edl"
    path.write_text(textwrap.dedent(LINKED_EDL).lstrip("\n"))
    return path


@pytest.fixture(scope="session")
def local_linked(tmp_path_factory, linked_edl, sora_cache) -> Path:
    """A local ``sora-vfx render`` of the linked edit: what every farm render of it must equal."""
    out = tmp_path_factory.mktemp("local_linked") / "renders"
    result = CliRunner().invoke(main, ["render", str(linked_edl), "-o", str(out), *SMALL, "--json"])
    assert result.exit_code == 0, result.output
    assert [s["status"] for s in json.loads(result.stdout)["shots"]] == ["rendered"] * 4
    return out


def assert_rendered_after(out: Path, shot: str, previous: str) -> None:
    """Every frame of ``shot`` was written after the last frame of ``previous``."""
    def written(name: str) -> list[int]:
        times = [path.stat().st_mtime_ns for path in (out / name).glob(f"{name}.*.exr")]
        assert times, f"no frames of {name} in {out}"
        return times

    assert min(written(shot)) > max(written(previous)), f"{shot} was rendered before {previous} was finished"


def read_frames(out: Path, shots: list[str] | None = None) -> dict[str, tuple[bytes, str]]:
    """Every frame under ``out`` (or under the given shots' folders): its pixels as raw half
    bits and its ``sora_vfx:job_hash``, by path relative to ``out``. Whole files differ
    between renders (OIIO writes a DateTime), the decoded pixels must not."""
    import OpenImageIO as oiio

    frames = {}
    folders = [out / shot for shot in shots] if shots else [p for p in out.iterdir() if p.is_dir()]
    for folder in folders:
        for path in sorted(p for p in folder.glob("*.exr") if not p.name.startswith(".")):  # not temporaries
            inp = oiio.ImageInput.open(str(path))
            assert inp is not None, path
            try:
                spec = inp.spec()
                assert str(spec.format) == "half", path
                pixels = np.asarray(inp.read_image("half"))
                job_hash = spec.get_string_attribute("sora_vfx:job_hash")
            finally:
                inp.close()
            frames[str(path.relative_to(out))] = (pixels.view(np.uint16).tobytes(), job_hash)
    return frames


def assert_same_frames(farm: Path, local: Path, shots: list[str] | None = None) -> int:
    """The farm's frames are the local render's, bit for bit, under the same job hashes; no
    other visible file sits in the shot folders. Returns the number of frames compared."""
    expected = read_frames(local, shots)
    got = read_frames(farm, shots)
    assert sorted(got) == sorted(expected)
    different = [name for name in expected if got[name] != expected[name]]
    assert not different, f"{len(different)} frames differ, first {different[0]}"
    for folder in {Path(name).parent for name in expected}:
        visible = sorted(p.name for p in (farm / folder).iterdir() if not p.name.startswith("."))
        assert visible == sorted(Path(n).name for n in expected if Path(n).parent == folder)
        # A worker killed mid-write may leave a hidden temporary file; never a half frame.
        hidden = [p.name for p in (farm / folder).iterdir() if p.name.startswith(".")]
        assert all(name.endswith(".tmp.exr") for name in hidden), hidden
    return len(expected)


class DaskProcesses:
    """A real ``dask scheduler`` and ``dask worker`` processes on 127.0.0.1, random ports."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.env = subprocess_env()
        self.scheduler: subprocess.Popen | None = None
        self.workers: dict[str, subprocess.Popen] = {}
        self.address = ""
        self._logs: list = []

    def _start(self, *args: str, log: str) -> subprocess.Popen:
        self._logs.append(open(self.folder / log, "wb"))
        # Own session, so that stopping a worker stops its nanny and the process it spawned.
        return subprocess.Popen([str(BIN / "dask"), *args], cwd=self.folder, env=self.env,
                                stdout=subprocess.DEVNULL, stderr=self._logs[-1], start_new_session=True)

    def start(self, workers: int, timeout: float = 120) -> None:
        info = self.folder / "scheduler.json"
        self.scheduler = self._start("scheduler", "--host", "127.0.0.1", "--port", "0",
                                     "--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(info),
                                     log="scheduler.log")
        deadline = time.monotonic() + timeout
        while not (info.is_file() and info.stat().st_size):
            assert self.scheduler.poll() is None, (self.folder / "scheduler.log").read_text()
            assert time.monotonic() < deadline, "dask scheduler did not start"
            time.sleep(0.1)
        time.sleep(0.1)  # the file is written in one go, but give the writer its close
        self.address = json.loads(info.read_text())["address"]
        for index in range(1, workers + 1):
            name = f"w{index}"
            self.workers[name] = self._start(
                "worker", self.address, "--name", name, "--nthreads", "1", "--host", "127.0.0.1",
                "--dashboard-address", "127.0.0.1:0", "--death-timeout", "60", log=f"{name}.log")
        from distributed import Client

        with Client(self.address, timeout=30) as client:
            client.wait_for_workers(workers, timeout=timeout)

    def kill(self, name: str) -> None:
        """SIGKILL a worker and its nanny: a node lost without warning."""
        os.killpg(self.workers[name].pid, signal.SIGKILL)
        self.workers[name].wait(timeout=30)

    def stop(self) -> None:
        processes = [p for p in [*self.workers.values(), self.scheduler] if p is not None and p.poll() is None]
        for process in processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=15)
        for log in self._logs:
            log.close()


@contextmanager
def dask_processes(folder: Path, workers: int):
    cluster = DaskProcesses(folder)
    try:
        cluster.start(workers)
        yield cluster
    finally:
        cluster.stop()
