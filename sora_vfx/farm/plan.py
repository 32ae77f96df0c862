"""Render plans on machines that do not render: a render's checks, specs and job hashes with
the model described, not loaded (``models.describe_model``), and shot results read back from
what the farm left on disk.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..editorial import Edit
from ..errors import RenderError
from ..imaging import is_complete_frame
from ..models import LoadedModel, describe_model
from ..render import (
    ManifestEntry,
    RenderPlan,
    RenderReport,
    RenderSettings,
    ShotPlan,
    ShotResult,
    finish_render,
    prepare_render,
    read_manifest,
)

log = logging.getLogger("sora_vfx")


def plan_without_weights(edit: Edit, out_dir: Path, settings: RenderSettings) -> RenderPlan:
    """``prepare_render`` on a described model: every check a render makes before its first
    frame (shots, styles, references, size, output folder), with the specs and job hashes the
    render nodes will use, and no weights loaded.

    Raises:
        SoraVfxError: the same bad input ``prepare_render`` rejects.
    """
    def describe(name: str) -> LoadedModel:
        return describe_model(name, cache_dir=settings.cache_dir)

    return prepare_render(edit, Path(out_dir), settings, load=describe)


def conform_from_disk(edit: Edit, out_dir: Path, settings: RenderSettings) -> RenderReport:
    """Write ``manifest.json`` and ``renders.otio`` from the frames on disk; render nothing.

    The farm's last step: its render tasks ran on many machines, each merging its own shot into
    the manifest, and a lost task or a race between two of them can leave that manifest short.
    Here every chosen shot is checked frame by frame against its ``job_hash``: a shot is
    "rendered" when every frame is a complete EXR of this render, else "failed" (and so left
    out of the conform). Timings come from the shot's manifest entry when its hash matches.

    Raises:
        SoraVfxError: bad input, as for a render.
    """
    plan = plan_without_weights(edit, out_dir, settings)
    try:
        manifest = read_manifest(plan.out_dir)
    except RenderError:  # a damaged manifest is rebuilt from the frames
        manifest = None
    results = [_result_from_disk(shot, manifest.entry(shot.name) if manifest else None) for shot in plan.shots]
    return finish_render(plan, results)


def _result_from_disk(shot: ShotPlan, entry: ManifestEntry | None) -> ShotResult:
    job, spec = shot.job, shot.spec
    missing = [frame for frame in job.frames if not is_complete_frame(shot.frame_path(frame), job_hash=spec.job_hash)]
    result = ShotResult(shot, frames_reused=job.frame_count - len(missing))
    if entry and entry.job_hash == spec.job_hash and entry.done:
        result.status = entry.status
        result.frames_written = entry.frames_written
        result.frames_reused = entry.frames_reused
        result.seconds = entry.seconds
    if missing:
        result.status = "failed"
        result.error = (f"{len(missing)} of {job.frame_count} frames missing or from another render "
                        f"(job_hash is not {spec.job_hash}), first: {shot.frame_path(missing[0])}")
    log.info("shot %s: %s", job.name, result.error or f"all {job.frame_count} frames on disk")
    return result
