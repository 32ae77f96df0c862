"""Files named by an edit or by ``$OCIO`` that are not regular files (a FIFO, a device) are
refused before anything reads them: neither ``render`` nor ``farm export`` may hang or read
without end."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

COMMANDS = {
    "render": lambda edl, out: ["render", str(edl), "-o", str(out), "--steps", "1", "--handles", "0"],
    "farm export": lambda edl, out: ["farm", "export", str(edl), "-o", str(out)],
}


def sora_vfx(*args: str, timeout: float = 120, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The real command in a child process, so that a hang fails the test instead of the run."""
    return subprocess.run([sys.executable, "-m", "sora_vfx", *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, env=env)


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_reference_that_is_not_a_regular_file_is_refused(tmp_path, write_edl, command, kind):
    if kind == "fifo":
        reference = tmp_path / "refs" / "plate.png"
        reference.parent.mkdir()
        os.mkfifo(reference)  # nobody writes: opening it to read would wait for ever
    else:
        reference = "/dev/zero"  # never ends
    edl = write_edl(f"""
        TITLE: special
        001  A001 V     C        10:00:00:00 10:00:00:12 01:00:00:00 01:00:00:12
        * SHOT: REF_0010
        * REFERENCE: {reference}
    """)
    out = tmp_path / "out"
    result = sora_vfx(*COMMANDS[command](edl, out))
    assert result.returncode == 2, result.stderr
    assert f"shot REF_0010: reference image {reference}" in result.stderr
    assert "not a regular file" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists() or not any(out.rglob("*.exr"))


@pytest.mark.parametrize(("kind", "command"), [("fifo", "render"), ("fifo", "farm export"),
                                               ("device", "farm export"), ("folder", "render")])
def test_an_ocio_config_that_is_not_a_regular_file_is_refused(tmp_path, write_edl, command, kind):
    """``$OCIO`` naming a FIFO (OCIO would wait for ever to open it), a device or a folder."""
    if kind == "fifo":
        config = tmp_path / "config.ocio"
        os.mkfifo(config)
    elif kind == "device":
        config = "/dev/zero"
    else:
        config = tmp_path
    edl = write_edl("""
        TITLE: ocio
        001  A001 V     C        10:00:00:00 10:00:00:12 01:00:00:00 01:00:00:12
        * SHOT: OCIO_0010
    """)
    out = tmp_path / "out"
    what = {"fifo": "a FIFO", "device": "a character device", "folder": "a folder"}[kind]
    result = sora_vfx(*COMMANDS[command](edl, out), env={**os.environ, "OCIO": str(config)}, timeout=30)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"sora-vfx: error: cannot load OCIO config {config} (from $OCIO): it is {what}, not a regular file")
    assert not out.exists() or not any(out.rglob("*.exr"))
