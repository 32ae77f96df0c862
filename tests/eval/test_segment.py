"""Colour classification and connected blobs."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from sora_vfx.eval import UNCLASSIFIED, classify_colours, find_blobs, label_components
from sora_vfx.shapes import COLOURS, PALETTE


def reference_labels(classes: np.ndarray) -> np.ndarray:
    """Breadth-first 8-connected labelling, one pixel at a time."""
    labels = np.full(classes.shape, -1)
    frames, height, width = classes.shape
    next_label = 0
    for t in range(frames):
        for y in range(height):
            for x in range(width):
                if classes[t, y, x] < 0 or labels[t, y, x] >= 0:
                    continue
                labels[t, y, x] = next_label
                queue = deque([(y, x)])
                while queue:
                    cy, cx = queue.popleft()
                    for ny in (cy - 1, cy, cy + 1):
                        for nx in (cx - 1, cx, cx + 1):
                            if (0 <= ny < height and 0 <= nx < width and labels[t, ny, nx] < 0
                                    and classes[t, ny, nx] == classes[t, y, x]):
                                labels[t, ny, nx] = next_label
                                queue.append((ny, nx))
                next_label += 1
    return labels


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    pairs = set(zip(a.ravel().tolist(), b.ravel().tolist(), strict=True))
    return len(pairs) == len({p[0] for p in pairs}) == len({p[1] for p in pairs})


@pytest.mark.parametrize("seed", range(6))
def test_labels_match_a_plain_flood_fill(seed):
    rng = np.random.default_rng(seed)
    classes = rng.integers(-1, 3, size=(3, 17, 23)).astype(np.int8)
    if seed % 2:  # bigger regions, snaking shapes
        classes = np.where(rng.random((3, 17, 23)) < 0.6, 0, classes).astype(np.int8)
    labels = label_components(classes)
    assert np.array_equal(labels < 0, classes < 0)
    assert same_partition(labels, reference_labels(classes))


def test_a_spiral_is_one_component():
    spiral = np.full((1, 15, 15), -1, dtype=np.int8)
    top, left, bottom, right = 0, 0, 14, 14
    while top <= bottom and left <= right:
        spiral[0, top, left:right + 1] = 0
        spiral[0, top:bottom + 1, right] = 0
        spiral[0, bottom, left:right + 1] = 0
        spiral[0, top + 2:bottom + 1, left] = 0
        top, left, bottom, right = top + 2, left + 2, bottom - 2, right - 2
    labels = label_components(spiral)
    assert len(np.unique(labels[labels >= 0])) == len(np.unique(reference_labels(spiral)[spiral >= 0]))


def test_palette_colours_classify_as_themselves_and_rims_as_none():
    palette = np.array([[PALETTE[name] for name in COLOURS]], dtype=np.float32)[None]
    assert classify_colours(palette)[0, 0].tolist() == list(range(len(COLOURS)))
    halfway = (np.array(PALETTE["yellow"]) + np.array(PALETTE["black"])) / 2
    assert classify_colours(np.array(halfway, dtype=np.float32).reshape(1, 1, 1, 3))[0, 0, 0] == UNCLASSIFIED
    near = np.array(PALETTE["red"], dtype=np.float32) + [-0.15, 0.1, 0.1]
    assert classify_colours(near.reshape(1, 1, 1, 3))[0, 0, 0] == COLOURS.index("red")


def test_blobs_measure_area_centroid_and_fill():
    classes = np.full((2, 32, 32), -1, dtype=np.int8)
    classes[0, 4:12, 10:18] = 2  # an 8x8 square centred at (14, 8)
    rows, cols = np.mgrid[0:32, 0:32] + 0.5
    classes[1][(cols - 20) ** 2 + (rows - 20) ** 2 <= 36] = 3  # a disc of radius 6 at (20, 20)
    classes[1, 0, 0] = 3
    blobs = find_blobs(classes)
    square = blobs.of(2)[0]
    assert (blobs.frame[square], blobs.area[square], blobs.x[square], blobs.y[square]) == (0, 64, 14, 8)
    assert blobs.fill[square] == 1
    disc, speck = blobs.of(3)
    assert blobs.frame[disc] == 1 and blobs.x[disc] == pytest.approx(20) and blobs.y[disc] == pytest.approx(20)
    assert blobs.fill[disc] == pytest.approx(np.pi / 4, abs=0.05)
    assert blobs.area[speck] == 1
    assert list(blobs.of(3, min_area=2)) == [disc]
    assert list(blobs.of(3, frame=0)) == []
