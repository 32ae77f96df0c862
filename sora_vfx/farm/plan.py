"""Render plans on machines that do not render: the model's limits without its weights, and
shot results read back from what the farm left on disk.

A farm's driver (``render --scheduler``, ``farm export``) and its last step
(``render --conform-only``) need every shot's ``RenderSpec`` and ``job_hash``, which depend on
the model's name, limits and files but not on its weights. Loading a real model's weights
there would cost minutes and gigabytes for nothing.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from ..editorial import EditReading
from ..editorial.shotjob import ShotJob
from ..imaging import is_complete_frame
from ..models import LoadedModel, ensure_tiny_model
from ..models import loader as _loader
from ..render import RenderPlan, RenderReport, RenderSettings, ShotResult, finish_render, frame_path, prepare_render
from ..render.manifest import read_manifest

log = logging.getLogger("sora_vfx")

# A model described but not loaded lives on no device; "meta" makes any attempt to use it fail.
NO_DEVICE = torch.device("meta")


def describe_model(model: str, *, cache_dir: Path | None = None) -> LoadedModel:
    """The model's name, kind, family and limits, read from its folder without its weights.

    The result has ``pipeline=None``: ``prepare_render`` can build specs and job hashes with it
    (they are the same as with the loaded model), but it cannot generate.

    Args:
        model: "tiny", "tiny-i2v", or a diffusers pipeline folder.
        cache_dir: where the tiny model is saved; default ``$SORA_VFX_CACHE``.
    Returns:
        A ``LoadedModel`` with no pipeline on the "meta" device.
    Raises:
        ModelError: missing folder, not a supported video pipeline, pickle weights.
    """
    # The same checks and limits as models.load_model, up to (not including) from_pretrained.
    if model in _loader.TINY_NAMES:
        folder = ensure_tiny_model(cache_dir, kind=_loader.TINY_NAMES[model])
        name = model
    else:
        folder = Path(model).expanduser()
        name = str(folder)
    class_name = _loader._check_folder(folder)
    family = _family_of(class_name)
    limits = {**_loader.FAMILY_LIMITS[family], **_loader._read_overrides(folder)}
    return LoadedModel(
        pipeline=None,
        name=name,
        kind="i2v" if "ImageToVideo" in class_name or "I2V" in class_name else "t2v",
        device=NO_DEVICE,
        dtype=torch.float32,
        max_frames=int(limits["max_frames"]),
        frame_multiple=int(limits["frame_multiple"]),
        frame_offset=int(limits["frame_offset"]),
        size_multiple=int(limits["size_multiple"]),
        default_size=(int(limits["default_size"][0]), int(limits["default_size"][1])),
        family=_loader.FAMILY_NAMES[family],
        max_sequence_length=limits.get("max_sequence_length"),
        default_steps=int(limits.get("default_steps", 30)),
        folder=folder,
    )


def _family_of(class_name: str) -> str:
    # The loader also asks diffusers whether the class exists, which imports every pipeline
    # (seconds); a driver only needs the family's limits. The worker's load_model still checks.
    for prefix in sorted(_loader.FAMILY_LIMITS, key=len, reverse=True):
        if class_name.startswith(prefix) and "Pipeline" in class_name:
            return prefix
    return _loader._family_of(class_name)  # raises the loader's "pipeline not supported" error


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
