"""Temporal flicker: how much the background changes from frame to frame.

Measured over pixels that are background in both frames; in a panning shot the earlier frame
is first shifted by the measured pan, so the texture's steady travel does not count as flicker.
"""

from __future__ import annotations

import numpy as np


def background_flicker(frames: np.ndarray, classes: np.ndarray, background: int, camera_x: np.ndarray) -> float:
    """Mean absolute frame-to-frame change of the background, in sRGB code values (0-1).

    Args:
        frames: (frames, height, width, 3) sRGB.
        classes: from :func:`~sora_vfx.eval.segment.classify_colours`.
        background: the background's colour index.
        camera_x: (frames,) camera path, from :func:`~sora_vfx.eval.motion.estimate_pan`.

    Returns:
        The mean over frame pairs of the mean absolute change; NaN for a single frame or no
        shared background.
    """
    rgb = np.asarray(frames, dtype=np.float32)
    count, _, width = classes.shape
    is_background = classes == background
    columns = np.arange(width)
    changes = []
    for t in range(count - 1):
        # The texture moves opposite to the camera; sample the earlier frame where each
        # column of the later one came from, between two pixels.
        source = columns + (camera_x[t + 1] - camera_x[t])
        left = np.floor(source).astype(np.int64)
        weight = (source - left).astype(np.float32)[None, :, None]
        inside = (left >= 0) & (left + 1 < width)
        left = np.clip(left, 0, width - 1)
        right = np.clip(left + 1, 0, width - 1)
        earlier = rgb[t][:, left] * (1 - weight) + rgb[t][:, right] * weight
        shared = is_background[t + 1] & is_background[t][:, left] & is_background[t][:, right] & inside[None, :]
        if shared.any():
            changes.append(float(np.abs(rgb[t + 1] - earlier)[shared].mean()))
    return float(np.mean(changes)) if changes else float("nan")
