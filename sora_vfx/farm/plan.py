"""Render plans on machines that do not render: a render's checks, specs and job hashes with
the model described, not loaded (``models.describe_model``), and shot results read back from
what the farm left on disk.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..editorial import EditReading
from ..editorial.shotjob import ShotJob
from ..imaging import is_complete_frame
from ..models import describe_model
from ..render import RenderPlan, RenderReport, RenderSettings, ShotResult, finish_render, frame_path, prepare_render
from ..render.manifest import read_manifest

log = logging.getLogger("sora_vfx")


def plan_without_weights(reading: EditReading, out_dir: Path, settings: RenderSettings) -> RenderPlan:
    """``prepare_render`` on a described model: every check a render makes before its first
    frame (shots, styles, references, size, output folder), with the specs and job hashes the
    render nodes will use, and no weights loaded.

    Raises:
        SoraVfxError: the same bad input ``prepare_render`` rejects.
    """
    model = describe_model(settings.model, cache_dir=settings.cache_dir)
    return prepare_render(reading, Path(out_dir), settings, model=model)


def conform_from_disk(reading: EditReading, out_dir: Path, settings: RenderSettings) -> RenderReport:
    """Write ``manifest.json`` and ``renders.otio`` from the frames on disk; render nothing.

    The farm's last step: its render tasks ran on many machines, each merging its own shot into
    the manifest, and a lost task or a race between two of them can leave that manifest short.
    Here every chosen shot is checked frame by frame against its ``job_hash``: a shot is
    "rendered" when every frame is a complete EXR of this render, else "failed" (and so left
    out of the conform). Timings come from the shot's manifest entry when its hash matches.

    Raises:
        SoraVfxError: bad input, as for a render.
    """
    plan = plan_without_weights(reading, out_dir, settings)
    try:
        previous = {entry.get("name"): entry for entry in (read_manifest(plan.out_dir) or {}).get("shots", [])}
    except Exception:  # a damaged manifest is rebuilt from the frames
        previous = {}
    results = [_result_from_disk(plan, job, previous.get(job.name)) for job in plan.jobs]
    return finish_render(reading, plan.out_dir, settings, results)


def _result_from_disk(plan: RenderPlan, job: ShotJob, entry: dict[str, Any] | None) -> ShotResult:
    spec = plan.specs[job.name]
    missing = [
        frame for frame in job.frames
        if not is_complete_frame(frame_path(plan.out_dir, job, frame), job_hash=spec.job_hash)
    ]
    result = ShotResult(job.name, "rendered", spec, frames_reused=job.frame_count - len(missing))
    if entry and entry.get("job_hash") == spec.job_hash and entry.get("status") in ("rendered", "skipped"):
        result.status = entry["status"]
        result.frames_written = int(entry.get("frames_written") or 0)
        result.frames_reused = int(entry.get("frames_reused") or 0)
        result.seconds = float(entry.get("seconds") or 0.0)
    if missing:
        first = frame_path(plan.out_dir, job, missing[0])
        result.status = "failed"
        result.error = (f"{len(missing)} of {job.frame_count} frames missing or from another render "
                        f"(job_hash is not {spec.job_hash}), first: {first}")
    log.info("shot %s: %s", job.name, result.error or f"all {job.frame_count} frames on disk")
    return result
