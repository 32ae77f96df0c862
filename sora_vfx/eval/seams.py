"""What windows and linked cuts do to a picture: the targets for steps at window seams (measured
in a render folder by :func:`sora_vfx.review.figures.step_ratios`), and where an object is in
one frame (for the frame a continuing cut starts from).

The targets are the long-shot issue's: a step into a seam frame at most ``SEAM_TARGET`` times
the shot's median step; a continued cut's object within ``CUT_TARGET`` of the frame width of
where the previous shot left it.
"""

from __future__ import annotations

import numpy as np

from sora_vfx.eval.segment import classify_colours
from sora_vfx.shapes.grammar import COLOURS

#: A step into a seam frame at most this many times the shot's median step.
SEAM_TARGET = 1.5
#: A continued cut's object within this share of the frame width of where it was.
CUT_TARGET = 0.03


def colour_centroid(frame: np.ndarray, colour: str) -> tuple[float, float] | None:
    """The centroid (x, y) in pixels of a display sRGB frame's pixels of ``colour`` (a shapes
    colour name), None if it has none."""
    classes = classify_colours(frame[None])[0]
    ys, xs = np.nonzero(classes == COLOURS.index(colour))
    return (float(xs.mean()), float(ys.mean())) if len(xs) else None
