"""The shapes world: clips of coloured balls and squares with their ground truth.

A clip is planned once (every random draw: sizes, speeds, start positions, the background's
texture) and then drawn through a window onto the world, so the same plan gives the full
frame and any crop of it pixel for pixel alike (plate extension needs what lies outside a
crop).

Motion is defined in the world: "moving right" means the object travels right relative to
the background, "standing still" that it stays put on the background. A pan moves the camera
over the world, so in a shot with "camera panning right" the background and a still object
slide left on screen. The plain background carries faint vertical stripes fixed in the world
(it is mixed towards mid grey by a smooth random amount along x) so that a pan shows even
where no object is; the truth records the camera's offset per frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sora_vfx.errors import RenderError
from sora_vfx.shapes.grammar import MOTION_DIRECTION, PALETTE, SIZE_FRACTION, Scene, SceneObject

#: Fraction of the frame (width for left/right, height for up/down) that a moving object
#: travels in the world over a whole clip, drawn uniformly per object.
OBJECT_TRAVEL = (0.4, 0.6)
#: Fraction of the frame width that a panning camera travels over a whole clip.
PAN_TRAVEL = (0.15, 0.25)
#: How far the background's stripes mix it towards mid grey, at most.
TEXTURE_STRENGTH = 0.12
#: Stripe periods, as fractions of the frame width; several incommensurate ones so that the
#: texture never repeats within a frame and a shift of it is unambiguous.
TEXTURE_PERIODS = (0.2, 0.6)
#: Each object's size is its size word's fraction times a factor drawn from this range.
SIZE_JITTER = (0.9, 1.1)
_TEXTURE_WAVES = 3
_PLACEMENT_TRIES = 32
_GREY = np.float32(0.5)


@dataclass(frozen=True)
class Box:
    """A window onto the world in full-frame pixels; it may reach beyond the full frame."""

    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class ObjectPlan:
    """One object's drawn size and straight path, in full-frame pixels."""

    obj: SceneObject
    radius: float
    """Radius of a ball, half the side of a square."""
    start: tuple[float, float]
    """Screen centre (x, y) at the first frame."""
    velocity: tuple[float, float]
    """World velocity (x, y) in pixels per frame; the screen velocity adds the pan."""


@dataclass(frozen=True)
class ClipPlan:
    """Every random choice of one clip; :func:`draw_clip` turns it into pixels."""

    scene: Scene
    frames: int
    width: int
    height: int
    objects: tuple[ObjectPlan, ...]
    pan_velocity: float
    """Camera velocity along x in pixels per frame; positive pans right."""
    texture: tuple[tuple[float, float], ...]
    """(period in pixels, phase in radians) of each stripe wave."""


@dataclass(frozen=True, eq=False)
class ObjectTruth:
    """Where one object is in every frame of a drawn clip, in that clip's pixels.

    Pixel (row i, column j) covers x in [j, j + 1) and y in [i, i + 1).
    """

    obj: SceneObject
    centre: np.ndarray
    """(frames, 2) float: the shape's geometric centre (x, y), also when partly outside."""
    radius: float
    visible: np.ndarray
    """(frames,) float: fraction of the shape's area seen (cropped by the frame, covered by
    objects in front)."""

    def to_dict(self) -> dict:
        """A JSON-ready copy."""
        return {
            "colour": self.obj.colour, "shape": self.obj.shape, "size": self.obj.size,
            "motion": self.obj.motion, "radius": self.radius,
            "centre": self.centre.round(3).tolist(), "visible": self.visible.round(4).tolist(),
        }


@dataclass(frozen=True, eq=False)
class Clip:
    """A drawn clip and its ground truth."""

    frames: np.ndarray
    """(frames, height, width, 3) float32, display-referred sRGB in [0, 1]."""
    plan: ClipPlan
    box: Box
    objects: tuple[ObjectTruth, ...]
    camera_x: np.ndarray
    """(frames,) float: how far the camera has panned right since the first frame, in pixels."""

    def to_dict(self) -> dict:
        """The truth (not the pixels) as a JSON-ready dict."""
        return {
            "box": [self.box.x, self.box.y, self.box.width, self.box.height],
            "full_size": [self.plan.width, self.plan.height],
            "camera_x": self.camera_x.round(3).tolist(),
            "objects": [truth.to_dict() for truth in self.objects],
        }


def plan_clip(scene: Scene, *, frames: int, width: int, height: int, rng: np.random.Generator) -> ClipPlan:
    """Make every random choice of a clip of ``scene``.

    Each moving object travels a random :data:`OBJECT_TRAVEL` share of the frame over the
    clip, from a random start chosen so that it stays in frame when it can. With two objects
    the second one's start is redrawn (a bounded number of times) until the two never touch.

    Args:
        scene: what to draw.
        frames: clip length.
        width: full-frame width in pixels.
        height: full-frame height in pixels.
        rng: the random source; the same state gives the same plan.

    Returns:
        The plan.

    Raises:
        RenderError: on fewer than one frame or a frame smaller than 8x8 pixels.
    """
    if frames < 1 or width < 8 or height < 8:
        raise RenderError(f"a shapes clip needs at least 1 frame of 8x8 pixels, not {frames} of {width}x{height}")
    steps = max(frames - 1, 1)
    pan_velocity = 0.0
    if scene.pan is not None:
        pan_velocity = rng.uniform(*PAN_TRAVEL) * width / steps * (1 if scene.pan == "right" else -1)
    texture = tuple(
        (float(rng.uniform(*TEXTURE_PERIODS) * width), float(rng.uniform(0, 2 * np.pi)))
        for _ in range(_TEXTURE_WAVES)
    )
    t = np.arange(frames, dtype=np.float64)[:, None]
    radii, velocities = [], []
    for obj in scene.objects:
        radii.append(float(SIZE_FRACTION[obj.size] * min(width, height) * rng.uniform(*SIZE_JITTER)))
        dx, dy = MOTION_DIRECTION[obj.motion]
        speed = rng.uniform(*OBJECT_TRAVEL) / steps * (width if dx else height)
        velocities.append((float(dx * speed), float(dy * speed)))
    # A square's corner reaches sqrt(2) times its half side from its centre.
    reach = [radius * (np.sqrt(2) if obj.shape == "square" else 1.0)
             for radius, obj in zip(radii, scene.objects, strict=True)]
    # Redraw all starts together until no two objects ever touch; a crossing that cannot be
    # avoided (both paths fill the frame) is kept, and the truth's visible share shows it.
    for _ in range(_PLACEMENT_TRIES if len(scene.objects) > 1 else 1):
        starts, paths = [], []
        for radius, velocity in zip(radii, velocities, strict=True):
            screen = np.array([velocity[0] - pan_velocity, velocity[1]])
            start = np.array([_start(rng, screen[0] * (frames - 1), width, radius),
                              _start(rng, screen[1] * (frames - 1), height, radius)])
            starts.append((float(start[0]), float(start[1])))
            paths.append(start + t * screen)
        if len(paths) < 2 or np.min(np.hypot(*(paths[0] - paths[1]).T)) > reach[0] + reach[1] + 1.0:
            break
    plans = [ObjectPlan(obj=obj, radius=radius, start=start, velocity=velocity)
             for obj, radius, start, velocity in zip(scene.objects, radii, starts, velocities, strict=True)]
    return ClipPlan(scene=scene, frames=frames, width=width, height=height, objects=tuple(plans),
                    pan_velocity=float(pan_velocity), texture=texture)


def _start(rng: np.random.Generator, travel: float, size: int, radius: float) -> float:
    """A start coordinate from which the whole path stays in frame, or a centred path if none does."""
    low, high = max(radius, radius - travel), min(size - radius, size - radius - travel)
    if low > high:
        return (size - travel) / 2
    return float(rng.uniform(low, high))


def draw_clip(plan: ClipPlan, *, box: Box | None = None) -> Clip:
    """Draw a planned clip through a window onto the world.

    Args:
        plan: from :func:`plan_clip`.
        box: the window in full-frame pixels; the full frame when None. Drawing a box gives
            exactly the pixels of the full frame inside it, and the world continues outside.

    Returns:
        The clip with its truth in the box's own pixel coordinates.
    """
    box = box or Box(0, 0, plan.width, plan.height)
    t = np.arange(plan.frames, dtype=np.float32)
    camera_x = t * np.float32(plan.pan_velocity)
    # Pixel centres, in full-frame coordinates.
    xs = np.arange(box.x, box.x + box.width, dtype=np.float32) + np.float32(0.5)
    ys = np.arange(box.y, box.y + box.height, dtype=np.float32) + np.float32(0.5)

    world_x = xs[None, :] + camera_x[:, None]
    # Each wave lies in [-1, 1]; their mean maps to a mix in [0, TEXTURE_STRENGTH]. A plan
    # without waves draws a flat background.
    waves = np.zeros_like(world_x)
    for period, phase in plan.texture:
        waves += np.sin(np.float32(2 * np.pi / period) * world_x + np.float32(phase)) / np.float32(len(plan.texture))
    strength = np.float32(TEXTURE_STRENGTH / 2 if plan.texture else 0.0)
    mix = (strength * (1 + waves))[:, None, :, None]
    background = np.asarray(PALETTE[plan.scene.background], dtype=np.float32)
    frames = np.broadcast_to(background + mix * (_GREY - background), (plan.frames, box.height, box.width, 3))

    coverages = []
    centres = []
    for obj_plan in plan.objects:
        sx = obj_plan.start[0] + t * np.float32(obj_plan.velocity[0] - plan.pan_velocity)
        sy = obj_plan.start[1] + t * np.float32(obj_plan.velocity[1])
        coverage = _coverage(obj_plan.obj.shape, np.float32(obj_plan.radius), sx, sy, xs, ys)
        colour = np.asarray(PALETTE[obj_plan.obj.colour], dtype=np.float32)
        frames = frames + coverage[..., None] * (colour - frames)
        coverages.append(coverage)
        centres.append(np.stack([sx - box.x, sy - box.y], axis=1))

    truths = []
    for i, (obj_plan, coverage) in enumerate(zip(plan.objects, coverages, strict=True)):
        seen = coverage
        for later in coverages[i + 1:]:
            seen = seen * (1 - later)
        area = (np.pi if obj_plan.obj.shape == "ball" else 4.0) * obj_plan.radius**2
        visible = np.minimum(seen.sum(axis=(1, 2)) / area, 1.0)
        truths.append(ObjectTruth(obj=obj_plan.obj, centre=centres[i].astype(np.float64), radius=obj_plan.radius,
                                  visible=visible.astype(np.float64)))
    return Clip(frames=np.ascontiguousarray(frames, dtype=np.float32), plan=plan, box=box, objects=tuple(truths),
                camera_x=camera_x.astype(np.float64))


def object_coverage(clip: Clip) -> np.ndarray:
    """(frames, height, width) float32: the share of each pixel of ``clip`` that an object
    covers (the largest over its objects), from the truth; for weighting training losses."""
    covered = np.zeros(clip.frames.shape[:3], dtype=np.float32)
    for coverage in object_coverages(clip):
        covered = np.maximum(covered, coverage)
    return covered


def object_coverages(clip: Clip) -> np.ndarray:
    """(objects, frames, height, width) float32: the share of each pixel of ``clip`` that each
    object covers, in the prompt's order, whether or not another object is in front; from the
    truth, for training losses that tell the objects apart."""
    xs = np.arange(clip.box.width, dtype=np.float32) + np.float32(0.5)
    ys = np.arange(clip.box.height, dtype=np.float32) + np.float32(0.5)
    each = [_coverage(truth.obj.shape, np.float32(truth.radius), *truth.centre.astype(np.float32).T, xs, ys)
            for truth in clip.objects]
    return np.stack(each) if each else np.zeros((0, *clip.frames.shape[:3]), dtype=np.float32)


def motion_field(clip: Clip) -> np.ndarray:
    """(frames, height, width, 2) float32: the screen velocity (x, y) of what each pixel of
    ``clip`` shows, in pixels per frame: the background moves against the pan, objects with
    their own velocity less the pan, blended by coverage in drawing order (later objects in
    front). From the plan and the truth, as :func:`object_coverages`; for training losses that
    are about motion."""
    plan = clip.plan
    field = np.zeros((*clip.frames.shape[:3], 2), dtype=np.float32)
    field[..., 0] = -plan.pan_velocity
    for obj_plan, coverage in zip(plan.objects, object_coverages(clip), strict=True):
        screen = np.array([obj_plan.velocity[0] - plan.pan_velocity, obj_plan.velocity[1]], dtype=np.float32)
        field = field + coverage[..., None] * (screen - field)
    return field


def _coverage(shape: str, radius: np.float32, cx: np.ndarray, cy: np.ndarray, xs: np.ndarray,
              ys: np.ndarray) -> np.ndarray:
    """(frames, height, width) share of each pixel inside the shape: anti-aliased edges."""
    dx = xs[None, None, :] - cx[:, None, None]
    dy = ys[None, :, None] - cy[:, None, None]
    if shape == "ball":
        # Distance to the edge approximates the covered share within a pixel of the rim.
        return np.clip(radius + np.float32(0.5) - np.sqrt(dx * dx + dy * dy), 0, 1)
    # An axis-aligned square covers exactly the product of its overlaps along x and y.
    half = np.float32(0.5)
    over_x = np.clip(np.minimum(dx + half, radius) - np.maximum(dx - half, -radius), 0, 1)
    over_y = np.clip(np.minimum(dy + half, radius) - np.maximum(dy - half, -radius), 0, 1)
    return over_x * over_y


def render_clip(scene: Scene, *, frames: int, width: int, height: int, rng: np.random.Generator,
                crop: Box | None = None) -> Clip:
    """Plan and draw one clip of ``scene``.

    Args:
        scene: what to draw, e.g. from :func:`~sora_vfx.shapes.parse_prompt`.
        frames: clip length.
        width: full-frame width in pixels.
        height: full-frame height in pixels.
        rng: the random source; the same seed gives the same pixels.
        crop: draw only this window of the full frame (truth in its coordinates); draw other
            windows of the same clip with ``draw_clip(clip.plan, box=...)``.

    Returns:
        The clip: float32 (frames, height, width, 3) sRGB frames and the truth per object.

    Raises:
        RenderError: on fewer than one frame or a frame smaller than 8x8 pixels.
    """
    return draw_clip(plan_clip(scene, frames=frames, width=width, height=height, rng=rng), box=crop)
