"""Seconds per shot and peak GPU memory at real model sizes: sora_vfx against the bare diffusers
pipeline call, in the same run, for each model size and each speed option.

    python benchmarks/gpu.py                       # CUDA: 1.3B, 14B and LTX 2B at 480p, 81 frames
    python benchmarks/gpu.py --sizes 480p,720p --steps 20 --options none,first-block:0.1,best
    python benchmarks/gpu.py --quick               # any machine: the small layouts on the CPU

The models are ``sora_vfx.models.fullsize``: the published architectures with random weights
(same compute and memory as the real ones), written once to ``$SORA_VFX_CACHE/fullsize/``.
For each model, size and option set:

- bare: ``DiffusionPipeline.from_pretrained(folder)`` on the device, the same options turned on
  by the same diffusers calls, VAE tiling on as sora_vfx has it on accelerators, and one
  ``pipeline(...)`` call for the shot;
- sora_vfx: ``render_edit`` of a one-shot edit with ``--model folder``: loading with the memory
  plan, the render, the colour conversion and the EXR frames on disk.

Both run once to warm up (compilation, kernel choice) with two steps, then once timed. Without
CUDA (and without ``--quick``) it says so and exits 0. Writes ``benchmarks/gpu.json``.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from quality import write_edl  # noqa: E402

from sora_vfx.editorial import EditOptions, read_edit  # noqa: E402
from sora_vfx.models import load_model  # noqa: E402
from sora_vfx.models.acceleration import Acceleration  # noqa: E402
from sora_vfx.models.fullsize import full_sizes, write_model  # noqa: E402
from sora_vfx.models.loader import from_pretrained_safely  # noqa: E402
from sora_vfx.models.tiny import cache_root  # noqa: E402
from sora_vfx.render import RenderSettings, render_edit  # noqa: E402

RESOLUTIONS = {"480p": (832, 480), "720p": (1280, 720), "quick": (64, 64)}
#: Option sets by name; "best" is every option that speeds up without changing the model's weights' precision.
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
    "best": {"cache": "first-block:0.1", "compile": True, "attention": "sage"},
}
PROMPT = "a large red ball moving left on a blue background"


def peak_reset(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def peak_gib(device: torch.device) -> float | None:
    return round(torch.cuda.max_memory_allocated(device) / 2**30, 2) if device.type == "cuda" else None


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
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - started
    peak = peak_gib(device)
    pipeline = None  # frees the weights before the next run
    peak_reset(device)
    return seconds, peak


def sora_run(folder: Path, speed: Acceleration, device: torch.device, work: Path, *, frames: int,
             size: tuple[int, int], steps: int, memory: str) -> tuple[float, float | None, str]:
    """The same shot through sora_vfx: seconds of the timed render, peak memory, memory plan."""
    model = load_model(str(folder), device=str(device), memory=memory, acceleration=speed, render_size=size,
                       window=frames)
    edl = work / "shot.edl"
    write_edl(edl, [("GPU_0010", PROMPT, frames, None)])
    edit = read_edit(edl, EditOptions(handles=0))

    def render(count: int, out: Path) -> None:
        settings = RenderSettings(model=str(folder), size=size, steps=count, speed=speed, memory=memory,
                                  device=str(device))
        report = render_edit(edit, out, settings, model=model, progress=False)
        if report.failed:
            raise RuntimeError(report.failed[0].error)

    render(2, work / "warmup")
    peak_reset(device)
    started = time.perf_counter()
    render(steps, work / "timed")
    seconds = time.perf_counter() - started
    peak, plan = peak_gib(device), model.memory_plan
    model = None  # frees the weights before the next run
    peak_reset(device)
    return seconds, peak, plan


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sizes = list(full_sizes())
    parser.add_argument("--models", default="wan2.1-1.3b,wan2.1-14b,ltx-video-2b",
                        help=f"comma-separated: {', '.join(sizes)}")
    parser.add_argument("--sizes", default="480p", help="comma-separated: 480p, 720p")
    parser.add_argument("--frames", type=int, default=81)
    parser.add_argument("--steps", type=int, default=10,
                        help="timed steps (seconds per step scale: 40 steps take about 4x as long)")
    parser.add_argument("--options", default="none,first-block:0.1,taylorseer,compile,best",
                        help=f"comma-separated option sets: {', '.join(OPTION_SETS)}")
    parser.add_argument("--memory", default="auto", help="sora_vfx's memory plan")
    parser.add_argument("--quick", action="store_true",
                        help="the small layouts on the CPU: 64x64, 17 frames, 2 steps, none and taylorseer")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "gpu.json")
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.models.split(",") if name.strip()]
    labels = [label.strip() for label in args.options.split(",") if label.strip()]
    problems = [f"model {name!r}" for name in names if name not in sizes]
    problems += [f"option set {label!r}" for label in labels if label not in OPTION_SETS]
    if problems:
        parser.error(f"unknown {', '.join(problems)}; models: {', '.join(sizes)}; "
                     f"option sets: {', '.join(OPTION_SETS)}")
    if args.quick:
        device, sizes, args.frames, args.steps = torch.device("cpu"), ["quick"], 17, 2
        labels = ["none", "taylorseer"]
    elif torch.cuda.is_available():
        device, sizes = torch.device("cuda"), [size.strip() for size in args.sizes.split(",") if size.strip()]
    else:
        print("benchmarks/gpu.py: no CUDA device here, nothing measured (run it on a GPU machine; "
              "--quick runs the small layouts on this CPU)")
        return 0
    card = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "CPU"
    rows = []
    with tempfile.TemporaryDirectory(prefix="sora_vfx_gpu_") as work:
        for name in names:
            folder = write_model(name, cache_root() / "fullsize" / (f"{name}-small" if args.quick else name),
                                 small=args.quick)
            for size_name in sizes:
                size = RESOLUTIONS.get(size_name)
                if size is None:
                    parser.error(f"unknown size {size_name!r}: 480p or 720p")
                for label in labels:
                    row = {"model": name, "size": size_name, "option": label}
                    try:
                        speed = Acceleration.parse(**OPTION_SETS[label])
                        speed.check_device(device)
                        bare, bare_peak = bare_run(folder, speed, device, frames=args.frames, size=size,
                                                   steps=args.steps)
                        shot_work = Path(work) / f"{name}-{size_name}-{label}".replace(":", "_")
                        shot_work.mkdir()
                        sora, sora_peak, plan = sora_run(folder, speed, device, shot_work, frames=args.frames,
                                                         size=size, steps=args.steps, memory=args.memory)
                        row.update(bare_s=round(bare, 2), sora_s=round(sora, 2), ratio=round(sora / bare, 3),
                                   bare_peak_gib=bare_peak, sora_peak_gib=sora_peak, plan=plan)
                    except Exception as exc:  # a missing package or memory: reported in its row
                        row["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                        peak_reset(device)
                    rows.append(row)
                    print(f"  {row}", file=sys.stderr)
    for row in rows:
        base = next((r for r in rows if r["model"] == row["model"] and r["size"] == row["size"]
                     and r["option"] == "none" and "bare_s" in r), None)
        if base and "sora_s" in row:
            row["speedup_vs_bare_default"] = round(base["bare_s"] / row["sora_s"], 2)
    print(f"{card}, {args.frames} frames, {args.steps} steps, memory plan {args.memory}")
    print("| model | size | option | bare s | sora_vfx s | ratio | vs bare default | bare peak GiB "
          "| sora_vfx peak GiB | plan |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        if "error" in row:
            print(f"| {row['model']} | {row['size']} | {row['option']} | {row['error']} |||||||")
            continue
        print(f"| {row['model']} | {row['size']} | {row['option']} | {row['bare_s']} | {row['sora_s']} | "
              f"{row['ratio']:.3f} | {row.get('speedup_vs_bare_default', '-')}x | {row['bare_peak_gib'] or '-'} | "
              f"{row['sora_peak_gib'] or '-'} | {row['plan']} |")
    args.json.write_text(json.dumps({"device": card, "frames": args.frames, "steps": args.steps,
                                     "memory": args.memory, "torch": torch.__version__,
                                     "rows": rows}, indent=2) + "\n")
    print(f"written: {args.json}")
    return 1 if all("error" in row for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
