"""Measure one rendered shot of the shapes world against its prompt.

Adherence (background colour, object colours, motion, camera pan, shape, size), ghosting,
jumps (overall and at window seams) and temporal flicker, from plain colour segmentation:
see :mod:`sora_vfx.eval.segment` and :mod:`sora_vfx.eval.motion`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sora_vfx.errors import EvalError
from sora_vfx.eval.flicker import background_flicker
from sora_vfx.eval.motion import (
    JUMP_FLOOR_PX,
    STILL_FRACTION,
    Jump,
    PanEstimate,
    estimate_pan,
    largest_jump,
    name_motion,
    seam_jumps,
)
from sora_vfx.eval.segment import MAX_COLOUR_DISTANCE, UNCLASSIFIED, Blobs, classify_colours, find_blobs
from sora_vfx.shapes import (
    COLOURS,
    SIZE_FRACTION,
    SIZES,
    Colour,
    Motion,
    Pan,
    Scene,
    SceneObject,
    Shape,
    Size,
    caption,
    parse_prompt,
)
from sora_vfx.shapes.world import SIZE_JITTER

#: A blob smaller than this share of the smallest object the world draws is noise, not an object.
MIN_AREA_SHARE = 0.25
#: Area over bounding-box area above which a blob is a square (a disc fills pi/4 of its box).
SQUARE_FILL = 0.89


@dataclass(frozen=True)
class ObjectMeasures:
    """How one prompted object came out."""

    prompted: SceneObject
    colour_ok: bool
    """Its colour is among the largest non-background colours of the shot."""
    found_frames: int
    """Frames with a blob of its colour of at least the minimum area."""
    motion: Motion | None
    motion_ok: bool
    displacement: tuple[float, float]
    """World displacement over the clip (x, y) as fractions of the frame width and height."""
    shape: Shape | None
    shape_ok: bool
    size: Size | None
    size_ok: bool
    area_ratio: float
    """Median blob area over the area the prompted size word draws."""
    ghost_frames: tuple[int, ...]
    """Frames where its colour shows as two or more blobs of at least the minimum area."""
    jump: Jump | None
    seam_jumps: tuple[Jump, ...]

    def to_dict(self) -> dict:
        """A JSON-ready copy (NaN as null)."""
        return _json({
            "prompted": {"colour": self.prompted.colour, "shape": self.prompted.shape,
                         "size": self.prompted.size, "motion": self.prompted.motion},
            "colour_ok": self.colour_ok, "found_frames": self.found_frames,
            "motion": self.motion, "motion_ok": self.motion_ok, "displacement": list(self.displacement),
            "shape": self.shape, "shape_ok": self.shape_ok, "size": self.size, "size_ok": self.size_ok,
            "area_ratio": self.area_ratio, "ghost_frames": list(self.ghost_frames),
            "jump": self.jump.to_dict() if self.jump else None,
            "seam_jumps": [jump.to_dict() for jump in self.seam_jumps],
        })


@dataclass(frozen=True)
class ShotMeasures:
    """Every measurement of one shot."""

    prompt: str
    frames: int
    width: int
    height: int
    background: Colour | None
    background_ok: bool
    object_colours: tuple[Colour, ...]
    """The largest non-background colours, as many as objects were prompted, largest first."""
    pan: Pan | None
    pan_ok: bool
    camera_travel: float
    """Measured camera travel over the clip as a fraction of the width (positive = right)."""
    textured: bool
    """Whether the background showed texture enough to read a pan from."""
    temporal_flicker: float
    """Mean absolute frame-to-frame change of background pixels, sRGB 0-1."""
    objects: tuple[ObjectMeasures, ...]

    @property
    def colour_ok(self) -> bool:
        """Every prompted object's colour was found."""
        return all(obj.colour_ok for obj in self.objects)

    @property
    def motion_ok(self) -> bool:
        """Every prompted object moved as prompted."""
        return all(obj.motion_ok for obj in self.objects)

    @property
    def ghost_frames(self) -> tuple[int, ...]:
        """Frames where any prompted object shows as two or more blobs."""
        return tuple(sorted({frame for obj in self.objects for frame in obj.ghost_frames}))

    @property
    def jump_ratio(self) -> float:
        """The largest jump ratio of any object (NaN when no object was tracked)."""
        return max((obj.jump.ratio for obj in self.objects if obj.jump), default=float("nan"))

    @property
    def seam_jump_ratio(self) -> float | None:
        """The largest jump ratio at a window seam, None when no seams were given or measured."""
        return max((jump.ratio for obj in self.objects for jump in obj.seam_jumps), default=None)

    def to_dict(self) -> dict:
        """A JSON-ready copy (NaN as null)."""
        return _json({
            "prompt": self.prompt, "frames": self.frames, "width": self.width, "height": self.height,
            "background": self.background, "background_ok": self.background_ok,
            "object_colours": list(self.object_colours), "colour_ok": self.colour_ok, "motion_ok": self.motion_ok,
            "pan": self.pan, "pan_ok": self.pan_ok, "camera_travel": self.camera_travel, "textured": self.textured,
            "ghost_frames": list(self.ghost_frames), "jump_ratio": self.jump_ratio,
            "seam_jump_ratio": self.seam_jump_ratio, "temporal_flicker": self.temporal_flicker,
            "objects": [obj.to_dict() for obj in self.objects],
        })


def measure_shot(frames: np.ndarray, *, scene: Scene | str, seams: Sequence[int] = (),
                 min_area: float | None = None, still_fraction: float = STILL_FRACTION,
                 jump_floor: float = JUMP_FLOOR_PX, max_distance: float = MAX_COLOUR_DISTANCE) -> ShotMeasures:
    """Measure a rendered shot against the prompt it was rendered from.

    Args:
        frames: (frames, height, width, 3) display-referred sRGB floats, the shot at the size
            the prompt's size words refer to (the full frame).
        scene: the prompt, parsed or as text.
        seams: 0-based indices of the frames where a long shot's windows meet.
        min_area: smallest blob in pixels that counts as an object; by default
            :data:`MIN_AREA_SHARE` of the smallest object the world draws at this size.
        still_fraction: see :data:`~sora_vfx.eval.motion.STILL_FRACTION`.
        jump_floor: see :data:`~sora_vfx.eval.motion.JUMP_FLOOR_PX`.
        max_distance: see :data:`~sora_vfx.eval.segment.MAX_COLOUR_DISTANCE`.

    Returns:
        The measurements.

    Raises:
        EvalError: frames of the wrong shape, or a prompt outside the grammar.
    """
    rgb = np.asarray(frames, dtype=np.float32)
    if rgb.ndim != 4 or rgb.shape[-1] != 3 or 0 in rgb.shape:
        raise EvalError(f"frames must be (frames, height, width, 3) RGB, not shape {rgb.shape}")
    if isinstance(scene, str):
        try:
            scene = parse_prompt(scene)
        except ValueError as error:
            raise EvalError(str(error)) from None
    count, height, width, _ = rgb.shape
    short = min(width, height)
    if min_area is None:
        min_area = max(4.0, MIN_AREA_SHARE * math.pi * (SIZE_FRACTION["small"] * SIZE_JITTER[0] * short) ** 2)

    classes = classify_colours(rgb, max_distance=max_distance)
    votes = np.bincount(classes[classes >= 0].astype(np.int64), minlength=len(COLOURS))
    background = int(np.argmax(votes)) if votes.any() else None
    # Only objects are measured as blobs; leaving the background out saves most of the work.
    objects_only = classes if background is None else np.where(classes == background, np.int8(UNCLASSIFIED), classes)
    blobs = find_blobs(objects_only)
    if background is None:
        pan, flicker = PanEstimate(camera_x=np.zeros(count), textured=False), float("nan")
    else:
        pan = estimate_pan(rgb, classes, background)
        flicker = background_flicker(rgb, classes, background, pan.camera_x)
    measured_pan = pan.direction(width)

    found = _largest_colours(blobs, count, background, min_area)[: len(scene.objects)]
    object_colours = tuple(COLOURS[k] for k in found)
    objects = tuple(
        _measure_object(obj, blobs, count=count, width=width, height=height, camera_x=pan.camera_x,
                        found=object_colours, seams=seams, min_area=min_area, still_fraction=still_fraction,
                        jump_floor=jump_floor)
        for obj in scene.objects
    )
    return ShotMeasures(
        prompt=caption(scene), frames=count, width=width, height=height,
        background=None if background is None else COLOURS[background],
        background_ok=background is not None and COLOURS[background] == scene.background,
        object_colours=object_colours, pan=measured_pan, pan_ok=measured_pan == scene.pan,
        camera_travel=pan.travel / width, textured=pan.textured, temporal_flicker=flicker, objects=objects,
    )


def _largest_colours(blobs: Blobs, count: int, background: int | None, min_area: float) -> list[int]:
    """Non-background colours by the median over frames of their largest blob, largest first."""
    scores = []
    for colour in range(len(COLOURS)):
        if colour == background:
            continue
        area = _per_frame_largest(blobs, colour, count, min_area)[0]
        score = float(np.median(np.nan_to_num(area)))
        if score > 0:
            scores.append((score, colour))
    return [colour for _, colour in sorted(scores, key=lambda item: -item[0])]


def _per_frame_largest(blobs: Blobs, colour: int, count: int,
                       min_area: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(area, blob index, blob count) per frame for one colour's blobs of at least ``min_area``."""
    index = blobs.of(colour, min_area=min_area)
    frame = blobs.frame[index]
    area = np.full(count, np.nan)
    largest = np.full(count, -1, dtype=np.int64)
    # ``index`` runs largest first, so each frame's first entry is its largest blob.
    seen, first = np.unique(frame, return_index=True)
    area[seen] = blobs.area[index[first]]
    largest[seen] = index[first]
    return area, largest, np.bincount(frame, minlength=count)


def _measure_object(obj: SceneObject, blobs: Blobs, *, count: int, width: int, height: int, camera_x: np.ndarray,
                    found: tuple[Colour, ...], seams: Sequence[int], min_area: float, still_fraction: float,
                    jump_floor: float) -> ObjectMeasures:
    colour = COLOURS.index(obj.colour)
    area, largest, blob_count = _per_frame_largest(blobs, colour, count, min_area)
    seen = largest >= 0
    track = np.full((count, 2), np.nan)
    track[seen, 0] = blobs.x[largest[seen]]
    track[seen, 1] = blobs.y[largest[seen]]
    motion, displacement = name_motion(track, camera_x, width=width, height=height, still_fraction=still_fraction)

    shape: Shape | None = None
    size: Size | None = None
    area_ratio = float("nan")
    if seen.any():
        shape = "square" if float(np.median(blobs.fill[largest[seen]])) >= SQUARE_FILL else "ball"
        median_area = float(np.median(area[seen]))
        unit = (math.pi if obj.shape == "ball" else 4.0) * min(width, height) ** 2
        expected = {word: unit * SIZE_FRACTION[word] ** 2 for word in SIZES}
        area_ratio = median_area / expected[obj.size]
        size = min(SIZES, key=lambda word: abs(math.log(median_area / expected[word])))
    return ObjectMeasures(
        prompted=obj, colour_ok=obj.colour in found, found_frames=int(seen.sum()),
        motion=motion, motion_ok=motion == obj.motion, displacement=displacement,
        shape=shape, shape_ok=shape == obj.shape, size=size, size_ok=size == obj.size, area_ratio=area_ratio,
        ghost_frames=tuple(int(f) for f in np.flatnonzero(blob_count >= 2)),
        jump=largest_jump(track, floor=jump_floor), seam_jumps=seam_jumps(track, seams, floor=jump_floor),
    )


def _json(value):
    """Floats that are not finite become None: JSON has no NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json(item) for item in value]
    return value
