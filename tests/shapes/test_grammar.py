"""The shapes prompt grammar: parsing, captions and random scenes."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest

from sora_vfx.errors import SoraVfxError
from sora_vfx.shapes import (
    COLOURS,
    MOTIONS,
    PALETTE,
    SHAPES,
    SIZES,
    PromptError,
    Scene,
    SceneObject,
    caption,
    parse_prompt,
    random_scene,
)


def test_parse_reads_every_part():
    scene = parse_prompt("a small red ball moving left on a blue background, and a large green square standing still,"
                         " camera panning right")
    assert scene == Scene(
        objects=(SceneObject("red", "ball", "small", "moving left"),
                 SceneObject("green", "square", "large", "standing still")),
        background="blue",
        pan="right",
    )


def test_no_size_word_is_medium():
    scene = parse_prompt("a yellow square moving up on a black background")
    assert scene.objects == (SceneObject("yellow", "square", "medium", "moving up"),)
    assert scene.pan is None
    assert caption(scene) == "a yellow square moving up on a black background"


def test_parse_tolerates_case_spacing_and_punctuation():
    messy = "  A   Small RED ball  moving LEFT on a Blue background ,camera   panning right. "
    assert caption(parse_prompt(messy)) == "a small red ball moving left on a blue background, camera panning right"


def test_caption_round_trips_over_random_scenes():
    rng = np.random.default_rng(0)
    for _ in range(500):
        scene = random_scene(rng)
        text = caption(scene)
        assert parse_prompt(text) == scene
        assert caption(parse_prompt(text.upper().replace(" ", "   "))) == text


@pytest.mark.parametrize(
    ("prompt", "word", "valid"),
    [
        ("a purple ball moving left on a red background", "'purple'", "small, medium, large, red, green"),
        ("a red cube moving left on a blue background", "'cube'", "ball, square"),
        ("a red ball moving sideways on a blue background", "'sideways'", "left, right, up, down"),
        ("a red ball jumping on a blue background", "'jumping'", "moving, standing"),
        ("a red ball moving left on a pink background", "'pink'", "red, green, blue, yellow, white, black"),
        ("a red ball moving left on a blue background, camera panning up", "'up'", "left, right"),
        ("a red ball moving left on a blue background, camera zooming in", "'zooming'", "panning"),
        ("a red ball moving left on a blue background, slowly", "'slowly'", "and, camera"),
        ("a red ball moving left", "the end of the prompt", "on"),
    ],
)
def test_parse_errors_name_the_word_and_the_valid_ones(prompt, word, valid):
    with pytest.raises(PromptError) as caught:
        parse_prompt(prompt)
    message = str(caught.value)
    assert word in message
    assert f"valid: {valid}" in message
    assert prompt in message


def test_prompt_error_is_a_value_error_and_a_user_error():
    with pytest.raises(ValueError):
        parse_prompt("a ball")
    assert issubclass(PromptError, SoraVfxError)


@pytest.mark.parametrize(
    "prompt",
    [
        "a red ball moving left on a red background",
        "a red ball moving left on a blue background, and a red square standing still",
        "a red ball moving left on a blue background, and a small blue square standing still",
    ],
)
def test_colours_must_differ(prompt):
    with pytest.raises(PromptError, match="different colours"):
        parse_prompt(prompt)


def test_scene_checks_its_words():
    with pytest.raises(PromptError, match="'purple' is not one of"):
        Scene(objects=(SceneObject("purple", "ball"),), background="red")  # type: ignore[arg-type]
    with pytest.raises(PromptError, match="one or two objects"):
        Scene(objects=(), background="red")


def test_random_scene_draws_the_whole_grammar():
    rng = np.random.default_rng(1)
    scenes = [random_scene(rng) for _ in range(3000)]
    objects = [obj for scene in scenes for obj in scene.objects]
    assert {obj.colour for obj in objects} == set(COLOURS)
    assert {obj.shape for obj in objects} == set(SHAPES)
    assert {obj.size for obj in objects} == set(SIZES)
    assert {obj.motion for obj in objects} == set(MOTIONS)
    assert {scene.background for scene in scenes} == set(COLOURS)
    pans = Counter(scene.pan for scene in scenes)
    assert set(pans) == {None, "left", "right"}
    assert 0.2 < 1 - pans[None] / len(scenes) < 0.3
    assert 0.2 < sum(len(scene.objects) == 2 for scene in scenes) / len(scenes) < 0.3
    for scene in scenes:
        colours = [scene.background, *(obj.colour for obj in scene.objects)]
        assert len(set(colours)) == len(colours)


def test_random_scene_is_deterministic():
    first = [random_scene(np.random.default_rng(7)) for _ in range(3)]
    assert first[0] == first[1] == first[2]


def test_palette_colours_are_far_apart_and_inside_the_cube():
    values = np.array([PALETTE[name] for name in COLOURS])
    assert values.min() >= 0.1 and values.max() <= 0.9
    gaps = [np.linalg.norm(a - b) for a, b in itertools.combinations(values, 2)]
    assert min(gaps) >= 0.8 - 1e-9
