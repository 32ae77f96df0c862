"""The measures run without torch: the layers in pyproject.toml keep ``eval`` and ``shapes`` below
the models, and ``sora-vfx eval`` on a real render folder, in a process of its own, never
imports torch, diffusers or transformers."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from sora_vfx.cli import main

HEAVY = ("torch", "diffusers", "transformers")
# The command line as the `sora-vfx` script runs it; on the way out (click exits) the process
# names the heavy modules it imported.
RUN_CLI = f"""
import atexit, sys
atexit.register(lambda: print("imported:", [m for m in {HEAVY!r} if m in sys.modules], file=sys.stderr))
from sora_vfx.cli import main
sys.argv = ["sora-vfx", *sys.argv[1:]]
main()
"""


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", RUN_CLI, *args], capture_output=True, text=True, timeout=300)


def test_the_measures_and_the_shapes_world_import_no_torch():
    code = ("import sys, sora_vfx.shapes, sora_vfx.eval, sora_vfx.review.figures\n"
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.slow
def test_sora_vfx_eval_measures_a_render_without_importing_torch(tmp_path, write_edl):
    edl = write_edl("""
        TITLE: NO_TORCH
        FCM: NON-DROP FRAME

        001  AX       V     C        00:00:00:00 00:00:00:09 01:00:00:00 01:00:00:09
        * SHOT: SH010
        * PROMPT: a large red ball moving right on a blue background
    """)
    out = tmp_path / "out"
    rendered = CliRunner().invoke(main, ["render", str(edl), "-o", str(out), "--model", "tiny", "--size", "64x64",
                                         "--handles", "0", "--no-review", "--json"])
    assert rendered.exit_code == 0, rendered.output
    assert "imported: []" in run_cli("eval", "--help").stderr
    done = run_cli("eval", str(out), "--json")
    assert done.returncode == 0, done.stderr
    assert "imported: []" in done.stderr
    document = json.loads(done.stdout)
    assert [shot["name"] for shot in document["shots"]] == ["SH010"], document["skipped"]
