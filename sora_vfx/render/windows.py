"""Temporal windows: shots longer than the model's frame limit render in overlapping windows.

Three methods (``WINDOW_METHODS``) make and join them:

- ``context``: the whole shot's latents are denoised as one, the transformer seeing the
  windows in turn at every step and their predictions blended where they overlap
  (``models.context``); the shot is then decoded window by window.
- ``continue``: window after window, each conditioned on the end of the one before: its last
  frame as the first image of an image-to-video model, else its last latent frames held fixed
  (noised to each step's level) while the rest is denoised.
- ``crossfade``: each window denoised on its own, from its slice of one shot-wide noise tensor
  where the model's latent layout is known.

Decoded windows are cross-faded frame by frame where they overlap. ``WindowBlender`` hands
frames on as soon as no later window touches them, so memory stays at about one window of
frames whatever the shot length.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..defaults import WINDOW_METHODS

__all__ = ["WINDOW_METHODS", "Window", "WindowBlender", "plan_windows", "seam_frames"]

@dataclass(frozen=True)
class Window:
    start: int
    length: int

    @property
    def end(self) -> int:
        return self.start + self.length


def plan_windows(num_frames: int, *, max_frames: int, overlap: int, align: int = 1) -> list[Window]:
    """Windows covering ``num_frames`` with at most ``max_frames`` each.

    Windows start on multiples of ``align`` (the model's temporal compression) except the
    last, which ends on the shot's last frame.
    """
    if num_frames <= 0:
        raise ValueError(f"a shot needs at least one frame, not {num_frames}")
    if num_frames <= max_frames:
        return [Window(0, num_frames)]
    overlap = max(1, min(overlap, max_frames - 1))
    stride = max(align, (max_frames - overlap) // align * align)
    starts = list(range(0, num_frames - max_frames, stride))
    starts.append(num_frames - max_frames)
    return [Window(start, max_frames) for start in starts]


def seam_frames(windows: list[Window]) -> list[int]:
    """The frames where windows meet, for measuring seams: every frame two windows share and
    the first frame after them. Each method joins windows somewhere in there: ``continue`` at
    the later window's first frame, ``crossfade`` across the whole overlap, ``context`` where
    the frames' owner changes (the middle of the overlap in latent frames), so a measure taken
    only at the later window's first frame would miss a jump the other two make."""
    frames = set()
    for before, after in zip(windows, windows[1:], strict=False):
        frames.update(range(after.start, min(before.end + 1, windows[-1].end)))
    return sorted(frames)


class WindowBlender:
    """Cross-fades window outputs and yields ``(shot_frame_index, frame)`` once final.

    ``order`` lists the windows that will be added (all by default). A resumed render adds
    only the windows that hold missing frames; frames it then yields unblended belong to
    skipped windows too, so they are already on disk and the caller drops them.
    """

    def __init__(self, windows: list[Window], order: list[int] | None = None):
        self.windows = windows
        self._order = list(range(len(windows))) if order is None else list(order)
        self._pending: dict[int, np.ndarray] = {}
        self._position = 0

    def add(self, index: int, frames: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
        """Add window ``index``'s output and yield the frames that are now final.

        Frames it shares with the previous window are cross-faded with that window's; frames a later
        window in ``order`` also covers are held back until that window is added. This is a
        generator: nothing is added, and nothing raised, until it is iterated.

        Yields:
            ``(shot_frame_index, frame)`` in frame order.
        Raises:
            ValueError: ``index`` is not the next window in ``order``, or ``frames`` is shorter
                than the window.
        """
        expected = self._order[self._position] if self._position < len(self._order) else None
        if index != expected:
            raise ValueError(f"windows must be added in order: expected {expected}, got {index}")
        self._position += 1
        window = self.windows[index]
        if len(frames) < window.length:
            raise ValueError(f"window {index} has {len(frames)} frames, expected {window.length}")
        overlap_end = max(self._pending, default=window.start - 1) + 1
        fade = overlap_end - window.start
        for offset in range(window.length):
            frame_index = window.start + offset
            frame = frames[offset]
            earlier = self._pending.pop(frame_index, None)
            if earlier is not None:
                weight = np.float32((offset + 1) / (fade + 1))
                frame = earlier * (np.float32(1) - weight) + frame * weight
            self._pending[frame_index] = frame
        following = (
            self.windows[self._order[self._position]].start if self._position < len(self._order) else None
        )
        for frame_index in sorted(self._pending):
            if following is None or frame_index < following:
                yield frame_index, self._pending.pop(frame_index)
