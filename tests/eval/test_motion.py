"""Tracks, motion words, jumps and the pan read from the background."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sora_vfx.eval import PanEstimate, classify_colours, estimate_pan, largest_jump, name_motion, seam_jumps
from sora_vfx.shapes import COLOURS, draw_clip, parse_prompt, plan_clip, render_clip


def line(frames: int, start: tuple[float, float], step: tuple[float, float]) -> np.ndarray:
    return np.array(start, dtype=float) + np.arange(frames)[:, None] * np.array(step, dtype=float)


@pytest.mark.parametrize(
    ("step", "word"),
    [((-2, 0), "moving left"), ((2, 0.3), "moving right"), ((0, -2), "moving up"), ((0.2, 2), "moving down"),
     ((0.3, -0.3), "standing still")],
)
def test_motion_words_from_tracks(step, word):
    motion, (dx, dy) = name_motion(line(17, (32, 32), step), np.zeros(17), width=64, height=64)
    assert motion == word
    assert dx == pytest.approx(step[0] * 16 / 64) and dy == pytest.approx(step[1] * 16 / 64)


def test_motion_is_measured_against_the_camera():
    camera_x = np.arange(17) * 1.0  # panning right
    on_screen = line(17, (40, 32), (-1, 0))  # still in the world, sliding left on screen
    assert name_motion(on_screen, camera_x, width=64, height=64)[0] == "standing still"
    assert name_motion(on_screen, np.zeros(17), width=64, height=64)[0] == "moving left"


def test_an_object_seen_in_too_few_frames_has_no_motion():
    track = line(17, (10, 10), (2, 0))
    track[:9] = np.nan
    assert name_motion(track, np.zeros(17), width=64, height=64)[0] is None
    track[8] = (26, 10)
    assert name_motion(track, np.zeros(17), width=64, height=64)[0] == "moving right"


def test_steady_tracks_have_a_jump_ratio_of_one():
    assert largest_jump(line(17, (5, 5), (2, 1))).ratio == pytest.approx(1)
    assert largest_jump(line(17, (5, 5), (0, 0))).ratio == pytest.approx(1)


def test_a_teleport_and_gaps():
    track = line(17, (5, 5), (2, 0))
    track[10:] += (0, 12)
    track[3] = np.nan
    jump = largest_jump(track)
    assert jump.frame == 10 and jump.step == pytest.approx(np.hypot(2, 12)) and jump.median_step == pytest.approx(2)
    assert jump.ratio == pytest.approx((np.hypot(2, 12) + 1) / 3)
    assert largest_jump(np.full((5, 2), np.nan)) is None


def test_seam_jumps_compare_with_steps_away_from_seams():
    track = line(17, (5, 5), (2, 0))
    track[8:] += (10, 0)
    track[12] = np.nan
    jumps = seam_jumps(track, (0, 4, 8, 12, 17))  # 0 and 17 have no step into them, 12 is unseen
    assert [jump.frame for jump in jumps] == [4, 8]
    assert jumps[0].ratio == pytest.approx(1)
    assert jumps[1].step == pytest.approx(12) and jumps[1].median_step == pytest.approx(2)
    assert seam_jumps(track, ()) == ()


def truth_pan(prompt: str, seed: int, **size):
    clip = render_clip(parse_prompt(prompt), frames=17, width=64, height=64, rng=np.random.default_rng(seed), **size)
    background = COLOURS.index(parse_prompt(prompt).background)
    return clip, estimate_pan(clip.frames, classify_colours(clip.frames), background)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("direction", ["left", "right"])
def test_the_pan_is_read_from_the_background(direction, seed):
    clip, pan = truth_pan(f"a large black square moving down on a white background, camera panning {direction}", seed)
    assert pan.textured
    assert np.abs(pan.camera_x - clip.camera_x).max() < 0.5
    assert pan.direction(64) == direction


def test_no_pan_reads_as_none():
    clip, pan = truth_pan("a large black square moving left on a white background", 1)
    assert pan.textured and np.abs(pan.camera_x).max() < 0.3 and pan.direction(64) is None


def test_a_long_pan_is_followed_past_the_frame_edge():
    scene = parse_prompt("a red ball standing still on a blue background, camera panning right")
    plan = dataclasses.replace(plan_clip(scene, frames=17, width=64, height=64, rng=np.random.default_rng(0)),
                               frames=90)
    clip = draw_clip(plan)
    pan = estimate_pan(clip.frames, classify_colours(clip.frames), COLOURS.index("blue"))
    assert clip.camera_x[-1] > 64
    assert np.abs(pan.camera_x - clip.camera_x).max() < 1.5


def test_a_flat_background_shows_no_pan():
    clip, _ = truth_pan("a red ball standing still on a blue background, camera panning right", 2)
    flat = draw_clip(dataclasses.replace(clip.plan, texture=()))
    pan = estimate_pan(flat.frames, classify_colours(flat.frames), COLOURS.index("blue"))
    assert not pan.textured and np.all(pan.camera_x == 0) and pan.direction(64) is None


def test_pan_direction_threshold():
    assert PanEstimate(camera_x=np.linspace(0, 3, 17), textured=True).direction(64) is None
    assert PanEstimate(camera_x=np.linspace(0, -6, 17), textured=True).direction(64) == "left"
    assert PanEstimate(camera_x=np.linspace(0, 6, 17), textured=True).travel == pytest.approx(6)
