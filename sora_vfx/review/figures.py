"""Measure a render folder (``sora-vfx eval``): every shot's frames against the prompt it was
rendered from, with :mod:`sora_vfx.eval`'s measures.

The frames are read back from the EXRs and taken from the working space to display sRGB
through the same OCIO config the renderer wrote them with, so the analysis sees the picture
the model drew. Prompts outside the shapes grammar cannot be measured; those shots are listed
as skipped with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import EvalError, SoraVfxError
from ..eval import JUMP_FLOOR_PX, ShotMeasures, eval_document, measure_shot
from ..imaging import OutputTransform, read_exr_header, read_exr_pixels
from ..render.manifest import ManifestEntry, manifest_path, read_manifest


@dataclass
class RenderEval:
    """The measures of a render folder's shots, and the shots that could not be measured."""

    out_dir: Path
    shots: dict[str, ShotMeasures] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The ``eval --json`` document: per shot measures, the totals, and skipped shots."""
        document = eval_document(list(self.shots.values()))
        document["shots"] = [{"name": name, **shot} for name, shot in zip(self.shots, document["shots"], strict=True)]
        return {"version": document.pop("version"), "out": str(self.out_dir), **document, "skipped": self.skipped}


def read_shot_frames(out_dir: Path, entry: ManifestEntry) -> np.ndarray:
    """The shot's frames, ``first``..``last``, as display sRGB: (frames, height, width, 3).

    The shot's folder is listed once: a missing frame is found without a path made for every
    frame of the range the manifest declares.

    Raises:
        SoraVfxError: a frame is missing or unreadable.
        EvalError: the frames are not all of one size (``MixedSizes``).
    """
    frames = entry.frames
    declared = frames.last - frames.first + 1
    on_disk = frames.on_disk(out_dir)
    if len(on_disk) < declared:
        first_missing = next((number for number, found in zip(range(frames.first, frames.last + 1), on_disk,
                                                               strict=False) if number != found),
                             frames.first + len(on_disk))
        raise EvalError(f"shot {entry.name}: {declared - len(on_disk)} of its {declared} frames are not on disk, "
                        f"the first {frames.path(out_dir, first_missing)}")
    paths = [frames.path(out_dir, number) for number in on_disk]
    transform = OutputTransform.from_header(read_exr_header(paths[0]))
    pictures = []
    for path in paths:
        pixels = read_exr_pixels(path)
        if pictures and pixels.shape[:2] != pictures[0].shape[:2]:
            raise MixedSizes(f"shot {entry.name}: frame {path} is {pixels.shape[1]}x{pixels.shape[0]}, its first "
                             f"frame {paths[0]} {pictures[0].shape[1]}x{pictures[0].shape[0]}: the frames of a "
                             "shot are one size; render the shot again")
        pictures.append(transform.to_picture(np.ascontiguousarray(pixels[..., :3]), entry.colorspace))
    return np.stack(pictures)


class MixedSizes(EvalError):
    """A shot whose frames are not all of one size: the render folder is damaged, not the
    shot unmeasurable, so ``eval`` stops (exit 2) rather than skipping it."""


def evaluate_render(out_dir: Path, *, shots: Sequence[str] | None = None,
                    seams: dict[str, Sequence[int]] | None = None) -> RenderEval:
    """Measure every rendered shot of ``out_dir`` (or those named).

    Args:
        shots: names of the shots to measure; default all that rendered.
        seams: per shot, the frame indices where a long shot's windows meet.
    Raises:
        SoraVfxError: no manifest, a damaged one (``read_manifest``), a shot named that is not
            in it, or a shot whose frames are not all of one size.
    """
    manifest = read_manifest(out_dir)
    if manifest is None:
        raise EvalError(f"{out_dir}: no manifest.json, so not a sora_vfx render folder")
    wanted = list(shots) if shots else [entry.name for entry in manifest.shots]
    unknown = [name for name in wanted if manifest.entry(name) is None]
    if unknown:
        raise EvalError(f"{out_dir}: no shot {', '.join(unknown)} in its manifest")
    result = RenderEval(Path(out_dir))
    for name in wanted:
        entry = manifest.entry(name)
        if not entry.done:
            result.skipped[name] = f"not rendered ({entry.status})"
            continue
        try:
            frames = read_shot_frames(out_dir, entry)
            result.shots[name] = measure_shot(frames, scene=entry.job.prompt, seams=(seams or {}).get(name, ()))
        except MixedSizes as exc:
            raise EvalError(f"{manifest_path(out_dir)}: {exc}") from None
        except SoraVfxError as exc:
            result.skipped[name] = str(exc)
    return result


def step_ratios(out_dir: Path, seams: Mapping[str, Sequence[int]]) -> tuple[list[float], list[float]]:
    """Every centroid step of every prompted object, against its shot's median step away from
    the seams, split into the steps into a seam frame and all the others.

    How often the model's own steps are as large as the seams' is the yardstick for the seams:
    a window method cannot make a shot steadier than the model draws it
    (:data:`sora_vfx.eval.seams.SEAM_TARGET` is the target).

    Args:
        seams: per shot, the 0-based frames where windows meet.
    """
    measured = evaluate_render(out_dir, shots=list(seams), seams=seams)
    every = evaluate_render(out_dir, shots=list(measured.shots),
                            seams={name: list(range(1, shot.frames)) for name, shot in measured.shots.items()})
    at_seams, elsewhere = [], []
    for name, shot in measured.shots.items():
        for obj, all_steps in zip(shot.objects, every.shots[name].objects, strict=True):
            if not obj.seam_jumps:
                continue
            median = obj.seam_jumps[0].median_step
            for jump in all_steps.seam_jumps:
                ratio = (jump.step + JUMP_FLOOR_PX) / (median + JUMP_FLOOR_PX)
                (at_seams if jump.frame in seams[name] else elsewhere).append(ratio)
    return at_seams, elsewhere
