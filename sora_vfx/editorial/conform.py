"""Write the conform timeline: the edit with each rendered shot pointing at its EXR sequence."""

from __future__ import annotations

import copy
from pathlib import Path

import opentimelineio as otio

from ..errors import RenderError
from ..files import write_atomically
from ..layout import FRAME_EXTENSION, FRAME_PADDING, shot_folder
from .shotjob import ShotJob


def sequence_reference(job: ShotJob, shot_dir: Path) -> otio.schema.ImageSequenceReference:
    """An OTIO reference to the shot's frames in ``shot_dir``, ``head_in..tail_out``."""
    rate = job.fps
    return otio.schema.ImageSequenceReference(
        target_url_base=shot_dir.resolve().as_uri() + "/",
        name_prefix=f"{job.name}.",
        name_suffix=FRAME_EXTENSION,
        start_frame=job.head_in,
        frame_step=1,
        rate=rate,
        frame_zero_padding=FRAME_PADDING,
        available_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(job.head_in, rate),
            otio.opentime.RationalTime(job.frame_count, rate),
        ),
    )


def conform_timeline(
    timeline: otio.schema.Timeline,
    clips: dict[str, otio.schema.Clip],
    jobs: list[ShotJob],
    out_dir: Path,
    *,
    rendered: set[str],
    extra: dict[str, dict] | None = None,
) -> otio.schema.Timeline:
    """A copy of ``timeline`` whose rendered shots' clips play their EXR sequences.

    The clip keeps its place and length in the edit; its source range now runs from the
    shot's ``cut_in`` frame, so handles stay available for trims. Speed effects are dropped:
    the render already has one frame per frame of the cut (the speed stays in metadata).
    """
    conformed = copy.deepcopy(timeline)
    # deepcopy keeps the tree's shape, so clips are found again by their position.
    originals = list(timeline.find_clips())
    copies = list(conformed.find_clips())
    position = {id(clip): index for index, clip in enumerate(originals)}
    for job in jobs:
        if job.name not in rendered:
            continue
        clip = copies[position[id(clips[job.name])]]
        clip.media_reference = sequence_reference(job, shot_folder(out_dir, job.name))
        clip.source_range = otio.opentime.TimeRange(
            otio.opentime.RationalTime(job.cut_in, job.fps),
            otio.opentime.RationalTime(job.duration, job.fps),
        )
        clip.effects[:] = [e for e in clip.effects if not isinstance(e, otio.schema.TimeEffect)]
        clip.metadata["sora_vfx"] = {
            "speed": job.speed,
            "shot": job.name,
            "prompt": job.prompt,
            "seed": job.seed,
            "first_frame": job.head_in,
            "last_frame": job.tail_out,
            **((extra or {}).get(job.name, {})),
        }
    return conformed


def write_conform(timeline: otio.schema.Timeline, path: Path) -> Path:
    """Write the conform timeline as an .otio file, atomically.

    Raises:
        RenderError: the file cannot be written.
    """
    return write_atomically(
        Path(path), lambda temporary: otio.adapters.write_to_file(timeline, str(temporary), adapter_name="otio_json"),
        what="conform timeline", error=RenderError)
