"""Picture quality of a model through sora_vfx: renders prompts from the shapes grammar and
measures them (``sora_vfx.eval``) against the prompts and, where known, the truth.

    .venv/bin/python benchmarks/quality.py                 # 60 text-to-video shots, 20 image-to-video, 8 long
    .venv/bin/python benchmarks/quality.py --shots 12 --quick

Prints a table per series and writes ``benchmarks/quality.json``. The series:

- ``t2v``: prompts drawn from the grammar (seeded), one 25-frame shot each at the model's
  native size, each shot its own seed;
- ``i2v``: the same kind of prompt with a reference image, the first frame of a clip the shapes
  world draws for that prompt (the image-to-video variant renders these); also the mean
  absolute difference between the first rendered frame and the reference;
- ``long``: 73-frame shots rendered in 25-frame windows (the default window method, ``context``;
  ``--windows`` picks another), with jumps measured at every frame where windows meet
  (``render.windows.seam_frames``). ``benchmarks/long_shots.py``
  compares the methods side by side.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sora_vfx.editorial import EditOptions, read_edit  # noqa: E402
from sora_vfx.eval.summary import by_object_count, motion_by_direction  # noqa: E402
from sora_vfx.imaging import write_image  # noqa: E402
from sora_vfx.models import load_model  # noqa: E402
from sora_vfx.render import RenderSettings, read_manifest, render_edit  # noqa: E402
from sora_vfx.render.windows import plan_windows, seam_frames  # noqa: E402
from sora_vfx.review.figures import evaluate_render, read_shot_frames  # noqa: E402
from sora_vfx.shapes import caption, parse_prompt, random_scene, render_clip  # noqa: E402


def write_edl(path: Path, shots: list[tuple[str, str, int, str | None]], fps: int = 24) -> None:
    """An EDL with one event per (name, prompt, frames, reference) in a row."""
    lines = ["TITLE: SORA_VFX_QUALITY", "FCM: NON-DROP FRAME", ""]
    record = 3600 * fps
    for number, (name, prompt, frames, reference) in enumerate(shots, start=1):
        def tc(frame: int) -> str:
            return (f"{frame // (3600 * fps):02d}:{frame // (60 * fps) % 60:02d}:"
                    f"{frame // fps % 60:02d}:{frame % fps:02d}")
        lines.append(f"{number:03d}  AX       V     C        {tc(0)} {tc(frames)} {tc(record)} {tc(record + frames)}")
        lines += [f"* SHOT: {name}", f"* PROMPT: {prompt}"]
        if reference:
            lines.append(f"* REFERENCE: {reference}")
        record += frames
    path.write_text("\n".join(lines) + "\n")


def series(name: str, work: Path, shots, model, settings: RenderSettings, seams=None) -> dict:
    """Render ``shots`` into ``work/name`` and measure them; returns the eval document."""
    edl = work / f"{name}.edl"
    write_edl(edl, shots)
    out = work / name
    started = time.perf_counter()
    report = render_edit(read_edit(edl, EditOptions(handles=0)), out, settings, model=model, progress=False)
    seconds = time.perf_counter() - started
    failed = [r.name for r in report.failed]
    result = evaluate_render(out, seams=seams)
    document = result.to_dict()
    document.update(series=name, render_seconds=round(seconds, 1), failed=failed,
                    motion_by_direction=motion_by_direction(list(result.shots.values())),
                    by_object_count=by_object_count(list(result.shots.values())))
    return document


def reference_distance(out: Path, references: dict[str, np.ndarray]) -> float:
    """Mean absolute difference (sRGB 0-1) between each shot's first frame and its reference."""
    manifest = read_manifest(out)
    distances = [float(np.abs(read_shot_frames(out, manifest.entry(name))[0] - image).mean())
                 for name, image in references.items() if manifest.entry(name) and manifest.entry(name).done]
    return round(float(np.mean(distances)), 4) if distances else float("nan")


CARD_MARKER = "<!-- benchmarks/quality.py --card writes below this line -->"


def write_cards(table: str, args: argparse.Namespace) -> None:
    """Put the measured figures into both shipped model cards, below their marker line."""
    from sora_vfx.models.folders import SHAPES_DIR

    text = (f"{CARD_MARKER}\n\n`benchmarks/quality.py --seed {args.seed}`: {args.shots} text-to-video shots, "
            f"{args.image_shots} image-to-video shots (reference: the first frame the shapes world draws for the "
            f"prompt), {args.long_shots} long shots of three windows (`--windows {args.windows}`); prompts drawn "
            f"from the grammar, 25 frames, "
            f"native size, 20 steps, guidance 5, measured by `sora_vfx.eval`.\n\n{table}\n")
    for kind in ("t2v", "i2v"):
        card = SHAPES_DIR / kind / "README.md"
        card.write_text(card.read_text().split(CARD_MARKER)[0] + text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="shapes")
    parser.add_argument("--shots", type=int, default=60, help="text-to-video shots")
    parser.add_argument("--image-shots", type=int, default=20)
    parser.add_argument("--long-shots", type=int, default=8)
    parser.add_argument("--seed", type=int, default=2026, help="draws the prompts")
    parser.add_argument("--steps", type=int, default=None, help="denoising steps (default: the model's)")
    parser.add_argument("--guidance", type=float, default=None, help="guidance scale (default 5)")
    parser.add_argument("--windows", default="context", choices=["context", "continue", "crossfade"],
                        help="window method of the long series")
    parser.add_argument("--quick", action="store_true", help="a third of each series")
    parser.add_argument("--keep", type=Path, default=None, help="render here and keep the frames")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "quality.json")
    parser.add_argument("--card", action="store_true",
                        help="write the figures into the shipped shapes model cards (README.md)")
    args = parser.parse_args(argv)
    if args.quick:
        args.shots, args.image_shots, args.long_shots = (max(2, n // 3) for n in
                                                          (args.shots, args.image_shots, args.long_shots))
    rng = np.random.default_rng(args.seed)
    work = args.keep or Path(tempfile.mkdtemp(prefix="sora_vfx_quality_"))
    work.mkdir(parents=True, exist_ok=True)
    model = load_model(args.model)
    width, height = model.default_size
    frames = model.max_frames
    settings = RenderSettings(model=args.model, steps=args.steps, guidance=args.guidance)
    results = []

    t2v = [(f"T2V_{i:03d}", caption(random_scene(rng)), frames, None) for i in range(args.shots)]
    if t2v:  # --shots 0: the other series alone (their prompts then differ from a whole run's)
        results.append(series("t2v", work, t2v, model, settings))

    if args.image_shots:
        refs_dir = work / "references"
        refs_dir.mkdir(exist_ok=True)
        i2v, references = [], {}
        for i in range(args.image_shots):
            prompt = caption(random_scene(rng))
            first = render_clip(parse_prompt(prompt), frames=frames, width=width, height=height, rng=rng).frames[0]
            path = refs_dir / f"I2V_{i:03d}.png"
            write_image(path, first)
            references[f"I2V_{i:03d}"] = first
            i2v.append((f"I2V_{i:03d}", prompt, frames, str(path)))
        document = series("i2v", work, i2v, model, settings)
        document["summary"]["first_frame_distance"] = reference_distance(work / "i2v", references)
        results.append(document)

    if args.long_shots:
        long_frames = 3 * (frames - 1) + 1
        window = frames
        overlap = max(1, window // 4)
        windows = plan_windows(long_frames, max_frames=window, overlap=overlap, align=model.temporal_compression)
        seams = seam_frames(windows)
        long = [(f"LONG_{i:03d}", caption(random_scene(rng)), long_frames, None) for i in range(args.long_shots)]
        long_settings = RenderSettings(model=args.model, max_window=window, steps=args.steps, guidance=args.guidance,
                                       windows=args.windows)
        results.append(series("long", work, long, model, long_settings, seams={name: seams for name, *_ in long}))

    table = ["| series | shots | background | object colour | motion | pan | ghosting | jump ratio | seam jump "
             "| flicker |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for document in results:
        s = document["summary"]
        cells = [document["series"], str(s["shots"])]
        cells += ["-" if s.get(k) is None else f"{s[k]:.0%}" for k in
                  ("background_correct", "object_colour_correct", "motion_correct", "pan_correct", "ghosting")]
        cells += ["-" if s.get(k) is None else f"{s[k]:.2f}" for k in ("jump_ratio", "seam_jump_ratio")]
        cells.append("-" if s.get("temporal_flicker") is None else f"{s['temporal_flicker']:.4f}")
        table.append("| " + " | ".join(cells) + " |")
    if args.card:
        write_cards("\n".join(table), args)
    print(f"{'series':<6} {'shots':>5} {'bg':>6} {'colour':>7} {'motion':>7} {'pan':>6} {'ghosting':>9} "
          f"{'jump':>6} {'seam':>6} {'flicker':>8}  render")
    for document in results:
        s = document["summary"]

        def pct(key: str, s=s) -> str:
            return "-" if s.get(key) is None else f"{s[key]:.0%}"

        seam = "-" if s.get("seam_jump_ratio") is None else f"{s['seam_jump_ratio']:.2f}"
        print(f"{document['series']:<6} {s['shots']:>5} {pct('background_correct'):>6} "
              f"{pct('object_colour_correct'):>7} {pct('motion_correct'):>7} {pct('pan_correct'):>6} "
              f"{pct('ghosting'):>9} {s['jump_ratio'] or float('nan'):>6.2f} {seam:>6} "
              f"{s['temporal_flicker'] or float('nan'):>8.4f}  {document['render_seconds']} s"
              + (f"  first-frame distance {s['first_frame_distance']}" if "first_frame_distance" in s else ""))
    for document in results:
        directions = ", ".join(f"{motion} {tally['correct']:.0%} of {tally['objects']}"
                               for motion, tally in document["motion_by_direction"].items())
        print(f"{document['series']} motion by direction: {directions}")
        counts = "; ".join(f"{count} object{'s' if count != '1' else ''} ({tally['shots']} "
                           f"shot{'s' if tally['shots'] != 1 else ''}): colour "
                           f"{tally['object_colour_correct']:.0%}, motion {tally['motion_correct']:.0%}, "
                           f"ghosting {tally['ghosting']:.0%}" for count, tally in document["by_object_count"].items())
        print(f"{document['series']} by objects: {counts}")
    print("\n".join(table))
    args.json.write_text(json.dumps({"model": args.model, "seed": args.seed, "series": results}, indent=2) + "\n")
    print(f"written: {args.json}" + (f"; frames in {work}" if args.keep else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
