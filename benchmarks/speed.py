"""What each speed option gains and what it costs the picture, with the trained shapes model on
this machine's CPU.

    .venv/bin/python benchmarks/speed.py            # 12 shots + 4 long shots per option
    .venv/bin/python benchmarks/speed.py --quick    # 3 + 1, two options (the tests run this)

Every option renders the same prompts with the same seeds through ``render_edit``; the table
gives its seconds against no option in the same run (the speed-up), the adherence measured by
``sora_vfx.eval`` (object colour, motion), the jump at window seams of the long shots, and the
PSNR of its frames against the same frames rendered without it (how far the option moves the
picture; identical frames read "same"). Writes ``benchmarks/speed.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from quality import series  # noqa: E402

from sora_vfx.models import load_model  # noqa: E402
from sora_vfx.models.acceleration import Acceleration  # noqa: E402
from sora_vfx.render import RenderSettings, read_manifest  # noqa: E402
from sora_vfx.render.windows import plan_windows, seam_frames  # noqa: E402
from sora_vfx.review.figures import read_shot_frames  # noqa: E402
from sora_vfx.shapes import caption, random_scene  # noqa: E402

#: Option sets by name: ``render`` options as Acceleration.parse takes them.
OPTIONS = {
    "none": {},
    "first-block:0.1": {"cache": "first-block:0.1"},
    "first-block:0.2": {"cache": "first-block:0.2"},
    "taylorseer": {"cache": "taylorseer"},
    "int8": {"quantize": "int8"},
    "compile": {"compile": True},
    "taylorseer + compile": {"cache": "taylorseer", "compile": True},
}


def render_series(work: Path, name: str, shots: list, model, settings: RenderSettings,
                  seams: dict | None) -> tuple[float, dict]:
    """Seconds and the eval summary of ``quality.series``; a failed shot stops the benchmark."""
    document = series(name, work, shots, model, settings, seams=seams)
    if document["failed"]:
        raise SystemExit(f"{name}: shots failed: {document['failed']}")
    return document["render_seconds"], document["summary"]


def frames_of(out: Path) -> dict[str, np.ndarray]:
    manifest = read_manifest(out)
    return {entry.name: read_shot_frames(out, entry) for entry in manifest.shots if entry.done}


def psnr(frames: dict[str, np.ndarray], truth: dict[str, np.ndarray]) -> float:
    """Mean PSNR (dB, sRGB 0-1) of each shot's frames against the same shot's without options."""
    values = []
    for name, picture in frames.items():
        error = float(np.mean((np.clip(picture, 0, 1) - np.clip(truth[name], 0, 1)) ** 2))
        values.append(float("inf") if error == 0 else 10 * np.log10(1 / error))
    return float(np.mean(values))


def run_option(work: Path, label: str, option: dict, args, shots, long_shots, seams) -> dict:
    speed = Acceleration.parse(**option)
    model = load_model(args.model, device="cpu", acceleration=speed)
    settings = RenderSettings(model=args.model, steps=args.steps, speed=speed)
    long_settings = RenderSettings(model=args.model, steps=args.steps, speed=speed, windows="context")
    folder = work / label.replace(" ", "").replace(":", "_").replace("+", "_")
    folder.mkdir()
    if option.get("compile"):
        # The first call compiles; a studio pays that once per model load, not per shot.
        render_series(folder, "warmup", shots[:1], model, settings, None)
    t2v_seconds, t2v = render_series(folder, "t2v", shots, model, settings, None)
    long_seconds, long = render_series(folder, "long", long_shots, model, long_settings, seams)
    return {"option": label, "render": speed.summary(), "seconds": round(t2v_seconds + long_seconds, 2),
            "object_colour": t2v["object_colour_correct"], "motion": t2v["motion_correct"],
            "background": t2v["background_correct"], "seam_jump_ratio": long.get("seam_jump_ratio"),
            "frames": {**frames_of(folder / "t2v"), **frames_of(folder / "long")}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="shapes")
    parser.add_argument("--shots", type=int, default=12, help="25-frame shots per option")
    parser.add_argument("--long-shots", type=int, default=4, help="73-frame shots (3 context windows) per option")
    parser.add_argument("--options", default=",".join(OPTIONS), help=f"comma-separated: {', '.join(OPTIONS)}")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--quick", action="store_true", help="3 shots, 1 long shot, none and taylorseer")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "speed.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.shots, args.long_shots, args.options = 3, 1, "none,taylorseer"
    labels = [label.strip() for label in args.options.split(",") if label.strip()]
    unknown = [label for label in labels if label not in OPTIONS]
    if unknown:
        parser.error(f"unknown option set(s) {', '.join(unknown)}; known: {', '.join(OPTIONS)}")
    if "none" not in labels:
        labels.insert(0, "none")
    labels.sort(key=lambda label: label != "none")
    rng = np.random.default_rng(args.seed)
    probe = load_model(args.model, device="cpu")
    frames = probe.max_frames
    long_frames = 3 * (frames - 1) + 1
    windows = plan_windows(long_frames, max_frames=frames, overlap=max(1, frames // 4),
                           align=probe.temporal_compression)
    shots = [(f"S_{i:03d}", caption(random_scene(rng)), frames, None) for i in range(args.shots)]
    long_shots = [(f"L_{i:03d}", caption(random_scene(rng)), long_frames, None) for i in range(args.long_shots)]
    seams = {name: seam_frames(windows) for name, *_ in long_shots}
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="sora_vfx_speed_") as work:
        for label in labels:
            rows.append(run_option(Path(work), label, OPTIONS[label], args, shots, long_shots, seams))
            print(f"  {label}: {rows[-1]['seconds']} s", file=sys.stderr)
    baseline = rows[0]
    for row in rows:
        row["speedup"] = round(baseline["seconds"] / row["seconds"], 2)
        row["psnr"] = psnr(row.pop("frames"), baseline["frames"] if row is not baseline else {}) \
            if row is not baseline else None
    baseline.pop("frames")
    table = ["| option | seconds | speed-up | object colour | motion | seam jump | PSNR vs none (dB) |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        seam = "-" if row["seam_jump_ratio"] is None else f"{row['seam_jump_ratio']:.2f}"
        quality = "-" if row["psnr"] is None else ("same" if row["psnr"] == float("inf") else f"{row['psnr']:.1f}")
        table.append(f"| {row['option']} | {row['seconds']:.1f} | {row['speedup']:.2f}x | {row['object_colour']:.0%} "
                     f"| {row['motion']:.0%} | {seam} | {quality} |")
    print("\n".join(table))
    document = {"model": args.model, "seed": args.seed, "shots": args.shots, "long_shots": args.long_shots,
                "cpu": True, "rows": [{**row, "psnr": None if row["psnr"] in (None, float("inf")) else
                                       round(row["psnr"], 2), "identical": row["psnr"] == float("inf")}
                                      for row in rows]}
    args.json.write_text(json.dumps(document, indent=2) + "\n")
    print(f"written: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
