"""A matte of filmed pixels to generate as well as the border (``extend --mask``).

A compositor's matte over the plate (a rig, a boom, a soft lens edge, letterbox bars): where it
is above 0 the model draws there too, and the output is ``plate * (1 - m) + generated * m``, with
``m`` in the output's ``mask`` channel. Where the matte is 0 the filmed pixels are copied bit for
bit, as everywhere without a matte. The matte is the mask file's alpha (``A``), else its first
channel, over the plate's display window (the same size; outside its data window it is 0), one
frame per plate frame or one frame for all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ImagingError, PlateError
from ..imaging.plates_io import PlateHeader, read_plate_header, read_plate_pixels
from .geometry import Box
from .sequence import PlateSequence, read_plate_sequence

#: Matte values at or below this are 0: the filmed pixel is kept exactly.
_CLEAR = 0.0


@dataclass(frozen=True)
class MattePlan:
    """The mask's frames and headers, checked against the plate."""

    sequence: PlateSequence
    headers: dict[int | None, PlateHeader]
    channel: int

    def header(self, frame: int | None) -> PlateHeader:
        """The mask frame for plate ``frame`` (a one-frame mask serves every frame)."""
        return next(iter(self.headers.values())) if len(self.headers) == 1 else self.headers[frame]

    def files(self) -> list[list]:
        """Path, size and time of each mask frame (for the job hash)."""
        files = []
        for header in self.headers.values():
            stat = header.path.stat()
            files.append([str(header.path.resolve()), stat.st_size, stat.st_mtime_ns])
        return files


def plan_matte(mask: Path | str, plate: PlateSequence, plate_display: Box) -> MattePlan:
    """Read and check the mask's headers: a frame for every plate frame (or one for all), each
    the plate's display size, each with a channel to read.

    Raises:
        PlateError: naming the mask file and what is wrong.
    """
    try:
        sequence = read_plate_sequence(mask)
    except PlateError as exc:
        raise PlateError(f"--mask: {exc}") from None
    headers = {}
    for frame, path in zip(sequence.frames, sequence.paths, strict=True):
        try:
            headers[frame] = read_plate_header(path)
        except ImagingError as exc:
            raise PlateError(f"--mask: {exc}") from None
    if len(headers) > 1:
        missing = [frame for frame in plate.frames if frame not in headers]
        if missing:
            raise PlateError(f"--mask {sequence.describe()}: no frame {missing[0]} for the plate's frame "
                             f"{missing[0]} (give a mask frame for every plate frame, or one frame for all)")
    for header in headers.values():
        display = Box.from_window(header.display_window)
        if (display.width, display.height) != (plate_display.width, plate_display.height):
            raise PlateError(f"--mask {header.path}: its display window is {display.width}x{display.height}, "
                             f"the plate's {plate_display.width}x{plate_display.height}; the mask must cover "
                             "the plate pixel for pixel")
    first = next(iter(headers.values()))
    channel = first.channels.index("A") if "A" in first.channels else 0
    return MattePlan(sequence, headers, channel)


def read_matte(plan: MattePlan, frame: int | None) -> np.ndarray:
    """The matte for plate ``frame``: float32 (height, width) over the mask's display window, in
    [0, 1] (NaN and below 0 become 0)."""
    header = plan.header(frame)
    try:
        pixels = read_plate_pixels(header, [plan.channel], pixel_type="float")[..., 0]
    except ImagingError as exc:
        raise PlateError(f"--mask: {exc}") from None
    display, data = Box.from_window(header.display_window), Box.from_window(header.data_window)
    matte = np.zeros((display.height, display.width), np.float32)
    inside = data.intersect(display)
    if not inside.empty:
        rows, cols = inside.shifted(-data.x, -data.y).slices(Box(0, 0, data.width, data.height))
        matte[inside.slices(display)] = pixels[rows, cols]
    return np.clip(np.nan_to_num(matte, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)


def matte_box(matte: np.ndarray) -> Box:
    """The smallest box (relative to the matte's origin) that holds every pixel above 0."""
    rows = np.flatnonzero((matte > _CLEAR).any(axis=1))
    cols = np.flatnonzero((matte > _CLEAR).any(axis=0))
    if not rows.size:
        return Box(0, 0, 0, 0)
    return Box(int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1))
