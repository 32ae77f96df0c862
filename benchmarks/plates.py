"""Plate extension measured against the truth: the video path and the per-frame path side by side.

    .venv/bin/python benchmarks/plates.py            # 9 plates of 25 frames, 2 of 61 (3 windows)
    .venv/bin/python benchmarks/plates.py --quick    # 3 plates of 25 frames, fewer steps
    .venv/bin/python benchmarks/plates.py --card     # also write the figures into the model card
    .venv/bin/python benchmarks/plates.py --sheet docs/plates-extension.png   # the contact sheet

Plates come from the shapes world (``sora_vfx.eval.plates``): full-frame 64x64 clips (an object
crossing the edge of the filmed area, a camera pan over still objects, a still plate with film
grain), the middle 60% of the width cropped as the filmed plate, written as scene-linear EXRs,
extended back to full size with ``sora-vfx extend``'s own code and compared with the clip:

- **found**: frames where the truth has the object in the border and a blob of its colour lies
  within 5% of the frame width of it (target >= 90%);
- **flicker**: still plates, the border's frame-to-frame change over the filmed area's (<= 1.2);
- **seam**: colour difference across the seam over that between two bands inside (<= 1.5).

Methods: the video path with the built-in ``shapes`` outpainting model (the whole shot at once,
colour anchored per window), the same without the colour anchor, the same with the seam
feathered over 4 pixels (``--blend 4``), the same model one frame at a time from the same
noise (``--per-frame``: the method of the per-frame path), and the per-frame image path as it
ships (``tiny``: random weights, a floor). Each extension gets the plate's caption as its
prompt. White-object plates then give issue 15's highlight figure (``--no-highlights`` skips
them). Prints a markdown table and writes ``benchmarks/plates.json``.
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

from sora_vfx.eval.plates import (  # noqa: E402
    FLICKER_TARGET,
    FOUND_TARGET,
    SEAM_TARGET,
    highlight_range,
    measure_extension,
    plate_cases,
    summarize_plates,
    write_case_plate,
)
from sora_vfx.imaging import get_converter  # noqa: E402
from sora_vfx.imaging.images import read_display_frames  # noqa: E402
from sora_vfx.imaging.transform import OutputTransform  # noqa: E402
from sora_vfx.models.folders import SHAPES_DIR  # noqa: E402
from sora_vfx.plates import ExtendSettings, extend_plate  # noqa: E402
from sora_vfx.plates.geometry import Padding  # noqa: E402

CARD_MARKER = "<!-- benchmarks/plates.py --card writes below this line -->"
METHODS = {
    "video": dict(model="shapes"),
    "video (no colour anchor)": dict(model="shapes", colour_match=False),
    "video (--blend 4)": dict(model="shapes", blend=4),
    "per-frame (same model)": dict(model="shapes", per_frame=True),
    "per-frame image path (tiny)": dict(model="tiny"),
}


def run_method(name: str, options: dict, cases: list, root: Path, plates: dict, args) -> tuple[list, float]:
    measures, seconds = [], 0.0
    for case in cases:
        out = root / name.replace(" ", "_").replace(",", "").replace("(", "").replace(")", "") / case.name
        left, right, bottom, top = case.pad
        settings = ExtendSettings(pad=Padding(left, right, bottom, top), prompt=case.prompt, steps=args.steps,
                                  seed=args.seed, output_transform=args.output_transform, **options)
        started = time.perf_counter()
        report = extend_plate(plates[case.name], out, settings, progress=False)
        seconds += time.perf_counter() - started
        if report.failed:
            raise SystemExit(f"{name} {case.name}: {report.failed}")
        paths = sorted(out.glob("*.exr"))
        pictures = read_display_frames(paths, colorspace=report.colorspace)
        measures.append(measure_extension(case, pictures))
        print(f"  {name} {case.name}: {measures[-1].to_dict()}", file=sys.stderr, flush=True)
    return measures, seconds


def highlights(root: Path, args) -> list[dict]:
    """Issue 15's figure: plates of a white object (scene-linear highlights through the view's
    inverse) extended through ``inverse-view`` and through ``srgb``; the border's 99.9th
    percentile against the plate's."""
    colorspace = get_converter().resolve("ACEScg")
    cases = plate_cases(2 if args.quick else 4, seed=args.seed + 7, kinds=("crossing",), colour="white")
    rows = []
    for kind in ("inverse-view", "srgb"):
        plate_p, border_p = [], []
        for case in cases:
            plate = write_case_plate(case, root / "highlights" / case.name, colorspace=colorspace,
                                     transform=OutputTransform.resolve("inverse-view"))
            out = root / "highlights" / kind / case.name
            left, right, bottom, top = case.pad
            extend_plate(plate, out, ExtendSettings(pad=Padding(left, right, bottom, top), prompt=case.prompt,
                                                    steps=args.steps, seed=args.seed, model="shapes",
                                                    output_transform=kind), progress=False)
            figures = highlight_range(sorted(Path(plate).parent.glob("*.exr")), sorted(out.glob("*.exr")))
            plate_p.append(figures[0])
            border_p.append(figures[1])
        rows.append({"output_transform": kind, "plate_p999": float(np.mean(plate_p)),
                     "border_p999": float(np.mean(border_p)), "ratio": float(np.mean(border_p) / np.mean(plate_p))})
        print(f"  highlights {kind}: {rows[-1]}", file=sys.stderr, flush=True)
    return rows


def write_sheet(path: Path, args) -> None:
    """A contact sheet of two plates: per plate, the world's full frames, the video path's and
    the per-frame path's (same model), six frames each, 3x."""
    from sora_vfx.imaging.images import write_image

    cases = plate_cases(2, seed=args.seed)
    transform = OutputTransform.resolve(args.output_transform)
    rows = []
    with tempfile.TemporaryDirectory(prefix="sora_vfx_sheet_") as tmp:
        root = Path(tmp)
        plates = {case.name: write_case_plate(case, root / "plates" / case.name, transform=transform,
                                              colorspace=get_converter().resolve("ACEScg")) for case in cases}
        for case in cases:
            rows.append(case.clip.frames)
            for name in ("video", "per-frame (same model)"):
                out = root / name.replace(" ", "_") / case.name
                left, right, bottom, top = case.pad
                report = extend_plate(plates[case.name], out, ExtendSettings(
                    pad=Padding(left, right, bottom, top), prompt=case.prompt, steps=args.steps, seed=args.seed,
                    output_transform=args.output_transform, **METHODS[name]), progress=False)
                rows.append(read_display_frames(sorted(out.glob("*.exr")), colorspace=report.colorspace))
    picked = [np.concatenate(list(frames[::4][:6]), axis=1) for frames in rows]
    sheet = np.concatenate(picked, axis=0)
    write_image(path, np.repeat(np.repeat(sheet, 3, axis=0), 3, axis=1))
    print(f"wrote {path}", file=sys.stderr)


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 short plates and 8 steps (CI smoke run)")
    parser.add_argument("--steps", type=int, default=None, help="denoising steps (default: the model's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated subset of the methods")
    parser.add_argument("--output-transform", default="inverse-view", choices=("inverse-view", "srgb"))
    parser.add_argument("--card", action="store_true", help="write the figures into the shapes outpaint model card")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "plates.json")
    parser.add_argument("--no-highlights", dest="highlights", action="store_false",
                        help="skip the white-object plates (issue 15's highlight figure)")
    parser.add_argument("--sheet", type=Path, metavar="PNG",
                        help="only write a contact sheet: two plates, the truth, the video path, the per-frame path")
    args = parser.parse_args()
    unknown = [name for name in args.methods.split(",") if name not in METHODS]
    if unknown:
        parser.error(f"unknown method(s) {', '.join(unknown)}; the methods are: {', '.join(METHODS)}")
    if args.sheet:
        write_sheet(args.sheet, args)
        return
    if args.quick:
        args.steps = args.steps or 8
    short = plate_cases(3 if args.quick else 9, seed=args.seed)
    long = [] if args.quick else plate_cases(2, seed=args.seed + 1, frames=61)
    for case in long:
        object.__setattr__(case, "name", f"long_{case.name}")
    cases = short + long
    transform = OutputTransform.resolve(args.output_transform)
    colorspace = get_converter().resolve("ACEScg")
    results: dict = {"cases": [c.name for c in cases], "steps": args.steps, "methods": {}}
    with tempfile.TemporaryDirectory(prefix="sora_vfx_plates_") as tmp:
        root = Path(tmp)
        plates = {case.name: write_case_plate(case, root / "plates" / case.name, transform=transform,
                                              colorspace=colorspace) for case in cases}
        for name in args.methods.split(","):
            measures, seconds = run_method(name, METHODS[name], cases, root, plates, args)
            results["methods"][name] = {
                "all": summarize_plates(measures),
                "short": summarize_plates([m for m in measures if not m.name.startswith("long_")]),
                "long": summarize_plates([m for m in measures if m.name.startswith("long_")]) if long else None,
                "seconds": round(seconds, 1),
                "plates": [m.to_dict() for m in measures],
            }
        results["highlights"] = highlights(root, args) if args.highlights else []
    table = [
        f"| method | object found in the border (target >= {FOUND_TARGET:.0%}) | still-plate flicker, border / "
        f"plate (<= {FLICKER_TARGET}) | seam colour step / step inside (<= {SEAM_TARGET}) | long plates (3 windows): "
        "found, seam | seconds |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, result in results["methods"].items():
        every, longs = result["all"], result["long"]
        long_text = f"{percent(longs['found'])}, {ratio(longs['seam_ratio'])}" if longs else "-"
        table.append(f"| {name} | {percent(every['found'])} of {every['border_frames']} frames | "
                     f"{ratio(every['flicker_ratio'])} | {ratio(every['seam_ratio'])} | {long_text} | "
                     f"{result['seconds']:.0f} |")
    if results["highlights"]:
        table += ["", "| white object plates, video path | plate 99.9th percentile | border 99.9th percentile | "
                  "border / plate (issue 15: within 2x) |", "| --- | --- | --- | --- |"]
    for row in results["highlights"]:
        table.append(f"| `--output-transform {row['output_transform']}` | {row['plate_p999']:.2f} | "
                     f"{row['border_p999']:.2f} | {row['ratio']:.2f} |")
    text = "\n".join(table)
    print(text)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    if args.card:
        card = SHAPES_DIR / "outpaint" / "README.md"
        body = (f"\n`benchmarks/plates.py` ({len(short)} plates of 25 frames and {len(long)} of 61, 64x64, "
                f"{args.output_transform}, {time.strftime('%Y-%m-%d')}):\n\n{text}\n")
        card.write_text(card.read_text().split(CARD_MARKER)[0] + CARD_MARKER + "\n" + body)
    print(f"wrote {args.json}", file=sys.stderr)


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
