"""Motion in a clip: the camera's pan from the background's texture, object tracks, jumps.

Motion words describe motion in the world, that is relative to the background, which is what
a viewer judges: an object "standing still" in a panning shot slides across the screen with
the background. The pan is measured from the picture (the shapes world's background carries
faint vertical stripes fixed in the world) and added back to the screen track before the
motion is named. Where the background shows no usable texture, the pan reads as none and
motion is judged on screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from sora_vfx.shapes import COLOURS, PALETTE, Motion, Pan

#: An object whose world displacement over the clip is below this fraction of the frame
#: (width for x, height for y) is standing still. The shapes world moves objects 0.4-0.6.
STILL_FRACTION = 0.2
#: A camera that travels less than this fraction of the frame width over the clip is not
#: panning. The shapes world pans 0.15-0.25.
PAN_FRACTION = 0.07
#: Added to both steps of a jump ratio: a step below about a pixel is noise, and a still
#: object's median step is zero.
JUMP_FLOOR_PX = 1.0
#: Background profiles that correlate less than this with their reference give no pan reading.
_MIN_CORRELATION = 0.5
# Columns need this share of background pixels to enter the texture profile.
_MIN_COLUMN_SHARE = 0.25
# Pixels this close to anything but background stay out of the texture profile.
_RIM_PX = 2


@dataclass(frozen=True)
class PanEstimate:
    """The camera's path as read from the background."""

    camera_x: np.ndarray
    """(frames,) pixels the camera has moved right since the first frame."""
    textured: bool
    """Whether the background carried texture enough to read the pan from."""

    @property
    def travel(self) -> float:
        """Least-squares camera travel over the whole clip, in pixels (positive = right)."""
        return _slope(self.camera_x) * (len(self.camera_x) - 1)

    def direction(self, width: int, *, min_fraction: float = PAN_FRACTION) -> Pan | None:
        """``"left"``, ``"right"`` or None when the camera travels under ``min_fraction`` of the width."""
        travel = self.travel / width
        if abs(travel) < min_fraction:
            return None
        return "right" if travel > 0 else "left"


def estimate_pan(frames: np.ndarray, classes: np.ndarray, background: int) -> PanEstimate:
    """Read the camera's horizontal path from the shift of the background's texture.

    Each frame's background pixels, less a rim around anything else, are reduced to one
    profile along x (how far each column is mixed towards mid grey), and each profile is
    aligned with an earlier one by normalised cross-correlation with a sub-pixel peak.

    Args:
        frames: (frames, height, width, 3) sRGB.
        classes: from :func:`~sora_vfx.eval.segment.classify_colours`.
        background: the background's colour index.

    Returns:
        The camera path; all zeros and ``textured=False`` when fewer than half of the frames
        could be aligned.
    """
    count, height, width = classes.shape
    colour = np.asarray(PALETTE[COLOURS[background]], dtype=np.float32)
    towards_grey = np.float32(0.5) - colour
    mix = (np.asarray(frames, dtype=np.float32) - colour) @ towards_grey / float(towards_grey @ towards_grey)
    # Pixels next to an object carry a little of its colour through the anti-aliased (or
    # blurred) rim; left in, they drag the profile along with the object.
    mask = _erode(classes == background, _RIM_PX)
    share = mask.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        profile = np.where(share >= _MIN_COLUMN_SHARE * height, (mix * mask).sum(axis=1) / share, np.nan)
    shifts = _follow_texture(profile, reach=max(2, width // 16))
    known = np.isfinite(shifts)
    if count < 2 or known[1:].sum() < (count - 1) / 2:
        return PanEstimate(camera_x=np.zeros(count), textured=False)
    # Frames whose texture could not be matched take the path between their neighbours.
    frames_known = np.flatnonzero(known)
    shifts = np.interp(np.arange(count), frames_known, shifts[frames_known])
    # The texture moves opposite to the camera.
    return PanEstimate(camera_x=-shifts, textured=True)


def _follow_texture(profile: np.ndarray, *, reach: int) -> np.ndarray:
    """Each frame's texture shift from the first frame (pixels, positive = right); NaN when unsure.

    Frames are matched against one reference frame, so errors do not add up from frame to
    frame; the reference moves on only once the texture has travelled a quarter of the width
    (the profiles must keep half their width in common). The search looks only near the last
    shift found, so a texture that repeats at some period cannot pull the match a period away.
    """
    count, width = profile.shape
    shifts = np.full(count, np.nan)
    shifts[0] = 0.0
    reference, offset, guess = 0, 0.0, 0
    for t in range(1, count):
        found = _shifts(profile[reference:reference + 1], profile[t:t + 1], low=guess - reach, high=guess + reach)[0]
        if not np.isfinite(found):
            continue
        shifts[t] = offset + found
        guess = int(round(found))
        if abs(found) > width / 4:
            reference, offset, guess = t, shifts[t], 0
    return shifts


def _erode(mask: np.ndarray, steps: int) -> np.ndarray:
    """Shrink a (frames, height, width) mask by ``steps`` pixels within each frame."""
    for _ in range(steps):
        inner = mask.copy()
        inner[:, 1:] &= mask[:, :-1]
        inner[:, :-1] &= mask[:, 1:]
        inner[:, :, 1:] &= mask[:, :, :-1]
        inner[:, :, :-1] &= mask[:, :, 1:]
        mask = inner
    return mask


def _shifts(before: np.ndarray, after: np.ndarray, *, low: int, high: int) -> np.ndarray:
    """How far each profile moved right from ``before`` to ``after`` (one pair a row); NaN when unsure.

    Normalised cross-correlation over the integer shifts ``low..high``, refined to a sub-pixel
    peak by a parabola through the best score and its neighbours.
    """
    pairs, width = before.shape
    scores = np.full((pairs, high - low + 1), -np.inf)
    for i, shift in enumerate(range(low, high + 1)):
        if abs(shift) >= width:
            continue
        # after[x] should equal before[x - shift]
        a = after[:, max(shift, 0): width + min(shift, 0)]
        b = before[:, max(-shift, 0): width - max(shift, 0)]
        both = np.isfinite(a) & np.isfinite(b)
        used = both.sum(axis=1)
        a, b = np.where(both, a, 0.0), np.where(both, b, 0.0)
        a = np.where(both, a - a.sum(axis=1, keepdims=True) / np.maximum(used, 1)[:, None], 0.0)
        b = np.where(both, b - b.sum(axis=1, keepdims=True) / np.maximum(used, 1)[:, None], 0.0)
        norm = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
        good = (used >= width / 2) & (norm > 1e-12)
        scores[good, i] = (a * b).sum(axis=1)[good] / norm[good]
    last = high - low
    best = np.argmax(scores, axis=1)
    rows = np.arange(pairs)
    peak = scores[rows, best]
    left = scores[rows, np.maximum(best - 1, 0)]
    right = scores[rows, np.minimum(best + 1, last)]
    offset = np.zeros(pairs)
    inner = np.flatnonzero(np.isfinite(left) & np.isfinite(right) & (best > 0) & (best < last))
    curve = left[inner] - 2 * peak[inner] + right[inner]
    bent = inner[curve < 0]
    offset[bent] = 0.5 * (left[bent] - right[bent]) / curve[curve < 0]
    shifts = best + low + np.clip(offset, -0.5, 0.5)
    return np.where(peak >= _MIN_CORRELATION, shifts, np.nan)


def _slope(values: np.ndarray) -> float:
    """Least-squares slope per frame over the finite entries (0 with fewer than two)."""
    t = np.arange(len(values), dtype=np.float64)
    known = np.isfinite(values)
    if known.sum() < 2:
        return 0.0
    t, v = t[known], values[known]
    t = t - t.mean()
    return float((t @ (v - v.mean())) / (t @ t))


def name_motion(track: np.ndarray, camera_x: np.ndarray, *, width: int, height: int,
                still_fraction: float = STILL_FRACTION) -> tuple[Motion | None, tuple[float, float]]:
    """Name an object's motion in the world from its screen track.

    Args:
        track: (frames, 2) screen centroid per frame, NaN where the object was not found.
        camera_x: (frames,) camera path, from :func:`estimate_pan`.
        width: frame width in pixels.
        height: frame height in pixels.
        still_fraction: see :data:`STILL_FRACTION`.

    Returns:
        The motion word (None when the object was found in fewer than half the frames, or
        in fewer than two) and the least-squares world displacement over the clip (x, y) as
        fractions of the frame width and height.
    """
    count = len(track)
    found = np.isfinite(track[:, 0])
    if found.sum() < max(2, count / 2):
        return None, (float("nan"), float("nan"))
    dx = _slope(track[:, 0] + camera_x) * (count - 1) / width
    dy = _slope(track[:, 1]) * (count - 1) / height
    if max(abs(dx), abs(dy)) < still_fraction:
        return "standing still", (dx, dy)
    if abs(dx) >= abs(dy):
        return ("moving right" if dx > 0 else "moving left"), (dx, dy)
    return ("moving down" if dy > 0 else "moving up"), (dx, dy)


@dataclass(frozen=True)
class Jump:
    """A step of an object's centroid from ``frame - 1`` to ``frame`` against its usual step."""

    frame: int
    step: float
    """Pixels."""
    median_step: float
    """The median step of the steps compared with (pixels)."""
    ratio: float
    """``(step + floor) / (median_step + floor)``: about 1 for steady motion."""

    def to_dict(self) -> dict:
        """A JSON-ready copy."""
        return asdict(self)


def _steps(track: np.ndarray) -> np.ndarray:
    """(frames - 1,) screen step into each frame from the one before, NaN where either is missing."""
    return np.hypot(*np.diff(track, axis=0).T)


def largest_jump(track: np.ndarray, *, floor: float = JUMP_FLOOR_PX) -> Jump | None:
    """The largest frame-to-frame centroid step against the track's median step.

    Args:
        track: (frames, 2) screen centroids, NaN where the object was not found.
        floor: see :data:`JUMP_FLOOR_PX`.

    Returns:
        The jump, or None when no two consecutive frames both found the object.
    """
    steps = _steps(track)
    known = np.flatnonzero(np.isfinite(steps))
    if len(known) == 0:
        return None
    at = known[np.argmax(steps[known])]
    median = float(np.median(steps[known]))
    return Jump(frame=int(at) + 1, step=float(steps[at]), median_step=median,
                ratio=(float(steps[at]) + floor) / (median + floor))


def seam_jumps(track: np.ndarray, seams: Sequence[int], *, floor: float = JUMP_FLOOR_PX) -> tuple[Jump, ...]:
    """The centroid step at each window seam against the median step away from seams.

    Args:
        track: (frames, 2) screen centroids, NaN where the object was not found.
        seams: frame indices (0-based within the clip) where windows meet (the benchmarks give
            every frame two windows share and the first after, ``render.windows.seam_frames``);
            the step measured is the one into each.
        floor: see :data:`JUMP_FLOOR_PX`.

    Returns:
        One jump per seam whose step is known (both frames found the object), in seam order.
    """
    steps = _steps(track)
    into = [s for s in seams if 1 <= s < len(track)]
    away = np.ones(len(steps), dtype=bool)
    away[[s - 1 for s in into]] = False
    usual = steps[away & np.isfinite(steps)]
    median = float(np.median(usual)) if len(usual) else 0.0
    jumps = []
    for seam in into:
        step = float(steps[seam - 1])
        if np.isfinite(step):
            jumps.append(Jump(frame=seam, step=step, median_step=median, ratio=(step + floor) / (median + floor)))
    return tuple(jumps)
