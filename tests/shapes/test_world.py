"""The shapes world's clips: pixels, truth, motion, pan and crops."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from sora_vfx.errors import RenderError
from sora_vfx.shapes import PALETTE, Box, draw_clip, parse_prompt, plan_clip, random_scene, render_clip
from sora_vfx.shapes.world import OBJECT_TRAVEL, PAN_TRAVEL, motion_field


def clip_of(prompt: str, seed: int = 0, *, frames: int = 17, width: int = 64, height: int = 64, **kwargs):
    return render_clip(parse_prompt(prompt), frames=frames, width=width, height=height,
                       rng=np.random.default_rng(seed), **kwargs)


def test_frames_are_float32_srgb_in_range():
    clip = clip_of("a red ball moving left on a blue background", width=96, height=64)
    assert clip.frames.shape == (17, 64, 96, 3)
    assert clip.frames.dtype == np.float32
    assert clip.frames.min() >= 0.0 and clip.frames.max() <= 1.0
    assert clip.camera_x.shape == (17,)
    (truth,) = clip.objects
    assert truth.centre.shape == (17, 2) and truth.visible.shape == (17,)


def test_same_seed_same_pixels_other_seed_other_pixels():
    prompt = "a small yellow square moving down on a black background, camera panning left"
    assert np.array_equal(clip_of(prompt, 3).frames, clip_of(prompt, 3).frames)
    assert not np.array_equal(clip_of(prompt, 3).frames, clip_of(prompt, 4).frames)


def test_truth_centre_matches_the_pixels():
    clip = clip_of("a large green square moving right on a white background", seed=2)
    (truth,) = clip.objects
    green = np.asarray(PALETTE["green"], dtype=np.float32)
    # The share of object colour in each pixel, read back from the pixels.
    coverage = np.clip(1 - np.abs(clip.frames - green).max(axis=-1) / 0.9, 0, 1)
    rows, cols = np.mgrid[0:64, 0:64] + 0.5
    for t in range(clip.frames.shape[0]):
        if truth.visible[t] > 0.999:
            weight = coverage[t] ** 4
            assert np.average(cols, weights=weight) == pytest.approx(truth.centre[t, 0], abs=0.3)
            assert np.average(rows, weights=weight) == pytest.approx(truth.centre[t, 1], abs=0.3)


@pytest.mark.parametrize(
    ("motion", "axis", "sign"),
    [("moving left", 0, -1), ("moving right", 0, 1), ("moving up", 1, -1), ("moving down", 1, 1),
     ("standing still", 0, 0)],
)
def test_motion_words_move_objects_a_clearly_visible_distance(motion, axis, sign):
    for seed in range(10):
        clip = clip_of(f"a blue ball {motion} on a yellow background", seed, width=96, height=64)
        (truth,) = clip.objects
        travel = (truth.centre[-1] - truth.centre[0]) / np.array([96, 64])
        steps = np.diff(truth.centre, axis=0)
        assert np.allclose(steps, steps[0])  # constant velocity
        if sign == 0:
            assert np.allclose(travel, 0)
        else:
            assert OBJECT_TRAVEL[0] - 1e-6 <= sign * travel[axis] <= OBJECT_TRAVEL[1] + 1e-6
            assert travel[1 - axis] == 0


def test_pan_moves_the_background_and_still_objects_the_other_way():
    clip = clip_of("a red square standing still on a white background, camera panning right", seed=1)
    (truth,) = clip.objects
    travel = clip.camera_x[-1] / 64
    assert PAN_TRAVEL[0] <= travel <= PAN_TRAVEL[1]
    # Still in the world, so on screen it slides left exactly as far as the camera went right.
    assert np.allclose(truth.centre[:, 0] - truth.centre[0, 0], -clip.camera_x, atol=1e-3)
    # The background's stripes slide left too: a row far from the object shows it.
    row = 0 if truth.centre[0, 1] > 32 else 63
    first, last = clip.frames[0, row, :, 0], clip.frames[-1, row, :, 0]
    shift = int(round(clip.camera_x[-1]))
    assert np.abs(first[shift:] - last[:-shift]).max() < np.abs(first - last).max() / 3


def test_no_pan_keeps_the_background_still():
    clip = clip_of("a red ball moving up on a green background", seed=5)
    assert np.all(clip.camera_x == 0)
    untouched = np.abs(clip.frames - clip.frames[0]).max(axis=(0, 3)) == 0
    assert untouched.mean() > 0.5  # pixels never touched by the object stay exactly the same


def test_background_stripes_are_subtle():
    clip = clip_of("a red ball moving up on a green background", seed=5)
    background = np.asarray(PALETTE["green"], dtype=np.float32)
    corner = clip.frames[:, :4, :, :] if clip.objects[0].centre[:, 1].min() > 16 else clip.frames[:, -4:, :, :]
    deviation = np.abs(corner - background).max()
    assert 0.01 < deviation < 0.1


def test_edges_are_anti_aliased_and_areas_match():
    clip = clip_of("a large white ball standing still on a black background", seed=4)
    (truth,) = clip.objects
    level = clip.frames[0, :, :, 0]
    partial = (level > 0.2) & (level < 0.8)
    assert partial.sum() > 10  # a rim of partly covered pixels
    coverage = ((level - 0.1) / 0.8).clip(0, 1)
    background = 0.06  # the stripes lift black by at most TEXTURE_STRENGTH * 0.4 / 0.8
    assert coverage.sum() == pytest.approx(np.pi * truth.radius**2, rel=0.05, abs=background * 64 * 64)
    assert truth.visible[0] == pytest.approx(1.0, abs=0.01)


def test_objects_stay_mostly_in_frame():
    rng = np.random.default_rng(11)
    visible = []
    for _ in range(200):
        clip = render_clip(random_scene(rng), frames=17, width=64, height=64, rng=rng)
        visible.extend(float(np.mean(truth.visible)) for truth in clip.objects)
    assert np.median(visible) > 0.99
    assert np.mean(np.array(visible) > 0.8) > 0.95


def test_two_objects_are_placed_apart():
    rng = np.random.default_rng(12)
    overlapping = 0
    scenes = 0
    while scenes < 60:
        scene = random_scene(rng)
        if len(scene.objects) < 2:
            continue
        scenes += 1
        clip = render_clip(scene, frames=17, width=64, height=64, rng=rng)
        first, second = clip.plan.objects
        gap = np.hypot(*(clip.objects[0].centre - clip.objects[1].centre).T).min()
        overlapping += gap < first.radius + second.radius
    assert overlapping <= 3


def test_a_crop_is_the_same_pixels_as_the_full_frame():
    full = clip_of("a small red ball moving right on a blue background, and a green square moving up,"
                   " camera panning left", seed=6, width=96, height=64)
    box = Box(x=16, y=8, width=48, height=40)
    crop = draw_clip(full.plan, box=box)
    assert np.array_equal(crop.frames, full.frames[:, 8:48, 16:64])
    for whole, part in zip(full.objects, crop.objects, strict=True):
        assert np.allclose(part.centre, whole.centre - [16, 8])
        assert np.all(part.visible <= whole.visible + 1e-6)
    same = clip_of("a small red ball moving right on a blue background, and a green square moving up,"
                   " camera panning left", seed=6, width=96, height=64, crop=box)
    assert np.array_equal(same.frames, crop.frames)


def test_a_box_may_reach_beyond_the_full_frame():
    full = clip_of("a red ball moving right on a blue background", seed=6)
    wide = draw_clip(full.plan, box=Box(x=-16, y=0, width=96, height=64))
    assert wide.frames.shape == (17, 64, 96, 3)
    assert np.array_equal(wide.frames[:, :, 16:80], full.frames)


def test_flat_background_plan_draws_plain_colour():
    clip = clip_of("a red ball standing still on a blue background", seed=1)
    flat = draw_clip(dataclasses.replace(clip.plan, texture=()))
    corner = flat.frames[:, :2, :2].reshape(-1, 3)
    if np.abs(corner - PALETTE["blue"]).max() > 1e-6:  # the ball sits in that corner
        corner = flat.frames[:, -2:, -2:].reshape(-1, 3)
    assert np.allclose(corner, PALETTE["blue"])


def test_truth_is_json():
    clip = clip_of("a red ball moving right on a blue background, camera panning left")
    document = json.loads(json.dumps(clip.to_dict(), allow_nan=False))
    assert document["objects"][0]["motion"] == "moving right"
    assert len(document["camera_x"]) == 17


@pytest.mark.parametrize(("frames", "width", "height"), [(0, 64, 64), (17, 4, 64), (17, 64, 2)])
def test_bad_sizes_raise(frames, width, height):
    scene = parse_prompt("a red ball moving right on a blue background")
    with pytest.raises(RenderError, match=f"not {frames} of {width}x{height}"):
        plan_clip(scene, frames=frames, width=width, height=height, rng=np.random.default_rng(0))


def test_a_single_frame_clip_draws():
    clip = clip_of("a red ball moving right on a blue background", frames=1)
    assert clip.frames.shape == (1, 64, 64, 3)


def test_the_motion_field_is_what_the_pixels_do():
    """Where the object is, the field is its screen step per frame (its own motion less the pan);
    elsewhere the background's, against the pan; the pixels of the next frame agree."""
    clip = clip_of("a large red ball moving down on a white background, camera panning right", seed=3)
    field = motion_field(clip)
    assert field.shape == (17, 64, 64, 2) and field.dtype == np.float32
    (truth,) = clip.objects
    step = truth.centre[1] - truth.centre[0]
    assert step[0] < 0 < step[1]  # down on screen, and left because the camera pans right
    x, y = np.round(truth.centre[0]).astype(int)
    assert np.allclose(field[0, y, x], step, atol=1e-4)
    corner = (0, 0) if np.hypot(x, y) > 30 else (63, 63)
    assert np.allclose(field[0, corner[0], corner[1]], (-clip.camera_x[1], 0), atol=1e-4)
    still = motion_field(clip_of("a red ball standing still on a green background", seed=5))
    assert not still.any()
