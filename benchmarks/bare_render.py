"""The bare baseline: what a careful user writes by hand instead of ``sora-vfx render``.

One diffusers pipeline loaded once with ``DiffusionPipeline.from_pretrained``, one call per
shot with the shot's prompt, negative prompt, seed, size, steps and frame count, then for each
frame an OCIO conversion (sRGB texture -> ACEScg, the same pinned config) and an OpenImageIO
EXR write (half RGBA, same compression), serially. No sora_vfx import anywhere.

    python bare_render.py MODEL_DIR SHOTS.json OUT --size 256x144 --steps 4 [--timings T.json]

``SHOTS.json`` is a list of {"name", "prompt", "negative_prompt", "seed", "first", "count"}.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

STARTED = time.perf_counter()

import numpy as np  # noqa: E402
import OpenImageIO as oiio  # noqa: E402
import PyOpenColorIO as ocio  # noqa: E402
import torch  # noqa: E402
from diffusers import DiffusionPipeline  # noqa: E402

OCIO_CONFIG = "ocio://cg-config-v4.0.0_aces-v2.0_ocio-v2.5"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("shots", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--size", default="64x32")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--guidance", type=float, default=5.0)
    # The tiny model's prompt length (its sora_vfx.json); the pipeline's own default is 512.
    parser.add_argument("--max-sequence-length", type=int, default=64)
    parser.add_argument("--compression", default="zip")
    parser.add_argument("--timings", type=Path, default=None)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    shots = json.loads(args.shots.read_text())

    pipe = DiffusionPipeline.from_pretrained(args.model, local_files_only=True, use_safetensors=True)
    pipe.set_progress_bar_config(disable=True)
    config = ocio.Config.CreateFromFile(os.environ.get("OCIO") or OCIO_CONFIG)
    to_acescg = config.getProcessor("srgb_tx", "ACEScg").getDefaultCPUProcessor()
    ready = time.perf_counter()

    model_seconds = io_seconds = 0.0
    for shot in shots:
        t0 = time.perf_counter()
        frames = pipe(
            prompt=shot["prompt"], negative_prompt=shot["negative_prompt"] or None,
            num_frames=shot["count"], height=height, width=width,
            num_inference_steps=args.steps, guidance_scale=args.guidance,
            generator=torch.Generator("cpu").manual_seed(shot["seed"]),
            max_sequence_length=args.max_sequence_length, output_type="np",
        ).frames[0]
        t1 = time.perf_counter()
        folder = args.out / shot["name"]
        folder.mkdir(parents=True, exist_ok=True)
        alpha = np.ones((height, width, 1), np.float32)
        for offset, frame in enumerate(frames):
            rgb = np.ascontiguousarray(np.clip(frame, 0.0, 1.0), dtype=np.float32)
            to_acescg.applyRGB(rgb)
            rgba = np.concatenate([rgb, alpha], axis=2)
            path = str(folder / f"{shot['name']}.{shot['first'] + offset:04d}.exr")
            spec = oiio.ImageSpec(width, height, 4, "half")
            spec.attribute("compression", args.compression)
            spec.attribute("oiio:ColorSpace", "ACEScg")
            out = oiio.ImageOutput.create(path)
            if not (out.open(path, spec) and out.write_image(rgba) and out.close()):
                raise SystemExit(f"cannot write {path}: {out.geterror()}")
        t2 = time.perf_counter()
        model_seconds += t1 - t0
        io_seconds += t2 - t1

    if args.timings:
        args.timings.write_text(json.dumps({
            "startup": ready - STARTED, "model": model_seconds, "io": io_seconds,
            "total": time.perf_counter() - STARTED,
        }))


if __name__ == "__main__":
    main()
