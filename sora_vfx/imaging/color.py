"""Colour conversion through OpenColorIO: the model's display-referred sRGB to scene linear.

The config is ``$OCIO`` when set, else a pinned built-in config, so that a render made today
and one made after an OCIO upgrade use the same transforms (OCIO's own default built-in config
moves with each release).
"""

from __future__ import annotations

import difflib
import os
import threading

import numpy as np
import PyOpenColorIO as ocio

from sora_vfx import defaults
from sora_vfx.errors import ImagingError
from sora_vfx.files import special_file

#: Built-in config used when ``$OCIO`` is not set. Pinned, never "ocio://default". ACES 2.0:
#: its SDR view inverts (within 1e-4 on a grey ramp, 0.008 at the gamut's corners), where ACES
#: 1.0's cannot reach saturated display colours at all (pure yellow comes back 0.53 off), so a
#: model's picture survives ``inverse-view``. Its texture spaces are bit for bit those of the
#: ACES 1.3 config pinned before (``srgb`` renders are unchanged).
PINNED_CONFIG = "ocio://cg-config-v4.0.0_aces-v2.0_ocio-v2.5"

Chromaticities = tuple[float, float, float, float, float, float, float, float]

_ACES_WHITE = (0.32168, 0.33767)
_D65 = (0.3127, 0.3290)
_AP1: Chromaticities = (0.713, 0.293, 0.165, 0.830, 0.128, 0.044, *_ACES_WHITE)
_AP0: Chromaticities = (0.7347, 0.2653, 0.0, 1.0, 0.0001, -0.0770, *_ACES_WHITE)
_REC709: Chromaticities = (0.64, 0.33, 0.30, 0.60, 0.15, 0.06, *_D65)
_REC2020: Chromaticities = (0.708, 0.292, 0.170, 0.797, 0.131, 0.046, *_D65)
_P3D65: Chromaticities = (0.680, 0.320, 0.265, 0.690, 0.150, 0.060, *_D65)
_ADOBERGB: Chromaticities = (0.64, 0.33, 0.21, 0.71, 0.15, 0.06, *_D65)

# Keyed by the Color Interop Forum ids and the short aliases that the ACES cg/studio configs
# give their colour spaces; a config's own names vary, its aliases are what is stable. Encoded
# spaces share the primaries of their linear space (the transfer function does not matter to
# the EXR chromaticities attribute).
_ALIASES: dict[Chromaticities, tuple[str, ...]] = {
    _AP1: ("lin_ap1_scene", "lin_ap1", "acescg", "aces - acescg", "acescct_ap1", "acescc_ap1",
           "acescct", "acescc", "srgb_ap1_scene", "g22_ap1_scene"),
    _AP0: ("lin_ap0_scene", "lin_ap0", "aces2065_1", "aces2065-1", "aces"),
    _REC709: ("lin_rec709_scene", "lin_rec709", "lin_srgb", "srgb_rec709_scene", "srgb_tx",
              "srgb_texture", "g22_rec709_scene", "g18_rec709_scene", "g24_rec709"),
    _REC2020: ("lin_rec2020_scene", "lin_rec2020"),
    _P3D65: ("lin_p3d65_scene", "lin_p3d65", "srgb_p3d65_scene"),
    _ADOBERGB: ("lin_adobergb_scene", "lin_adobergb", "g22_adobergb_scene"),
}  # fmt: skip
_PRIMARIES = {alias: primaries for primaries, aliases in _ALIASES.items() for alias in aliases}


def default_config_uri() -> str:
    """The OCIO config to use: ``$OCIO`` if set and not empty, else :data:`PINNED_CONFIG`."""
    return os.environ.get("OCIO") or PINNED_CONFIG


class ColorConverter:
    """Converts float RGB(A) arrays between colour spaces of one OCIO config.

    Processors are built once per (src, dst) pair and reused; applying them releases the GIL
    and is safe from several threads at once.
    """

    def __init__(self, config: str | os.PathLike[str] | None = None) -> None:
        self.config_uri = str(config) if config is not None else default_config_uri()
        source = " (from $OCIO)" if config is None and os.environ.get("OCIO") else ""
        # OCIO opens the file itself, and would wait for ever on a FIFO or read a device without end.
        kind = None if self.config_uri.startswith("ocio://") else special_file(self.config_uri)
        if kind is not None:
            raise ImagingError(f"cannot load OCIO config {self.config_uri}{source}: it is {kind}, not a regular "
                               "file")
        try:
            self._config = ocio.Config.CreateFromFile(self.config_uri)
        except Exception as exc:  # OCIO raises its own Exception type with the parse error
            raise ImagingError(f"cannot load OCIO config {self.config_uri}{source}: {exc}") from exc
        self._lock = threading.Lock()
        self._processors: dict[tuple[str, ...], ocio.CPUProcessor] = {}

    @property
    def config_name(self) -> str:
        """The config's own name (empty for some hand-written configs)."""
        return self._config.getName()

    def colorspace_names(self) -> list[str]:
        """Every active colour space name in the config."""
        return list(self._config.getColorSpaceNames())

    def resolve(self, name: str) -> str:
        """The config's colour space name for ``name`` (a name, alias or role).

        Raises:
            ImagingError: the config knows no such colour space; lists a few valid names.
        """
        cs = self._config.getColorSpace(name) if name else None
        if cs is None:
            raise ImagingError(self._unknown_message(name))
        return cs.getName()

    def _unknown_message(self, name: str) -> str:
        known: dict[str, str] = {}  # lower-cased name or alias -> colour space name
        for cs in self._config.getColorSpaces():
            for label in (cs.getName(), *cs.getAliases()):
                known.setdefault(label.lower(), cs.getName())
        close = [known[m] for m in difflib.get_close_matches(name.lower(), known, n=8, cutoff=0.5)]
        # Scene-referred spaces are the ones a render is converted to or from: list those first.
        scene = self._config.getColorSpaces(ocio.SEARCH_REFERENCE_SPACE_SCENE, ocio.COLORSPACE_ACTIVE)
        suggestions = list(dict.fromkeys([*close, *(cs.getName() for cs in scene)]))[:10]
        total = len(self.colorspace_names())
        return (
            f"unknown colour space {name!r} in OCIO config {self.config_uri}; "
            f"valid names include: {', '.join(suggestions)} ({total} colour spaces in all)"
        )

    def processor(self, src: str, dst: str) -> ocio.CPUProcessor:
        """The cached CPU processor from ``src`` to ``dst`` (names, aliases or roles)."""
        key = (self.resolve(src), self.resolve(dst))
        with self._lock:
            proc = self._processors.get(key)
            if proc is None:
                try:
                    proc = self._config.getProcessor(*key).getDefaultCPUProcessor()
                except Exception as exc:
                    raise ImagingError(
                        f"OCIO config {self.config_uri} cannot convert {key[0]!r} to {key[1]!r}: {exc}"
                    ) from exc
                self._processors[key] = proc
        return proc

    def convert(self, rgb: np.ndarray, *, src: str, dst: str) -> np.ndarray:
        """Return a float32 copy of ``rgb`` (shape (..., 3) or (..., 4)) converted to ``dst``.

        A fourth channel (alpha) is passed through unchanged.
        """
        arr = np.asarray(rgb)
        if arr.ndim == 0 or arr.shape[-1] not in (3, 4):
            raise ImagingError(
                f"colour conversion needs an array of shape (..., 3) or (..., 4), got {arr.shape}"
            )
        if not np.issubdtype(arr.dtype, np.floating):
            # uint8 0..255 would silently convert as if 255 were 255.0 scene light.
            raise ImagingError(f"colour conversion needs float pixels in [0, 1], got dtype {arr.dtype}")
        proc = self.processor(src, dst)
        out = np.array(arr, dtype=np.float32, order="C", copy=True)
        if out.size:
            (proc.applyRGB if out.shape[-1] == 3 else proc.applyRGBA)(out)
        return out

    def to_scene_linear(self, rgb: np.ndarray, *, src: str = defaults.SRGB_TEXTURE,
                        dst: str = defaults.COLORSPACE) -> np.ndarray:
        """Convert display-referred model output (sRGB in [0, 1]) to scene linear."""
        return self.convert(rgb, src=src, dst=dst)

    def from_scene_linear(self, rgb: np.ndarray, *, src: str = defaults.COLORSPACE,
                          dst: str = defaults.SRGB_TEXTURE) -> np.ndarray:
        """Convert scene-linear pixels (e.g. a plate) to the model's sRGB."""
        return self.convert(rgb, src=src, dst=dst)

    def display_view(self, display: str | None = None, view: str | None = None) -> tuple[str, str]:
        """The config's display and view of these names (default: its default display and that
        display's default view).

        Raises:
            ImagingError: the config has no such display or view; lists the valid ones.
        """
        displays = list(self._config.getDisplays())
        display = display or self._config.getDefaultDisplay()
        if display not in displays:
            raise ImagingError(f"unknown OCIO display {display!r} in {self.config_uri}; displays: "
                               f"{', '.join(displays)}")
        views = list(self._config.getViews(display))
        view = view or self._config.getDefaultView(display)
        if view not in views:
            raise ImagingError(f"unknown OCIO view {view!r} for display {display!r} in {self.config_uri}; "
                               f"views: {', '.join(views)}")
        return display, view

    def apply_view(self, rgb: np.ndarray, *, colorspace: str, display: str, view: str, inverse: bool) -> np.ndarray:
        """A float32 copy of ``rgb`` (..., 3) through a display/view: from scene-linear
        ``colorspace`` to the display (``inverse=False``), or back (``inverse=True``)."""
        source = self.resolve(colorspace)
        key = ("view", source, display, view, "inverse" if inverse else "forward")
        with self._lock:
            proc = self._processors.get(key)
            if proc is None:
                direction = ocio.TRANSFORM_DIR_INVERSE if inverse else ocio.TRANSFORM_DIR_FORWARD
                transform = ocio.DisplayViewTransform(src=source, display=display, view=view, direction=direction)
                try:
                    proc = self._config.getProcessor(transform).getDefaultCPUProcessor()
                except Exception as exc:
                    raise ImagingError(f"OCIO config {self.config_uri} cannot apply {display!r} / {view!r} to "
                                       f"{source!r}: {exc}") from exc
                self._processors[key] = proc
        out = np.array(rgb, dtype=np.float32, order="C", copy=True)
        if out.size:
            proc.applyRGB(out)
        return out

    def chromaticities(self, colorspace: str) -> Chromaticities | None:
        """EXR chromaticities (R, G, B, white xy) of ``colorspace``, or None if unknown."""
        labels = [colorspace]
        cs = self._config.getColorSpace(colorspace) if colorspace else None
        if cs is not None:
            interop = cs.getInteropID() if hasattr(cs, "getInteropID") else ""
            labels += [interop, cs.getName(), *cs.getAliases()]
        for label in labels:
            found = _PRIMARIES.get(label.strip().lower()) if label else None
            if found is not None:
                return found
        return None


_converters: dict[str, ColorConverter] = {}
_converters_lock = threading.Lock()


def get_converter(config: str | os.PathLike[str] | None = None) -> ColorConverter:
    """A shared converter for ``config`` (default: ``$OCIO`` as it is now, else pinned)."""
    uri = str(config) if config is not None else default_config_uri()
    with _converters_lock:
        conv = _converters.get(uri)
    if conv is None:
        # Built outside the lock: loading a config can take a while; a duplicate is harmless.
        conv = ColorConverter(config)
        with _converters_lock:
            conv = _converters.setdefault(uri, conv)
    return conv


def to_scene_linear(rgb: np.ndarray, *, src: str = defaults.SRGB_TEXTURE, dst: str = defaults.COLORSPACE) -> np.ndarray:
    """Convert model output to scene linear with the default config."""
    return get_converter().to_scene_linear(rgb, src=src, dst=dst)


def from_scene_linear(rgb: np.ndarray, *, src: str = defaults.COLORSPACE,
                      dst: str = defaults.SRGB_TEXTURE) -> np.ndarray:
    """Convert scene-linear pixels to the model's sRGB with the default config."""
    return get_converter().from_scene_linear(rgb, src=src, dst=dst)


def chromaticities_for(
    colorspace: str, *, config: str | os.PathLike[str] | None = None
) -> Chromaticities | None:
    """EXR chromaticities for ``colorspace`` (name, alias or role), None if not known."""
    return get_converter(config).chromaticities(colorspace)
