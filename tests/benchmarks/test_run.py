"""benchmarks/run.py runs end to end on its tiny configuration and writes a valid results.json.

No timing is asserted: this machine's load decides the figures, the script only has to work.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT

RUN = ROOT / "benchmarks" / "run.py"
KEYS = {"name", "ours", "baseline", "ratio", "target", "pass"}
ALWAYS = {"render", "editorial", "memory"}  # the others skip without oiiotool or `extend`


@pytest.mark.slow
def test_quick_run_writes_results(tmp_path):
    results = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--out", str(results), "--work", str(tmp_path / "work")],
        capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    entries = json.loads(results.read_text())
    assert isinstance(entries, list)
    names = [entry["name"] for entry in entries]
    assert ALWAYS <= set(names) <= {"render", "exr_write", "editorial", "memory", "extend"}
    for entry in entries:
        assert set(entry) == KEYS
        assert all(isinstance(entry[key], float) and entry[key] > 0 for key in ("ours", "baseline", "ratio", "target"))
        assert entry["ratio"] == pytest.approx(entry["ours"] / entry["baseline"], rel=1e-3)
        assert entry["pass"] is (entry["ratio"] <= entry["target"])
    # The table names every comparison with its verdict; the bare render made the same pixels.
    table = done.stdout
    assert all(name in table for name in names)
    # With PyTorch's own convolutions ours and the bare loop write identical frames.
    assert re.search(r"with SORA_VFX_CPU_CONV=native: same work: 14 frames each; pixel values differ by at most 0 "
                     r"\(0 of \d+ half values", table), "the bare loop no longer renders what sora-vfx renders"


def test_unknown_comparison_is_a_usage_error(tmp_path):
    done = subprocess.run([sys.executable, str(RUN), "--only", "nope", "--out", str(tmp_path / "r.json")],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "unknown comparison nope" in done.stderr
    assert not (tmp_path / "r.json").exists()
