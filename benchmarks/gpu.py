"""Seconds per shot and peak GPU memory at real model sizes: sora_vfx against the bare diffusers
pipeline call, in the same run, for each model and speed option; and the memory plans checked
on the card. One command that fits a lent card's minutes (issue 28):

    bash benchmarks/gpu_run.sh                     # on the card: the wheels, then this with --budget 540
    python benchmarks/gpu.py --budget 540 --json $OUT/gpu_results.json
    python benchmarks/gpu.py --models hunyuanvideo-1.5-480p,wan2.1-14b --options none,best
    python benchmarks/gpu.py --quick               # any machine: the small layouts on the CPU
    python benchmarks/gpu.py --table benchmarks/gpu_results.json   # the README's table of a run

The models are ``sora_vfx.models.fullsize``: the published architectures with random weights
(same compute and memory as the real ones). Each model's folder is written when its first row
starts, its weights drawn on the card in bfloat16, and (``--remove-folders``) removed after its
last row, so the card's 64 GiB disk holds one model at a time. For each model and option set:

- bare: ``DiffusionPipeline.from_pretrained(folder)`` on the device, the same options turned on
  by the same diffusers calls, VAE tiling on as sora_vfx has it on accelerators, and one
  ``pipeline(...)`` call for the shot;
- sora_vfx: ``render_edit`` of a one-shot edit with ``--model folder``: loading with the memory
  plan, the render, the colour conversion and the EXR frames on disk.

Both run once to warm up (compilation, kernel choice) with two steps, then once timed. The
first model takes ``--options``, the others ``--later-options``. The option ``memory`` is no
speed option but the memory-plan checks, on that model, at ``--memory-frames``:

- every plan the device has (``fast``, ``balanced``, ``low``; the CPU: ``fast``, ``low``)
  renders the shot; their frames are compared with ``fast``'s, bit for bit;
- ``low``'s peak memory is compared with what the plan promised (``MemoryNeeds.of_plan``);
- CUDA only: the process is capped (``torch.cuda.set_per_process_memory_fraction``) just above
  what the ``fast`` plan's weights hold, so its render runs out of memory; the render must fall
  back to the next plan down and finish.

``--budget SECONDS`` bounds the whole run: the first row always starts, a later one only
when the longest row of its model so far (for a model's first row, the first model's first row scaled by the parameters)
fits in what is left. After every row the results file is written again, so a run cut short
keeps what it measured. Without CUDA (and without ``--quick``) it says so and exits 0.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from quality import write_edl  # noqa: E402

from sora_vfx.editorial import EditOptions, read_edit  # noqa: E402
from sora_vfx.imaging.exr import read_exr_pixels  # noqa: E402
from sora_vfx.models import load_model  # noqa: E402
from sora_vfx.models.acceleration import Acceleration  # noqa: E402
from sora_vfx.models.fullsize import full_sizes, write_model  # noqa: E402
from sora_vfx.models.loader import from_pretrained_safely  # noqa: E402
from sora_vfx.models.memory import estimate_needs, plans_for  # noqa: E402
from sora_vfx.models.tiny import cache_root  # noqa: E402
from sora_vfx.render import RenderSettings, render_edit  # noqa: E402
from sora_vfx.render.plan import default_writer_threads, usable_cores  # noqa: E402

RESOLUTIONS = {"480p": (832, 480), "720p": (1280, 720), "quick": (64, 64)}
#: Option sets by name. "best" speeds up without changing the weights' precision or needing a
#: package beyond sora_vfx's, by amounts the random weights do not decide: TaylorSeer computes
#: the blocks on a fixed interval, while First Block Cache skips a step when the first block's
#: output changes little, which random weights decide differently from trained ones.
OPTION_SETS = {
    "none": {},
    "first-block:0.05": {"cache": "first-block:0.05"},
    "first-block:0.1": {"cache": "first-block:0.1"},
    "taylorseer": {"cache": "taylorseer"},
    "flash": {"attention": "flash"},
    "sage": {"attention": "sage"},
    "compile": {"compile": True},
    "fp8": {"quantize": "fp8"},
    "int8": {"quantize": "int8"},
    "best": {"cache": "taylorseer", "compile": True},
}
#: Not a speed option: the memory-plan checks on the model (see the module's docstring).
MEMORY_CHECKS = "memory"
PROMPT = "a large red ball moving left on a blue background"
SHOT = "GPU_0010"
#: What the out-of-memory check lets the process hold beyond the ``fast`` plan's loaded weights:
#: less than one window's activations at 480p, more than the next plan down needs beyond them.
OUT_OF_MEMORY_MARGIN = 256 * 2**20


def peak_reset(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def peak_gib(device: torch.device) -> float | None:
    return round(torch.cuda.max_memory_allocated(device) / 2**30, 2) if device.type == "cuda" else None


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bare_run(folder: Path, speed: Acceleration, device: torch.device, *, frames: int, size: tuple[int, int],
             steps: int) -> tuple[float, float | None]:
    """The bare diffusers call: seconds of the timed call and peak memory."""
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    pipeline = from_pretrained_safely(folder, dtype, quantization=speed.quantization_config())
    pipeline.to(device)
    if device.type != "cpu" and hasattr(pipeline.vae, "enable_tiling"):
        pipeline.vae.enable_tiling()
    speed.apply(pipeline)
    pipeline.set_progress_bar_config(disable=True)

    def call(count: int) -> None:
        pipeline(prompt=PROMPT, num_frames=frames, width=size[0], height=size[1], num_inference_steps=count,
                 generator=torch.Generator("cpu").manual_seed(0), output_type="np")

    call(2)
    peak_reset(device)
    started = time.perf_counter()
    call(steps)
    synchronize(device)
    seconds = time.perf_counter() - started
    peak = peak_gib(device)
    pipeline = None  # frees the weights before the next run
    peak_reset(device)
    return seconds, peak


class Shot:
    """The one-shot edit every sora_vfx run renders, and its frames read back."""

    def __init__(self, work: Path, frames: int):
        work.mkdir(parents=True, exist_ok=True)
        self.work = work
        edl = work / "shot.edl"
        write_edl(edl, [(SHOT, PROMPT, frames, None)])
        self.edit = read_edit(edl, EditOptions(handles=0))

    def render(self, model: Any, folder: Path, speed: Acceleration, device: torch.device, out: str, *,
               size: tuple[int, int], steps: int, memory: str) -> Any:
        """Render the shot into ``work/out``; its result (``ShotResult``). RuntimeError: it failed."""
        settings = RenderSettings(model=str(folder), size=size, steps=steps, speed=speed, memory=memory,
                                  device=str(device))
        report = render_edit(self.edit, self.work / out, settings, model=model, progress=False)
        if report.failed:
            raise RuntimeError(report.failed[0].error)
        return report.results[0]

    def pixels(self, out: str) -> list[Any]:
        return [read_exr_pixels(path) for path in sorted((self.work / out / SHOT).glob("*.exr"))]


def load(folder: Path, speed: Acceleration, device: torch.device, *, memory: str, size: tuple[int, int],
         frames: int) -> Any:
    return load_model(str(folder), device=str(device), memory=memory, acceleration=speed, render_size=size,
                      window=frames)


def sora_run(folder: Path, speed: Acceleration, device: torch.device, work: Path, *, frames: int,
             size: tuple[int, int], steps: int, memory: str) -> tuple[float, float | None, str]:
    """The same shot through sora_vfx: seconds of the timed render, peak memory, memory plan."""
    model = load(folder, speed, device, memory=memory, size=size, frames=frames)
    shot = Shot(work, frames)
    shot.render(model, folder, speed, device, "warmup", size=size, steps=2, memory=memory)
    peak_reset(device)
    started = time.perf_counter()
    shot.render(model, folder, speed, device, "timed", size=size, steps=steps, memory=memory)
    synchronize(device)
    seconds = time.perf_counter() - started
    peak, plan = peak_gib(device), model.memory_plan
    model = None  # frees the weights before the next run
    peak_reset(device)
    return seconds, peak, plan


def memory_checks(folder: Path, device: torch.device, work: Path, *, frames: int, size: tuple[int, int],
                  steps: int) -> dict[str, Any]:
    """The memory plans on this device: the same frames on every plan, ``low``'s peak against its
    promise, and (CUDA) a real out-of-memory falling back to the next plan down."""
    speed, shot = Acceleration(), Shot(work, frames)
    checks: dict[str, Any] = {"frames": frames, "steps": steps, "plans": {}}
    reference = None
    for plan in plans_for(device):
        model = load(folder, speed, device, memory=plan, size=size, frames=frames)
        peak_reset(device)
        started = time.perf_counter()
        shot.render(model, folder, speed, device, plan, size=size, steps=steps, memory=plan)
        synchronize(device)
        entry: dict[str, Any] = {"seconds": round(time.perf_counter() - started, 2), "peak_gib": peak_gib(device)}
        needs = estimate_needs(model.pipeline, model.family, frames=frames, height=size[1], width=size[0],
                               dtype=model.dtype)
        entry["promised_gib"] = round(needs.of_plan(plan) / 2**30, 2)
        model = None
        peak_reset(device)
        pixels = shot.pixels(plan)
        if reference is None:
            reference = pixels
        if len(pixels) != len(reference):
            raise RuntimeError(f"memory plan {plan} wrote {len(pixels)} frames, fast {len(reference)}")
        entry["frames"] = len(pixels)
        entry["largest_difference"] = float(max(abs(a - b).max() for a, b in zip(pixels, reference, strict=True)))
        entry["identical_to_fast"] = entry["largest_difference"] == 0
        checks["plans"][plan] = entry
    low = checks["plans"].get("low", {})
    if low.get("peak_gib") is not None:
        low["within_promise"] = low["peak_gib"] <= low["promised_gib"]
    checks["out_of_memory"] = out_of_memory_check(folder, device, shot, size=size, steps=steps, frames=frames)
    checks["hold"] = (all(entry["identical_to_fast"] for entry in checks["plans"].values())
                      and low.get("within_promise", True) is not False
                      and checks["out_of_memory"].get("finished", True) is not False)
    return checks


def out_of_memory_check(folder: Path, device: torch.device, shot: Shot, *, size: tuple[int, int], steps: int,
                        frames: int) -> dict[str, Any]:
    """Load on ``fast``, cap the process just above the weights it holds, render: the shot must
    run out of memory, fall back to the next plan down and finish."""
    if device.type != "cuda":
        return {"skipped": "needs CUDA (torch.cuda.set_per_process_memory_fraction)"}
    speed = Acceleration()
    model = load(folder, speed, device, memory="fast", size=size, frames=frames)
    held = torch.cuda.memory_allocated(device)
    total = torch.cuda.get_device_properties(device).total_memory
    cap = held + OUT_OF_MEMORY_MARGIN
    check: dict[str, Any] = {"held_gib": round(held / 2**30, 2), "cap_gib": round(cap / 2**30, 2)}
    torch.cuda.set_per_process_memory_fraction(cap / total, device)
    try:
        result = shot.render(model, folder, speed, device, "capped", size=size, steps=steps, memory="fast")
        check.update(plan=result.memory_plan, frames=result.frames_written,
                     finished=result.status == "rendered" and result.memory_plan != "fast")
    except Exception as exc:  # the check's finding, reported in the results
        check.update(finished=False, error=f"{type(exc).__name__}: {_first_line(exc)}")
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0, device)
        model = None
        peak_reset(device)
    return check


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [""])[0]


class Budget:
    """The run's seconds: whether a row estimated to take ``seconds`` still fits."""

    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def fits(self, seconds: float) -> bool:
        return 0 < self.left() and seconds <= self.left()


def row_estimate(name: str, rows: list[dict[str, Any]], sizes: dict[str, Any]) -> float:
    """Seconds the next row of ``name`` may take: the longest of its rows so far; for its first,
    the run's first row scaled by the parameters (0 for the run's first row)."""
    own = [row["row_s"] for row in rows if row["model"] == name and "row_s" in row]
    if own:
        return max(own)
    first = next((row for row in rows if "row_s" in row), None)
    if first is None:
        return 0.0
    return first["row_s"] * sizes[name].parameters / sizes[first["model"]].parameters


def measure(label: str, name: str, size_name: str, folder: Path, device: torch.device, work: Path,
            args: argparse.Namespace) -> dict[str, Any]:
    size = RESOLUTIONS[size_name]
    row: dict[str, Any] = {"model": name, "size": size_name, "frames": args.frames, "options": label}
    started = time.perf_counter()
    try:
        if label == MEMORY_CHECKS:
            row["frames"] = args.memory_frames
            row["memory_plans"] = memory_checks(folder, device, work, frames=args.memory_frames, size=size,
                                                steps=args.memory_steps)
        else:
            speed = Acceleration.parse(**OPTION_SETS[label])
            speed.check_device(device)
            bare, bare_peak = bare_run(folder, speed, device, frames=args.frames, size=size, steps=args.steps)
            sora, sora_peak, plan = sora_run(folder, speed, device, work, frames=args.frames, size=size,
                                             steps=args.steps, memory=args.memory)
            row.update(seconds=round(sora, 2), peak_gib=sora_peak, ratio=round(sora / bare, 3),
                       bare_seconds=round(bare, 2), bare_peak_gib=bare_peak, plan=plan)
    except Exception as exc:  # a missing package or memory: reported in its row
        row["error"] = f"{type(exc).__name__}: {_first_line(exc)}"
        peak_reset(device)
    row["row_s"] = round(time.perf_counter() - started, 1)
    return row


def with_speedups(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``speedup``: the bare default's seconds (option ``none``) over each row's."""
    for row in rows:
        base = next((r for r in rows if r["model"] == row["model"] and r["size"] == row["size"]
                     and r["options"] == "none" and "bare_seconds" in r), None)
        if base and "seconds" in row:
            row["speedup"] = round(base["bare_seconds"] / row["seconds"], 2)
    return rows


def write_results(path: Path, results: dict[str, Any]) -> None:
    """The results file, replaced whole (a run cut short leaves the last complete one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(results, indent=2) + "\n")
    os.replace(temporary, path)


def _sameness(entry: dict[str, Any]) -> str:
    if entry["identical_to_fast"]:
        return "the same frames as fast"
    return f"frames differ from fast's by up to {entry['largest_difference']:.3g}"


def table(results: dict[str, Any]) -> str:
    """The results as the README's markdown table, and what was not measured."""
    lines = [f"{results['device']}, {results['date']}, torch {results['torch']}, diffusers {results['diffusers']}: "
             f"{results['steps']} steps, memory plan {results['memory']}",
             "", "| model | size | frames | options | sora_vfx s | bare s | ratio | vs bare default "
             "| sora_vfx peak GiB | bare peak GiB | plan |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- "
             "| --- | --- |"]
    for row in results["rows"]:
        head = f"| {row['model']} | {row['size']} | {row['frames']} | {row['options']} |"
        if "error" in row:
            lines.append(f"{head} {row['error']} | | | | | | |")
        elif "memory_plans" in row:
            checks = row["memory_plans"]
            plans = "; ".join(f"{plan}: {entry['seconds']} s, peak {entry['peak_gib'] or '-'} GiB "
                              f"(promised {entry['promised_gib']}), " + _sameness(entry)
                              for plan, entry in checks["plans"].items())
            oom = checks["out_of_memory"]
            if oom.get("skipped"):
                fallback = f"out of memory not checked: {oom['skipped']}"
            else:
                ending = f"finished on {oom['plan']}" if oom.get("finished") else oom.get("error", "did not fall back")
                fallback = f"out of memory, capped at {oom['cap_gib']} GiB: {ending}"
            lines.append(f"{head} memory plans: {plans}; {fallback} | | | | | | |")
        else:
            lines.append(f"{head} {row['seconds']} | {row['bare_seconds']} | {row['ratio']:.3f} | "
                         f"{row.get('speedup', '-')}x | {row['peak_gib'] or '-'} | {row['bare_peak_gib'] or '-'} | "
                         f"{row['plan']} |")
    if results.get("not_measured"):
        lines += ["", "Not measured (the budget ran out): " + ", ".join(results["not_measured"])]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sizes = full_sizes()
    parser.add_argument("--models", default="wan2.1-1.3b,hunyuanvideo-1.5-480p,wan2.1-14b",
                        help=f"comma-separated, in order: {', '.join(sizes)}")
    parser.add_argument("--sizes", default="480p", help="comma-separated: 480p, 720p")
    parser.add_argument("--frames", type=int, default=81)
    parser.add_argument("--steps", type=int, default=10,
                        help="timed steps (seconds per step scale: 40 steps take about 4x as long)")
    parser.add_argument("--options", default="none,best,memory,first-block:0.1,taylorseer,compile,fp8",
                        help=f"the first model's rows, in order: {', '.join(OPTION_SETS)} or {MEMORY_CHECKS}")
    parser.add_argument("--later-options", default="none,best", help="the other models' rows")
    parser.add_argument("--memory", default="auto", help="sora_vfx's memory plan for the timed rows")
    parser.add_argument("--memory-frames", type=int, default=17, help="frames of the memory-plan checks")
    parser.add_argument("--memory-steps", type=int, default=4, help="steps of the memory-plan checks")
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds for the whole run: no row starts that would not fit (default: no limit)")
    parser.add_argument("--folders", type=Path, default=None,
                        help="where the models' folders are written (default: $SORA_VFX_CACHE/fullsize)")
    parser.add_argument("--remove-folders", action="store_true",
                        help="remove each folder this run wrote after its model's last row")
    parser.add_argument("--quick", action="store_true",
                        help="the small layouts on the CPU: 64x64, 17 frames, 2 steps, none, taylorseer and memory")
    parser.add_argument("--json", type=Path, default=None,
                        help="the results file (default benchmarks/gpu_results.json; --quick: benchmarks/gpu.json)")
    parser.add_argument("--table", type=Path, default=None, metavar="JSON",
                        help="print the table of a results file and exit")
    args = parser.parse_args(argv)
    if args.table is not None:
        try:
            print(table(json.loads(args.table.read_text())))
        except (OSError, ValueError, KeyError) as exc:
            parser.error(f"{args.table}: not a results file of this script: {exc}")
        return 0
    names = [name.strip() for name in args.models.split(",") if name.strip()]
    first = [label.strip() for label in args.options.split(",") if label.strip()]
    later = [label.strip() for label in args.later_options.split(",") if label.strip()]
    known = (*OPTION_SETS, MEMORY_CHECKS)
    problems = [f"model {name!r}" for name in names if name not in sizes]
    problems += [f"option set {label!r}" for label in {*first, *later} if label not in known]
    size_names = [size.strip() for size in args.sizes.split(",") if size.strip()]
    problems += [f"size {size!r}" for size in size_names if size not in ("480p", "720p")]
    if problems:
        parser.error(f"unknown {', '.join(problems)}; models: {', '.join(sizes)}; "
                     f"option sets: {', '.join(known)}; sizes: 480p, 720p")
    if args.quick:
        device, size_names, args.frames, args.steps = torch.device("cpu"), ["quick"], 17, 2
        args.memory_frames, args.memory_steps = 17, 2
        first = later = ["none", "taylorseer", MEMORY_CHECKS]
    elif torch.cuda.is_available():
        device = torch.device("cuda")
    else:
        print("benchmarks/gpu.py: no CUDA device here, nothing measured (run it on a GPU machine; "
              "--quick runs the small layouts on this CPU)")
        return 0
    budget = Budget(float("inf") if args.budget is None else args.budget)
    args.json = args.json or ROOT / "benchmarks" / ("gpu.json" if args.quick else "gpu_results.json")
    import diffusers

    results: dict[str, Any] = {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "CPU",
        "torch": torch.__version__, "diffusers": diffusers.__version__,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": usable_cores(), "writer_threads": default_writer_threads(),
        "budget_s": args.budget, "steps": args.steps, "memory": args.memory, "rows": [], "not_measured": []}
    rows, folders_root = results["rows"], args.folders or cache_root() / "fullsize"
    with tempfile.TemporaryDirectory(prefix="sora_vfx_gpu_") as work:
        for index, name in enumerate(names):
            folder, wrote = folders_root / (f"{name}-small" if args.quick else name), False
            for size_name in size_names:
                for label in first if index == 0 else later:
                    what = f"{name} {size_name} {label}"
                    if rows and not budget.fits(row_estimate(name, rows, sizes)):
                        results["not_measured"].append(what)
                        print(f"  not started (budget): {what}", file=sys.stderr)
                        continue
                    if not (folder / "model_index.json").is_file():
                        started = time.perf_counter()
                        write_model(name, folder, small=args.quick, device=device.type)
                        wrote = True
                        peak_reset(device)
                        print(f"  wrote {folder} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
                    shot_work = Path(work) / f"{name}-{size_name}-{label}".replace(":", "_")
                    rows.append(measure(label, name, size_name, folder, device, shot_work, args))
                    shutil.rmtree(shot_work, ignore_errors=True)  # 81 frames a render: the card's disk is small
                    print(f"  {rows[-1]}", file=sys.stderr)
                    with_speedups(rows)
                    write_results(args.json, results)
            if wrote and args.remove_folders:
                shutil.rmtree(folder, ignore_errors=True)
    with_speedups(rows)
    write_results(args.json, results)
    print(table(results))
    print(f"written: {args.json}")
    return 1 if rows and all("error" in row for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
