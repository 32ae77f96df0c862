"""The renderer loop: shot plans in, EXR sequences out; ``render_edit`` runs a whole edit.

Long shots render in overlapping windows (``windows``); a resumed render keeps every frame
that is already a complete EXR with the same ``job_hash``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import closing
from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from .. import __version__
from ..console import Progress
from ..editorial import Edit
from ..editorial.rates import FrameRate, source_timecode
from ..editorial.shotjob import ShotJob
from ..errors import RenderError, SoraVfxError
from ..files import remove_stale_temporaries, write_atomically
from ..imaging import FrameWriter, get_converter, is_complete_frame
from ..imaging.exr import clean_stale_temp_files, read_exr_header
from ..imaging.images import read_display_frames
from ..imaging.transform import OutputTransform
from ..imaging.wav import write_wav
from ..layout import frame_name, frame_path, latents_path, shot_folder, sound_path
from ..models import Family, LoadedModel
from ..models.acceleration import describe_speed
from ..models.memory import is_out_of_memory
from ..seeds import cpu_generator
from .plan import RenderSettings, ShotPlan, prepare_render
from .report import RenderReport, ShotResult, finish_render
from .sound import ShotSound
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
    return _render_one(shot, model, progress or Progress(shot.job.frame_count, enabled=False))


def _render_one(shot: ShotPlan, model: LoadedModel, bar: Progress) -> ShotResult:
    started = time.perf_counter()
    job, spec = shot.job, shot.spec
    result = ShotResult(shot)
    shot_dir = shot_folder(shot.out_dir, job.name)
    bar.start_shot(job.name, job.frame_count)
    missing: set[int] = set()
    try:
        shot_dir.mkdir(parents=True, exist_ok=True)
        clean_stale_temp_files(shot_dir)
        remove_stale_temporaries(shot_dir, ".*.tmp.safetensors")
        # Only the frames on disk are opened: the check costs what the folder holds.
        on_disk = {entry.name for entry in os.scandir(shot_dir)}
        missing = {
            frame for frame in job.frames
            if shot.force or frame_name(job.name, frame) not in on_disk
            or not is_complete_frame(shot.frame_path(frame), job_hash=spec.job_hash)
        }
        result.frames_reused = job.frame_count - len(missing)
        result.windows = [(job.head_in + w.start, min(job.head_in + w.end, job.tail_out + 1) - 1)
                          for w in shot_windows(shot, model)]
        bar.frames_done(result.frames_reused)
        if not missing:
            result.status = "skipped"
        else:
            result.frames_written = _render_lowering_memory(shot, model, missing, bar)
        # Every frame is on disk: the latents kept for a resumed decode have done their work.
        latents_path(shot.out_dir, job.name).unlink(missing_ok=True)
    except (SoraVfxError, OSError, RuntimeError, ValueError) as exc:
        result.status = "failed"
        result.error = str(exc) if isinstance(exc, SoraVfxError) else f"{type(exc).__name__}: {exc}"
        # What is on disk, not what the failed call returned (a full disk fails after some frames).
        result.frames_written = sum(1 for frame in sorted(missing)
                                    if is_complete_frame(shot.frame_path(frame), job_hash=spec.job_hash))
    result.seconds = time.perf_counter() - started
    result.memory_plan = model.memory_plan
    if result.status == "failed":
        bar.end_shot(f"shot {job.name} FAILED: {result.error}", level=logging.ERROR)
    elif result.status == "skipped":
        bar.end_shot(f"shot {job.name}: all {job.frame_count} frames already rendered (same job_hash)")
    else:
        bar.end_shot(f"shot {job.name}: {result.frames_written} frames written, {result.frames_reused} kept, "
                     f"{result.seconds:.1f} s")
    return result


def _render_lowering_memory(shot: ShotPlan, model: LoadedModel, missing: set[int], bar: Progress) -> int:
    """``_render_frames``; a shot that runs out of memory renders once more on the next memory
    plan down (``LoadedModel.lower_memory_plan``), which the model keeps for the shots after it.

    Raises:
        RenderError: out of memory on the leanest plan, or again on the lower one; it names both.
    """
    try:
        return _render_frames(shot, model, missing, bar)
    except RuntimeError as exc:  # torch.OutOfMemoryError is a RuntimeError
        if not is_out_of_memory(exc):
            raise
        # Without its traceback, the error no longer holds the failed call's tensors.
        failed, error = model.memory_plan, exc.with_traceback(None)
    _release_memory(model)
    lower = model.lower_memory_plan()
    name = shot.job.name
    if lower is None:
        raise RenderError(f"shot {name}: out of memory with memory plan {failed!r}, the leanest on {model.device}: "
                          f"{_first_line(error)}; render it smaller (--size, --window)") from None
    log.warning("shot %s: out of memory with memory plan %s; rendering it again with %s", name, failed, lower)
    left = {frame for frame in missing if not is_complete_frame(shot.frame_path(frame), job_hash=shot.spec.job_hash)}
    try:
        return len(missing) - len(left) + _render_frames(shot, model, left, bar)
    except RuntimeError as again:
        if not is_out_of_memory(again):
            raise
        raise RenderError(f"shot {name}: out of memory with memory plan {failed!r}, and again with {lower!r}: "
                          f"{_first_line(again)}; render it smaller (--size, --window)") from None


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _release_memory(model: LoadedModel) -> None:
    """Return what the failed call's tensors held to the device before the next try."""
    import gc

    gc.collect()
    if model.device.type == "cuda":
        torch.cuda.empty_cache()


def _render_frames(shot: ShotPlan, model: LoadedModel, missing: set[int], bar: Progress) -> int:
    job, spec = shot.job, shot.spec
    model.set_loras([(path, scale) for path, scale, _digest in spec.loras])
    sound = ShotSound(job.frame_count, Fraction(job.rate)) if shot.audio and "audio" in model.family.outputs \
        else None
    inputs = _Inputs(_first_image(shot), _reference_video(shot, model), sound)
    made = _WINDOW_METHODS[spec.windows](shot, model, missing, inputs)
    rate = FrameRate(Fraction(job.rate), job.drop_frame)
    transform = spec.transform
    written = 0
    with FrameWriter(max_workers=shot.writer_threads, compression=spec.compression) as writer:
        futures = []
        # A frame given again (kept latents that failed part-way, then new ones) is written
        # again once its first write is done, so the last one given is the one on disk.
        submitted: dict[int, Future] = {}
        for shot_index, frame, covering in made:
            number = job.head_in + shot_index
            if number not in missing:
                continue
            again = submitted.get(number)
            if again is not None:
                again.result()
            timecode = source_timecode(number, source_in=job.source_in, cut_in=job.cut_in, rate=rate)
            attributes = _attributes(job, spec, timecode)
            attributes["sora_vfx:window"] = " ".join(f"{job.head_in + w.start}-{job.head_in + w.end - 1}"
                                                     for w in covering)
            # The colour transform runs on the writer's threads: an inverse ACES 2.0 view takes
            # about a quarter of a second a 480p frame on one core, as long as a GPU's whole step.
            submitted[number] = writer.submit(shot.frame_path(number), frame, attributes,
                                              prepare=partial(_scene_rgba, transform, spec.colorspace))
            futures.append(submitted[number])
            if again is None:
                written += 1
                bar.frames_done()
        writer.close()
    for future in futures:
        error = future.exception()
        if error is not None:
            raise error
    if sound is not None and sound.complete:
        write_wav(sound_path(shot.out_dir, job.name), sound.audio())
    elif len(missing) == job.frame_count:
        # Every frame is new: any sound beside them is from another render of the shot.
        sound_path(shot.out_dir, job.name).unlink(missing_ok=True)
    return written


def _scene_rgba(transform: OutputTransform, colorspace: str, frame: np.ndarray) -> np.ndarray:
    """The model's frame as the scene-linear RGBA written (alpha 1)."""
    linear = transform.to_scene(frame, colorspace)
    return np.concatenate([linear, np.ones(linear.shape[:2] + (1,), np.float32)], axis=2)


#: What a window method yields: (frame index in the shot, frame, the windows that made it).
Frames = Iterator[tuple[int, np.ndarray, list[Window]]]


@dataclass(frozen=True)
class _Inputs:
    """What a shot's windows are made from besides its spec: the image it starts from, the
    pictures of the render it remakes (video-to-video), and where the sound they make goes."""

    image: np.ndarray | None
    video: np.ndarray | None
    sound: ShotSound | None


def _crossfade_frames(shot: ShotPlan, model: LoadedModel, missing: set[int], inputs: _Inputs) -> Frames:
    """Each window denoised and decoded on its own, from its slice of the shot's noise."""
    job, spec = shot.job, shot.spec
    windows = shot_windows(shot, model)
    needed = _windows_holding(windows, job, missing)
    noise = _shot_noise(model, spec, windows)
    blender = WindowBlender(windows, order=needed)
    for index in needed:
        window = windows[index]
        call_frames = model.round_up_frames(window.length)
        rgb = _generate(model, spec, call_frames, seed=_window_seed(spec.seed, index), image=inputs.image,
                        latents=None if noise is None else _noise_for(noise, model, window, call_frames),
                        inputs=inputs, window=window)
        yield from _covered(blender, windows, index, rgb[: window.length])


def _context_frames(shot: ShotPlan, model: LoadedModel, missing: set[int], inputs: _Inputs) -> Frames:
    """The whole shot denoised as one in context windows, its latents kept until every frame
    is on disk, then decoded as one stream (or in cross-faded windows where the VAE cannot).

    Latents an earlier run kept are decoded instead of denoising again, unless ``--force``;
    kept latents that fail to decode are discarded, and the shot is denoised again (the
    frames they gave before failing are given again, from the new latents)."""
    spec = shot.spec
    windows = shot_windows(shot, model)
    temporal = model.temporal_compression
    latent_windows = [(w.start // temporal, (w.length - 1) // temporal + 1) for w in windows]
    path = latents_path(shot.out_dir, shot.name)
    if shot.force:
        # Forced: every frame from a new denoise, never from what an earlier run kept.
        path.unlink(missing_ok=True)
    latents = None if shot.force else _read_latents(shot, _noise_shape(model, spec, windows), model.dtype)
    if latents is not None:
        try:
            yield from _decode_latents(shot, model, missing, latents, windows, latent_windows)
            return
        except Exception as exc:  # a damaged file is only a lost shortcut: denoise again
            if is_out_of_memory(exc):
                raise
            log.warning("shot %s: kept latents %s do not decode (%s); denoising again", shot.name, path,
                        _first_line(exc))
            path.unlink(missing_ok=True)
    noise = _shot_noise(model, spec, windows)
    with torch.inference_mode():
        latents = model.denoise(
            windows=latent_windows, prompt=spec.prompt, negative_prompt=spec.negative_prompt or None,
            num_frames=windows[-1].end, height=spec.height, width=spec.width,
            num_inference_steps=spec.steps, guidance_scale=spec.guidance,
            latents=noise.to(model.device, model.dtype), image=inputs.image)
    _write_latents(shot, latents)
    yield from _decode_latents(shot, model, missing, latents, windows, latent_windows)


def _decode_latents(shot: ShotPlan, model: LoadedModel, missing: set[int], latents: torch.Tensor,
                    windows: list[Window], latent_windows: list[tuple[int, int]]) -> Frames:
    """A shot's denoised latents decoded up to its last missing frame (``_context_frames``)."""
    job = shot.job
    if model.streams_decode(latents):
        # One causal decode of the whole shot, frame after frame, up to the last frame needed.
        last = max(missing) - job.head_in
        with closing(model.decode_stream(latents)) as stream:
            for first, frames in stream:
                for offset, frame in enumerate(frames):
                    index = first + offset
                    yield index, frame, _covering(windows, index)
                if first + len(frames) > last:
                    return
    else:
        needed = _windows_holding(windows, job, missing)
        blender = WindowBlender(windows, order=needed)
        for index in needed:
            yield from _covered(blender, windows, index, model.decode(latents, *latent_windows[index]))


def _continued_frames(shot: ShotPlan, model: LoadedModel, missing: set[int], inputs: _Inputs) -> Frames:
    """Window after window, each carrying on from the one before: an image-to-video model
    starts from its last frame; any other holds its last latent frames fixed."""
    job, spec = shot.job, shot.spec
    temporal = model.temporal_compression
    from_image = "image" in model.conditioning
    windows = shot_windows(shot, model)
    noise = _shot_noise(model, spec, windows)
    # Each window needs the one before it: render up to the last that holds a missing frame.
    last = _windows_holding(windows, job, missing)[-1]
    blender = WindowBlender(windows, order=list(range(last + 1)))
    previous: tuple[Window, np.ndarray, torch.Tensor | None] | None = None
    for index in range(last + 1):
        window = windows[index]
        window_noise = _noise_for(noise, model, window, window.length)
        start_image, held = inputs.image, None
        if previous is not None:
            before, before_rgb, before_latents = previous
            if from_image:
                start_image = before_rgb[window.start - before.start]
            else:
                shared = (before.end - window.start - 1) // temporal + 1
                axis = model.family.context_axis
                held = before_latents.narrow(axis, (window.start - before.start) // temporal, shared)
        final: list[torch.Tensor] = []
        # An image-to-video model starts from the frame itself: no latents to hold or keep.
        hold = None if from_image else _HoldLatents(model.family, held, window_noise, final)
        rgb = _generate(model, spec, window.length, seed=_window_seed(spec.seed, index), image=start_image,
                        latents=window_noise, callback=hold, inputs=inputs, window=window)
        previous = (window, rgb, final[0] if final else None)
        yield from _covered(blender, windows, index, rgb)


class _HoldLatents:
    """A pipeline step callback that keeps the first latent frames on a known path, the way the
    model's family holds them (``Family.hold_known_latents``: after the last step they are
    exactly known), so the model denoises the rest to fit. Also records the final latents in
    ``final``."""

    def __init__(self, family: Family, known: torch.Tensor | None, noise: torch.Tensor, final: list[torch.Tensor]):
        self.family, self.known, self.noise, self.final = family, known, noise, final

    def __call__(self, pipeline: Any, step: int, timestep: Any, values: dict[str, Any]) -> dict[str, Any]:
        latents = values["latents"]
        if self.known is not None:
            latents = self.family.hold_known_latents(pipeline, step, latents, self.known, self.noise)
        if step == len(pipeline.scheduler.timesteps) - 1:
            self.final[:] = [latents.detach().to("cpu", torch.float32)]
        return {"latents": latents}


def _native_frames(shot: ShotPlan, model: LoadedModel, missing: set[int], inputs: _Inputs) -> Frames:
    """The whole shot in one call that carries it from window to window itself (the family's
    ``native_window_method``, e.g. diffusion forcing): windows of the shot's window length,
    each carrying ``window_overlap`` frames (both on the model's frame rule) of the one before."""
    job, spec = shot.job, shot.spec
    frames = model.round_up_frames(job.frame_count)
    window = min(spec.max_window, frames)
    overlap = model.round_up_frames(spec.window_overlap)
    whole = Window(0, frames)
    rgb = _generate(model, spec, frames, seed=spec.seed, image=inputs.image, latents=None, inputs=inputs,
                    window=whole, whole_shot=(window, overlap))
    covering = [whole]
    for index in range(job.frame_count):
        yield index, rgb[index], covering


_WINDOW_METHODS = {"context": _context_frames, "continue": _continued_frames, "crossfade": _crossfade_frames,
                   "forcing": _native_frames}


def _generate(model: LoadedModel, spec: RenderSpec, num_frames: int, *, seed: int, image: np.ndarray | None,
              latents: torch.Tensor | None, inputs: _Inputs, window: Window, callback: Any = None,
              whole_shot: tuple[int, int] | None = None) -> np.ndarray:
    """One call of the model for ``window`` of the shot: given the window's part of the render
    it remakes, if any; the sound it made, if any, goes to the shot's sound at the window's place."""
    extras: dict[str, Any] = {}
    video = None
    if inputs.video is not None:
        # Past the shot's last frame (a call rounded up to the frame rule), its last picture holds.
        video = inputs.video[np.minimum(np.arange(window.start, window.start + num_frames), len(inputs.video) - 1)]
    with torch.inference_mode():
        rgb = model.generate(
            prompt=spec.prompt, negative_prompt=spec.negative_prompt or None,
            num_frames=num_frames, height=spec.height, width=spec.width,
            num_inference_steps=spec.steps, guidance_scale=spec.guidance,
            generator=cpu_generator(seed), image=image, latents=latents, callback=callback,
            frame_rate=_frame_rate(spec), extras=extras, whole_shot=whole_shot, reference_video=video,
        )
    if inputs.sound is not None and "audio" in extras:
        inputs.sound.add(window.start, min(window.length, num_frames), extras["audio"])
    return rgb


def _frame_rate(spec: RenderSpec) -> float | None:
    """The edit's frame rate where the spec records it: for families that condition on it."""
    rate = spec.extra.get("frame_rate")
    return None if rate is None else float(Fraction(rate))


def _covered(blender: WindowBlender, windows: list[Window], index: int, frames: np.ndarray) -> Frames:
    """The frames ``blender`` finishes with window ``index``, each with the windows covering it."""
    for shot_index, frame in blender.add(index, frames):
        yield shot_index, frame, _covering(windows, shot_index)


def _covering(windows: list[Window], index: int) -> list[Window]:
    """The windows that hold frame ``index`` of the shot."""
    return [w for w in windows if w.start <= index < w.end]


def _windows_holding(windows: list[Window], job: ShotJob, missing: set[int]) -> list[int]:
    """The indices of the windows that hold a missing frame."""
    return [i for i, w in enumerate(windows)
            if any(job.head_in + f in missing for f in range(w.start, min(w.end, job.frame_count)))]


def shot_windows(shot: ShotPlan, model: LoadedModel) -> list[Window]:
    """The windows (in frames of the shot) that ``model`` renders ``shot`` in, by its method.

    ``context`` and ``continue`` plan over the shot rounded up to a frame count the model's
    latents hold (frames past the shot are dropped); ``continue`` with an image-to-video model
    overlaps windows by the one frame the next starts from.
    """
    spec, frame_count = shot.spec, shot.job.frame_count
    temporal = model.temporal_compression
    if spec.windows == "crossfade":
        return plan_windows(frame_count, max_frames=spec.max_window, overlap=spec.window_overlap, align=temporal)
    overlap = 1 if spec.windows == "continue" and "image" in model.conditioning else spec.window_overlap
    return plan_windows(model.round_up_frames(frame_count), max_frames=spec.max_window, overlap=overlap,
                        align=temporal)


def _first_image(shot: ShotPlan) -> np.ndarray | None:
    """The image the shot starts from: the frame of the shot it continues, or its reference.

    Raises:
        RenderError: the continued shot's frame is not on disk from its current render.
    """
    path, spec = shot.continued_frame_path, shot.spec
    if path is None:
        return shot.reference
    if not is_complete_frame(path, job_hash=spec.continues_hash):
        raise RenderError(f"shot {spec.shot} continues shot {spec.continues}, but its frame {spec.continues_frame} "
                          f"is not rendered ({path} is missing or from another render); render {spec.continues} first")
    return read_display_frames([path], colorspace=spec.colorspace)[0]


def _reference_video(shot: ShotPlan, model: LoadedModel) -> np.ndarray | None:
    """The pictures of the render a video-to-video model remakes (``--reference-render``): the
    shot's frames there, head_in..tail_out, as the pictures their model drew; None for other models.

    Raises:
        RenderError: the frames changed since the render was planned, or have another size.
    """
    reference = shot.spec.extra.get("reference_render")
    if "reference_video" not in model.conditioning or not reference:
        return None
    job, spec = shot.job, shot.spec
    paths = [frame_path(Path(reference["folder"]), job.name, frame) for frame in job.frames]
    if not all(is_complete_frame(path, job_hash=reference["job_hash"]) for path in paths):
        raise RenderError(f"shot {job.name}: its frames in --reference-render {reference['folder']} changed since "
                          "this render began; render again")
    pictures = read_display_frames(paths, colorspace=read_exr_header(paths[0]).get("oiio:ColorSpace") or
                                   spec.colorspace)
    if pictures.shape[1:3] != (spec.height, spec.width):
        raise RenderError(f"shot {job.name}: its frames in --reference-render {reference['folder']} are "
                          f"{pictures.shape[2]}x{pictures.shape[1]}, the render {spec.width}x{spec.height}: "
                          "render both at one --size")
    return pictures


def _read_latents(shot: ShotPlan, shape: tuple[int, ...] | None, dtype: torch.dtype) -> torch.Tensor | None:
    """The shot's latents kept by an earlier run of the same job, or None.

    The job hash says which job kept them; the tensor must also be what that job's denoise
    gives (``shape``; float32, or the model's ``dtype``, in which some pipelines keep their
    latents; every value finite), or it is not used: a warning names the shot and the file,
    and the shot is denoised again.
    """
    path = latents_path(shot.out_dir, shot.name)
    if not path.is_file():
        return None
    try:
        with safe_open(str(path), framework="pt") as kept:
            if (kept.metadata() or {}).get("job_hash") != shot.spec.job_hash:
                return None
            latents = kept.get_tensor("latents")
    except Exception as exc:  # a damaged file is only a lost shortcut: denoise again
        log.warning("shot %s: kept latents %s unreadable (%s); denoising again", shot.name, path, exc)
        return None
    problem = _latents_problem(latents, shape, dtype)
    if problem is not None:
        log.warning("shot %s: kept latents %s %s; denoising again", shot.name, path, problem)
        return None
    log.info("shot %s: decoding the latents an earlier run kept (%s)", shot.name, path.name)
    return latents


def _latents_problem(latents: torch.Tensor, shape: tuple[int, ...] | None, dtype: torch.dtype) -> str | None:
    """Why kept latents cannot be the ones this job denoises to (``shape``, float32 or the
    model's ``dtype``, finite), or None."""
    if shape is None:
        return "cannot be checked: the model has no latent layout"
    if tuple(latents.shape) != tuple(shape):
        return f"are {tuple(latents.shape)}, the job's {tuple(shape)}"
    if latents.dtype not in (torch.float32, dtype):
        return f"are {latents.dtype}, not {' or '.join(sorted({str(torch.float32), str(dtype)}))}"
    if not bool(torch.isfinite(latents).all()):
        return "hold values that are not finite (NaN or infinity)"
    return None


def _write_latents(shot: ShotPlan, latents: torch.Tensor) -> None:
    """Keep the shot's latents beside its frames, so that a run killed while decoding resumes
    from them; ``_render_one`` removes them once every frame is on disk."""
    path = latents_path(shot.out_dir, shot.name)
    tensors = {"latents": latents.contiguous()}
    metadata = {"job_hash": shot.spec.job_hash, "shot": shot.name}
    write_atomically(path, lambda temporary: save_file(tensors, str(temporary), metadata=metadata),
                     what="latents", error=RenderError, suffix=".safetensors")


def _window_seed(seed: int, index: int) -> int:
    return (seed + 1_000_003 * index) % (2**63)


def _shot_noise(model: LoadedModel, spec: RenderSpec, windows: list[Window]) -> torch.Tensor | None:
    """One noise tensor for the whole shot, drawn on the CPU; windows take overlapping slices.

    None where the model's family lets each window draw its own (no latent layout).
    """
    shape = _noise_shape(model, spec, windows)
    return None if shape is None else torch.randn(shape, generator=cpu_generator(spec.seed), dtype=torch.float32)


def _noise_shape(model: LoadedModel, spec: RenderSpec, windows: list[Window]) -> tuple[int, ...] | None:
    """The shape of the shot's noise, and of the latents it denoises to (batch, channels,
    latent frames, height, width); None without a latent layout."""
    layout = model.latent_layout
    if layout is None:
        return None
    temporal, spatial = layout.temporal, layout.spatial
    latent_frames = max(w.start // temporal + (model.round_up_frames(w.length) - 1) // temporal + 1 for w in windows)
    return (1, layout.channels, latent_frames, spec.height // spatial, spec.width // spatial)


def _noise_for(noise: torch.Tensor | None, model: LoadedModel, window: Window, call_frames: int) -> torch.Tensor | None:
    if noise is None:
        return None
    temporal = model.temporal_compression
    start = window.start // temporal
    length = (call_frames - 1) // temporal + 1
    return noise[:, :, start:start + length].contiguous().to(model.device, model.dtype)


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
        "sora_vfx:windows": spec.windows,
        **dataclasses.replace(spec.transform, config=get_converter().config_uri).header_attributes(),
    }
    if spec.continues:
        attributes["sora_vfx:continues"] = f"{spec.continues} frame {spec.continues_frame}"
    speed = spec.extra.get("speed")
    if speed:
        # The speed options that made the frame (they change pixels).
        attributes["sora_vfx:speed"] = describe_speed(speed)
    chromaticities = get_converter().chromaticities(spec.colorspace)
    if chromaticities is not None:
        attributes["chromaticities"] = chromaticities
    return attributes



