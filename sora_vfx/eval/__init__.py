"""Picture measurements of rendered shots of the shapes world, by plain image analysis.

Frames go in as display-referred sRGB float arrays; each shot is measured against its prompt
(:func:`measure_shot`) and many shots are totalled (:func:`summarize`).
"""

from sora_vfx.eval.flicker import background_flicker
from sora_vfx.eval.motion import (
    JUMP_FLOOR_PX,
    PAN_FRACTION,
    STILL_FRACTION,
    Jump,
    PanEstimate,
    estimate_pan,
    largest_jump,
    name_motion,
    seam_jumps,
)
from sora_vfx.eval.segment import (
    MAX_COLOUR_DISTANCE,
    UNCLASSIFIED,
    Blobs,
    classify_colours,
    find_blobs,
    label_components,
)
from sora_vfx.eval.shot import MIN_AREA_SHARE, SQUARE_FILL, EvalError, ObjectMeasures, ShotMeasures, measure_shot
from sora_vfx.eval.summary import EVAL_SCHEMA_VERSION, EvalSummary, eval_document, summarize

__all__ = [
    "EVAL_SCHEMA_VERSION",
    "JUMP_FLOOR_PX",
    "MAX_COLOUR_DISTANCE",
    "MIN_AREA_SHARE",
    "PAN_FRACTION",
    "SQUARE_FILL",
    "STILL_FRACTION",
    "UNCLASSIFIED",
    "Blobs",
    "EvalError",
    "EvalSummary",
    "Jump",
    "ObjectMeasures",
    "PanEstimate",
    "ShotMeasures",
    "background_flicker",
    "classify_colours",
    "estimate_pan",
    "eval_document",
    "find_blobs",
    "label_components",
    "largest_jump",
    "measure_shot",
    "name_motion",
    "seam_jumps",
    "summarize",
]
