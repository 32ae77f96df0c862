"""The shapes world's prompt language: words, what each word draws, parsing and captions.

One grammar serves as the training captions and as the prompts users type::

    a [small|large] <colour> <ball|square> <motion> on a <colour> background
      [, and a [small|large] <colour> <ball|square> <motion>] [, camera panning left|right]

Parsing is tolerant of case, spacing and punctuation; every other deviation is a
:class:`PromptError` that names the word it did not understand and lists the valid ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from sora_vfx.errors import PromptError

Colour = Literal["red", "green", "blue", "yellow", "white", "black"]
Shape = Literal["ball", "square"]
Size = Literal["small", "medium", "large"]
Motion = Literal["moving left", "moving right", "moving up", "moving down", "standing still"]
Pan = Literal["left", "right"]

COLOURS: tuple[Colour, ...] = get_args(Colour)
SHAPES: tuple[Shape, ...] = get_args(Shape)
SIZES: tuple[Size, ...] = get_args(Size)
MOTIONS: tuple[Motion, ...] = get_args(Motion)
PANS: tuple[Pan, ...] = get_args(Pan)

#: Display-referred sRGB of each colour word. The corners of the cube [0.1, 0.9]^3: every pair
#: is at least 0.8 apart, so a lossy model's colours still fall nearest the right word, and no
#: channel reaches the cube's edge, where the inverse ACES SDR view that takes renders to scene
#: linear does not round-trip (display yellow (1, 1, 0) comes back as a different colour).
PALETTE: dict[Colour, tuple[float, float, float]] = {
    "red": (0.9, 0.1, 0.1),
    "green": (0.1, 0.9, 0.1),
    "blue": (0.1, 0.1, 0.9),
    "yellow": (0.9, 0.9, 0.1),
    "white": (0.9, 0.9, 0.9),
    "black": (0.1, 0.1, 0.1),
}

#: An object's radius (ball) or half side (square) as a fraction of the frame's shorter side.
SIZE_FRACTION: dict[Size, float] = {"small": 0.07, "medium": 0.11, "large": 0.16}

#: Screen direction of each motion word as (x, y) unit steps; y grows downwards, as in pixels.
MOTION_DIRECTION: dict[Motion, tuple[int, int]] = {
    "moving left": (-1, 0),
    "moving right": (1, 0),
    "moving up": (0, -1),
    "moving down": (0, 1),
    "standing still": (0, 0),
}

#: Chance that :func:`random_scene` adds a second object, and that it pans the camera.
SECOND_OBJECT_CHANCE = 0.25
PAN_CHANCE = 0.25

#: The most objects a scene (and a prompt) has.
MAX_OBJECTS = 2


@dataclass(frozen=True)
class SceneObject:
    """One prompted object: what it looks like and how it moves in the world."""

    colour: Colour
    shape: Shape
    size: Size = "medium"
    motion: Motion = "standing still"


@dataclass(frozen=True)
class Scene:
    """A parsed prompt: one or two objects on a plain background, maybe a panning camera.

    Raises:
        PromptError: on a word outside the grammar, no or more than two objects, or two of
            the background and object colours the same (the measurements tell objects apart
            by colour alone).
    """

    objects: tuple[SceneObject, ...]
    background: Colour
    pan: Pan | None = None

    def __post_init__(self) -> None:
        problems = []
        if not 1 <= len(self.objects) <= MAX_OBJECTS:
            problems.append(f"a scene has one or two objects, not {len(self.objects)}")
        for obj in self.objects:
            for value, valid in ((obj.colour, COLOURS), (obj.shape, SHAPES), (obj.size, SIZES),
                                 (obj.motion, MOTIONS)):
                if value not in valid:
                    problems.append(f"{value!r} is not one of {', '.join(valid)}")
        if self.background not in COLOURS:
            problems.append(f"background {self.background!r} is not one of {', '.join(COLOURS)}")
        if self.pan is not None and self.pan not in PANS:
            problems.append(f"pan {self.pan!r} is not one of {', '.join(PANS)}")
        colours = [self.background, *(obj.colour for obj in self.objects)]
        if len(set(colours)) != len(colours):
            problems.append(f"the background and objects need different colours, got {', '.join(colours)}")
        if problems:
            raise PromptError("; ".join(problems))


def caption(scene: Scene) -> str:
    """Write a scene as the canonical prompt that :func:`parse_prompt` reads back.

    Args:
        scene: the scene to describe.

    Returns:
        The prompt, e.g. ``"a small red ball moving left on a blue background, camera panning right"``.
    """
    first, *rest = scene.objects
    text = f"a {_noun_phrase(first)} on a {scene.background} background"
    for obj in rest:
        text += f", and a {_noun_phrase(obj)}"
    if scene.pan is not None:
        text += f", camera panning {scene.pan}"
    return text


def _noun_phrase(obj: SceneObject) -> str:
    size = "" if obj.size == "medium" else f"{obj.size} "
    return f"{size}{obj.colour} {obj.shape} {obj.motion}"


def parse_prompt(text: str) -> Scene:
    """Read a prompt written in the shapes grammar.

    Args:
        text: the prompt; case, extra spaces and punctuation do not matter.

    Returns:
        The scene it describes.

    Raises:
        PromptError: (a ``ValueError``) naming the first word that does not fit and the words
            that would have, or the rule the scene breaks.
    """
    reader = _Words(text)
    objects = [reader.noun_phrase()]
    reader.expect("on")
    reader.expect("a")
    background = reader.choose("background colour", COLOURS)
    reader.expect("background")
    if reader.accept("and"):
        objects.append(reader.noun_phrase())
    pan = None
    if reader.accept("camera"):
        reader.expect("panning")
        pan = reader.choose("pan direction", PANS)
    reader.end()
    try:
        return Scene(objects=tuple(objects), background=background, pan=pan)
    except PromptError as error:
        raise PromptError(f"cannot use prompt {text!r}: {error}") from None


class _Words:
    """A cursor over a prompt's words that raises a readable error at the first misfit."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.words = re.findall(r"[a-z]+", text.lower())
        self.at = 0

    def _peek(self) -> str | None:
        return self.words[self.at] if self.at < len(self.words) else None

    def _fail(self, what: str, valid: tuple[str, ...]) -> PromptError:
        word = self._peek()
        found = "the end of the prompt" if word is None else f"{word!r} (word {self.at + 1})"
        return PromptError(f"cannot read prompt {self.text!r}: expected {what} but found {found}; "
                           f"valid: {', '.join(valid)}")

    def accept(self, word: str) -> bool:
        if self._peek() == word:
            self.at += 1
            return True
        return False

    def expect(self, word: str) -> None:
        if not self.accept(word):
            raise self._fail(f"{word!r}", (word,))

    def choose(self, what: str, valid: tuple[str, ...]) -> str:
        word = self._peek()
        if word not in valid:
            raise self._fail(what, valid)
        self.at += 1
        return word

    def noun_phrase(self) -> SceneObject:
        self.expect("a")
        word = self._peek()
        size: str = "medium"
        if word in SIZES:
            size = self.choose("size", SIZES)
        elif word not in COLOURS:
            raise self._fail("a size or colour", SIZES + COLOURS)
        colour = self.choose("colour", COLOURS)
        shape = self.choose("shape", SHAPES)
        first = self.choose("motion", ("moving", "standing"))
        if first == "moving":
            motion = f"moving {self.choose('direction', ('left', 'right', 'up', 'down'))}"
        else:
            self.expect("still")
            motion = "standing still"
        return SceneObject(colour=colour, shape=shape, size=size, motion=motion)

    def end(self) -> None:
        if self._peek() is not None:
            raise self._fail("the end of the prompt or ', and a ...' or ', camera panning ...'",
                             ("and", "camera"))


def random_scene(rng: np.random.Generator) -> Scene:
    """Draw a scene from the grammar.

    Args:
        rng: the random source; the same state gives the same scene.

    Returns:
        A scene with one object, or two (with :data:`SECOND_OBJECT_CHANCE`), all colours
        different from each other and from the background, and a pan with :data:`PAN_CHANCE`.
    """
    colours = [COLOURS[i] for i in rng.permutation(len(COLOURS))[:3]]
    background, *object_colours = colours
    count = 2 if rng.random() < SECOND_OBJECT_CHANCE else 1
    objects = tuple(
        SceneObject(
            colour=object_colours[i],
            shape=SHAPES[rng.integers(len(SHAPES))],
            size=SIZES[rng.integers(len(SIZES))],
            motion=MOTIONS[rng.integers(len(MOTIONS))],
        )
        for i in range(count)
    )
    pan = PANS[rng.integers(len(PANS))] if rng.random() < PAN_CHANCE else None
    return Scene(objects=objects, background=background, pan=pan)
