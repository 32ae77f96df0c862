"""Anchor a generated border's colour to the plate at the seam, window by window.

A video model fills a long plate in overlapping windows, and each window can settle on a
slightly different exposure or tint: users of VACE extension see the border's colour step
from chunk to chunk. Here, in the plate's scene-linear space, the mean colour of a band of
generated pixels just outside the seam is matched to a band of filmed pixels just inside it:
one gain per channel per window (gains multiply scene-linear light, so black stays black and
highlights keep their ratio), blended across each window's frames so that the correction
itself never steps. The band's colour is its median over the window's frames, so an object
crossing one band and not the other does not tint the whole border.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from sora_vfx.imaging.masks import seam_bands

#: A window's gain stays within these bounds: it corrects drift, not the picture.
GAIN_LIMITS = (0.5, 2.0)
#: Below this mean (scene-linear), a band is too dark for a ratio to mean anything.
_DARK = 1e-4


def window_gains(generated: np.ndarray, plate: np.ndarray, masks: np.ndarray,
                 windows: Sequence[tuple[int, int]]) -> np.ndarray:
    """One gain per frame and channel, (frames, 3), that takes the border's colour at the seam
    (the median of its band) to the plate's.

    Args:
        generated: (frames, height, width, 3) the model's frames in the plate's scene-linear space.
        plate: (frames, height, width, 3) the filmed pixels at the same size (0 in the border).
        masks: (frames, height, width), 1 on the border.
        windows: (first frame, frames) the shot was generated in; each gets one gain, and each
            frame the average of its windows' gains weighted by how near the window's middle it is.
    """
    count = generated.shape[0]
    bands = [seam_bands(mask) for mask in masks]
    gains, weights = [], []
    for start, length in windows:
        frames = range(start, min(start + length, count))
        inside = np.concatenate([plate[f][bands[f][0]] for f in frames] + [np.zeros((0, 3), np.float32)])
        outside = np.concatenate([generated[f][bands[f][1]] for f in frames] + [np.zeros((0, 3), np.float32)])
        gain = np.ones(3)
        if len(inside) and len(outside):
            level_in, level_out = np.median(inside, axis=0), np.median(outside, axis=0)
            ok = (level_in > _DARK) & (level_out > _DARK)
            gain[ok] = np.clip(level_in[ok] / level_out[ok], *GAIN_LIMITS)
        gains.append(gain)
        middle = start + (length - 1) / 2
        weight = np.zeros(count)
        index = np.arange(start, min(start + length, count))
        weight[index] = 1.0 - np.abs(index - middle) / (length / 2 + 1)
        weights.append(weight)
    weight = np.stack(weights)  # (windows, frames)
    total = weight.sum(axis=0, keepdims=True)
    weight = np.where(total > 0, weight / np.where(total > 0, total, 1), 1.0 / len(windows))
    return (weight.T @ np.stack(gains)).astype(np.float32)


#: Border highlights above the plate's brightest value roll off towards this many times it.
HIGHLIGHT_HEADROOM = 1.5


def filmed_peak(pixels: np.ndarray) -> float:
    """The brightest finite value of any channel of one frame's filmed pixels (an (n, 3) array); 0 where none."""
    return float(pixels[np.isfinite(pixels)].max(initial=0.0))


def brightest_filmed(peaks: Iterable[float]) -> float | None:
    """The shot's brightest filmed value from its frames' :func:`filmed_peak`, where
    :func:`roll_off_highlights` starts; None where nothing filmed is above 0."""
    peak = max(peaks, default=0.0)
    return peak if peak > _DARK else None


def roll_off_highlights(scene: np.ndarray, brightest: float, headroom: float = HIGHLIGHT_HEADROOM) -> np.ndarray:
    """Scene-linear pixels (..., 3) whose brightest channel is above the plate's ``brightest``
    value rolled off smoothly towards ``headroom`` times it, never past; the others are
    returned as they are.

    The model draws in display-referred values, and near display white the view's inverse turns
    a small excess into a large one: a border highlight a shade whiter than the plate's white
    comes back several times brighter (docs/benchmarks.md#highlights). The plate's own range is
    the evidence of how bright the scene is. Each pixel's channels are scaled by one factor, so
    a highlight keeps its hue; the curve leaves ``brightest`` at slope 1, so no edge appears.
    """
    room = (headroom - 1.0) * brightest
    peak = scene.max(axis=-1, keepdims=True)
    over = peak > brightest
    if room <= 0 or not over.any():
        return scene
    rolled = brightest + room * -np.expm1(-(np.where(over, peak, brightest) - brightest) / room)
    factor = np.where(over, rolled / np.where(over, peak, 1.0), 1.0)
    # The minimum only catches the last bit of rounding where the curve meets its limit.
    return np.minimum(scene * factor, headroom * brightest).astype(scene.dtype, copy=False)
