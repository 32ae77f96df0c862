"""``extend_plate``: a plate sequence in, an extended EXR sequence with a ``mask`` channel out.

Per frame: the filmed pixels are copied into the new frame exactly as decoded (half stays
half); the strips around the old display window come from the inpainting model (once, from
the reference frame, with ``static``; else per frame, from the same noise); the ``mask``
channel is 1 on them. Frames are written atomically and kept on a re-run when their
``sora_vfx:job_hash`` matches.
"""

from __future__ import annotations

import logging
import time
from collections import deque
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
from .border import Prompting, generate_border
from .channels import MASK_CHANNEL, carried_attributes
from .frames import FrameAssembler, border_template
from .geometry import Box, Layout
from .plan import ExtendSettings, PlatePlan, frame_text, job_hash, plate_error, prepare_plan
from .sequence import PlateSequence, frame_ranges

log = logging.getLogger("sora_vfx")

#: Version of the ``extend --json`` document (docs/schemas/extend.schema.json).
JSON_VERSION = 1

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
        layout = self.layout
        frames = [f for f in self.plate.frames if f is not None]
        return {
            "version": JSON_VERSION,
            "plate": self.plate.pattern,
            "out": str(self.out_dir),
            "pattern": str(self.out_dir / self.plate.output_pattern),
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
            "work_size": list(self.work_size) if self.work_size else None,
            "steps": self.steps,
            "seed": self.seed,
            "job_hash": self.job_hash,
            "seconds": round(self.seconds, 3),
        }


def extend_plate(plate: Path | str, out_dir: Path | str, settings: ExtendSettings, *,
                 model: Any = None, progress: bool | None = None) -> ExtendReport:
    """Extend every frame of ``plate`` into ``out_dir``.

    Args:
        plate: a frame, a pattern (``plate.####.exr``, ``plate.%04d.exr``,
            ``plate.1001-1100#.exr``) or a folder.
        out_dir: output folder; frames are ``<plate name>_ext.####.exr``.
        settings: the target format and how to generate.
        model: an already loaded :class:`~sora_vfx.plates.inpaint.InpaintModel` (tests, hosts).
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
    converter = get_converter()
    digest = job_hash(plan, settings, converter.config_uri)
    report = ExtendReport(plan.sequence, out_dir, plan.layout, digest, plan.seed, plan.colorspace,
                          plan.channels.names, plan.channels.dropped, plan.model_id[0])
    ensure_writable_folder(out_dir, PlateError)
    clean_stale_temp_files(out_dir)
    todo = [frame for frame in plan.sequence.frames
            if settings.force or not is_complete_frame(out_dir / plan.sequence.output_name(frame), job_hash=digest)]
    report.kept = [frame for frame in plan.sequence.frames if frame not in todo]
    bar = Progress(len(plan.sequence), enabled=progress)
    bar.start_shot(plan.sequence.name, len(plan.sequence))
    bar.frames_done(len(report.kept))
    try:
        if todo:
            _run(plan, settings, todo, out_dir, converter, model, report, bar)
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


def _run(plan: PlatePlan, settings: ExtendSettings, todo: list, out_dir: Path, converter, model,
         report: ExtendReport, bar: Progress) -> None:
    from .inpaint import load_inpaint_model

    first = plan.ref_frame if settings.static else todo[0]
    # Decode before loading the model: a damaged plate fails in milliseconds.
    pixels = {first: _read(plan, first)}
    if model is None:
        model = load_inpaint_model(settings.model, device=settings.device, cache_dir=settings.cache_dir)
    layout = plan.layout
    work_size = settings.work_size or model.working_size(layout.display.width, layout.display.height,
                                                         plan.headers[first].pixel_aspect)
    model.check_size(*work_size)
    prompting = Prompting(settings.prompt, settings.negative_prompt, settings.steps or model.default_steps,
                          settings.guidance, plan.seed)
    report.work_size, report.steps, report.model = work_size, prompting.steps, model.name
    writer = _FrameWriter(plan, out_dir, report, bar, _attributes(plan, settings, report, prompting))

    def assembler_for(frame: int | None, rgb: np.ndarray) -> FrameAssembler:
        border = generate_border(
            layout=layout, filmed=layout.filmed(Box.from_window(plan.headers[frame].data_window)), rgb=rgb,
            model=model, work_size=work_size, prompting=prompting, transform=plan.transform,
            colorspace=plan.colorspace, blend=settings.blend,
        )
        return FrameAssembler(layout, plan.channels, border_template(layout, plan.channels, border),
                              shared=settings.static)

    workers = max(1, settings.workers)
    with ThreadPoolExecutor(workers, thread_name_prefix="sora_vfx-plate") as pool:
        pending: deque[Future] = deque()
        try:
            static = assembler_for(first, pixels[first]) if settings.static else None
            for frame in todo:
                rgb = pixels.pop(frame, None)
                if static is not None:
                    pending.append(pool.submit(writer.write, frame, static, rgb))
                else:
                    rgb = _read(plan, frame) if rgb is None else rgb
                    try:
                        assembler = assembler_for(frame, rgb)
                    except FRAME_FAILURES as exc:
                        writer.failed(frame, exc)
                        continue
                    pending.append(pool.submit(writer.write, frame, assembler, rgb))
                while len(pending) > 2 * workers:  # bounds memory: a few frames in flight
                    pending.popleft().result()
            while pending:
                pending.popleft().result()  # a PlateError from a worker ends the run
        except BaseException:
            for job in pending:
                job.cancel()
            raise


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
        "sora_vfx:static": int(settings.static),
        "sora_vfx:work_size": f"{report.work_size[0]}x{report.work_size[1]}",
        "sora_vfx:mask_channel": MASK_CHANNEL,
        "sora_vfx:job_hash": report.job_hash,
        "sora_vfx:version": __version__,
        **plan.transform.header_attributes(),
    }
    if plan.ref_frame is not None:
        attributes["sora_vfx:ref_frame"] = plan.ref_frame
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

    def write(self, frame: int | None, assembler: FrameAssembler, pixels: np.ndarray | None) -> None:
        plan = self.plan
        header = plan.headers[frame]
        if pixels is None:
            pixels = _read(plan, frame)  # a PlateError goes up and ends the run
        try:
            data = Box.from_window(header.data_window)
            buffer, out_box = assembler.assemble(data, pixels)
            attributes = dict(self.attributes)
            attributes["sora_vfx:plate"] = str(header.path)
            attributes["sora_vfx:filmed_window"] = ",".join(map(str, plan.layout.filmed(data).to_window()))
            if frame is not None:
                attributes["sora_vfx:plate_frame"] = frame
            raw = carried_attributes(header, keep_views=bool(plan.channels.extras))
            carried = {name for name, _, _ in raw}
            if "chromaticities" not in carried:
                attributes["chromaticities"] = self.chromaticities
            if "software" not in carried:
                attributes["software"] = f"sora_vfx {__version__}"
            write_plate_frame(
                self.out_dir / plan.sequence.output_name(frame), buffer,
                channel_names=plan.channels.names, channel_types=plan.channels.channel_types,
                origin=(out_box.x, out_box.y), display_window=plan.layout.display.to_window(),
                raw_attributes=raw, attributes=attributes, compression=plan.compression,
            )
        except FRAME_FAILURES as exc:
            self.failed(frame, exc)
            return
        self.report.written.append(frame)
        self.bar.frames_done()
