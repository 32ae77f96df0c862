"""How a model's picture becomes scene-linear pixels, and back: the output transform.

A video model draws display-referred pictures (0 to 1, already tone-mapped). Two ways to take
them to the working space:

- ``inverse-view`` (default): the picture is what a display/view of the OCIO config shows, and
  OCIO's inverse of that view takes it to the working space, so display white becomes the
  scene-linear highlight the view maps to white (128 in ACEScg for the pinned config's ACES 2.0 SDR view);
- ``srgb``: the picture is sRGB texture (``srgb_tx``), as sora_vfx did before: white is 1.0;
- ``scene-linear``: the model itself draws scene-linear light (LTX-2 HDR), in its own colour
  space (``source``): converted to the working space as it is, never clipped at 1.0 and with
  no inverse view (the model chooses this, not the user).

Pixels given to a model (a plate's filmed frames, a reference EXR, a previous shot's frame)
go the other way, through the same view forward, so that what goes in and what comes out agree.
Every written EXR names its transform (``header_attributes``), and readers take the transform
from the header (``from_header``): a frame reads back as the picture the model drew.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from sora_vfx import defaults
from sora_vfx.errors import ImagingError
from sora_vfx.imaging.color import ColorConverter, get_converter

#: Scene-linear values are clamped to this finite range: the largest half-float, so that a view
#: whose inverse runs away near display white can never write infinity or NaN. (The model's
#: picture is clipped to [0, 1] before the inverse: beyond display white no view inverts.)
MAX_SCENE_VALUE = 65504.0
#: The colour space of ``srgb``: the picture as sRGB texture.
SRGB_TEXTURE = defaults.SRGB_TEXTURE
#: The transform of a model that draws scene-linear light itself.
SCENE_LINEAR = "scene-linear"


@dataclass(frozen=True)
class OutputTransform:
    """The transform between the model's pictures and scene-linear frames.

    ``display`` and ``view`` are the config's names (empty for ``srgb``); ``config`` the OCIO
    config they belong to.
    """

    kind: str = defaults.OUTPUT_TRANSFORM
    display: str = ""
    view: str = ""
    config: str = ""
    #: ``scene-linear``: the colour space of the model's light.
    source: str = ""

    def for_scene_linear(self, source: str) -> OutputTransform:
        """This transform for a model that draws scene-linear light in ``source``; the display
        and view stay, for pictures given back to a model."""
        return OutputTransform(SCENE_LINEAR, self.display, self.view, self.config, source)

    @classmethod
    def resolve(cls, kind: str | None = None, *, display: str | None = None, view: str | None = None,
                converter: ColorConverter | None = None) -> OutputTransform:
        """The transform ``kind`` with the display and view filled in (the config's defaults).

        Raises:
            ImagingError: an unknown kind, display or view; the message lists the valid ones.
        """
        kind = kind or defaults.OUTPUT_TRANSFORM
        converter = converter or get_converter()
        if kind not in defaults.OUTPUT_TRANSFORMS:
            raise ImagingError(f"output transform {kind!r}: choose one of {', '.join(defaults.OUTPUT_TRANSFORMS)}")
        if kind == "srgb":
            return cls("srgb", config=converter.config_uri)
        display, view = converter.display_view(display, view)
        return cls(kind, display, view, converter.config_uri)

    @classmethod
    def from_header(cls, header: Mapping[str, object]) -> OutputTransform:
        """The transform a frame was written with: its ``sora_vfx:output_transform`` attributes;
        ``srgb`` for frames written before there was a choice (or by others)."""
        kind = str(header.get("sora_vfx:output_transform") or "srgb")
        if kind == "srgb":
            return cls("srgb")
        return cls(kind, str(header.get("sora_vfx:display") or ""), str(header.get("sora_vfx:view") or ""),
                   str(header.get("sora_vfx:ocio_config") or ""), str(header.get("sora_vfx:model_colorspace") or ""))

    def to_scene(self, picture: np.ndarray, colorspace: str) -> np.ndarray:
        """The model's picture (..., 3) in [0, 1] as scene-linear float32 in ``colorspace``,
        finite and within ``MAX_SCENE_VALUE``."""
        if self.kind == SCENE_LINEAR:
            linear = self._converter().convert(np.asarray(picture, dtype=np.float32), src=self.source, dst=colorspace)
            return np.clip(np.nan_to_num(linear, nan=0.0, posinf=MAX_SCENE_VALUE, neginf=-MAX_SCENE_VALUE),
                           -MAX_SCENE_VALUE, MAX_SCENE_VALUE)
        clipped = np.clip(picture, 0.0, 1.0)
        if self.kind == "srgb":
            return get_converter().convert(clipped, src=SRGB_TEXTURE, dst=colorspace)
        linear = self._converter().apply_view(clipped, colorspace=colorspace, display=self.display, view=self.view,
                                              inverse=True)
        return np.clip(np.nan_to_num(linear, nan=0.0, posinf=MAX_SCENE_VALUE, neginf=-MAX_SCENE_VALUE),
                       -MAX_SCENE_VALUE, MAX_SCENE_VALUE)

    def to_picture(self, linear: np.ndarray, colorspace: str) -> np.ndarray:
        """Scene-linear pixels (..., 3) in ``colorspace`` as the picture a model sees, in [0, 1]."""
        finite = np.nan_to_num(np.asarray(linear, dtype=np.float32), nan=0.0, posinf=MAX_SCENE_VALUE,
                               neginf=-MAX_SCENE_VALUE)
        if self.kind == "srgb":
            picture = get_converter().convert(finite, src=colorspace, dst=SRGB_TEXTURE)
        else:
            picture = self._converter().apply_view(finite, colorspace=colorspace, display=self.display,
                                                   view=self.view, inverse=False)
        return np.clip(picture, 0.0, 1.0)

    def header_attributes(self) -> dict[str, str]:
        """What an EXR header records of this transform."""
        attributes = {"sora_vfx:output_transform": self.kind}
        if self.kind != "srgb":
            attributes.update({"sora_vfx:display": self.display, "sora_vfx:view": self.view,
                               "sora_vfx:ocio_config": self.config})
        if self.kind == SCENE_LINEAR:
            attributes["sora_vfx:model_colorspace"] = self.source
        return attributes

    def describe(self) -> str:
        """E.g. "inverse of sRGB - Display / ACES 2.0 - SDR 100 nits (Rec.709)" or "sRGB texture"."""
        if self.kind == SCENE_LINEAR:
            return f"the model's scene-linear {self.source}"
        return "sRGB texture" if self.kind == "srgb" else f"inverse of {self.display} / {self.view}"

    def _converter(self) -> ColorConverter:
        return get_converter(self.config or None)
