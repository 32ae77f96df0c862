"""benchmarks/plates.py runs end to end on its quick configuration: a table and a JSON of the
plate extension figures. The figures themselves are the benchmark's business (docs/benchmarks.md)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

PLATES = ROOT / "benchmarks" / "plates.py"


@pytest.mark.slow
def test_quick_run_measures_each_method(tmp_path):
    results = tmp_path / "plates.json"
    methods = "video,per-frame (same model)"
    done = subprocess.run(
        [sys.executable, str(PLATES), "--quick", "--methods", methods, "--json", str(results)],
        capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    document = json.loads(results.read_text())
    assert list(document["methods"]) == methods.split(",")
    for result in document["methods"].values():
        assert [plate["name"] for plate in result["plates"]] == document["cases"]
        assert result["all"]["border_frames"] > 0 and 0 <= result["all"]["found"] <= 1
        assert result["all"]["flicker_ratio"] > 0 and result["all"]["seam_ratio"] > 0
    assert {row["output_transform"] for row in document["highlights"]} == {"inverse-view", "srgb"}
    assert "| video |" in done.stdout and "`--output-transform inverse-view`" in done.stdout
    unknown = subprocess.run([sys.executable, str(PLATES), "--methods", "nope", "--json", str(results)],
                             capture_output=True, text=True, timeout=120)
    assert unknown.returncode == 2 and "nope" in unknown.stderr
