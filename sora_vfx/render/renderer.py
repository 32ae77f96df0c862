"""The renderer loop: shot plans in, EXR sequences out; ``render_edit`` runs a whole edit.

Long shots render in overlapping windows (``windows``); a resumed render keeps every frame
that is already a complete EXR with the same ``job_hash``.
"""

from __future__ import annotations

import logging
import math
import os
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import __version__
from ..console import Progress
from ..editorial import Edit
from ..editorial.rates import FrameRate, from_timecode, to_timecode
from ..editorial.shotjob import ShotJob
from ..errors import SoraVfxError
from ..imaging import FrameWriter, get_converter, is_complete_frame
from ..imaging.exr import clean_stale_temp_files
from ..layout import frame_name, shot_folder
from ..models import LoadedModel
from ..seeds import cpu_generator
from .plan import RenderSettings, ShotPlan, prepare_render
from .report import RenderReport, ShotResult, finish_render
from .spec import RenderSpec
from .windows import Window, WindowBlender, plan_windows

log = logging.getLogger("sora_vfx")


def render_edit(edit: Edit, out_dir: Path, settings: RenderSettings, *,
                model: LoadedModel | None = None, progress: bool | None = None) -> RenderReport:
    """Render every chosen shot of an edit; shots that fail are reported, the others finish.

    Args:
        model: a loaded model to reuse; loaded from ``settings`` if None.
        progress: show progress bars (default: when stderr is a terminal).
    Raises:
        SoraVfxError: bad input found before any frame is rendered (unknown shot or style,
            unreadable reference, size the model does not allow, unwritable output folder).
        KeyboardInterrupt: Ctrl-C or SIGTERM (``Terminated``), after the shots that finished
            were merged into the manifest.
    """
    plan = prepare_render(edit, out_dir, settings, model=model)
    bar = Progress(sum(shot.job.frame_count for shot in plan.shots), enabled=progress)
    results: list[ShotResult] = []
    try:
        for shot in plan.shots:
            results.append(render_shot(shot, plan.models[shot.model], progress=bar))
    except KeyboardInterrupt:
        # Ctrl-C or SIGTERM: the shots that finished keep their manifest entries.
        if results:
            finish_render(plan, results)
        raise
    finally:
        bar.close()
    return finish_render(plan, results)


def render_shot(shot: ShotPlan, model: LoadedModel, *, progress: Progress | None = None) -> ShotResult:
    """Render one shot with ``model``; a failure is returned as a failed result, not raised."""
    return _render_one(shot, model, get_converter(), progress or Progress(shot.job.frame_count, enabled=False))


def _render_one(shot: ShotPlan, model: LoadedModel, converter, bar: Progress) -> ShotResult:
    started = time.perf_counter()
    job, spec = shot.job, shot.spec
    result = ShotResult(shot)
    shot_dir = shot_folder(shot.out_dir, job.name)
    bar.start_shot(job.name, job.frame_count)
    missing: set[int] = set()
    try:
        shot_dir.mkdir(parents=True, exist_ok=True)
        clean_stale_temp_files(shot_dir)
        # Only the frames on disk are opened: the check costs what the folder holds.
        on_disk = {entry.name for entry in os.scandir(shot_dir)}
        missing = {
            frame for frame in job.frames
            if shot.force or frame_name(job.name, frame) not in on_disk
            or not is_complete_frame(shot.frame_path(frame), job_hash=spec.job_hash)
        }
        result.frames_reused = job.frame_count - len(missing)
        bar.frames_done(result.frames_reused)
        if not missing:
            result.status = "skipped"
        else:
            result.frames_written = _render_frames(shot, model, missing, converter, bar)
    except (SoraVfxError, OSError, RuntimeError, ValueError) as exc:
        result.status = "failed"
        result.error = str(exc) if isinstance(exc, SoraVfxError) else f"{type(exc).__name__}: {exc}"
        # What is on disk, not what the failed call returned (a full disk fails after some frames).
        result.frames_written = sum(1 for frame in sorted(missing)
                                    if is_complete_frame(shot.frame_path(frame), job_hash=spec.job_hash))
    result.seconds = time.perf_counter() - started
    if result.status == "failed":
        bar.end_shot(f"shot {job.name} FAILED: {result.error}", level=logging.ERROR)
    elif result.status == "skipped":
        bar.end_shot(f"shot {job.name}: all {job.frame_count} frames already rendered (same job_hash)")
    else:
        bar.end_shot(f"shot {job.name}: {result.frames_written} frames written, {result.frames_reused} kept, "
                     f"{result.seconds:.1f} s")
    return result


def _render_frames(shot: ShotPlan, model: LoadedModel, missing: set[int], converter, bar: Progress) -> int:
    job, spec, reference = shot.job, shot.spec, shot.reference
    windows = plan_windows(job.frame_count, max_frames=spec.max_window, overlap=spec.window_overlap,
                           align=model.temporal_compression)
    needed = [i for i, w in enumerate(windows)
              if any(job.head_in + f in missing for f in range(w.start, w.end))]
    model.set_loras([(path, scale) for path, scale, _digest in spec.loras])
    noise = _shot_noise(model, spec, windows)
    blender = WindowBlender(windows, order=needed)
    timecodes = _frame_timecodes(job)
    written = 0
    with FrameWriter(max_workers=shot.writer_threads, compression=spec.compression) as writer:
        futures = []
        for index in needed:
            window = windows[index]
            call_frames = model.round_up_frames(window.length)
            with torch.inference_mode():
                rgb = model.generate(
                    prompt=spec.prompt, negative_prompt=spec.negative_prompt or None,
                    num_frames=call_frames, height=spec.height, width=spec.width,
                    num_inference_steps=spec.steps, guidance_scale=spec.guidance,
                    generator=cpu_generator(_window_seed(spec.seed, index)),
                    image=reference, latents=None if noise is None else _noise_for(noise, model, window, call_frames),
                )
            for shot_index, frame in blender.add(index, rgb[: window.length]):
                number = job.head_in + shot_index
                if number not in missing:
                    continue
                linear = converter.to_scene_linear(np.clip(frame, 0.0, 1.0), src="srgb_tx", dst=spec.colorspace)
                rgba = np.concatenate([linear, np.ones(linear.shape[:2] + (1,), np.float32)], axis=2)
                futures.append(writer.submit(shot.frame_path(number), rgba,
                                             _attributes(job, spec, timecodes(number))))
                written += 1
                bar.frames_done()
        writer.close()
    for future in futures:
        error = future.exception()
        if error is not None:
            raise error
    return written


def _window_seed(seed: int, index: int) -> int:
    return (seed + 1_000_003 * index) % (2**63)


def _shot_noise(model: LoadedModel, spec: RenderSpec, windows: list[Window]) -> torch.Tensor | None:
    """One noise tensor for the whole shot, drawn on the CPU; windows take overlapping slices.

    None where the model's family lets each window draw its own (no latent layout).
    """
    layout = model.latent_layout
    if layout is None:
        return None
    temporal, spatial = layout.temporal, layout.spatial
    latent_frames = max(w.start // temporal + (model.round_up_frames(w.length) - 1) // temporal + 1 for w in windows)
    shape = (1, layout.channels, latent_frames, spec.height // spatial, spec.width // spatial)
    return torch.randn(shape, generator=cpu_generator(spec.seed), dtype=torch.float32)


def _noise_for(noise: torch.Tensor, model: LoadedModel, window: Window, call_frames: int) -> torch.Tensor:
    temporal = model.temporal_compression
    start = window.start // temporal
    length = (call_frames - 1) // temporal + 1
    return noise[:, :, start:start + length].contiguous().to(model.device, model.dtype)


def _frame_timecodes(job: ShotJob):
    """Frame number -> source timecode; the cut's first frame carries the event's source in."""
    rate = FrameRate(Fraction(job.rate), job.drop_frame)
    source_in = from_timecode(job.source_in, rate)
    nominal = math.ceil(rate.rate)
    day = from_timecode(f"23:59:59{';' if rate.drop_frame else ':'}{nominal - 1:02d}", rate) + 1

    def timecode(frame: int) -> str:
        return to_timecode((source_in + frame - job.cut_in) % day, rate)

    return timecode


def _attributes(job: ShotJob, spec: RenderSpec, timecode: str) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "oiio:ColorSpace": spec.colorspace,
        "timeCode": timecode,
        "framesPerSecond": Fraction(job.rate),
        "software": f"sora_vfx {__version__}",
        "sora_vfx:shot": job.name,
        "sora_vfx:prompt": spec.prompt,
        "sora_vfx:negative_prompt": spec.negative_prompt,
        "sora_vfx:style": spec.style,
        "sora_vfx:seed": str(spec.seed),
        "sora_vfx:model": spec.model,
        "sora_vfx:steps": spec.steps,
        "sora_vfx:guidance": float(spec.guidance),
        "sora_vfx:job_hash": spec.job_hash,
        "sora_vfx:colorspace": spec.colorspace,
        "sora_vfx:generated": "trainedAlgorithmicMedia",
        "sora_vfx:cut_in": job.cut_in,
        "sora_vfx:cut_out": job.cut_out,
    }
    chromaticities = get_converter().chromaticities(spec.colorspace)
    if chromaticities is not None:
        attributes["chromaticities"] = chromaticities
    return attributes



