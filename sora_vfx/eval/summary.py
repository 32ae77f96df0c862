"""Totals over many measured shots: the figures a benchmark or the README reports."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from sora_vfx.eval.shot import ShotMeasures

#: Version of the JSON that :meth:`EvalSummary.to_dict` and :func:`eval_document` write.
EVAL_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class EvalSummary:
    """Shares of shots measured correct and mean picture figures.

    A shot counts as correct on an object property (colour, motion, shape, size) only when
    every prompted object in it is.
    """

    shots: int
    background_correct: float
    object_colour_correct: float
    motion_correct: float
    pan_correct: float
    shape_correct: float
    size_correct: float
    ghosting: float
    """Share of shots with at least one ghost frame."""
    ghost_frames: float
    """Mean share of each shot's frames that show a ghost."""
    jump_ratio: float
    """Mean over shots of each shot's largest jump ratio."""
    jump_ratio_max: float
    seam_jump_ratio: float | None
    """Mean over shots with seams of each shot's largest seam jump ratio."""
    temporal_flicker: float
    """Mean over shots of the background's mean frame-to-frame change (sRGB 0-1)."""

    def to_dict(self) -> dict:
        """A JSON-ready copy (NaN as null)."""
        return {key: None if isinstance(value, float) and not math.isfinite(value) else value
                for key, value in asdict(self).items()}


def motion_by_direction(shots: Sequence[ShotMeasures]) -> dict[str, dict[str, float | int]]:
    """Per prompted motion (``moving left``, ...): how many objects were prompted with
    it, and the share that moved so. An overall motion figure can hide a direction the model
    never learnt behind others it draws well."""
    counts: dict[str, list[int]] = {}
    for shot in shots:
        for obj in shot.objects:
            tally = counts.setdefault(obj.prompted.motion, [0, 0])
            tally[0] += bool(obj.motion_ok)
            tally[1] += 1
    return {motion: {"objects": total, "correct": round(right / total, 3)}
            for motion, (right, total) in sorted(counts.items())}


def by_object_count(shots: Sequence[ShotMeasures]) -> dict[str, dict[str, float | int]]:
    """Per number of prompted objects (``"1"``, ``"2"``): how many shots, and the shares with
    the right object colours and motion and with ghosting. Two-object shots fail in their own
    way (each clause has to bind its own colour and motion), which the overall figures hide."""
    groups: dict[int, list[ShotMeasures]] = {}
    for shot in shots:
        groups.setdefault(len(shot.objects), []).append(shot)
    return {str(count): {"shots": len(group), **{key: round(getattr(summary, key), 3) for key in
                                                ("object_colour_correct", "motion_correct", "ghosting")}}
            for count, group in sorted(groups.items()) for summary in (summarize(group),)}


def summarize(shots: Sequence[ShotMeasures]) -> EvalSummary:
    """Total the measurements of many shots.

    Args:
        shots: from :func:`~sora_vfx.eval.measure_shot`.

    Returns:
        The summary; shares are NaN when ``shots`` is empty.
    """

    def share(values) -> float:
        values = list(values)
        return float(np.mean(values)) if values else float("nan")

    def mean(values) -> float:
        finite = [v for v in values if v is not None and math.isfinite(v)]
        return float(np.mean(finite)) if finite else float("nan")

    seam_ratios = [shot.seam_jump_ratio for shot in shots if shot.seam_jump_ratio is not None]
    jump_ratios = [shot.jump_ratio for shot in shots]
    return EvalSummary(
        shots=len(shots),
        background_correct=share(shot.background_ok for shot in shots),
        object_colour_correct=share(shot.colour_ok for shot in shots),
        motion_correct=share(shot.motion_ok for shot in shots),
        pan_correct=share(shot.pan_ok for shot in shots),
        shape_correct=share(all(obj.shape_ok for obj in shot.objects) for shot in shots),
        size_correct=share(all(obj.size_ok for obj in shot.objects) for shot in shots),
        ghosting=share(bool(shot.ghost_frames) for shot in shots),
        ghost_frames=share(len(shot.ghost_frames) / shot.frames for shot in shots),
        jump_ratio=mean(jump_ratios),
        jump_ratio_max=max((r for r in jump_ratios if math.isfinite(r)), default=float("nan")),
        seam_jump_ratio=mean(seam_ratios) if seam_ratios else None,
        temporal_flicker=mean(shot.temporal_flicker for shot in shots),
    )


def eval_document(shots: Sequence[ShotMeasures]) -> dict:
    """The versioned JSON document of an evaluation: every shot and the summary.

    Args:
        shots: from :func:`~sora_vfx.eval.measure_shot`.

    Returns:
        ``{"version", "summary", "shots"}``, ready for ``json.dumps``.
    """
    return {
        "version": EVAL_SCHEMA_VERSION,
        "summary": summarize(shots).to_dict(),
        "shots": [shot.to_dict() for shot in shots],
    }
