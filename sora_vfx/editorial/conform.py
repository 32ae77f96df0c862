"""Write the conform timeline: the edit with each rendered shot pointing at its EXR sequence."""

from __future__ import annotations

import copy
import os
import tempfile
from pathlib import Path

import opentimelineio as otio

from ..errors import RenderError
from .shotjob import ShotJob


def sequence_reference(job: ShotJob, shot_dir: Path) -> otio.schema.ImageSequenceReference:
    """An OTIO reference to ``shot_dir/<shot>.####.exr``, frames ``head_in..tail_out``."""
    rate = job.fps
    return otio.schema.ImageSequenceReference(
        target_url_base=shot_dir.resolve().as_uri() + "/",
        name_prefix=f"{job.name}.",
        name_suffix=".exr",
        start_frame=job.head_in,
        frame_step=1,
        rate=rate,
        frame_zero_padding=4,
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
        clip.media_reference = sequence_reference(job, out_dir / job.name)
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


def write_timeline_atomic(timeline: otio.schema.Timeline, path: Path) -> None:
    """Write an .otio file through a temporary name in the same folder."""
    path = Path(path)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp.otio", dir=path.parent)
    os.close(handle)
    try:
        otio.adapters.write_to_file(timeline, temp, adapter_name="otio_json")
        os.replace(temp, path)
    except Exception as exc:
        Path(temp).unlink(missing_ok=True)
        raise RenderError(f"{path}: cannot write the conform timeline: {exc}") from exc
