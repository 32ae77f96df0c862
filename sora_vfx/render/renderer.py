"""The renderer loop: shot jobs in, EXR sequences, ``manifest.json`` and ``renders.otio`` out."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import __version__
from ..editorial import EditReading
from ..editorial.conform import conform_timeline, write_timeline_atomic
from ..editorial.rates import FrameRate, from_timecode, to_timecode
from ..editorial.shotjob import ShotJob
from ..errors import ConfigError, RenderError, SoraVfxError, ensure_writable_folder
from ..imaging import FrameWriter, get_converter, is_complete_frame
from ..imaging.exr import check_compression, clean_stale_temp_files
from ..imaging.images import read_reference_image
from ..models import LoadedModel, load_model
from ..seeds import cpu_generator
from ..styles import BUILTIN_STYLES, Style, resolve_style
from .manifest import merge_manifest
from .progress import Progress
from .spec import RenderSpec, build_spec
from .windows import Window, WindowBlender, plan_windows

log = logging.getLogger("sora_vfx")

CONFORM_NAME = "renders.otio"
DEFAULT_GUIDANCE = 5.0


@dataclass
class RenderSettings:
    """What the user chose for the whole render; None means the model's or style's default."""

    model: str = "tiny"
    device: str | None = None
    size: tuple[int, int] | None = None
    steps: int | None = None
    guidance: float | None = None
    style: str | None = None
    colorspace: str = "ACEScg"
    compression: str = "zip"
    force: bool = False
    shots: list[str] | None = None
    max_window: int | None = None
    window_overlap: int | None = None
    writer_threads: int = 2
    cache_dir: Path | None = None
    cpu_offload: bool = False
    styles: dict[str, Style] = field(default_factory=lambda: dict(BUILTIN_STYLES))

    def summary(self) -> dict[str, Any]:
        return {
            "model": self.model, "size": list(self.size) if self.size else None, "steps": self.steps,
            "guidance": self.guidance, "style": self.style, "colorspace": self.colorspace,
            "compression": self.compression,
        }


@dataclass
class ShotResult:
    name: str
    status: str  # "rendered", "skipped" (all frames already there), "failed"
    spec: RenderSpec | None
    frames_written: int = 0
    frames_reused: int = 0
    seconds: float = 0.0
    error: str | None = None

    def manifest_entry(self, job: ShotJob, out_dir: Path) -> dict[str, Any]:
        return {
            "name": self.name,
            "index": job.index,
            "status": self.status,
            "error": self.error,
            "seed": job.seed,
            "job_hash": self.spec.job_hash if self.spec else None,
            "frames": {
                "first": job.head_in, "last": job.tail_out, "count": job.frame_count,
                "cut_in": job.cut_in, "cut_out": job.cut_out,
                "pattern": str(Path(job.name) / f"{job.name}.####.exr"),
            },
            "frames_written": self.frames_written,
            "frames_reused": self.frames_reused,
            "seconds": round(self.seconds, 3),
            "record_in": job.record_in,
            "record_out": job.record_out,
            "spec": self.spec.to_dict() if self.spec else None,
            "job": job.to_dict(),
        }


@dataclass
class RenderReport:
    out_dir: Path
    results: list[ShotResult]
    manifest: Path
    conform: Path

    @property
    def failed(self) -> list[ShotResult]:
        return [r for r in self.results if r.status == "failed"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out_dir),
            "manifest": str(self.manifest),
            "conform": str(self.conform),
            "shots": [
                {"name": r.name, "status": r.status, "frames_written": r.frames_written,
                 "frames_reused": r.frames_reused, "seconds": round(r.seconds, 3), "error": r.error,
                 "job_hash": r.spec.job_hash if r.spec else None}
                for r in self.results
            ],
        }


def frame_path(out_dir: Path, job: ShotJob, frame: int) -> Path:
    return out_dir / job.name / f"{job.name}.{frame:04d}.exr"


@dataclass
class RenderPlan:
    """A checked render: the shots to render with their specs, on a loaded model."""

    reading: EditReading
    out_dir: Path
    settings: RenderSettings
    model: LoadedModel
    jobs: list[ShotJob]
    specs: dict[str, RenderSpec]
    references: dict[str, np.ndarray]

    def job(self, name: str) -> ShotJob:
        return next(job for job in self.jobs if job.name == name)


def render_edit(reading: EditReading, out_dir: Path, settings: RenderSettings, *,
                model: LoadedModel | None = None, progress: bool | None = None) -> RenderReport:
    """Render every chosen shot of an edit; shots that fail are reported, the others finish.

    Raises:
        SoraVfxError: bad input found before any frame is rendered (unknown shot or style,
            unreadable reference, size the model does not allow, unwritable output folder).
    """
    plan = prepare_render(reading, out_dir, settings, model=model)
    bar = Progress(sum(job.frame_count for job in plan.jobs), enabled=progress)
    try:
        results = [render_shot(plan, job.name, progress=bar) for job in plan.jobs]
    finally:
        bar.close()
    return finish_render(reading, out_dir, settings, results)


def prepare_render(reading: EditReading, out_dir: Path, settings: RenderSettings, *,
                   model: LoadedModel | None = None) -> RenderPlan:
    """Check everything that can be checked before rendering, load the model, build specs."""
    out_dir = Path(out_dir)
    jobs = _select_shots(reading.jobs, settings.shots)
    ensure_writable_folder(out_dir, RenderError)
    colorspace = get_converter().resolve(settings.colorspace)
    check_compression(settings.compression)
    styles = {job.name: resolve_style(job.style or settings.style, settings.styles) for job in jobs}
    if model is None:
        model = load_model(settings.model, device=settings.device, cache_dir=settings.cache_dir,
                           cpu_offload=settings.cpu_offload)
    width, height = settings.size or model.default_size
    max_window = _max_window(model, settings.max_window)
    model.check_inputs(max_window, height, width)
    overlap = settings.window_overlap if settings.window_overlap is not None else max(1, max_window // 4)
    specs = {}
    for job in jobs:
        style = styles[job.name]
        guidance = settings.guidance if settings.guidance is not None else style.guidance
        specs[job.name] = build_spec(
            job, style, model=model.name, model_fingerprint=model.fingerprint, width=width, height=height,
            steps=settings.steps or style.steps or model.default_steps,
            guidance=DEFAULT_GUIDANCE if guidance is None else guidance,
            max_window=max_window, window_overlap=overlap, colorspace=colorspace, compression=settings.compression,
        )
    references = _load_references(model, jobs, specs, width, height)
    return RenderPlan(reading, out_dir, settings, model, jobs, specs, references)


def render_shot(plan: RenderPlan, name: str, *, progress: Progress | None = None) -> ShotResult:
    """Render one shot of a plan; a failure is returned as a failed result, not raised."""
    job = plan.job(name)
    return _render_one(plan.model, job, plan.specs[name], plan.references.get(name), plan.out_dir,
                       plan.settings, get_converter(), progress or Progress(job.frame_count, enabled=False))


def finish_render(reading: EditReading, out_dir: Path, settings: RenderSettings,
                  results: list[ShotResult]) -> RenderReport:
    """Merge the results into ``manifest.json`` and write the conform timeline."""
    out_dir = Path(out_dir)
    by_name = {job.name: job for job in reading.jobs}
    manifest = merge_manifest(
        out_dir, edit=reading.path, order=[j.name for j in reading.jobs],
        entries=[r.manifest_entry(by_name[r.name], out_dir) for r in results], settings=settings.summary(),
    )
    current = [entry for entry in manifest["shots"] if entry["name"] in by_name]
    done = {entry["name"] for entry in current if entry["status"] in ("rendered", "skipped")}
    extra = {entry["name"]: {"job_hash": entry["job_hash"], "status": entry["status"]} for entry in current}
    conform = conform_timeline(reading.timeline, reading.clips, reading.jobs, out_dir, rendered=done, extra=extra)
    write_timeline_atomic(conform, out_dir / CONFORM_NAME)
    return RenderReport(out_dir, results, out_dir / "manifest.json", out_dir / CONFORM_NAME)


def _select_shots(jobs: list[ShotJob], wanted: list[str] | None) -> list[ShotJob]:
    if not wanted:
        return jobs
    names = {job.name for job in jobs}
    unknown = [name for name in wanted if name not in names]
    if unknown:
        raise ConfigError(f"--shots: no shot {', '.join(map(repr, unknown))} in the edit; shots: "
                          f"{', '.join(job.name for job in jobs)}")
    return [job for job in jobs if job.name in set(wanted)]


def _max_window(model: LoadedModel, requested: int | None) -> int:
    if requested is None:
        return model.max_frames
    if requested > model.max_frames:
        raise ConfigError(f"window of {requested} frames is longer than {model.name}'s limit of {model.max_frames}")
    if model.round_up_frames(requested) != requested:
        raise ConfigError(f"window of {requested} frames: {model.name} renders {model.frame_rule} frames")
    return requested


def _load_references(model: LoadedModel, jobs: list[ShotJob], specs: dict[str, RenderSpec],
                     width: int, height: int) -> dict[str, np.ndarray]:
    references = {}
    for job in jobs:
        spec = specs[job.name]
        if model.kind == "i2v":
            if not spec.reference:
                raise RenderError(f"shot {job.name}: model {model.name} is image-to-video and needs a "
                                  "reference image (REFERENCE: comment, shot sheet or style)")
            references[job.name] = read_reference_image(Path(spec.reference), width=width, height=height,
                                                        what=f"shot {job.name}: reference image")
        elif spec.reference:
            # Check it now so a bad path fails before hours of rendering, even if unused.
            read_reference_image(Path(spec.reference), width=width, height=height,
                                 what=f"shot {job.name}: reference image")
            log.warning("shot %s: model %s is text-to-video; its reference image is not used", job.name, model.name)
    return references


def _render_one(model: LoadedModel, job: ShotJob, spec: RenderSpec, reference: np.ndarray | None,
                out_dir: Path, settings: RenderSettings, converter, bar: Progress) -> ShotResult:
    started = time.perf_counter()
    result = ShotResult(job.name, "rendered", spec)
    shot_dir = out_dir / job.name
    bar.start_shot(job.name, job.frame_count)
    try:
        shot_dir.mkdir(parents=True, exist_ok=True)
        clean_stale_temp_files(shot_dir)
        missing = {
            frame for frame in job.frames
            if settings.force or not is_complete_frame(frame_path(out_dir, job, frame), job_hash=spec.job_hash)
        }
        result.frames_reused = job.frame_count - len(missing)
        bar.frames_done(result.frames_reused)
        if not missing:
            result.status = "skipped"
        else:
            result.frames_written = _render_frames(model, job, spec, reference, out_dir, missing,
                                                   settings, converter, bar)
    except (SoraVfxError, OSError, RuntimeError, ValueError) as exc:
        result.status = "failed"
        result.error = str(exc) if isinstance(exc, SoraVfxError) else f"{type(exc).__name__}: {exc}"
    result.seconds = time.perf_counter() - started
    if result.status == "failed":
        bar.end_shot(f"shot {job.name} FAILED: {result.error}", level=logging.ERROR)
    elif result.status == "skipped":
        bar.end_shot(f"shot {job.name}: all {job.frame_count} frames already rendered (same job_hash)")
    else:
        bar.end_shot(f"shot {job.name}: {result.frames_written} frames written, {result.frames_reused} kept, "
                     f"{result.seconds:.1f} s")
    return result


def _render_frames(model: LoadedModel, job: ShotJob, spec: RenderSpec, reference: np.ndarray | None,
                   out_dir: Path, missing: set[int], settings: RenderSettings, converter, bar: Progress) -> int:
    windows = plan_windows(job.frame_count, max_frames=spec.max_window, overlap=spec.window_overlap,
                           align=_temporal_compression(model))
    needed = [i for i, w in enumerate(windows)
              if any(job.head_in + f in missing for f in range(w.start, w.end))]
    model.set_loras([(path, scale) for path, scale, _digest in spec.loras])
    noise = _shot_noise(model, spec, windows)
    blender = WindowBlender(windows, order=needed)
    timecodes = _frame_timecodes(job)
    written = 0
    with FrameWriter(max_workers=settings.writer_threads, compression=spec.compression) as writer:
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
                futures.append(writer.submit(frame_path(out_dir, job, number), rgba,
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


def _temporal_compression(model: LoadedModel) -> int:
    """Frames per latent frame (Wan and CogVideoX name it one way, LTX another); 1 if unknown."""
    for name in ("vae_scale_factor_temporal", "vae_temporal_compression_ratio"):
        value = getattr(model.pipeline, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return 1


def _latent_layout(model: LoadedModel) -> tuple[int, int, int] | None:
    """(channels, temporal, spatial) compression of Wan-family latents; None where unknown."""
    if not model.family.startswith("Wan"):
        return None
    pipeline = model.pipeline
    channels = getattr(getattr(pipeline, "transformer", None), "config", None)
    if model.kind != "t2v" or channels is None:
        return None
    return (int(channels.in_channels), int(pipeline.vae_scale_factor_temporal),
            int(pipeline.vae_scale_factor_spatial))


def _shot_noise(model: LoadedModel, spec: RenderSpec, windows: list[Window]) -> torch.Tensor | None:
    """One noise tensor for the whole shot, drawn on the CPU; windows take overlapping slices."""
    layout = _latent_layout(model)
    if layout is None:
        return None
    channels, temporal, spatial = layout
    latent_frames = max(w.start // temporal + (model.round_up_frames(w.length) - 1) // temporal + 1 for w in windows)
    shape = (1, channels, latent_frames, spec.height // spatial, spec.width // spatial)
    return torch.randn(shape, generator=cpu_generator(spec.seed), dtype=torch.float32)


def _noise_for(noise: torch.Tensor, model: LoadedModel, window: Window, call_frames: int) -> torch.Tensor:
    temporal = _temporal_compression(model)
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



