"""Long shots and cuts that continue, measured: ``context``, ``continue`` and ``crossfade`` side by side.

    .venv/bin/python benchmarks/long_shots.py             # 12 long shots of 3-5 windows, 6 linked cuts
    .venv/bin/python benchmarks/long_shots.py --quick     # 4 long shots, 3 linked cuts, no memory runs

With the built-in ``shapes`` model (the same for ``--model DIR`` of a shapes-like model):

- **seams**: shots of 3 to 5 windows (25-frame windows at 64x64), one object each, moving in
  every direction in turn, each shot its own seed. Per method: the share of shots whose largest
  centroid step into a frame where windows meet (``render.windows.seam_frames``: every frame two
  windows share and the first after) is at most 1.5 times the shot's median step, the largest such
  ratio, the frames that show the object as two blobs (ghosting), and object colour and motion
  as prompted (``sora_vfx.eval``).
- **cuts**: pairs of shots where the second is marked ``CONTINUES:`` the first. Per pair, whether
  the object's colour is the same in both and how far (share of the frame width) its centroid
  in the second shot's first cut frame lies from its centroid in the first shot's last cut frame.
- **memory and time**: peak RSS of a render of a 10-window shot against a 1-window shot
  (target <= 1.5), and the render time of ``context`` against ``crossfade`` for the same 5-window
  shot (target <= 1.3), each its own process.

Prints the tables (also as markdown) and writes ``benchmarks/long_shots.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sora_vfx.editorial import EditOptions, read_edit  # noqa: E402
from sora_vfx.eval.seams import CUT_TARGET, SEAM_TARGET, colour_centroid  # noqa: E402
from sora_vfx.models import load_model  # noqa: E402
from sora_vfx.render import RenderSettings, read_manifest, render_edit  # noqa: E402
from sora_vfx.render.windows import WINDOW_METHODS, plan_windows, seam_frames  # noqa: E402
from sora_vfx.review.figures import evaluate_render, read_shot_frames, step_ratios  # noqa: E402
from sora_vfx.shapes.grammar import COLOURS  # noqa: E402

MOTIONS = ("moving right", "moving down", "moving left", "moving up")


def write_edl(path: Path, shots: list[dict], fps: int = 24) -> None:
    """An EDL with one event per shot dict (name, prompt, frames, and optional continues)."""
    lines = ["TITLE: SORA_VFX_LONG_SHOTS", "FCM: NON-DROP FRAME", ""]
    record = 3600 * fps

    def tc(frame: int) -> str:
        return f"{frame // (3600 * fps):02d}:{frame // (60 * fps) % 60:02d}:{frame // fps % 60:02d}:{frame % fps:02d}"

    for number, shot in enumerate(shots, start=1):
        frames = shot["frames"]
        lines.append(f"{number:03d}  AX       V     C        {tc(0)} {tc(frames)} {tc(record)} {tc(record + frames)}")
        lines += [f"* SHOT: {shot['name']}", f"* PROMPT: {shot['prompt']}"]
        if shot.get("continues"):
            lines.append(f"* CONTINUES: {shot['continues']}")
        record += frames
    path.write_text("\n".join(lines) + "\n")


def prompt(rng: np.random.Generator, motion: str) -> str:
    colour, background = rng.choice(COLOURS, size=2, replace=False)
    shape = rng.choice(["ball", "square"])
    return f"a large {colour} {shape} {motion} on a {background} background"


def render(edl: Path, out: Path, model, settings: RenderSettings) -> float:
    started = time.perf_counter()
    report = render_edit(read_edit(edl, EditOptions(handles=0)), out, settings, model=model, progress=False)
    if report.failed:
        raise SystemExit(f"{out}: shots failed: {', '.join(f'{r.name}: {r.error}' for r in report.failed)}")
    return time.perf_counter() - started


def seam_series(work: Path, model, args: argparse.Namespace, shots: list[dict], seams: dict) -> dict[str, dict]:
    """Render the long shots with each method and measure seams, ghosts, colour and motion."""
    results = {}
    for method in WINDOW_METHODS:
        out = work / f"seams_{method}"
        settings = RenderSettings(model=args.model, max_window=args.window, steps=args.steps, windows=method)
        seconds = render(work / "seams.edl", out, model, settings)
        measured = evaluate_render(out, seams=seams)
        ratios = [m.seam_jump_ratio for m in measured.shots.values() if m.seam_jump_ratio is not None]
        ghosts = [len(m.ghost_frames) for m in measured.shots.values()]
        frames = sum(m.frames for m in measured.shots.values())
        at_seams, elsewhere = step_ratios(out, seams)
        in_overlap, ghosts_in_overlap, ghosts_elsewhere = 0, 0, 0
        for shot in measured.shots.values():
            windows = plan_windows(shot.frames, max_frames=args.window, overlap=max(1, args.window // 4),
                                   align=model.temporal_compression)
            overlaps = {f for before, after in zip(windows, windows[1:], strict=False)
                        for f in range(after.start, before.end)}
            in_overlap += len(overlaps)
            ghosts_in_overlap += len(set(shot.ghost_frames) & overlaps)
            ghosts_elsewhere += len(set(shot.ghost_frames) - overlaps)
        results[method] = {
            "shots": len(measured.shots),
            "seams_ok": float(np.mean([r <= SEAM_TARGET for r in ratios])) if ratios else None,
            "seam_ratio_max": max(ratios) if ratios else None,
            "seam_ratio_median": float(np.median(ratios)) if ratios else None,
            "seam_step_mean": float(np.mean(at_seams)) if at_seams else None,
            "seam_steps_over_target": float(np.mean(np.array(at_seams) > SEAM_TARGET)) if at_seams else None,
            "other_steps_over_target": float(np.mean(np.array(elsewhere) > SEAM_TARGET)) if elsewhere else None,
            "ghost_frames": int(sum(ghosts)), "ghost_share": sum(ghosts) / frames,
            "ghost_share_in_overlaps": ghosts_in_overlap / in_overlap if in_overlap else None,
            "ghost_share_elsewhere": ghosts_elsewhere / (frames - in_overlap),
            "shots_without_ghosts": float(np.mean([g == 0 for g in ghosts])),
            "colour_ok": float(np.mean([m.colour_ok for m in measured.shots.values()])),
            "motion_ok": float(np.mean([m.motion_ok for m in measured.shots.values()])),
            "render_seconds": round(seconds, 1),
            "per_shot": {name: {"seam_ratio": m.seam_jump_ratio, "ghost_frames": list(m.ghost_frames),
                                "motion_ok": m.motion_ok} for name, m in measured.shots.items()},
        }
    return results


def reference_series(work: Path, model, args: argparse.Namespace, shots: list[dict]) -> dict[str, dict]:
    """Shots that fit one window rendered in one, and in windows of a third of it by each
    method, from the same noise: how far each method's picture lies from the one the model
    draws when nothing splits the shot (mean absolute sRGB difference, and the object's
    centroid distance as a share of the width)."""
    write_edl(work / "reference.edl", shots)
    render(work / "reference.edl", work / "reference_one", model, RenderSettings(model=args.model, steps=args.steps))
    truth = shot_frames(work / "reference_one", shots)
    window = model.round_up_frames(max(2, model.max_frames // 3))
    results: dict[str, dict] = {"window": window}
    for method in WINDOW_METHODS:
        out = work / f"reference_{method}"
        render(work / "reference.edl", out, model,
               RenderSettings(model=args.model, steps=args.steps, windows=method, max_window=window))
        frames = shot_frames(out, shots)
        distances = []
        for shot in shots:
            colour = shot["prompt"].split()[2]
            for ours, theirs in zip(frames[shot["name"]], truth[shot["name"]], strict=True):
                a, b = colour_centroid(ours, colour), colour_centroid(theirs, colour)
                if a is not None and b is not None:
                    distances.append(float(np.hypot(a[0] - b[0], a[1] - b[1])) / ours.shape[1])
        results[method] = {
            "difference": float(np.mean([np.abs(frames[k] - truth[k]).mean() for k in truth])),
            "centroid_distance": float(np.mean(distances)) if distances else None,
        }
    return results


def shot_frames(out: Path, shots: list[dict]) -> dict[str, np.ndarray]:
    manifest = read_manifest(out)
    return {shot["name"]: read_shot_frames(out, manifest.entry(shot["name"])) for shot in shots}


def cut_series(work: Path, model, args: argparse.Namespace, pairs: list[tuple[dict, dict]]) -> dict:
    """Render the linked pairs and measure colour and position across each cut."""
    shots = [shot for pair in pairs for shot in pair]
    write_edl(work / "cuts.edl", shots)
    out = work / "cuts"
    settings = RenderSettings(model=args.model, max_window=args.window, steps=args.steps)
    render(work / "cuts.edl", out, model, settings)
    manifest = read_manifest(out)
    measured = evaluate_render(out)
    rows = []
    for first, second in pairs:
        a, b = manifest.entry(first["name"]), manifest.entry(second["name"])
        last = read_shot_frames(out, a)[a.job.cut_out - a.frames.first]
        opening = read_shot_frames(out, b)[b.job.cut_in - b.frames.first]
        colour = first["prompt"].split()[2]
        before, after = colour_centroid(last, colour), colour_centroid(opening, colour)
        distance = (None if before is None or after is None
                    else float(np.hypot(before[0] - after[0], before[1] - after[1])) / last.shape[1])
        rows.append({"pair": f"{first['name']} -> {second['name']}", "colour_kept": bool(
            measured.shots[first["name"]].colour_ok and measured.shots[second["name"]].colour_ok
            and after is not None), "distance": distance})
    distances = [row["distance"] for row in rows if row["distance"] is not None]
    return {"pairs": rows, "colour_kept": float(np.mean([row["colour_kept"] for row in rows])),
            "within_target": float(np.mean([d <= CUT_TARGET for d in distances])) if distances else 0.0,
            "distance_max": max(distances) if distances else None}


def measured_run(args: argparse.Namespace, edl: Path, out: Path, method: str) -> tuple[float, float]:
    """(seconds, peak RSS in MiB) of ``sora-vfx render`` in its own process."""
    command = [sys.executable, "-m", "sora_vfx", "render", str(edl), "-o", str(out), "--model", args.model,
               "--handles", "0", "--window", str(args.window), "--windows", method, "--no-review"]
    if args.steps:
        command += ["--steps", str(args.steps)]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed: {process.stderr.read().decode()[-2000:]}")
    return seconds, usage.ru_maxrss / 1024


def cost_series(work: Path, args: argparse.Namespace, stride: int) -> dict:
    """Peak memory of 10 windows against 1, and context's time against crossfade's."""
    rng = np.random.default_rng(args.seed + 1)
    one, ten, five = args.window, args.window + 9 * stride, args.window + 4 * stride
    for name, frames in (("one", one), ("ten", ten), ("five", five)):
        write_edl(work / f"cost_{name}.edl", [{"name": f"COST_{name.upper()}", "prompt": prompt(rng, MOTIONS[0]),
                                              "frames": frames}])
    _, one_mib = measured_run(args, work / "cost_one.edl", work / "cost_one", "context")
    _, ten_mib = measured_run(args, work / "cost_ten.edl", work / "cost_ten", "context")
    times: dict[str, list[float]] = {"context": [], "crossfade": []}
    for rep in range(args.reps):
        for method in ("crossfade", "context"):  # interleaved, so load falls on both alike
            seconds, _ = measured_run(args, work / "cost_five.edl", work / f"cost_five_{method}_{rep}", method)
            times[method].append(seconds)
    context, crossfade = float(np.median(times["context"])), float(np.median(times["crossfade"]))
    return {"memory_1_window_mib": round(one_mib, 1), "memory_10_windows_mib": round(ten_mib, 1),
            "memory_ratio": round(ten_mib / one_mib, 3), "context_seconds": round(context, 2),
            "crossfade_seconds": round(crossfade, 2), "time_ratio": round(context / crossfade, 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="shapes")
    parser.add_argument("--shots", type=int, default=12, help="long shots (3 to 5 windows each)")
    parser.add_argument("--cuts", type=int, default=6, help="pairs of shots, the second continuing the first")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--window", type=int, default=None, help="frames per window (default: the model's limit)")
    parser.add_argument("--reps", type=int, default=3, help="timed runs of each method")
    parser.add_argument("--quick", action="store_true", help="4 long shots, 3 cuts, no memory or time runs")
    parser.add_argument("--keep", type=Path, default=None, help="render here and keep the frames")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "long_shots.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.shots, args.cuts = min(args.shots, 4), min(args.cuts, 3)
    work = args.keep or Path(tempfile.mkdtemp(prefix="sora_vfx_long_"))
    work.mkdir(parents=True, exist_ok=True)
    model = load_model(args.model)
    args.window = args.window or model.max_frames
    overlap = max(1, args.window // 4)
    rng = np.random.default_rng(args.seed)

    shots, seams = [], {}
    for index in range(args.shots):
        count = 3 + index % 3
        stride = plan_windows(10 * args.window, max_frames=args.window, overlap=overlap,
                              align=model.temporal_compression)[1].start
        frames = args.window + (count - 1) * stride
        name = f"LONG_{index:03d}"
        shots.append({"name": name, "prompt": prompt(rng, MOTIONS[index % len(MOTIONS)]), "frames": frames})
        windows = plan_windows(frames, max_frames=args.window, overlap=overlap, align=model.temporal_compression)
        seams[name] = seam_frames(windows)
    write_edl(work / "seams.edl", shots)
    document: dict = {"model": args.model, "seed": args.seed, "window": args.window, "overlap": overlap,
                      "seams": seam_series(work, model, args, shots, seams)}
    short = [{"name": f"ONE_{index:03d}", "prompt": prompt(rng, MOTIONS[index % len(MOTIONS)]),
              "frames": model.max_frames} for index in range(args.shots)]
    document["reference"] = reference_series(work, model, args, short)

    pairs = []
    for index in range(args.cuts):
        text = prompt(rng, MOTIONS[index % len(MOTIONS)])
        first = {"name": f"CUT_{index:03d}A", "prompt": text, "frames": args.window}
        pairs.append((first, {"name": f"CUT_{index:03d}B", "prompt": text, "frames": args.window,
                              "continues": first["name"]}))
    document["cuts"] = cut_series(work, model, args, pairs)
    if not args.quick:
        document["cost"] = cost_series(work, args, stride)

    print(format_tables(document))
    args.json.write_text(json.dumps(document, indent=2) + "\n")
    print(f"written: {args.json}" + (f"; frames in {work}" if args.keep else ""))
    return 0


def format_tables(document: dict) -> str:
    def pct(value) -> str:
        return "-" if value is None else f"{value:.0%}"

    def num(value) -> str:
        return "-" if value is None else f"{value:.2f}"

    reference = document["reference"]
    lines = [f"Long shots ({document['seams']['context']['shots']} shots of 3-5 windows of {document['window']} "
             f"frames, overlap {document['overlap']}); distance to one window: shots of one window rendered in "
             f"windows of {reference['window']}:", "",
             "| method | shots with every seam <= 1.5x | largest seam ratio | mean seam step | seam steps > 1.5x "
             "(other steps) | ghost frames in overlaps (elsewhere) | colour | motion | distance to one window "
             "(centroid) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for method, s in document["seams"].items():
        r = reference[method]
        lines.append(f"| {method} | {pct(s['seams_ok'])} | {num(s['seam_ratio_max'])} | {num(s['seam_step_mean'])} "
                     f"| {pct(s['seam_steps_over_target'])} ({pct(s['other_steps_over_target'])}) "
                     f"| {pct(s['ghost_share_in_overlaps'])} ({pct(s['ghost_share_elsewhere'])}) "
                     f"| {pct(s['colour_ok'])} | {pct(s['motion_ok'])} | {r['difference']:.4f} "
                     f"({num(r['centroid_distance'])}) |")
    cuts = document["cuts"]
    lines += ["", f"Cuts that continue ({len(cuts['pairs'])} pairs): colour kept {pct(cuts['colour_kept'])}, "
              f"position within 3% of the width {pct(cuts['within_target'])}, largest distance "
              f"{num(cuts['distance_max'])} of the width"]
    cost = document.get("cost")
    if cost:
        lines += ["", f"Peak memory, 10 windows / 1 window: {cost['memory_10_windows_mib']} / "
                  f"{cost['memory_1_window_mib']} MiB = {cost['memory_ratio']:.2f} (target <= 1.5)",
                  f"Render time, context / crossfade (5 windows): {cost['context_seconds']} / "
                  f"{cost['crossfade_seconds']} s = {cost['time_ratio']:.2f} (target <= 1.3)"]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
