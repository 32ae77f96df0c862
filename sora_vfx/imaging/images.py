"""Ordinary images (reference frames, contact sheets) with OpenImageIO."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import OpenImageIO as oiio

from .. import defaults
from ..errors import ImagingError
from ..files import write_atomically
from .color import get_converter
from .exr import read_exr_pixels

_LINEAR_FORMATS = {"openexr", "hdr"}


def read_reference_image(path: Path, *, width: int, height: int, what: str = "reference image") -> np.ndarray:
    """A float32 (height, width, 3) display-referred sRGB image in [0, 1], resized to fit.

    EXR and HDR files are scene-linear (ACEScg assumed unless the header says otherwise) and
    go through OCIO to sRGB; 8- and 16-bit formats are taken as sRGB already.
    """
    path = Path(path)
    if not path.is_file():
        raise ImagingError(f"{what} {path}: no such file")
    source = oiio.ImageBuf(str(path))
    if source.has_error or not source.init_spec(str(path), 0, 0):
        raise ImagingError(f"{what} {path}: cannot read: {_error(source)}")
    spec = source.spec()
    if spec.nchannels < 3:
        raise ImagingError(f"{what} {path}: has {spec.nchannels} channel(s); an RGB image is needed")
    rgb = oiio.ImageBufAlgo.channels(source, (0, 1, 2))
    resized = oiio.ImageBufAlgo.resize(rgb, roi=oiio.ROI(0, width, 0, height, 0, 1, 0, 3))
    if resized.has_error:
        raise ImagingError(f"{what} {path}: cannot resize: {_error(resized)}")
    pixels = resized.get_pixels(oiio.FLOAT)
    if pixels is None or source.has_error:
        raise ImagingError(f"{what} {path}: cannot decode: {_error(source)}")
    pixels = np.asarray(pixels, dtype=np.float32).reshape(height, width, 3)
    if source.file_format_name.lower() in _LINEAR_FORMATS:
        colorspace = spec.get_string_attribute("oiio:ColorSpace") or defaults.COLORSPACE
        try:
            pixels = get_converter().from_scene_linear(pixels, src=colorspace, dst="srgb_tx")
        except ImagingError:
            pixels = get_converter().from_scene_linear(pixels, src=defaults.COLORSPACE, dst="srgb_tx")
    return np.clip(pixels, 0.0, 1.0)


def read_display_frames(paths: Sequence[Path], *, colorspace: str) -> np.ndarray:
    """EXR frames written in ``colorspace``, back to display sRGB in [0, 1]: (frames, H, W, 3).

    Raises:
        ImagingError: a frame is missing, unreadable or damaged.
    """
    converter = get_converter()
    frames = [converter.from_scene_linear(np.ascontiguousarray(read_exr_pixels(path)[..., :3]), src=colorspace,
                                          dst="srgb_tx") for path in paths]
    return np.clip(np.stack(frames), 0.0, 1.0)


def write_image(path: Path, rgb: np.ndarray) -> Path:
    """Write display-referred sRGB floats in [0, 1] (height, width, 3) as an 8-bit image whose
    format follows the suffix (PNG, JPEG, TIFF), atomically.

    Raises:
        ImagingError: the image cannot be written.
    """
    path = Path(path)
    pixels = np.ascontiguousarray(np.clip(rgb, 0.0, 1.0), dtype=np.float32)
    if pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ImagingError(f"cannot write {path}: expected (height, width, 3) pixels, got {pixels.shape}")
    buffer = oiio.ImageBuf(oiio.ImageSpec(pixels.shape[1], pixels.shape[0], 3, oiio.UINT8))
    buffer.set_pixels(oiio.ROI(), pixels)

    def write(temporary: Path) -> None:
        if not buffer.write(str(temporary), fileformat=path.suffix.lstrip(".")):
            raise ImagingError(_error(buffer))

    return write_atomically(path, write, what="image", error=ImagingError)


def _error(buf: oiio.ImageBuf) -> str:
    try:
        message = buf.geterror() or oiio.geterror()
    except UnicodeDecodeError:
        message = "unreadable image data"
    return " ".join(str(message).split())[:300] or "unknown error"
