"""benchmarks/speed.py and benchmarks/gpu.py run end to end on their quick configurations: a
table and a JSON each. The figures are the benchmarks' business (docs/benchmarks.md)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def run(script: str, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args], capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.slow
def test_speed_measures_an_option_against_none(tmp_path):
    results = tmp_path / "speed.json"
    done = run("speed.py", "--quick", "--json", str(results))
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {row["option"]: row for row in json.loads(results.read_text())["rows"]}
    assert list(rows) == ["none", "taylorseer"]
    assert rows["none"]["speedup"] == 1.0 and rows["taylorseer"]["speedup"] > 0
    # Measured against the uncached frames, not equal to them; how far (7.9 dB on --quick with the
    # fifth shapes model, 12.4 on the whole run) is docs/benchmarks.md's business.
    assert 0 < rows["taylorseer"]["psnr"] < 99 and not rows["taylorseer"]["identical"]
    assert "| taylorseer |" in done.stdout
    unknown = run("speed.py", "--options", "warp", "--json", str(results))
    assert unknown.returncode == 2 and "warp" in unknown.stderr


@pytest.mark.slow
def test_gpu_benchmark_runs_its_small_layouts_here(tmp_path):
    results = tmp_path / "gpu.json"
    done = run("gpu.py", "--quick", "--models", "wan2.1-1.3b", "--json", str(results))
    assert done.returncode == 0, done.stdout + done.stderr
    rows = json.loads(results.read_text())["rows"]
    assert [(row["model"], row["option"]) for row in rows] == [("wan2.1-1.3b", "none"), ("wan2.1-1.3b", "taylorseer")]
    for row in rows:
        assert row["bare_s"] > 0 and row["sora_s"] > 0 and row["ratio"] > 0 and row["plan"] == "fast", row
    assert "| wan2.1-1.3b | quick | none |" in done.stdout


def test_gpu_benchmark_without_cuda_says_so():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    done = run("gpu.py", "--json", "/nonexistent/gpu.json", timeout=120)
    assert done.returncode == 0 and "no CUDA device here, nothing measured" in done.stdout
    unknown = run("gpu.py", "--models", "wan9", timeout=120)
    assert unknown.returncode == 2 and "wan9" in unknown.stderr
