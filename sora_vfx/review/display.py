"""Scene-linear EXR pixels to 8-bit display pictures: an OCIO display/view transform, then scaling.

The view transform tone-maps (ACES 2.0 SDR on an sRGB display by default), so highlights
above 1.0 roll off instead of clipping; only its display-referred output is clipped to [0, 1].
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ImagingError, ReviewError
from ..imaging import get_converter


class DisplayTransform:
    """Converts scene-linear RGB(A) in any colour space of the config to display RGB (uint8).

    Uses the same OCIO config as the renderer (``$OCIO``, else the pinned built-in config).
    """

    def __init__(self, *, display: str | None = None, view: str | None = None) -> None:
        self._converter = get_converter()
        self.config_uri = self._converter.config_uri
        try:
            self.display, self.view = self._converter.display_view(display, view)
        except ImagingError as exc:
            raise ReviewError(str(exc)) from None

    def describe(self, colorspace: str = "ACEScg") -> str:
        """E.g. "ACEScg to sRGB - Display / ACES 2.0 - SDR 100 nits (Rec.709) (OCIO ocio://cg-config-...)"."""
        return f"{colorspace} to {self.display} / {self.view} (OCIO {self.config_uri})"

    def __call__(self, pixels: np.ndarray, colorspace: str) -> np.ndarray:
        """(H, W, 3 or more) float scene-linear pixels -> (H, W, 3) uint8 display RGB."""
        rgb = np.array(pixels[..., :3], dtype=np.float32, order="C", copy=True)
        # NaN and inf from a damaged frame would turn into arbitrary bytes after the cast.
        np.nan_to_num(rgb, copy=False, nan=0.0, posinf=65504.0, neginf=0.0)
        try:
            rgb = self._converter.apply_view(rgb, colorspace=colorspace, display=self.display, view=self.view,
                                             inverse=False)
        except ImagingError as exc:
            raise ReviewError(str(exc)) from None
        return (np.clip(rgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def preview_size(width: int, height: int, *, min_width: int, max_width: int) -> tuple[int, int]:
    """Size of a preview of a ``width`` x ``height`` picture: at least ``min_width`` wide by a
    whole-number enlargement (so small renders keep square, sharp pixels), at most ``max_width``
    wide, both sides even (H.264 in 4:2:0 needs that)."""
    if width <= 0 or height <= 0:
        raise ReviewError(f"cannot make a preview of a {width}x{height} picture")
    if width < min_width:
        factor = math.ceil(min_width / width)
        width, height = width * factor, height * factor
    elif width > max_width:
        height = max(1, round(height * max_width / width))
        width = max_width
    return width + width % 2, height + height % 2


def resize(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize uint8 RGB to ``size`` (width, height): nearest for whole-number enlargements."""
    from PIL import Image

    height, width = rgb.shape[:2]
    if (width, height) == size:
        return rgb
    whole = size[0] % width == 0 and size[1] % height == 0 and size[0] // width == size[1] // height
    if whole:
        factor = size[0] // width
        return np.repeat(np.repeat(rgb, factor, axis=0), factor, axis=1)
    resample = Image.Resampling.LANCZOS if size[0] < width else Image.Resampling.BICUBIC
    return np.asarray(Image.fromarray(rgb).resize(size, resample))
