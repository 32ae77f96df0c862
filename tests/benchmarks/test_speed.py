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
    results = tmp_path / "gpu_results.json"
    done = run("gpu.py", "--quick", "--models", "wan2.1-1.3b", "--json", str(results))
    assert done.returncode == 0, done.stdout + done.stderr
    measured = json.loads(results.read_text())
    assert {"device", "torch", "diffusers", "date", "rows"} <= set(measured) and measured["not_measured"] == []
    rows = measured["rows"]
    assert [(row["model"], row["options"]) for row in rows] == [
        ("wan2.1-1.3b", "none"), ("wan2.1-1.3b", "taylorseer"), ("wan2.1-1.3b", "memory")]
    for row in rows[:2]:
        assert row["seconds"] > 0 and row["bare_seconds"] > 0 and row["plan"] == "fast", row
        # The ratios come from the unrounded seconds, which the file rounds to hundredths.
        assert row["ratio"] == pytest.approx(row["seconds"] / row["bare_seconds"], rel=0.05)
        assert row["speedup"] == pytest.approx(rows[0]["bare_seconds"] / row["seconds"], rel=0.05)
    # The CPU's plans render the same frames; the out-of-memory check needs CUDA and says so.
    checks = rows[2]["memory_plans"]
    assert list(checks["plans"]) == ["fast", "low"] and checks["hold"]
    assert all(plan["identical_to_fast"] and plan["frames"] == 17 for plan in checks["plans"].values())
    assert "needs CUDA" in checks["out_of_memory"]["skipped"]
    assert "| wan2.1-1.3b | quick | 17 | none |" in done.stdout
    table = run("gpu.py", "--table", str(results), timeout=120)
    assert table.returncode == 0 and "| wan2.1-1.3b | quick | 17 | taylorseer |" in table.stdout


@pytest.mark.slow
def test_gpu_benchmark_starts_no_row_past_its_budget_and_keeps_what_it_measured(tmp_path):
    results = tmp_path / "gpu_results.json"
    # The first row always starts; each later one would take about as long, more than is left.
    done = run("gpu.py", "--quick", "--models", "wan2.1-1.3b", "--budget", "0.5", "--json", str(results))
    assert done.returncode == 0, done.stdout + done.stderr
    measured = json.loads(results.read_text())
    assert [row["options"] for row in measured["rows"]] == ["none"]
    assert measured["not_measured"] == ["wan2.1-1.3b quick taylorseer", "wan2.1-1.3b quick memory"]
    assert "Not measured (the budget ran out): wan2.1-1.3b quick taylorseer" in done.stdout


def test_gpu_benchmark_without_cuda_says_so():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    done = run("gpu.py", "--json", "/nonexistent/gpu.json", timeout=120)
    assert done.returncode == 0 and "no CUDA device here, nothing measured" in done.stdout
    unknown = run("gpu.py", "--models", "wan9", "--options", "none,warp", timeout=120)
    assert unknown.returncode == 2 and "'wan9'" in unknown.stderr and "'warp'" in unknown.stderr


def source_gpu_env(where, python: str) -> subprocess.CompletedProcess:
    """benchmarks/gpu_env.sh sourced in ``where`` with ``python``; prints the PYTHONPATH it leaves."""
    script = ROOT / "benchmarks" / "gpu_env.sh"
    return subprocess.run(["bash", "-c", f'source "{script}" || exit $?; echo "PYTHONPATH=$PYTHONPATH"'], cwd=where,
                          env={"PATH": "/usr/bin:/bin", "PYTHON": python}, capture_output=True, text=True, timeout=120)


def test_gpu_env_puts_the_checkout_on_the_path_where_the_packages_are(tmp_path):
    done = source_gpu_env(tmp_path, sys.executable)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"PYTHONPATH={tmp_path}"


def test_gpu_env_without_the_packages_or_wheels_says_what_to_carry(tmp_path):
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True, timeout=120)
    done = source_gpu_env(tmp_path, str(bare / "bin" / "python"))
    assert done.returncode == 1
    assert "no wheels in .whl: run benchmarks/gpu_wheels.sh" in done.stderr and "PYTHONPATH" not in done.stdout
