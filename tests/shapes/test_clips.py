"""Training clips drawn with torch on the training device (the GPU recipe) are the world's own."""

import numpy as np
import pytest
import torch

from sora_vfx.models.shapes.clips import draw_clips, world_clips
from sora_vfx.shapes import Scene, SceneObject, plan_clip, random_scene
from sora_vfx.shapes.world import draw_clip, motion_field, object_coverage, object_coverages


def test_torch_draws_the_worlds_pixels_coverage_and_motion():
    rng = np.random.default_rng(4)
    plans = [plan_clip(random_scene(rng), frames=9, width=64, height=64, rng=rng) for _ in range(12)]
    # Two objects, a square and a ball, with a pan: every branch of the drawing.
    scene = Scene(objects=(SceneObject("red", "square", "large", "moving left"),
                           SceneObject("white", "ball", "small", "moving up")), background="blue", pan="right")
    plans.append(plan_clip(scene, frames=9, width=64, height=64, rng=rng))
    video, each, field = draw_clips(plans, "cpu")
    assert each.shape == (13, 2, 9, 64, 64)
    for i, plan in enumerate(plans):
        clip = draw_clip(plan)
        np.testing.assert_allclose(video[i].permute(1, 2, 3, 0).numpy(), clip.frames, atol=2e-5)
        objects = len(plan.objects)
        np.testing.assert_allclose(each[i, :objects].numpy(), object_coverages(clip), atol=2e-5)
        assert not each[i, objects:].any()  # no second object: nothing covered in its slot
        np.testing.assert_allclose(each[i].amax(0).numpy(), object_coverage(clip), atol=2e-5)
        np.testing.assert_allclose(field[i].permute(1, 2, 3, 0).numpy(), motion_field(clip), atol=2e-5)


def test_both_ways_draw_the_same_clips_from_the_same_draws():
    numpy_way = world_clips(np.random.default_rng(9), 6, 5, motion=True)
    torch_way = world_clips(np.random.default_rng(9), 6, 5, motion=True, on_device=True)
    assert numpy_way.captions == torch_way.captions
    for a, b in zip(numpy_way[:1] + numpy_way[2:], torch_way[:1] + torch_way[2:], strict=True):
        assert a.shape == b.shape and torch.allclose(a, b, atol=5e-5)
    with pytest.raises(ValueError, match="one length and size"):
        rng = np.random.default_rng(1)
        draw_clips([plan_clip(random_scene(rng), frames=n, width=64, height=64, rng=rng) for n in (5, 9)], "cpu")
