"""A checked render: the settings, the model, and one ``ShotPlan`` per shot.

``prepare_render`` makes every check that can be made before the first frame (shots, styles,
references, size, output folder) and builds each shot's spec. A ``ShotPlan`` is all one shot
needs; the local renderer, a Dask worker and an OpenJD task (``render --shots X``) each render
a shot from one, so they make the same pixels.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from .. import defaults
from ..config import max_render_pixels
from ..editorial import Edit
from ..editorial.conform import conform_formats
from ..editorial.links import continuation_order, continued_frame, with_predecessors
from ..editorial.shotjob import ShotJob
from ..errors import ConfigError, ImagingError, RenderError
from ..files import ensure_writable_folder
from ..imaging import get_converter
from ..imaging.exr import check_compression, is_complete_frame, read_exr_header
from ..imaging.images import read_reference_image
from ..imaging.transform import OutputTransform
from ..layout import frame_path, paths_leading_outside
from ..models import IMAGE_VARIANTS, LoadedModel, load_model
from ..models.acceleration import Acceleration
from ..models.loader import pick_device
from ..models.memory import check_plan
from ..settings import RENDER, RENDER_SETTINGS, Setting
from ..styles import BUILTIN_STYLES, Style, resolve_style
from .spec import RenderSpec, build_spec

log = logging.getLogger("sora_vfx")


def _default(name: str) -> Any:
    return RENDER[name].default


def usable_cores() -> int:
    """The cores this process may use (its affinity where the system tells it, else all)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 2


def default_writer_threads() -> int:
    """Threads that colour-convert and write a shot's frames: one for each usable core, from 2 to 8."""
    return max(2, min(8, usable_cores()))


@dataclass
class RenderSettings:
    """What the user chose for the whole render; None means the model's or style's default.

    The fields that users set are declared, with their types, defaults, valid values and help,
    in ``settings.RENDER_SETTINGS``; the speed options there make ``speed``.
    """

    model: str = _default("model")
    device: str | None = _default("device")
    size: tuple[int, int] | None = _default("size")
    steps: int | None = _default("steps")
    guidance: float | None = _default("guidance")
    style: str | None = _default("style")
    colorspace: str = _default("colorspace")
    compression: str = _default("compression")
    shots: list[str] | None = _default("shots")
    max_window: int | None = _default("max_window")
    windows: str = _default("windows")
    output_transform: str = _default("output_transform")
    display: str | None = _default("display")
    view: str | None = _default("view")
    #: The memory plan (``models.memory``): auto, fast, balanced or low. Never changes pixels.
    memory: str = _default("memory")
    #: Speed options (``models.acceleration``); they change pixels, so each shot's job hash has them.
    speed: Acceleration = field(default_factory=Acceleration)
    #: Conform formats besides OTIO ("xml,edl"); None: the edit's own (``editorial.conform``).
    conform: str | None = _default("conform")
    #: Write the sound of models that make it (``OUT/<shot>/<shot>.wav``); never changes pixels.
    audio: bool = _default("audio")
    #: A render of the same edit whose frames a video-to-video model remakes (LTX-2 HDR).
    reference_render: Path | None = _default("reference_render")
    # Not settings of the picture: how this run goes.
    force: bool = False
    window_overlap: int | None = None
    #: Threads that colour-convert and write the frames (``default_writer_threads``).
    writer_threads: int = field(default_factory=default_writer_threads)
    cache_dir: Path | None = None
    styles: dict[str, Style] = field(default_factory=lambda: dict(BUILTIN_STYLES))

    def __post_init__(self) -> None:
        # Options and config values are checked as they are read; settings made in Python here.
        for setting in RENDER_SETTINGS:
            if setting.choices and not setting.speed and self.value(setting) not in setting.choices:
                raise ConfigError(f"{setting.flag} {self.value(setting)!r}: choose one of {', '.join(setting.choices)}")

    def value(self, setting: Setting) -> Any:
        """The value of a declared setting; a speed option's as the job hash has it (None: off)."""
        if setting.speed:
            return self.speed.summary().get(setting.name)
        return getattr(self, setting.name)

    def summary(self) -> dict[str, object]:
        """The settings the manifest records (``Setting.manifest``), the speed options as one object."""
        values: dict[str, object] = {}
        for setting in RENDER_SETTINGS:
            if setting.speed:
                values.setdefault("speed", self.speed.summary())
            elif setting.manifest:
                value = getattr(self, setting.name)
                values[setting.name] = list(value) if isinstance(value, tuple) else \
                    str(value) if isinstance(value, Path) else value
        return values


@dataclass(frozen=True)
class ShotPlan:
    """Everything one shot's render needs besides the model: the same on every machine.

    ``reference`` is the decoded first frame for image-to-video models (None otherwise);
    ``force`` re-renders frames that are already complete.
    """

    job: ShotJob
    spec: RenderSpec
    out_dir: Path
    reference: np.ndarray | None = field(default=None, repr=False)
    #: The model that renders the shot, by name (``RenderPlan.models``): the one named, or its
    #: image-to-video twin for a shot with a reference image.
    model: str = defaults.MODEL
    force: bool = False
    writer_threads: int = 2
    #: Write the shot's sound where its model makes sound.
    audio: bool = True

    @property
    def name(self) -> str:
        return self.job.name

    def frame_path(self, frame: int) -> Path:
        """Where frame ``frame`` of this shot is written."""
        return frame_path(self.out_dir, self.job.name, frame)

    @property
    def continued_frame_path(self) -> Path | None:
        """The frame of the shot this one continues that it starts from (None: it continues none)."""
        if self.spec.continues is None or self.spec.continues_frame is None:
            return None
        return frame_path(self.out_dir, self.spec.continues, self.spec.continues_frame)


@dataclass
class RenderPlan:
    """A checked render of an edit: its settings, its models by name and its shots' plans, in
    edit order."""

    edit: Edit
    out_dir: Path
    settings: RenderSettings
    models: dict[str, LoadedModel]
    shots: list[ShotPlan]


def prepare_render(edit: Edit, out_dir: Path, settings: RenderSettings, *, model: LoadedModel | None = None,
                   load: Callable[[str], LoadedModel] | None = None) -> RenderPlan:
    """Check everything that can be checked before rendering, load the models, build the plans.

    Args:
        model: an already loaded (or only described) model for ``settings.model``.
        load: gets any other model by name (the image-to-video twin of a built-in model, for
            shots with a reference image); default ``load_model`` with the settings' device.
    Raises:
        SoraVfxError: unknown shot or style, unreadable reference, a size or window the model
            does not allow, unknown colour space or compression, unwritable output folder.
    """
    out_dir = Path(out_dir)
    conform_formats(settings.conform, edit.path)  # an unknown format fails before any frame
    if model is None and load is None:
        # Rendering here: a plan or speed option this device cannot run fails before the output
        # folder exists. A plan for other machines (farm export) leaves that to them.
        device = pick_device(settings.device)
        check_plan(settings.memory, device)
        settings.speed.check_device(device)
    wanted = _select_shots(edit.jobs, settings.shots)
    # A shot that continues another needs that one's frames: it renders too, unless it is on disk.
    wanted_names = {job.name for job in wanted}
    needed = with_predecessors(edit.jobs, wanted_names)
    jobs = [job for job in edit.jobs if job.name in needed]
    ensure_writable_folder(out_dir, RenderError)
    outside = paths_leading_outside(out_dir, [job.name for job in jobs])
    if outside:
        listed = ", ".join(f"{path} -> {path.resolve()}" for path in outside[:3])
        more = f" and {len(outside) - 3} more" if len(outside) > 3 else ""
        raise RenderError(f"{len(outside)} path(s) in the output folder lead outside it through a symbolic link, "
                          f"where a render would write: {listed}{more}; remove the link(s) or render elsewhere")
    if settings.size is not None:
        width, height, allowed = *settings.size, max_render_pixels()
        if width * height > allowed:
            raise ConfigError(f"size {width}x{height} is {width * height / 1e6:.1f} megapixels a frame, more than "
                              f"the {allowed / 1e6:.1f} allowed; set $SORA_VFX_MAX_PIXELS to allow more")
    colorspace = get_converter().resolve(settings.colorspace)
    transform = OutputTransform.resolve(settings.output_transform, display=settings.display, view=settings.view)
    check_compression(settings.compression)
    styles = {job.name: resolve_style(job.style or settings.style, settings.styles) for job in jobs}
    if load is None:
        def load(name: str) -> LoadedModel:
            return load_model(name, device=settings.device, cache_dir=settings.cache_dir, memory=settings.memory,
                              acceleration=settings.speed, render_size=settings.size, window=settings.max_window)
    named = model or load(settings.model)
    if "video" in named.conditioning:
        raise ConfigError(f"model {named.name} is a video outpainting model: it fills the border of a filmed plate "
                          f"(`sora-vfx extend PLATE --model {named.name}`); render shots with a text- or "
                          "image-to-video model")
    width, height = settings.size or named.default_size
    models: dict[str, LoadedModel] = {}
    windows: dict[str, int] = {}

    def use(name: str, loaded: LoadedModel | None = None) -> LoadedModel:
        """The model called ``name``, loaded and checked against the size and window once."""
        if name not in models:
            models[name] = loaded or load(name)
            windows[name] = _max_window(models[name], settings.max_window)
            models[name].check_inputs(windows[name], height, width)
        return models[name]

    use(settings.model, named)
    variant = IMAGE_VARIANTS.get(settings.model) if "image" not in named.conditioning else None
    by_name = {job.name: job for job in edit.jobs}
    specs: dict[str, RenderSpec] = {}
    shots = []
    for job in continuation_order(jobs):
        style = styles[job.name]
        takes_image = bool(job.reference or style.reference or job.continues)
        name = variant if variant and takes_image else settings.model
        shot_model, max_window = use(name), windows[name]
        if job.continues and "image" not in shot_model.conditioning:
            raise ConfigError(f"shot {job.name} continues {job.continues}, so it starts from an image, but model "
                              f"{shot_model.name} draws from text alone; render it with an image-to-video model")
        overlap = settings.window_overlap if settings.window_overlap is not None else max(1, max_window // 4)
        guidance = settings.guidance if settings.guidance is not None else style.guidance
        previous = specs[job.continues] if job.continues else None
        spec = build_spec(
            job, style, model=shot_model.name, model_fingerprint=shot_model.fingerprint, width=width, height=height,
            steps=settings.steps or style.steps or shot_model.default_steps,
            guidance=defaults.GUIDANCE if guidance is None else guidance,
            max_window=max_window, window_overlap=overlap, colorspace=colorspace, compression=settings.compression,
            windows=_window_method(settings.windows, shot_model),
            continues=None if previous is None else (previous, continued_frame(by_name[job.continues], job)),
            transform=_shot_transform(transform, shot_model), extra=_extra(settings, shot_model, job),
        )
        specs[job.name] = spec
        plan = ShotPlan(job, spec, out_dir, None if job.continues else _reference(shot_model, job, spec, width, height),
                        model=name, force=settings.force, writer_threads=settings.writer_threads,
                        audio=settings.audio)
        if job.name in wanted_names or not _rendered(plan):
            shots.append(plan)
        else:
            log.info("shot %s: used from disk by the shot(s) that continue it", job.name)
    return RenderPlan(edit, out_dir, settings, models, shots)


def _extra(settings: RenderSettings, model: LoadedModel, job: ShotJob) -> dict[str, Any]:
    """What else decides a shot's pixels: the speed options, the edit's frame rate where the
    model's family conditions on it, and the render a video-to-video model remakes."""
    extra: dict[str, Any] = {}
    if not settings.speed.is_default:
        extra["speed"] = settings.speed.summary()
    if model.family is not None and model.family.frame_rate_conditioned:
        extra["frame_rate"] = str(Fraction(job.rate))
    if "reference_video" in model.conditioning:
        extra["reference_render"] = _reference_render(settings.reference_render, model, job)
    return extra


def _shot_transform(transform: OutputTransform, model: LoadedModel) -> OutputTransform:
    """The output transform of the shot's model: the render's, unless the model draws
    scene-linear light itself (``Family.output_colorspace``)."""
    source = model.family.output_colorspace(model.kind) if model.family else None
    return transform.for_scene_linear(get_converter().resolve(source)) if source else transform


def _reference_render(folder: Path | None, model: LoadedModel, job: ShotJob) -> dict[str, str]:
    """The render of the same shot that ``model`` remakes: its folder and the job hash of its
    frames (a new reference render re-renders the shot).

    Raises:
        ConfigError: no reference render given, or the shot is not complete in it.
    """
    if folder is None:
        raise ConfigError(f"model {model.name} remakes a render of each shot (an SDR render, as HDR): render the "
                          "edit first, then give that output folder as --reference-render")
    hashes = set()
    for frame in job.frames:
        path = frame_path(folder, job.name, frame)
        try:
            header = read_exr_header(path)
        except ImagingError as exc:
            raise ConfigError(f"--reference-render {folder}: shot {job.name} frame {frame} is not there ({exc}); "
                              "render the shot there first, with the same handles") from None
        hashes.add(str(header.get("sora_vfx:job_hash") or ""))
    if len(hashes) != 1 or "" in hashes:
        raise ConfigError(f"--reference-render {folder}: shot {job.name}'s frames come from {len(hashes)} renders; "
                          "render it there again")
    return {"folder": str(Path(folder).resolve()), "job_hash": hashes.pop()}


def _rendered(shot: ShotPlan) -> bool:
    """Whether every frame of the shot is on disk, complete, from this spec."""
    return all(is_complete_frame(shot.frame_path(frame), job_hash=shot.spec.job_hash) for frame in shot.job.frames)


def _window_method(requested: str, model: LoadedModel) -> str:
    """The window method a shot renders with: the one requested where the model can (its
    family's ``window_methods``; ``continue`` also needs a model that holds latents or starts
    from an image), else the family's own (``native_window_method``), ``context``, or
    ``crossfade``, which every model can."""
    family = model.family
    methods = family.window_methods() if family else ("crossfade",)
    able = requested in methods and (requested != "continue" or model.context_windows
                                     or "image" in model.conditioning)
    if able:
        return requested
    fallback = (family.native_window_method if family else None) or \
        ("context" if model.context_windows else "crossfade")
    log.info("model %s cannot render windows with %r; its long shots use %r", model.name, requested, fallback)
    return fallback


def _select_shots(jobs: list[ShotJob], wanted: list[str] | None) -> list[ShotJob]:
    if not wanted:
        return jobs
    names = {job.name for job in jobs}
    unknown = [name for name in wanted if name not in names]
    if unknown:
        raise ConfigError(f"shots to render: no shot {', '.join(map(repr, unknown))} in the edit; shots: "
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


def _reference(model: LoadedModel, job: ShotJob, spec: RenderSpec, width: int, height: int) -> np.ndarray | None:
    """The shot's decoded reference image where the model takes one; checked either way, so a
    bad path fails before hours of rendering."""
    takes_image = "image" in model.conditioning
    if takes_image and not spec.reference:
        raise RenderError(f"shot {job.name}: model {model.name} is image-to-video and needs a "
                          "reference image (REFERENCE: comment, shot sheet or style)")
    if not spec.reference:
        return None
    image = read_reference_image(Path(spec.reference), width=width, height=height,
                                 what=f"shot {job.name}: reference image", transform=spec.transform)
    if takes_image:
        return image
    log.warning("shot %s: model %s is text-to-video; its reference image is not used", job.name, model.name)
    return None
