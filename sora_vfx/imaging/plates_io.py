"""Plates through OpenImageIO: any format it reads in, EXR with display windows out.

A plate keeps its pixels in their native type: half stays half, so that filmed pixels can be
copied into the extended frame bit for bit. Windows are EXR-style inclusive boxes
(x0, y0, x1, y1), as in :func:`sora_vfx.imaging.exr.read_exr_header`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import OpenImageIO as oiio

from sora_vfx import defaults
from sora_vfx.errors import ImagingError
from sora_vfx.imaging.exr import (
    MAX_DECODE_VALUES,
    apply_attributes,
    check_compression,
    check_exr_target,
    inclusive_window,
    oiio_error,
    open_image,
    write_exr,
)

Window = tuple[int, int, int, int]
#: A header attribute exactly as OIIO read it: name, type, value.
RawAttribute = tuple[str, oiio.TypeDesc, object]

_NUMPY_TYPES = {"half": np.float16, "float": np.float32}


@dataclass(frozen=True)
class PlateHeader:
    """What a plate frame's header says, read without decoding any pixel."""

    path: Path
    format_name: str
    data_window: Window
    display_window: Window
    channels: tuple[str, ...]
    channel_types: tuple[str, ...]
    pixel_aspect: float
    colorspace: str | None
    attributes: tuple[RawAttribute, ...]
    parts: int = 1

    @property
    def width(self) -> int:
        return self.data_window[2] - self.data_window[0] + 1

    @property
    def height(self) -> int:
        return self.data_window[3] - self.data_window[1] + 1


def _raw_attributes(spec: oiio.ImageSpec) -> tuple[RawAttribute, ...]:
    found = []
    for param in spec.extra_attribs:
        try:
            found.append((param.name, param.type, param.value))
        except Exception:  # a damaged name or a value the bindings cannot convert
            continue
    return tuple(found)


def read_plate_header(path: Path | str) -> PlateHeader:
    """The header of one plate frame (EXR, DPX, TIFF, ... anything OIIO reads).

    Raises:
        ImagingError: missing, unreadable, deep, or with an empty or implausible data window.
    """
    path = Path(path)
    inp = open_image(path)
    try:
        spec = inp.spec()
        names = tuple(spec.channelnames)
        formats = tuple(str(f) for f in spec.channelformats) or (str(spec.format),) * spec.nchannels
        if spec.deep:
            raise ImagingError(f"cannot read {path}: deep images are not supported")
        if spec.width <= 0 or spec.height <= 0 or spec.nchannels <= 0:
            raise ImagingError(f"cannot read {path}: empty image ({spec.width}x{spec.height}x{spec.nchannels})")
        if spec.full_width <= 0 or spec.full_height <= 0:
            raise ImagingError(f"cannot read {path}: empty display window ({spec.full_width}x{spec.full_height})")
        if spec.width * spec.height * spec.nchannels > MAX_DECODE_VALUES:
            raise ImagingError(f"cannot read {path}: {spec.width}x{spec.height}x{spec.nchannels} is too large")
        if len(names) != spec.nchannels or len(formats) != spec.nchannels:
            raise ImagingError(f"cannot read {path}: its channel list does not match its channel count")
        aspect = float(spec.get_float_attribute("PixelAspectRatio", 1.0) or 1.0)
        colorspace = spec.get_string_attribute("oiio:ColorSpace") or None
        return PlateHeader(
            path=path,
            format_name=inp.format_name(),
            data_window=inclusive_window(spec.x, spec.y, spec.width, spec.height),
            display_window=inclusive_window(spec.full_x, spec.full_y, spec.full_width, spec.full_height),
            channels=names,
            channel_types=formats,
            pixel_aspect=aspect if aspect > 0 else 1.0,
            colorspace=colorspace,
            attributes=_raw_attributes(spec),
            parts=max(1, spec.get_int_attribute("oiio:subimages", 1)),
        )
    except ImagingError:
        raise
    except Exception as exc:
        raise ImagingError(f"cannot read {path}: {exc}") from exc
    finally:
        inp.close()


def read_plate_pixels(header: PlateHeader, channels: Sequence[int], *, pixel_type: str) -> np.ndarray:
    """Decode ``channels`` (indices into ``header.channels``) of the data window.

    Args:
        header: from :func:`read_plate_header` for the same file.
        channels: channel indices, in the order wanted.
        pixel_type: "half" or "float". Ask for a channel's own type to get its exact bits;
            integer formats (DPX, TIFF) are converted to float in [0, 1] by OIIO.
    Returns:
        (height, width, len(channels)) array of float16 or float32, C-contiguous.
    Raises:
        ImagingError: the file changed since its header was read, or its pixels do not decode.
    """
    path = header.path
    indices = list(channels)
    inp = open_image(path)
    try:
        spec = inp.spec()
        if inclusive_window(spec.x, spec.y, spec.width, spec.height) != header.data_window:
            raise ImagingError(f"cannot read {path}: the file changed while it was being read")
        contiguous = indices == list(range(indices[0], indices[0] + len(indices))) if indices else False
        first, last = (indices[0], indices[-1] + 1) if contiguous else (0, spec.nchannels)
        try:
            pixels = inp.read_image(0, 0, first, last, pixel_type)
        except Exception as exc:
            raise ImagingError(f"cannot read {path}: {exc}") from exc
        if pixels is None:
            raise ImagingError(f"cannot read {path}: {oiio_error(inp)}")
    finally:
        inp.close()
    pixels = np.asarray(pixels, dtype=_NUMPY_TYPES[pixel_type])
    pixels = pixels.reshape(spec.height, spec.width, last - first)
    return pixels if contiguous else np.ascontiguousarray(pixels[:, :, indices])


def write_plate_frame(
    path: Path | str,
    pixels: np.ndarray,
    *,
    channel_names: Sequence[str],
    channel_types: Sequence[str] | None = None,
    origin: tuple[int, int],
    display_window: Window,
    raw_attributes: Sequence[RawAttribute] = (),
    attributes: Mapping[str, object] | None = None,
    compression: str = defaults.COMPRESSION,
) -> None:
    """Write a scanline EXR with its own data and display windows, atomically.

    Args:
        path: final name, ending in ``.exr``; its folder must exist.
        pixels: (height, width, channels) float16 or float32; written without conversion when
            every channel has the array's type.
        channel_names: one per channel.
        channel_types: "half" or "float" per channel (default: the array's type); channels of
            another type than the array are converted by OIIO.
        origin: (x, y) of the data window's first pixel.
        display_window: inclusive (x0, y0, x1, y1).
        raw_attributes: attributes copied as read (see :attr:`PlateHeader.attributes`).
        attributes: more attributes, written after the raw ones, as ``write_exr_frame`` takes them.
        compression: an EXR compression (see ``COMPRESSIONS``).
    Raises:
        ImagingError: bad arguments, missing folder, or OIIO failed; no file is left behind.
    """
    path = check_exr_target(path)
    if pixels.ndim != 3 or pixels.dtype not in (np.float16, np.float32):
        raise ImagingError(f"cannot write {path}: pixels must be (H, W, C) float16 or float32")
    height, width, nchannels = pixels.shape
    own_type = "half" if pixels.dtype == np.float16 else "float"
    types = tuple(channel_types) if channel_types is not None else (own_type,) * nchannels
    names = tuple(channel_names)
    if len(names) != nchannels or len(set(names)) != nchannels or len(types) != nchannels:
        raise ImagingError(f"cannot write {path}: need {nchannels} distinct channel names and types")
    if any(t not in _NUMPY_TYPES for t in types):
        raise ImagingError(f"cannot write {path}: channel types must be half or float, not {types}")
    comp = check_compression(compression)
    spec = oiio.ImageSpec(width, height, nchannels, types[0] if len(set(types)) == 1 else own_type)
    if len(set(types)) > 1:
        spec.channelformats = tuple(oiio.TypeDesc(t) for t in types)
    spec.x, spec.y = origin
    x0, y0, x1, y1 = display_window
    spec.full_x, spec.full_y, spec.full_width, spec.full_height = x0, y0, x1 - x0 + 1, y1 - y0 + 1
    spec.channelnames = names
    spec.alpha_channel = names.index("A") if "A" in names else -1
    spec.z_channel = names.index("Z") if "Z" in names else -1
    for name, type_desc, value in raw_attributes:
        try:
            spec.attribute(name, type_desc, value)
        except Exception as exc:
            raise ImagingError(f"cannot write {path}: attribute {name}: {exc}") from exc
    apply_attributes(spec, attributes or {}, path)
    spec.attribute("compression", comp)

    write_exr(path, spec, pixels)
