"""Where the extended frame lies: the new display window, the filmed pixels' place in it, and
the strips around the old frame that are generated.

The new display window keeps the plate's display-window origin and grows right and down; the
filmed pixels move by (left, top). Readers that ignore or mishandle display-window origins
(negative ones especially) then still show the extension right, and an output whose data
window equals its display window is an ordinary full frame everywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import PlateError

ANCHORS = ("center", "left", "right", "top", "bottom", "top-left", "top-right", "bottom-left", "bottom-right")


@dataclass(frozen=True)
class Box:
    """A pixel rectangle: origin (x, y) and size; ``x_end``/``y_end`` are exclusive."""

    x: int
    y: int
    width: int
    height: int

    @property
    def x_end(self) -> int:
        return self.x + self.width

    @property
    def y_end(self) -> int:
        return self.y + self.height

    @property
    def empty(self) -> bool:
        return self.width <= 0 or self.height <= 0

    @classmethod
    def from_window(cls, window: tuple[int, int, int, int]) -> Box:
        """The box of an EXR-style inclusive window ``(x0, y0, x1, y1)``."""
        x0, y0, x1, y1 = window
        return cls(x0, y0, x1 - x0 + 1, y1 - y0 + 1)

    def to_window(self) -> tuple[int, int, int, int]:
        """EXR-style inclusive (x0, y0, x1, y1)."""
        return self.x, self.y, self.x_end - 1, self.y_end - 1

    def shifted(self, dx: int, dy: int) -> Box:
        """The same size of box moved by ``(dx, dy)``."""
        return Box(self.x + dx, self.y + dy, self.width, self.height)

    def intersect(self, other: Box) -> Box:
        """The overlap of the two boxes; ``empty`` when they do not overlap."""
        x, y = max(self.x, other.x), max(self.y, other.y)
        return Box(x, y, max(0, min(self.x_end, other.x_end) - x), max(0, min(self.y_end, other.y_end) - y))

    def union(self, other: Box) -> Box:
        """The smallest box holding both (an empty box still counts by its origin)."""
        x, y = min(self.x, other.x), min(self.y, other.y)
        return Box(x, y, max(self.x_end, other.x_end) - x, max(self.y_end, other.y_end) - y)

    def slices(self, origin: Box) -> tuple[slice, slice]:
        """Row and column slices of this box in an array that covers ``origin``."""
        return (slice(self.y - origin.y, self.y_end - origin.y), slice(self.x - origin.x, self.x_end - origin.x))

    def __str__(self) -> str:
        return f"{self.width}x{self.height} at ({self.x},{self.y})"


@dataclass(frozen=True)
class Padding:
    """Pixels added on each side of the plate's display window."""

    left: int
    right: int
    bottom: int
    top: int

    def __str__(self) -> str:
        return f"{self.left},{self.right},{self.bottom},{self.top}"


def parse_pad(text: str) -> Padding:
    """``"L,R,B,T"`` pixels; raises PlateError for a bad or shrinking pad."""
    parts = [p.strip() for p in str(text).split(",")]
    try:
        values = [int(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 4:
        raise PlateError(f"pad {text!r}: expected four whole numbers LEFT,RIGHT,BOTTOM,TOP, e.g. 256,256,0,0")
    if any(v < 0 for v in values):
        raise PlateError(f"pad {text!r}: a negative pad would crop the plate; extension only adds pixels")
    if not any(values):
        raise PlateError(f"pad {text!r}: adds no pixels")
    return Padding(*values)


def parse_aspect(text: str) -> float:
    """A picture aspect ratio from ``"2.39"`` or ``"16:9"`` (``--to-aspect``).

    Raises:
        PlateError: not a finite, positive ratio.
    """
    try:
        if ":" in str(text):
            num, den = (float(part) for part in str(text).split(":"))
            aspect = num / den
        else:
            aspect = float(text)
    except (ValueError, ZeroDivisionError):
        aspect = float("nan")
    if not math.isfinite(aspect) or aspect <= 0:
        raise PlateError(f"--to-aspect {text!r}: expected a positive ratio, e.g. 2.39 or 16:9")
    return aspect


def anchored_padding(extra_width: int, extra_height: int, anchor: str) -> Padding:
    """Split added width and height by where the plate is anchored in the new frame."""
    if anchor not in ANCHORS:
        raise PlateError(f"--anchor {anchor!r}: unknown, available: {', '.join(ANCHORS)}")
    parts = anchor.split("-")
    left = 0 if "left" in parts else extra_width if "right" in parts else extra_width // 2
    top = 0 if "top" in parts else extra_height if "bottom" in parts else extra_height // 2
    return Padding(left, extra_width - left, extra_height - top, top)


def padding_to_size(display: Box, width: int, height: int, anchor: str) -> Padding:
    """The padding that grows ``display`` to ``width`` x ``height``, split by ``anchor``.

    Raises:
        PlateError: the size is smaller than the plate in either direction (extension never
            crops), equal to it, or ``anchor`` is unknown.
    """
    if width < display.width or height < display.height:
        raise PlateError(
            f"size {width}x{height} is smaller than the plate's {display.width}x{display.height} "
            "display window; extension never crops"
        )
    if (width, height) == (display.width, display.height):
        raise PlateError(f"size {width}x{height} is the plate's own size: nothing to extend")
    return anchored_padding(width - display.width, height - display.height, anchor)


def padding_to_aspect(display: Box, aspect: float, anchor: str, pixel_aspect: float = 1.0) -> Padding:
    """Grow the shorter side so that the picture (pixel aspect included) has ``aspect``."""
    current = display.width * pixel_aspect / display.height
    if math.isclose(current, aspect, rel_tol=1e-3):
        raise PlateError(f"--to-aspect {aspect:g}: the plate already is {current:.3f}:1")
    if current < aspect:
        width = round(display.height * aspect / pixel_aspect)
        return anchored_padding(width - display.width, 0, anchor)
    height = round(display.width * pixel_aspect / aspect)
    return anchored_padding(0, height - display.height, anchor)


@dataclass(frozen=True)
class Layout:
    """The extended frame in output pixel coordinates.

    ``display`` is the new display window; ``plate_display`` the plate's old display window
    moved to its new place; ``offset`` how far every filmed pixel moves.
    """

    display: Box
    plate_display: Box
    offset: tuple[int, int]
    padding: Padding

    @classmethod
    def build(cls, plate_display: Box, padding: Padding) -> Layout:
        """The layout for ``padding`` around ``plate_display``: the new display window keeps the
        plate's origin and grows right and down, and the filmed pixels move by (left, top)."""
        display = Box(plate_display.x, plate_display.y, plate_display.width + padding.left + padding.right,
                      plate_display.height + padding.top + padding.bottom)
        return cls(display, plate_display.shifted(padding.left, padding.top), (padding.left, padding.top), padding)

    def filmed(self, data_window: Box) -> Box:
        """Where a frame's data window lands in the output."""
        return data_window.shifted(*self.offset)

    def data_window(self, data_window: Box) -> Box:
        """The output's data window: the new display window plus any overscan the plate had."""
        return self.display.union(self.filmed(data_window))

    def strips(self) -> list[Box]:
        """The generated area: new display window minus the old one, as up to four boxes."""
        d, p = self.display, self.plate_display
        boxes = [
            Box(d.x, d.y, d.width, p.y - d.y),  # top
            Box(d.x, p.y_end, d.width, d.y_end - p.y_end),  # bottom
            Box(d.x, p.y, p.x - d.x, p.height),  # left
            Box(p.x_end, p.y, d.x_end - p.x_end, p.height),  # right
        ]
        return [box for box in boxes if not box.empty]


def distance_to(box: Box, region: Box) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pixel of ``box``: Euclidean distance to ``region`` and the nearest pixel in it (y, x)."""
    ys = np.arange(box.y, box.y_end)[:, None]
    xs = np.arange(box.x, box.x_end)[None, :]
    near_y = np.clip(ys, region.y, region.y_end - 1)
    near_x = np.clip(xs, region.x, region.x_end - 1)
    distance = np.hypot((ys - near_y).astype(np.float32), (xs - near_x).astype(np.float32))
    return distance, np.broadcast_to(near_y, distance.shape), np.broadcast_to(near_x, distance.shape)
