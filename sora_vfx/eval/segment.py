"""Colour segmentation: each pixel to the nearest palette colour, then connected blobs.

Plain image analysis, no learned detector: a pixel takes the nearest of the shapes world's
palette colours when it lies close enough to it, and is left unclassified otherwise (the
anti-aliased or blurred rim between two colours sits about halfway between them and would
otherwise fall to whichever third colour happens to be nearest). Blobs are 8-connected runs
of one colour within one frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sora_vfx.shapes import COLOURS, PALETTE

#: Largest distance in sRGB from a palette colour at which a pixel still counts as that colour:
#: a little under half the palette's smallest spacing, so rims stay unclassified.
MAX_COLOUR_DISTANCE = 0.35
UNCLASSIFIED = -1

_PALETTE = np.array([PALETTE[name] for name in COLOURS], dtype=np.float32)
# Each neighbour once: right, down, and the two diagonals below.
_NEIGHBOURS = ((0, 1), (1, 0), (1, 1), (1, -1))


def classify_colours(frames: np.ndarray, *, max_distance: float = MAX_COLOUR_DISTANCE) -> np.ndarray:
    """Name each pixel's colour.

    Args:
        frames: (frames, height, width, 3) display-referred sRGB.
        max_distance: how far from a palette colour a pixel may be and still count as it.

    Returns:
        (frames, height, width) int8 index into :data:`~sora_vfx.shapes.COLOURS`, or
        :data:`UNCLASSIFIED`.
    """
    rgb = np.asarray(frames, dtype=np.float32)
    # |p - c|^2 = |p|^2 - 2 p.c + |c|^2; the |p|^2 term does not change which c is nearest.
    partial = rgb @ (-2 * _PALETTE.T) + np.sum(_PALETTE**2, axis=1)
    nearest = np.argmin(partial, axis=-1)
    distance = np.take_along_axis(partial, nearest[..., None], axis=-1)[..., 0] + np.sum(rgb * rgb, axis=-1)
    return np.where(distance <= max_distance**2, nearest.astype(np.int8), np.int8(UNCLASSIFIED))


def label_components(classes: np.ndarray) -> np.ndarray:
    """Label 8-connected regions of equal class within each frame.

    Each row's runs of one class start out as one label; labels then spread to the rows
    above and below, every run takes its smallest label, and labels jump along their chains
    until nothing changes. All frames at once, vectorised.

    Args:
        classes: (frames, height, width) int classes; negative means no class.

    Returns:
        (frames, height, width) int32: each classified pixel's component id (the flat index
        of one of its pixels), -1 elsewhere.
    """
    size = classes.size
    width = classes.shape[-1]
    inside = classes >= 0
    flat_classes = classes.reshape(-1)
    starts = np.ones(size, dtype=bool)
    starts[1:] = flat_classes[1:] != flat_classes[:-1]
    starts[::width] = True
    run_starts = np.flatnonzero(starts)
    run = np.cumsum(starts) - 1
    labels = np.where(inside, run_starts[run].reshape(classes.shape).astype(np.int32), np.int32(size))
    flat = labels.reshape(-1)
    links = []
    for dy, dx in _NEIGHBOURS[1:]:
        a, b = _shifted(classes.shape, dy, dx)
        links.append((a, b, inside[a] & (classes[a] == classes[b])))
    while True:
        before = labels.copy()
        for a, b, same in links:
            low = np.where(same, np.minimum(labels[a], labels[b]), size)
            np.minimum(labels[a], low, out=labels[a])
            np.minimum(labels[b], low, out=labels[b])
        flat[:] = np.minimum.reduceat(flat, run_starts)[run]
        # Every label names a pixel of the same component whose own label is no larger, so
        # following the chain stays inside the component and shortens paths geometrically.
        valid = flat < size
        flat[valid] = flat[flat[valid]]
        if np.array_equal(before, labels):
            return np.where(inside, labels, -1)


def _shifted(shape: tuple[int, ...], dy: int, dx: int) -> tuple[tuple[slice, ...], tuple[slice, ...]]:
    """Index pairs (a, b) with b the pixel (dy, dx) away from a, inside the frame."""
    _, height, width = shape
    rows_a, rows_b = slice(0, height - dy), slice(dy, height)
    if dx >= 0:
        cols_a, cols_b = slice(0, width - dx), slice(dx, width)
    else:
        cols_a, cols_b = slice(-dx, width), slice(0, width + dx)
    return (slice(None), rows_a, cols_a), (slice(None), rows_b, cols_b)


@dataclass(frozen=True, eq=False)
class Blobs:
    """Every blob of a clip, one entry per blob in parallel arrays (pixel centres at +0.5)."""

    frame: np.ndarray
    colour: np.ndarray
    """Index into :data:`~sora_vfx.shapes.COLOURS`."""
    area: np.ndarray
    """Pixels."""
    x: np.ndarray
    y: np.ndarray
    """Centroid."""
    fill: np.ndarray
    """Area over bounding-box area: about pi/4 for a ball, 1 for a square."""

    def of(self, colour: int, frame: int | None = None, *, min_area: float = 0.0) -> np.ndarray:
        """Indices of the blobs of one colour (in one frame), largest first."""
        keep = (self.colour == colour) & (self.area >= min_area)
        if frame is not None:
            keep &= self.frame == frame
        index = np.flatnonzero(keep)
        return index[np.argsort(-self.area[index], kind="stable")]


def find_blobs(classes: np.ndarray) -> Blobs:
    """Measure every connected blob of one colour in every frame.

    Args:
        classes: from :func:`classify_colours`.

    Returns:
        The blobs.
    """
    frames, height, width = classes.shape
    labels = label_components(classes).reshape(-1)
    pixels = np.flatnonzero(labels >= 0)
    # A component's id is the index of its one pixel that labels itself.
    roots = pixels[labels[pixels] == pixels]
    number = np.zeros(labels.size, dtype=np.int64)
    number[roots] = np.arange(len(roots))
    blob = number[labels[pixels]]
    frame, rest = np.divmod(pixels, height * width)
    row, col = np.divmod(rest, width)
    count = len(roots)
    area = np.bincount(blob, minlength=count).astype(np.float64)
    x = np.bincount(blob, weights=col + 0.5, minlength=count) / np.maximum(area, 1)
    y = np.bincount(blob, weights=row + 0.5, minlength=count) / np.maximum(area, 1)
    span_x = _extent(blob, col, count)
    span_y = _extent(blob, row, count)
    return Blobs(
        frame=roots // (height * width), colour=classes.reshape(-1)[roots].astype(np.int64), area=area,
        x=x, y=y, fill=area / np.maximum(span_x * span_y, 1),
    )


def _extent(blob: np.ndarray, position: np.ndarray, count: int) -> np.ndarray:
    high = np.full(count, -1, dtype=np.int64)
    low = np.full(count, np.iinfo(np.int64).max, dtype=np.int64)
    np.maximum.at(high, blob, position)
    np.minimum.at(low, blob, position)
    return (high - low + 1).astype(np.float64)
