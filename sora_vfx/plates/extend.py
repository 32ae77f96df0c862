"""``extend_plate``: a plate sequence in, an extended EXR sequence with a ``mask`` channel out.

Per frame: the filmed pixels are copied into the new frame exactly as decoded (half stays
half); the strips around the old display window come from the model; the ``mask`` channel is
1 on them, and over filmed pixels a `--mask` matte asks for, its value there (``plates.matte``).
The model says which ways it can take (``PlateModel.paths``, ``ExtensionPath``): a video
outpainting model fills the border of the whole shot at once (``VIDEO``: every frame seeing
its neighbours, in latent windows for long plates, the border's colour anchored to the plate
per window); an image inpainting model fills each frame on its own from the same noise
(``PER_FRAME``), as a video model does when asked; any model fills it once, from the
reference frame, with ``STATIC``. Frames are written atomically and kept on a re-run when
their ``sora_vfx:job_hash`` matches; the video path generates the whole shot again for any
missing frame, so a resumed frame is the frame an uninterrupted run writes.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..console import Progress
from ..errors import ImagingError, PlateError, SoraVfxError
from ..files import ensure_writable_folder
from ..imaging import get_converter, is_complete_frame
from ..imaging.exr import clean_stale_temp_files
from ..imaging.plates_io import read_plate_pixels, write_plate_frame
from ..layout import extended_frame_path, extended_frame_pattern
from .anchor import HIGHLIGHT_HEADROOM, brightest_filmed, filmed_peak, roll_off_highlights, window_gains
from .border import (
    Border,
    Prompting,
    apply_matte,
    border_strips,
    build_canvas,
    generate_border,
    matte_patches,
    model_view,
)
from .channels import MASK_CHANNEL, carried_attributes
from .frames import FrameAssembler, border_template
from .geometry import Box, Layout
from .matte import read_matte
from .model import ExtensionPath, PlateModel, load_plate_model
from .plan import ExtendSettings, PlatePlan, frame_text, job_hash, plate_error, prepare_plan
from .sequence import PlateSequence, frame_ranges

log = logging.getLogger("sora_vfx")

#: Version of the ``extend --json`` document (docs/schemas/extend.schema.json).
JSON_VERSION = 3

#: Failures that end one frame, not the run: the others still finish and the run exits 1.
FRAME_FAILURES = (SoraVfxError, OSError, RuntimeError, ValueError, MemoryError)


@dataclass
class ExtendReport:
    """What an extension did: frames written, kept (already complete) and failed."""

    plate: PlateSequence
    out_dir: Path
    layout: Layout
    job_hash: str
    seed: int
    colorspace: str
    channels: tuple[str, ...]
    dropped_channels: tuple[str, ...]
    model: str
    work_size: tuple[int, int] | None = None
    steps: int | None = None
    path: ExtensionPath = ExtensionPath.PER_FRAME
    #: The video path's windows, as (first, last) plate frames, and each frame's colour gains.
    windows: list[tuple[int | None, int | None]] = field(default_factory=list)
    gains: dict[int | None, tuple[float, float, float]] = field(default_factory=dict)
    #: The video path with colour matching: the brightest filmed value, above which the
    #: border's highlights roll off.
    plate_brightest: float | None = None
    written: list[int | None] = field(default_factory=list)
    kept: list[int | None] = field(default_factory=list)
    failed: dict[int | None, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def status(self) -> str:
        if self.failed:
            return "failed"
        return "extended" if self.written else "skipped"

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready values (``sora-vfx extend --json``): counts of written and
        kept frames, each failed frame with its error, the new windows and how it was generated."""
        layout, plate = self.layout, self.plate
        frames = [f for f in plate.frames if f is not None]
        pattern = extended_frame_pattern(plate.name, padding=plate.padding, numbered=plate.frames != (None,))
        return {
            "version": JSON_VERSION,
            "plate": self.plate.pattern,
            "out": str(self.out_dir),
            "pattern": str(self.out_dir / pattern),
            "status": self.status,
            "frames": {"first": frames[0] if frames else None, "last": frames[-1] if frames else None,
                       "count": len(self.plate)},
            "written": len(self.written),
            "kept": len(self.kept),
            "failed": [{"frame": frame, "error": error} for frame, error in self.failed.items()],
            "display_window": list(layout.display.to_window()),
            "plate_display_window": list(layout.plate_display.to_window()),
            "offset": list(layout.offset),
            "pad": str(layout.padding),
            "channels": list(self.channels),
            "dropped_channels": list(self.dropped_channels),
            "mask_channel": MASK_CHANNEL,
            "colorspace": self.colorspace,
            "model": self.model,
            "path": self.path.recorded,
            "windows": [list(window) for window in self.windows],
            "colour_gain": {"min": [round(float(v), 4) for v in np.min(list(self.gains.values()), axis=0)],
                            "max": [round(float(v), 4) for v in np.max(list(self.gains.values()), axis=0)]}
            if self.gains else None,
            "highlights": {"plate_brightest": self.plate_brightest,
                           "limit": self.plate_brightest * HIGHLIGHT_HEADROOM}
            if self.plate_brightest is not None else None,
            "work_size": list(self.work_size) if self.work_size else None,
            "steps": self.steps,
            "seed": self.seed,
            "job_hash": self.job_hash,
            "seconds": round(self.seconds, 3),
        }


def extend_plate(plate: Path | str, out_dir: Path | str, settings: ExtendSettings, *,
                 model: PlateModel | None = None, progress: bool | None = None) -> ExtendReport:
    """Extend every frame of ``plate`` into ``out_dir``.

    Args:
        plate: a frame, a pattern (``plate.####.exr``, ``plate.%04d.exr``,
            ``plate.1001-1100#.exr``) or a folder.
        out_dir: output folder; frames are ``<plate name>_ext.####.exr``.
        settings: the target format and how to generate.
        model: an already loaded :class:`~sora_vfx.plates.model.PlateModel` (tests, hosts);
            default ``load_plate_model(settings.model)``, once a frame needs it.
        progress: show bars (default: when stderr is a terminal).
    Returns:
        What was written, kept and failed. Frames that fail to generate or write are reported
        and the others still finish.
    Raises:
        SoraVfxError: bad input, found before any frame is written: missing or unreadable plate
            frames, a size that shrinks the plate, an unknown colour space, a bad model folder;
            PlateError also for a plate frame that does not decode mid-way (the run stops).
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    plan = prepare_plan(plate, settings)
    digest = job_hash(plan, settings, get_converter().config_uri)
    report = ExtendReport(plan.sequence, out_dir, plan.layout, digest, plan.seed, plan.colorspace,
                          plan.channels.names, plan.channels.dropped, plan.model_id[0], path=plan.path)
    ensure_writable_folder(out_dir, PlateError)
    clean_stale_temp_files(out_dir)
    todo = [frame for frame in plan.sequence.frames
            if settings.force or not is_complete_frame(_output_path(plan, out_dir, frame), job_hash=digest)]
    report.kept = [frame for frame in plan.sequence.frames if frame not in todo]
    bar = Progress(len(plan.sequence), enabled=progress)
    bar.start_shot(plan.sequence.name, len(plan.sequence))
    bar.frames_done(len(report.kept))
    try:
        if todo:
            _run(plan, settings, todo, out_dir, model, report, bar)
    except BaseException:
        bar.close()
        raise
    done = set(report.written)  # worker threads finish in any order
    report.written = [frame for frame in plan.sequence.frames if frame in done]
    report.seconds = time.perf_counter() - started
    bar.end_shot(_summary(report))
    bar.close()
    return report


def _summary(report: ExtendReport) -> str:
    text = (f"plate {report.plate.name}: {len(report.written)} frames written, {len(report.kept)} kept, "
            f"{report.seconds:.1f} s")
    if report.failed:
        text += f", {len(report.failed)} FAILED ({frame_ranges([f for f in report.failed if f is not None])})"
    return text


def _read(plan: PlatePlan, frame: int | None) -> np.ndarray:
    try:
        return read_plate_pixels(plan.headers[frame], plan.channels.read, pixel_type=plan.channels.pixel_type)
    except ImagingError as exc:
        raise plate_error(plan.sequence, frame, exc) from None


def _output_path(plan: PlatePlan, out_dir: Path, frame: int | None) -> Path:
    return extended_frame_path(out_dir, plan.sequence.name, frame, padding=plan.sequence.padding)


def _run(plan: PlatePlan, settings: ExtendSettings, todo: list, out_dir: Path,
         model: PlateModel | None, report: ExtendReport, bar: Progress) -> None:
    static = plan.path is ExtensionPath.STATIC
    first = plan.ref_frame if static else todo[0]
    # Decode before loading the model: a damaged plate fails in milliseconds.
    pixels = {first: _read(plan, first)}
    if model is None:
        model = load_plate_model(settings.model, device=settings.device, cache_dir=settings.cache_dir)
    if plan.path not in model.paths:
        raise PlateError(f"model {model.name} cannot fill a whole shot at once; it is not a video outpainting model"
                         if model.paths else f"model {model.name} fills no mask: it cannot extend plates")
    layout = plan.layout
    work_size = settings.work_size or model.working_size(layout.display.width, layout.display.height,
                                                         plan.headers[first].pixel_aspect)
    model.check_size(*work_size)
    prompting = Prompting(settings.prompt, settings.negative_prompt, settings.steps or model.default_steps,
                          settings.guidance, plan.seed)
    report.work_size, report.steps, report.model = work_size, prompting.steps, model.name
    if plan.path is ExtensionPath.VIDEO:
        frames = plan.sequence.frames
        windows = model.frame_windows(len(frames))
        report.windows = [(frames[start], frames[min(start + length, len(frames)) - 1])
                          for start, length in windows if start < len(frames)]
    writer = _FrameWriter(plan, out_dir, report, bar, _attributes(plan, settings, report, prompting))
    if plan.path is ExtensionPath.VIDEO:
        _run_video(plan, settings, todo, model, windows, work_size, prompting, writer, pixels)
        return

    def assembler_for(frame: int | None, rgb: np.ndarray) -> FrameAssembler:
        border = generate_border(
            layout=layout, filmed=layout.filmed(Box.from_window(plan.headers[frame].data_window)), rgb=rgb,
            model=model, work_size=work_size, prompting=prompting, transform=plan.transform,
            colorspace=plan.colorspace, blend=settings.blend, matte=_matte(plan, frame),
        )
        return FrameAssembler(layout, plan.channels, border_template(layout, plan.channels, border),
                              shared=static, patches=border.patches)

    shared = assembler_for(first, pixels[first]) if static else None

    def frames_to_write() -> Iterator[tuple]:
        for frame in todo:
            rgb = pixels.pop(frame, None)
            if shared is not None:
                yield frame, shared, rgb
                continue
            rgb = _read(plan, frame) if rgb is None else rgb
            try:
                assembler = assembler_for(frame, rgb)
            except FRAME_FAILURES as exc:
                writer.failed(frame, exc)
                continue
            yield frame, assembler, rgb

    _write_all(writer, frames_to_write(), settings.workers)


def _write_all(writer: _FrameWriter, frames: Iterator[tuple], workers: int) -> None:
    """Write ``frames`` ((frame, assembler, pixels[, extra attributes]) each, made as they are
    asked for) on ``workers`` threads, a few frames in flight at a time; a PlateError from a
    worker ends the run."""
    workers = max(1, workers)
    with ThreadPoolExecutor(workers, thread_name_prefix="sora_vfx-plate") as pool:
        pending: deque[Future] = deque()
        try:
            for item in frames:
                pending.append(pool.submit(writer.write, *item))
                while len(pending) > 2 * workers:  # bounds memory: a few frames in flight
                    pending.popleft().result()
            while pending:
                pending.popleft().result()
        except BaseException:
            for job in pending:
                job.cancel()
            raise


def _run_video(plan: PlatePlan, settings: ExtendSettings, todo: list, model: PlateModel,
               windows: list[tuple[int, int]], work_size: tuple[int, int], prompting: Prompting,
               writer: _FrameWriter, pixels: dict) -> None:
    """The whole shot's border at once, generated in ``windows`` (first frame, frames): every
    frame's view for the model, one generation, then the missing frames assembled and written."""
    layout, report = plan.layout, writer.report
    frames = plan.sequence.frames
    filmed = {frame: layout.filmed(Box.from_window(plan.headers[frame].data_window)) for frame in frames}
    views, peaks = [], []
    for frame in frames:
        rgb = pixels.pop(frame, None)
        canvas, _visible = build_canvas(layout, filmed[frame], _read(plan, frame) if rgb is None else rgb)
        canvas = apply_matte(canvas, layout, _matte(plan, frame))
        if settings.colour_match:  # one number a frame: the filmed pixels are not kept
            peaks.append(filmed_peak(canvas[..., :3][canvas[..., 3] >= 0.5]))
        views.append(model_view(canvas, work_size=work_size, transform=plan.transform, colorspace=plan.colorspace))
    brightest = brightest_filmed(peaks) if settings.colour_match else None
    masks = np.stack([view.mask for view in views])
    try:
        generated = model.outpaint(
            pictures=np.stack([view.picture for view in views]), masks=masks, prompt=prompting.prompt,
            negative_prompt=prompting.negative_prompt, num_inference_steps=prompting.steps,
            guidance_scale=prompting.guidance, seed=prompting.seed)
    except FRAME_FAILURES as exc:
        for frame in todo:
            writer.failed(frame, exc)
        return
    scene = plan.transform.to_scene(generated, plan.colorspace)
    if settings.colour_match:
        gains = window_gains(scene, np.stack([view.plate for view in views]), masks, windows)
        scene *= gains[:, None, None, :]
        report.gains = {frame: tuple(float(g) for g in gain) for frame, gain in zip(frames, gains, strict=True)}
    if brightest is not None:
        scene = roll_off_highlights(scene, brightest)
        report.plate_brightest = brightest
    wanted = set(todo)

    def frames_to_write() -> Iterator[tuple]:
        for index, frame in enumerate(frames):
            if frame not in wanted:
                continue
            rgb = _read(plan, frame)
            try:
                canvas = build_canvas(layout, filmed[frame], rgb) if settings.blend > 0 else None
                strips = border_strips(layout=layout, generated=scene[index], blend=settings.blend, canvas=canvas)
                patches = matte_patches(layout=layout, generated=scene[index], matte=_matte(plan, frame))
            except FRAME_FAILURES as exc:
                writer.failed(frame, exc)
                continue
            border = Border(strips, views[index].picture, views[index].mask, generated[index], patches)
            assembler = FrameAssembler(layout, plan.channels, border_template(layout, plan.channels, border),
                                       shared=False, patches=patches)
            gain = report.gains.get(frame)
            anchored = {"sora_vfx:colour_gain": ",".join(f"{g:.5f}" for g in gain)} if gain else {}
            if brightest is not None:
                anchored["sora_vfx:plate_brightest"] = brightest
            yield frame, assembler, rgb, anchored

    _write_all(writer, frames_to_write(), settings.workers)


def _matte(plan: PlatePlan, frame: int | None) -> np.ndarray | None:
    """The ``--mask`` matte for ``frame``, or None without one."""
    return read_matte(plan.matte, frame) if plan.matte is not None else None


def _attributes(plan: PlatePlan, settings: ExtendSettings, report: ExtendReport,
                prompting: Prompting) -> dict[str, Any]:
    """The ``sora_vfx:*`` attributes every frame of this run carries."""
    layout = plan.layout
    attributes: dict[str, Any] = {
        "oiio:ColorSpace": plan.colorspace,
        "sora_vfx:plate_colorspace": plan.colorspace,
        "sora_vfx:model": report.model,
        "sora_vfx:prompt": prompting.prompt,
        "sora_vfx:negative_prompt": prompting.negative_prompt,
        "sora_vfx:seed": str(prompting.seed),
        "sora_vfx:steps": prompting.steps,
        "sora_vfx:guidance": float(prompting.guidance),
        "sora_vfx:pad": str(layout.padding),
        "sora_vfx:plate_offset": f"{layout.offset[0]},{layout.offset[1]}",
        "sora_vfx:plate_display_window": ",".join(map(str, layout.plate_display.to_window())),
        "sora_vfx:blend": settings.blend,
        "sora_vfx:static": int(plan.path is ExtensionPath.STATIC),
        "sora_vfx:extend_path": plan.path.recorded,
        "sora_vfx:colour_match": int(settings.colour_match and plan.path is ExtensionPath.VIDEO),
        "sora_vfx:work_size": f"{report.work_size[0]}x{report.work_size[1]}",
        "sora_vfx:mask_channel": MASK_CHANNEL,
        "sora_vfx:job_hash": report.job_hash,
        "sora_vfx:version": __version__,
        **plan.transform.header_attributes(),
    }
    if plan.ref_frame is not None:
        attributes["sora_vfx:ref_frame"] = plan.ref_frame
    if report.windows and report.windows[0][0] is not None:
        attributes["sora_vfx:windows"] = ",".join(f"{first}-{last}" for first, last in report.windows)
    if plan.channels.dropped:
        attributes["sora_vfx:dropped_channels"] = ",".join(plan.channels.dropped)
    return attributes


class _FrameWriter:
    """Assembles and writes one frame on a worker thread; records what happened."""

    def __init__(self, plan: PlatePlan, out_dir: Path, report: ExtendReport, bar: Progress,
                 attributes: dict[str, Any]):
        self.plan, self.out_dir, self.report, self.bar, self.attributes = plan, out_dir, report, bar, attributes
        self.chromaticities = get_converter().chromaticities(plan.colorspace)

    def failed(self, frame: int | None, exc: BaseException) -> None:
        message = str(exc) if isinstance(exc, SoraVfxError) else f"{type(exc).__name__}: {exc}"
        log.error("plate %s%s: %s", self.plan.sequence.name, frame_text(frame), message)
        self.report.failed[frame] = message
        self.bar.frames_done()

    def write(self, frame: int | None, assembler: FrameAssembler, pixels: np.ndarray | None,
              extra: dict[str, Any] | None = None) -> None:
        plan = self.plan
        header = plan.headers[frame]
        if pixels is None:
            pixels = _read(plan, frame)  # a PlateError goes up and ends the run
        try:
            data = Box.from_window(header.data_window)
            buffer, out_box = assembler.assemble(data, pixels)
            attributes = {**self.attributes, **(extra or {})}
            attributes["sora_vfx:plate"] = str(header.path)
            attributes["sora_vfx:filmed_window"] = ",".join(map(str, plan.layout.filmed(data).to_window()))
            if frame is not None:
                attributes["sora_vfx:plate_frame"] = frame
            if plan.matte is not None:
                attributes["sora_vfx:mask_input"] = str(plan.matte.header(frame).path)
            raw = carried_attributes(header, keep_views=bool(plan.channels.extras))
            carried = {name for name, _, _ in raw}
            if "chromaticities" not in carried:
                attributes["chromaticities"] = self.chromaticities
            if "software" not in carried:
                attributes["software"] = f"sora_vfx {__version__}"
            write_plate_frame(
                _output_path(plan, self.out_dir, frame), buffer,
                channel_names=plan.channels.names, channel_types=plan.channels.channel_types,
                origin=(out_box.x, out_box.y), display_window=plan.layout.display.to_window(),
                raw_attributes=raw, attributes=attributes, compression=plan.compression,
            )
        except FRAME_FAILURES as exc:
            self.failed(frame, exc)
            return
        self.report.written.append(frame)
        self.bar.frames_done()
