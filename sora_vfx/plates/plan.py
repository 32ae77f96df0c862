"""Everything about an extension that is known before any pixel is decoded: the plate's frames
and headers, the new format, channels, colour space, compression, seed, model and job hash.
Every check that can fail on bad input runs here, before a model is loaded or a file written.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import InitVar, dataclass, field
from pathlib import Path

from .. import __version__, defaults
from ..errors import ImagingError, PlateError
from ..imaging import COMPRESSIONS, get_converter
from ..imaging.exr import MAX_DECODE_VALUES, check_compression
from ..imaging.plates_io import PlateHeader, read_plate_header
from ..imaging.transform import OutputTransform
from ..models.families.registry import mask_filling
from ..models.folders import OUTPAINT_VARIANTS, ModelFolder, folder_fingerprint
from ..models.tiny_inpaint import TINY_INPAINT_ID, TINY_INPAINT_NAME
from ..seeds import shot_seed
from .channels import ChannelPlan, plan_channels
from .geometry import ANCHORS, Box, Layout, Padding, padding_to_aspect, padding_to_size
from .matte import MattePlan, plan_matte
from .model import ExtensionPath, describe_plate_model, extension_paths
from .sequence import PlateSequence, read_plate_sequence

log = logging.getLogger("sora_vfx")

# Bump when the way border pixels are made changes, so that resume regenerates.
PLATE_ALGORITHM = 2
#: Compressions that give back exactly the bits they were given (pxr24 only for half).
LOSSLESS = ("zip", "zips", "piz", "rle", "none")
# Names OIIO writes into headers that the ACES configs know under another name.
_COLORSPACE_ALIASES = {"srgb": defaults.SRGB_TEXTURE, "linear": "lin_rec709_scene", "rec709": "lin_rec709_scene"}


@dataclass
class ExtendSettings:
    """How to extend a plate. Exactly one of ``pad``, ``to_size`` and ``to_aspect``.

    ``path``: how the border is generated; None takes the model's own way (the whole shot at
    once for a video outpainting model, frame by frame for an image inpainting one).
    ``static=True`` and ``per_frame=True`` are short for ``path=ExtensionPath.STATIC`` and
    ``PER_FRAME``, the command line's ``--static`` and ``--per-frame``; read back, they say
    what ``path`` says.
    """

    pad: Padding | None = None
    to_size: tuple[int, int] | None = None
    to_aspect: float | None = None
    anchor: str = "center"
    model: str = defaults.MODEL
    device: str | None = None
    prompt: str = ""
    negative_prompt: str = ""
    seed: int | None = None
    steps: int | None = None
    guidance: float = defaults.GUIDANCE
    blend: int = 0
    path: ExtensionPath | None = None
    colour_match: bool = True
    ref_frame: int | None = None
    plate_colorspace: str | None = None
    output_transform: str = defaults.OUTPUT_TRANSFORM
    display: str | None = None
    view: str | None = None
    work_size: tuple[int, int] | None = None
    keep_extra_channels: bool = False
    compression: str | None = None
    force: bool = False
    workers: int = 2
    cache_dir: Path | None = None
    #: Filmed pixels to generate too: a matte file or sequence (``plates.matte``).
    mask: Path | str | None = None
    static: InitVar[bool] = False
    per_frame: InitVar[bool] = False

    def __post_init__(self, static: bool, per_frame: bool) -> None:
        if not (static or per_frame):
            return
        asked = ExtensionPath.STATIC if static else ExtensionPath.PER_FRAME
        if (static and per_frame) or self.path not in (None, asked):
            given = [f"path {self.path.value}"] if self.path not in (None, asked) else []
            given += [name for name, on in (("static", static), ("per_frame", per_frame)) if on]
            raise PlateError(f"{' and '.join(given)}: give one way to generate the border")
        self.path = asked


# Read back, the shorthands say what ``path`` says (as class attributes they would be their defaults).
ExtendSettings.static = property(lambda self: self.path is ExtensionPath.STATIC)  # type: ignore[assignment]
ExtendSettings.per_frame = property(lambda self: self.path is ExtensionPath.PER_FRAME)  # type: ignore[assignment]


@dataclass
class PlatePlan:
    """A checked extension, ready to run."""

    sequence: PlateSequence
    headers: dict[int | None, PlateHeader]
    layout: Layout
    channels: ChannelPlan
    colorspace: str
    compression: str
    seed: int
    ref_frame: int | None
    model_id: tuple[str, str]
    #: How the border is generated: the settings' ``path``, else the model's own way.
    path: ExtensionPath = ExtensionPath.PER_FRAME
    #: Between the plate's scene-linear pixels and the pictures the model sees and draws.
    transform: OutputTransform = field(default_factory=lambda: OutputTransform("srgb"))
    #: The checked ``--mask``, or None.
    matte: MattePlan | None = None


def prepare_plan(plate: Path | str, settings: ExtendSettings) -> PlatePlan:
    """Everything that can be checked before any model is loaded or any pixel decoded."""
    if sum(x is not None for x in (settings.pad, settings.to_size, settings.to_aspect)) != 1:
        raise PlateError("give exactly one of pad (L,R,B,T), to_size (WxH) or to_aspect (a ratio)")
    if settings.blend < 0:
        raise PlateError(f"blend {settings.blend}: must be 0 or more pixels")
    if settings.anchor not in ANCHORS:
        raise PlateError(f"--anchor {settings.anchor!r}: unknown, available: {', '.join(ANCHORS)}")
    sequence = read_plate_sequence(plate)
    headers = {}
    for frame, path in zip(sequence.frames, sequence.paths, strict=True):
        try:
            headers[frame] = read_plate_header(path)
        except ImagingError as exc:
            raise plate_error(sequence, frame, exc) from None
    first = headers[sequence.frames[0]]
    for header in headers.values():
        for what, value, expected in (("display window", header.display_window, first.display_window),
                                      ("channels", header.channels, first.channels)):
            if value != expected:
                raise PlateError(f"plate {header.path}: its {what} {value} differs from {first.path.name}'s "
                                 f"{expected}; every frame of a plate must have the same")
    if first.parts > 1:
        log.warning("plate %s has %d parts; only the first is extended", first.path, first.parts)
    channels = plan_channels(first, keep_extra=settings.keep_extra_channels)
    display = Box.from_window(first.display_window)
    if settings.pad is not None:
        padding = settings.pad
    elif settings.to_size is not None:
        padding = padding_to_size(display, *settings.to_size, settings.anchor)
    else:
        padding = padding_to_aspect(display, settings.to_aspect, settings.anchor, first.pixel_aspect)
    layout = Layout.build(display, padding)
    new = layout.display
    if new.width * new.height * len(channels.names) > MAX_DECODE_VALUES:
        raise PlateError(f"the new display window {new.width}x{new.height} is too large to extend into")
    for header in headers.values():
        if layout.filmed(Box.from_window(header.data_window)).intersect(layout.display).empty:
            raise PlateError(
                f"plate {header.path}: its data window {header.data_window} lies outside the new display "
                f"window; there are no filmed pixels to extend"
            )
    ref_frame = _ref_frame(sequence, settings)
    matte = plan_matte(settings.mask, sequence, display) if settings.mask else None
    found = describe_plate_model(settings.model, cache_dir=settings.cache_dir)  # a bad folder fails now
    return PlatePlan(
        sequence=sequence,
        headers=headers,
        layout=layout,
        channels=channels,
        colorspace=_plate_colorspace(first, settings.plate_colorspace),
        compression=_compression(first, channels, settings.compression),
        seed=settings.seed if settings.seed is not None else shot_seed(0, sequence.name),
        ref_frame=ref_frame,
        model_id=_model_id(settings.model, found),
        path=_extension_path(settings.path, extension_paths(mask_filling(found.family, found.kind)), settings.model),
        transform=OutputTransform.resolve(settings.output_transform, display=settings.display, view=settings.view),
        matte=matte,
    )


def frame_text(frame: int | None) -> str:
    """``" frame N"`` to add to a message, or ``""`` for an unnumbered single-file plate."""
    return "" if frame is None else f" frame {frame}"


def plate_error(sequence: PlateSequence, frame: int | None, exc: Exception) -> PlateError:
    """The reader's message names the file; for a sequence, name the plate and frame too."""
    if len(sequence) == 1 and sequence.paths[0] == Path(sequence.pattern):
        return PlateError(str(exc))
    return PlateError(f"plate {sequence.pattern}{frame_text(frame)}: {exc}")


def _ref_frame(sequence: PlateSequence, settings: ExtendSettings) -> int | None:
    static = settings.path is ExtensionPath.STATIC
    if settings.ref_frame is None:
        return sequence.frames[0] if static else None
    if not static:
        raise PlateError("a reference frame (ref_frame) only applies to a static plate")
    if settings.ref_frame not in sequence.frames:
        raise PlateError(f"reference frame {settings.ref_frame} is not a frame of {sequence.describe()}")
    return settings.ref_frame


def _plate_colorspace(header: PlateHeader, requested: str | None) -> str:
    converter = get_converter()
    if requested:
        return converter.resolve(requested)
    if not header.colorspace:
        return converter.resolve(defaults.COLORSPACE)
    for name in (header.colorspace, _COLORSPACE_ALIASES.get(header.colorspace.lower())):
        if name:
            try:
                return converter.resolve(name)
            except ImagingError:
                continue
    raise PlateError(
        f"plate {header.path}: its header says colour space {header.colorspace!r}, which OCIO config "
        f"{converter.config_uri} does not know; name the plate's colour space (plate_colorspace)"
    )


def _compression(header: PlateHeader, channels: ChannelPlan, requested: str | None) -> str:
    if requested:
        requested = check_compression(requested)
        name = requested.split(":")[0]
        if name not in LOSSLESS and not (name == "pxr24" and channels.pixel_type == "half"):
            log.warning("compression %s is lossy: the filmed pixels will not come out bit for bit", requested)
        return requested
    own = next((str(v) for n, _, v in header.attributes if n == "compression"), "")
    # A lossy plate compression (dwaa, b44) would quantise the filmed pixels again; other
    # formats' compressions (TIFF's lzw, ...) mean nothing to EXR.
    return own if header.format_name == "openexr" and own in LOSSLESS and own in COMPRESSIONS else defaults.COMPRESSION


def _extension_path(asked: ExtensionPath | None, paths: tuple[ExtensionPath, ...], model: str) -> ExtensionPath:
    """The way ``asked`` (None: the model's own, the first of its ``paths``), if the model has it."""
    if asked is None:
        return paths[0]
    if asked is ExtensionPath.PER_FRAME and ExtensionPath.VIDEO not in paths:
        raise PlateError(f"per_frame: model {model} is an image inpainting model, which always works "
                         "frame by frame; per_frame runs a video outpainting model one frame at a time")
    if asked not in paths:
        raise PlateError(f"model {model} cannot fill a whole shot at once; it is not a video outpainting model")
    return asked


def _model_id(model: str, found: ModelFolder) -> tuple[str, str]:
    """The model's name as given (its folder for a path) and a fingerprint of its weights."""
    if model == TINY_INPAINT_NAME:
        return model, TINY_INPAINT_ID
    return (model if model in OUTPAINT_VARIANTS else found.name), folder_fingerprint(found.folder)


def job_hash(plan: PlatePlan, settings: ExtendSettings, ocio_config: str) -> str:
    """Hashes everything that decides the output's pixels and header."""
    plate_files = []
    for path in plan.sequence.paths:
        stat = path.stat()
        plate_files.append([str(path.resolve()), stat.st_size, stat.st_mtime_ns])
    payload = {
        "algorithm": PLATE_ALGORITHM,
        "plate": plate_files,
        "display": plan.layout.display.to_window(),
        "offset": plan.layout.offset,
        "model": plan.model_id,
        "prompt": settings.prompt,
        "negative_prompt": settings.negative_prompt,
        "seed": plan.seed,
        "steps": settings.steps,
        "guidance": settings.guidance,
        "blend": settings.blend,
        "static": plan.path is ExtensionPath.STATIC,
        "path": plan.path.recorded,
        "colour_match": settings.colour_match and plan.path is ExtensionPath.VIDEO,
        "ref_frame": plan.ref_frame,
        "work_size": settings.work_size,
        "colorspace": plan.colorspace,
        "ocio": ocio_config,
        "transform": [plan.transform.kind, plan.transform.display, plan.transform.view],
        "channels": plan.channels.names,
        "types": plan.channels.types,
        "compression": plan.compression,
        "version": __version__,
    }
    if plan.matte is not None:  # only then: renders without a mask keep their hashes
        payload["mask"] = plan.matte.files()
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]
