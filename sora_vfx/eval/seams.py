"""What windows and linked cuts do to a picture: steps at window seams against the rest of a
shot, and where an object is in one frame (for the frame a continuing cut starts from).

The targets are the long-shot issue's: a step into a seam frame at most ``SEAM_TARGET`` times
the shot's median step; a continued cut's object within ``CUT_TARGET`` of the frame width of
where the previous shot left it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from sora_vfx.eval.motion import JUMP_FLOOR_PX
from sora_vfx.eval.render import evaluate_render
from sora_vfx.eval.segment import classify_colours
from sora_vfx.models.shapes.grammar import COLOURS

#: A step into a seam frame at most this many times the shot's median step.
SEAM_TARGET = 1.5
#: A continued cut's object within this share of the frame width of where it was.
CUT_TARGET = 0.03


def step_ratios(out_dir: Path, seams: Mapping[str, Sequence[int]]) -> tuple[list[float], list[float]]:
    """Every centroid step of every prompted object, against its shot's median step away from
    the seams, split into the steps into a seam frame and all the others.

    How often the model's own steps are as large as the seams' is the yardstick for the seams:
    a window method cannot make a shot steadier than the model draws it.

    Args:
        seams: per shot, the 0-based frames where a new window starts.
    """
    measured = evaluate_render(out_dir, shots=list(seams), seams=seams)
    every = evaluate_render(out_dir, shots=list(measured.shots),
                            seams={name: list(range(1, shot.frames)) for name, shot in measured.shots.items()})
    at_seams, elsewhere = [], []
    for name, shot in measured.shots.items():
        for obj, all_steps in zip(shot.objects, every.shots[name].objects, strict=True):
            if not obj.seam_jumps:
                continue
            median = obj.seam_jumps[0].median_step
            for jump in all_steps.seam_jumps:
                ratio = (jump.step + JUMP_FLOOR_PX) / (median + JUMP_FLOOR_PX)
                (at_seams if jump.frame in seams[name] else elsewhere).append(ratio)
    return at_seams, elsewhere


def colour_centroid(frame: np.ndarray, colour: str) -> tuple[float, float] | None:
    """The centroid (x, y) in pixels of a display sRGB frame's pixels of ``colour`` (a shapes
    colour name), None if it has none."""
    classes = classify_colours(frame[None])[0]
    ys, xs = np.nonzero(classes == COLOURS.index(colour))
    return (float(xs.mean()), float(ys.mean())) if len(xs) else None
