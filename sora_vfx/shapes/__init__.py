"""The shapes world: a prompt grammar of coloured balls and squares, and clips with ground truth.

Used to train the built-in ``shapes`` model (:mod:`sora_vfx.models.shapes`) and to measure what
each render feature does to the picture (:mod:`sora_vfx.eval`); it needs numpy only, no torch.
"""

from sora_vfx.shapes.grammar import (
    COLOURS,
    MOTION_DIRECTION,
    MOTIONS,
    PALETTE,
    PANS,
    SHAPES,
    SIZE_FRACTION,
    SIZES,
    Colour,
    Motion,
    Pan,
    PromptError,
    Scene,
    SceneObject,
    Shape,
    Size,
    caption,
    parse_prompt,
    random_scene,
)
from sora_vfx.shapes.world import (
    Box,
    Clip,
    ClipPlan,
    ObjectPlan,
    ObjectTruth,
    draw_clip,
    plan_clip,
    render_clip,
)

__all__ = [
    "COLOURS",
    "MOTIONS",
    "MOTION_DIRECTION",
    "PALETTE",
    "PANS",
    "SHAPES",
    "SIZES",
    "SIZE_FRACTION",
    "Box",
    "Clip",
    "ClipPlan",
    "Colour",
    "Motion",
    "ObjectPlan",
    "ObjectTruth",
    "Pan",
    "PromptError",
    "Scene",
    "SceneObject",
    "Shape",
    "Size",
    "caption",
    "draw_clip",
    "parse_prompt",
    "plan_clip",
    "random_scene",
    "render_clip",
]
