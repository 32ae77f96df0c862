"""Ordinary images (reference frames, contact sheets) with OpenImageIO."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import OpenImageIO as oiio

from .. import defaults
from ..errors import ImagingError
from ..files import write_atomically
from .exr import read_exr_header, read_exr_pixels
from .transform import OutputTransform

_LINEAR_FORMATS = {"openexr", "hdr"}


def read_reference_image(path: Path, *, width: int, height: int, what: str = "reference image",
                         transform: OutputTransform | None = None) -> np.ndarray:
    """A float32 (height, width, 3) display-referred sRGB image in [0, 1], resized to fit.

    EXR and HDR files are scene-linear (ACEScg assumed unless the header says otherwise) and
    become the picture a model sees through ``transform`` forward (the render's; default
    ``srgb``); 8- and 16-bit formats are taken as display pictures already.
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
        transform = transform or OutputTransform("srgb")
        try:
            pixels = transform.to_picture(pixels, colorspace)
        except ImagingError:
            pixels = transform.to_picture(pixels, defaults.COLORSPACE)
    return np.clip(pixels, 0.0, 1.0)


def read_display_frames(paths: Sequence[Path], *, colorspace: str) -> np.ndarray:
    """EXR frames written in ``colorspace`` by one render, back to the pictures the model drew,
    in [0, 1]: (frames, H, W, 3). The output transform is the one the first frame's header
    names (``OutputTransform.from_header``).

    Raises:
        ImagingError: a frame is missing, unreadable or damaged.
    """
    transform = OutputTransform.from_header(read_exr_header(paths[0])) if paths else OutputTransform("srgb")
    frames = [transform.to_picture(np.ascontiguousarray(read_exr_pixels(path)[..., :3]), colorspace)
              for path in paths]
    return np.stack(frames) if frames else np.zeros((0, 0, 0, 3), np.float32)


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
