"""Inputs the comparisons share, made in code: edits of a known shape and EXR source frames."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

FPS = 24
_PROMPTS = (
    "a lighthouse on a rocky coast at dusk, waves breaking",
    "gulls circling over a chalk cliff edge, storm clouds rolling in",
    "the lighthouse keeper climbs a spiral staircase, lantern light",
    "the lighthouse beam sweeps across fog at night",
    "a fishing boat rounds the headland in heavy rain",
    "morning light on wet rocks, the lamp switches off",
)


def timecode(frame: int, fps: int = FPS) -> str:
    seconds, ff = divmod(frame, fps)
    minutes, ss = divmod(seconds, 60)
    hh, mm = divmod(minutes, 60)
    return f"{hh:02d}:{mm:02d}:{ss:02d}:{ff:02d}"


def write_edl(path: Path, durations: list[int], *, prefix: str = "BEN", title: str = "SORA_VFX_BENCH",
              extra_comments: bool = False) -> Path:
    """A CMX 3600 EDL of cuts, one video event per duration, each shot named and prompted."""
    lines = [f"TITLE: {title}", "FCM: NON-DROP FRAME", ""]
    record = 3600 * FPS  # 01:00:00:00
    for index, duration in enumerate(durations, start=1):
        source = (10 * 3600 + 7 * index) * FPS % (24 * 3600 * FPS)
        reel = f"A{index % 997:03d}C{index % 89:03d}"
        lines.append(f"{index % 1000:03d}  {reel:<8} V     C        {timecode(source)} "
                     f"{timecode(source + duration)} {timecode(record)} {timecode(record + duration)}")
        lines.append(f"* FROM CLIP NAME:  {reel}_TAKE{index}")
        lines.append(f"* SHOT: {prefix}_{index * 10:05d}")
        lines.append(f"* PROMPT: {_PROMPTS[(index - 1) % len(_PROMPTS)]}")
        lines.append("* NEGATIVE: text, watermark")
        if extra_comments and index % 7 == 0:
            lines.append(f"* LOC: {timecode(record + duration // 2)} YELLOW  CHECK SKY EDGE {index}")
        record += duration
    path.write_text("\n".join(lines) + "\n")
    return path


def synthetic_frame(width: int, height: int, seed: int) -> np.ndarray:
    """Float32 (H, W, 4) scene-linear-looking pixels: soft colour gradients plus grain.

    Compresses the way a render does (smooth areas, noisy low bits), unlike constant colour
    or white noise.
    """
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.empty((height, width, 3), np.float32)
    for channel in range(3):
        fx, fy, phase = rng.uniform(0.5, 3.0), rng.uniform(0.5, 3.0), rng.uniform(0, 6.3)
        rgb[..., channel] = 0.18 * (1.2 + np.sin(fx * 6.28 * x / width + phase) * np.cos(fy * 6.28 * y / height))
    rgb += rng.normal(0.0, 0.01, rgb.shape).astype(np.float32)
    alpha = np.ones((height, width, 1), np.float32)
    return np.concatenate([rgb, alpha], axis=2)


def write_exr_sources(folder: Path, *, count: int, width: int, height: int, distinct: int = 4) -> Path:
    """``folder/src.0001.exr`` .. ``src.<count>.exr``: uncompressed half RGBA, ``distinct``
    different pictures repeated through symbolic links (both sides read the same bytes)."""
    from sora_vfx.imaging import write_exr_frame

    folder.mkdir(parents=True, exist_ok=True)
    for frame in range(1, count + 1):
        path = folder / f"src.{frame:04d}.exr"
        if path.exists() or path.is_symlink():
            continue
        if frame <= distinct:
            write_exr_frame(path, synthetic_frame(width, height, seed=frame), compression="none")
        else:
            os.symlink(f"src.{(frame - 1) % distinct + 1:04d}.exr", path)
    return folder
