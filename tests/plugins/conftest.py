"""The plugins as a user installs them: built by plugins/package.py (``make plugins``) into a
temporary folder. The tests run these, never plugins/ itself, so a file the packaging leaves out
(the shared process.py, say) fails them."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "plugins" / "package.py"
FAKE_SORA_VFX = Path(__file__).with_name("fake_sora_vfx.py")


def run_package(out: Path, script: Path = PACKAGE) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(script), str(out)], capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="session")
def packaged(tmp_path_factory) -> Path:
    """OUT of ``plugins/package.py OUT``: ``nuke/``, ``blender/sora_vfx_blender/``, ``blender/sora_vfx-0.1.0.zip``."""
    out = tmp_path_factory.mktemp("packaged")
    result = run_package(out)
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="session")
def fake_sora_vfx(tmp_path_factory) -> str:
    """An executable ``sora-vfx`` that runs fake_sora_vfx.py (hosts check it is a file they may run)."""
    path = tmp_path_factory.mktemp("fake_bin") / "sora-vfx"
    path.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_SORA_VFX}" "$@"\n')
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(path)


def start_nuke_session(monkeypatch, nuke_dir: Path, executable: str):
    """A fresh stand-in Nuke session (with a GUI) whose plugin path has ``nuke_dir``, the
    plugin imported afresh from there, ``sora-vfx`` at ``executable``; returns its state."""
    from . import fake_nuke

    state = fake_nuke.reset()
    monkeypatch.setattr(fake_nuke, "GUI", True)
    monkeypatch.setitem(sys.modules, "nuke", fake_nuke)
    monkeypatch.syspath_prepend(str(nuke_dir))
    for name in [n for n in sys.modules if n == "sora_vfx_nuke" or n.startswith("sora_vfx_nuke.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setenv("SORA_VFX_EXECUTABLE", executable)
    return state


def record_commands(monkeypatch, module: ModuleType) -> list[list[str]]:
    """The command lines ``module``'s ``SoraProcess`` starts from now on, in order."""
    seen: list[list[str]] = []

    class RecordingProcess(module.SoraProcess):
        def start(self):
            seen.append(list(self.command))
            return super().start()

    monkeypatch.setattr(module, "SoraProcess", RecordingProcess)
    return seen
