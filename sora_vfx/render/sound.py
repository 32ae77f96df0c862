"""A shot's sound, assembled from the sound of the windows that made its frames.

A model that makes sound (its family lists "audio" in ``outputs``) gives each window's sound
with its frames. A shot of one window keeps that sound as it is; the windows of a long shot
are placed at their first frames and cross-faded where they overlap, as their pictures are.
The shot's sound is written (``OUT/<shot>/<shot>.wav``) only when every window was made in
this run: a resumed render that kept some frames keeps the sound it wrote before.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..imaging.wav import Audio


class ShotSound:
    """Collects the windows' sound of a shot of ``frames`` frames at ``fps``."""

    def __init__(self, frames: int, fps: Fraction):
        self.frames, self.fps = frames, Fraction(fps)
        self._samples: np.ndarray | None = None
        self._rate = 0
        self._covered = 0  # samples from the shot's start that hold sound
        self._gap = False  # a window left out (kept from an earlier run): the sound stays incomplete

    def add(self, first_frame: int, frames: int, audio: Audio) -> None:
        """The sound of a window of ``frames`` frames starting at the shot's ``first_frame``;
        where it overlaps what is there, the two are cross-faded linearly."""
        if self._samples is None:
            self._rate = audio.sample_rate
            self._samples = np.zeros((self._sample(self.frames), audio.samples.shape[1]), np.float32)
        elif audio.sample_rate != self._rate:
            raise ValueError(f"window sound at {audio.sample_rate} Hz in a shot at {self._rate} Hz")
        start = self._sample(first_frame)
        window = audio.lasting(frames, self.fps).samples[: len(self._samples) - start]
        if self._gap or start > self._covered:
            self._gap = True
            return
        overlap = max(0, min(self._covered - start, len(window)))
        if overlap:
            fade = np.linspace(0.0, 1.0, overlap, dtype=np.float32)[:, None]
            held = self._samples[start:start + overlap]
            self._samples[start:start + overlap] = held * (1.0 - fade) + window[:overlap] * fade
        self._samples[start + overlap:start + len(window)] = window[overlap:]
        self._covered = max(self._covered, start + len(window))

    @property
    def complete(self) -> bool:
        """Whether every sample of the shot came from a window added here."""
        return self._samples is not None and not self._gap and self._covered >= len(self._samples)

    def audio(self) -> Audio:
        """The shot's sound, exactly ``frames`` / ``fps`` long."""
        if not self.complete:
            raise ValueError("the shot's sound is incomplete")
        assert self._samples is not None
        return Audio(self._samples, self._rate)

    def _sample(self, frame: int) -> int:
        return round(frame * self._rate / self.fps)
