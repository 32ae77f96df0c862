"""Shot measurements: perfect on the world's own clips, failing on deliberately broken ones."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from sora_vfx.eval import EVAL_SCHEMA_VERSION, EvalError, eval_document, measure_shot, summarize
from sora_vfx.eval.summary import by_object_count, motion_by_direction
from sora_vfx.shapes import Clip, draw_clip, parse_prompt, random_scene, render_clip


def clip_of(prompt: str, seed: int = 0, *, frames: int = 17, width: int = 64, height: int = 64) -> Clip:
    return render_clip(parse_prompt(prompt), frames=frames, width=width, height=height,
                       rng=np.random.default_rng(seed))


def moved(clip: Clip, dx: float, dy: float = 0.0) -> np.ndarray:
    """The clip's frames with its first object drawn (dx, dy) pixels away."""
    first, *rest = clip.plan.objects
    shifted = dataclasses.replace(first, start=(first.start[0] + dx, first.start[1] + dy))
    return draw_clip(dataclasses.replace(clip.plan, objects=(shifted, *rest))).frames


def blur(frames: np.ndarray) -> np.ndarray:
    for axis in (1, 2):
        frames = (np.roll(frames, 1, axis) + 2 * frames + np.roll(frames, -1, axis)) / 4
    return frames


def all_correct(shot) -> bool:
    return (shot.background_ok and shot.colour_ok and shot.motion_ok and shot.pan_ok
            and all(obj.shape_ok and obj.size_ok for obj in shot.objects))


@pytest.mark.parametrize(("frames", "width", "height"), [(17, 64, 64), (25, 96, 64)])
def test_ground_truth_scores_perfectly(frames, width, height):
    rng = np.random.default_rng(frames)
    for _ in range(30):
        scene = random_scene(rng)
        clip = render_clip(scene, frames=frames, width=width, height=height, rng=rng)
        shot = measure_shot(clip.frames, scene=scene, seams=(frames // 2,))
        assert all_correct(shot), shot.to_dict()
        assert shot.ghost_frames == ()
        assert shot.jump_ratio < 1.7
        assert shot.seam_jump_ratio < 1.7
        assert shot.temporal_flicker < 0.005
        assert abs(shot.camera_travel * width - clip.camera_x[-1]) < 0.03 * width


def test_lossy_copies_still_score():
    rng = np.random.default_rng(3)
    for _ in range(30):
        scene = random_scene(rng)
        clip = render_clip(scene, frames=17, width=64, height=64, rng=rng)
        lossy = np.clip(0.85 * blur(clip.frames) + 0.08 + rng.normal(0, 0.03, clip.frames.shape), 0, 1)
        shot = measure_shot(lossy, scene=scene)
        assert shot.background_ok and shot.colour_ok and shot.motion_ok and shot.pan_ok, shot.to_dict()
        assert shot.ghost_frames == ()


def test_a_swapped_object_colour_fails():
    prompt = "a red ball moving left on a blue background"
    clip = clip_of(prompt.replace("red", "green"))
    shot = measure_shot(clip.frames, scene=prompt)
    assert shot.background_ok and not shot.colour_ok
    assert shot.object_colours == ("green",)
    (obj,) = shot.objects
    assert obj.found_frames == 0 and obj.motion is None and not obj.motion_ok and obj.jump is None


def test_a_swapped_background_fails():
    prompt = "a red ball moving left on a blue background"
    shot = measure_shot(clip_of(prompt.replace("blue", "white")).frames, scene=prompt)
    assert shot.background == "white" and not shot.background_ok
    assert shot.colour_ok and shot.motion_ok


@pytest.mark.parametrize(("motion", "reverse"), [("moving left", "moving right"), ("moving up", "moving down")])
def test_reversed_motion_fails(motion, reverse):
    prompt = f"a small white square {motion} on a black background"
    clip = clip_of(prompt, 2)
    assert measure_shot(clip.frames, scene=prompt).motion_ok
    shot = measure_shot(clip.frames[::-1], scene=prompt)
    assert shot.objects[0].motion == reverse and not shot.motion_ok


def test_a_still_object_in_a_pan_stands_still():
    prompt = "a yellow ball standing still on a green background, camera panning right"
    clip = clip_of(prompt, 4)
    assert clip.objects[0].centre[-1, 0] < clip.objects[0].centre[0, 0] - 8  # slides left on screen
    shot = measure_shot(clip.frames, scene=prompt)
    assert shot.pan == "right" and shot.objects[0].motion == "standing still"


def test_a_reversed_pan_and_a_missing_pan_fail():
    prompt = "a red square moving up on a white background, camera panning left"
    clip = clip_of(prompt, 5)
    assert measure_shot(clip.frames, scene=prompt).pan == "left"
    assert measure_shot(clip.frames[::-1], scene=prompt).pan == "right"
    still = clip_of(prompt.replace(", camera panning left", ""), 5)
    shot = measure_shot(still.frames, scene=prompt)
    assert shot.pan is None and not shot.pan_ok


def test_without_texture_motion_is_judged_on_screen():
    clip = clip_of("a yellow ball standing still on a green background, camera panning right", 4)
    flat = draw_clip(dataclasses.replace(clip.plan, texture=()))
    shot = measure_shot(flat.frames, scene="a yellow ball standing still on a green background, camera panning right")
    assert not shot.textured and shot.pan is None
    assert shot.objects[0].motion == "moving left"


def test_an_object_duplicated_into_two_blobs_is_ghosting():
    prompt = "a blue ball moving down on a yellow background"
    clip = clip_of(prompt, 6)
    first = clip.plan.objects[0]
    twin = dataclasses.replace(first, start=(first.start[0] + (-25 if first.start[0] > 32 else 25), first.start[1]))
    doubled = draw_clip(dataclasses.replace(clip.plan, objects=(first, twin))).frames
    frames = clip.frames.copy()
    frames[5:10] = doubled[5:10]
    shot = measure_shot(frames, scene=prompt)
    assert shot.ghost_frames == (5, 6, 7, 8, 9)
    assert shot.colour_ok and shot.background_ok
    assert measure_shot(clip.frames, scene=prompt).ghost_frames == ()


def test_a_teleport_is_a_jump_and_seams_are_measured_apart():
    prompt = "a large red square moving right on a blue background"
    clip = clip_of(prompt, 7)
    frames = clip.frames.copy()
    frames[9:] = moved(clip, 0, 20)[9:]  # from frame 9 on the object is 20 px lower
    steady = measure_shot(clip.frames, scene=prompt, seams=(9,))
    broken = measure_shot(frames, scene=prompt, seams=(4, 9, 13))
    assert steady.jump_ratio < 1.5 and steady.seam_jump_ratio < 1.5
    assert broken.objects[0].jump.frame == 9 and broken.jump_ratio > 4
    ratios = {jump.frame: jump.ratio for jump in broken.objects[0].seam_jumps}
    assert ratios[9] > 4 and ratios[4] < 1.5 and ratios[13] < 1.5
    assert broken.seam_jump_ratio == ratios[9]
    away = measure_shot(frames, scene=prompt, seams=(4,))
    assert away.seam_jump_ratio < 1.5 and away.jump_ratio > 4


def test_a_one_frame_teleport_is_a_jump():
    prompt = "a small green ball standing still on a black background"
    clip = clip_of(prompt, 8)
    frames = clip.frames.copy()
    frames[6] = moved(clip, 15 if clip.plan.objects[0].start[0] < 32 else -15)[6]
    shot = measure_shot(frames, scene=prompt)
    assert shot.objects[0].jump.frame in (6, 7) and shot.jump_ratio > 8
    assert shot.motion_ok  # one stray frame does not change the motion word


def test_background_noise_and_pulses_flicker():
    prompt = "a red ball moving left on a white background, camera panning left"
    clip = clip_of(prompt, 9)
    clean = measure_shot(clip.frames, scene=prompt).temporal_flicker
    noisy = clip.frames + np.random.default_rng(0).normal(0, 0.04, clip.frames.shape).astype(np.float32)
    pulsed = clip.frames.copy()
    pulsed[8] *= 0.9
    assert clean < 0.003
    assert measure_shot(np.clip(noisy, 0, 1), scene=prompt).temporal_flicker > 0.03
    assert measure_shot(pulsed, scene=prompt).temporal_flicker > 0.005


def test_size_and_shape_mismatches_fail():
    clip = clip_of("a small red ball moving left on a blue background", 10)
    shot = measure_shot(clip.frames, scene="a large red square moving left on a blue background")
    (obj,) = shot.objects
    assert obj.shape == "ball" and not obj.shape_ok
    assert obj.size == "small" and not obj.size_ok and obj.area_ratio < 0.3
    assert shot.colour_ok and shot.motion_ok


def test_two_objects_are_measured_each():
    prompt = ("a small white ball moving right on a black background, and a large red square moving up,"
              " camera panning right")
    clip = clip_of(prompt, 11, frames=25, width=96)
    shot = measure_shot(clip.frames, scene=prompt)
    assert all_correct(shot)
    assert set(shot.object_colours) == {"white", "red"}
    swapped = clip_of(prompt.replace("red square", "green square"), 11, frames=25, width=96)
    shot = measure_shot(swapped.frames, scene=prompt)
    assert [obj.colour_ok for obj in shot.objects] == [True, False] and not shot.colour_ok


def test_results_are_json_and_total_up():
    prompt = "a red ball moving left on a blue background"
    good = measure_shot(clip_of(prompt, 1).frames, scene=prompt, seams=(8,))
    wrong = measure_shot(clip_of(prompt, 1).frames[::-1], scene=prompt)
    recoloured = measure_shot(clip_of(prompt.replace("red", "green"), 1).frames, scene=prompt)
    document = json.loads(json.dumps(eval_document([good, wrong, recoloured]), allow_nan=False))
    assert document["version"] == EVAL_SCHEMA_VERSION
    assert document["shots"][0]["prompt"] == prompt
    assert document["shots"][2]["objects"][0]["jump"] is None
    summary = summarize([good, wrong, recoloured])
    assert summary.shots == 3
    assert summary.background_correct == 1
    assert summary.object_colour_correct == pytest.approx(2 / 3)
    assert summary.motion_correct == pytest.approx(1 / 3)
    assert summary.ghosting == 0
    assert summary.seam_jump_ratio == pytest.approx(good.seam_jump_ratio)
    assert summarize([]).shots == 0


def test_motion_is_counted_per_prompted_direction():
    left, up = "a red ball moving left on a blue background", "a red ball moving up on a blue background"
    shots = [measure_shot(clip_of(left, 1).frames, scene=left),
             measure_shot(clip_of(left, 2).frames[::-1], scene=left),  # played backwards: moves right
             measure_shot(clip_of(up, 3).frames, scene=up)]
    assert motion_by_direction(shots) == {"moving left": {"objects": 2, "correct": 0.5},
                                         "moving up": {"objects": 1, "correct": 1.0}}
    assert motion_by_direction([]) == {}


def test_shots_are_also_totalled_by_how_many_objects_they_prompt():
    one = "a red ball moving left on a blue background"
    two = "a red ball moving left on a blue background, and a small white square moving up"
    shots = [measure_shot(clip_of(one, 1).frames, scene=one),
             measure_shot(clip_of(two, 2).frames, scene=two),
             measure_shot(clip_of(two, 3).frames[::-1], scene=two)]  # played backwards: both move wrong
    assert by_object_count(shots) == {
        "1": {"shots": 1, "object_colour_correct": 1.0, "motion_correct": 1.0, "ghosting": 0.0},
        "2": {"shots": 2, "object_colour_correct": 1.0, "motion_correct": 0.5, "ghosting": 0.0}}
    assert by_object_count([]) == {}


def test_bad_inputs_raise_eval_error():
    with pytest.raises(EvalError, match=r"shape \(17, 64, 64\)"):
        measure_shot(np.zeros((17, 64, 64), dtype=np.float32), scene="a red ball moving left on a blue background")
    with pytest.raises(EvalError, match="'purple'"):
        measure_shot(np.zeros((2, 8, 8, 3), dtype=np.float32), scene="a purple ball moving left on a blue background")


def test_a_picture_without_palette_colours_measures_nothing():
    grey = np.full((9, 32, 32, 3), 0.5, dtype=np.float32)
    shot = measure_shot(grey, scene="a red ball moving left on a blue background")
    assert shot.background is None and not shot.background_ok and not shot.colour_ok and not shot.motion_ok
    assert shot.to_dict()["temporal_flicker"] is None
    json.dumps(shot.to_dict(), allow_nan=False)
