"""A shot's sound from its windows' (``render.sound.ShotSound``): placed, cross-faded, complete."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from sora_vfx.imaging.wav import Audio
from sora_vfx.render.sound import ShotSound

RATE = 240  # ten samples a frame at 24 fps


def constant(value: float, frames: int) -> Audio:
    return Audio(np.full((frames * 10, 2), value, np.float32), RATE)


def test_overlapping_windows_cross_fade_linearly():
    sound = ShotSound(12, Fraction(24))
    sound.add(0, 8, constant(1.0, 8))
    assert not sound.complete
    sound.add(6, 6, constant(-1.0, 6))
    samples = sound.audio().samples[:, 0]
    assert len(samples) == 120
    assert (samples[:60] == 1.0).all() and (samples[80:] == -1.0).all()
    np.testing.assert_allclose(samples[60:80], 1.0 - 2.0 * np.linspace(0.0, 1.0, 20), atol=1e-6)


def test_a_window_left_out_leaves_the_sound_incomplete():
    sound = ShotSound(12, Fraction(24))
    sound.add(6, 6, constant(0.5, 6))  # the first window was kept from an earlier run
    sound.add(0, 12, constant(0.5, 12))
    assert not sound.complete
