"""Regions of a border mask: the bands of pixels either side of the seam between filmed and
generated pixels, used to anchor a border's colour (plates) and to measure its seam (eval)."""

from __future__ import annotations

import numpy as np

#: Width of the bands either side of the seam, in working pixels.
BAND = 2


def seam_bands(mask: np.ndarray, width: int = BAND) -> tuple[np.ndarray, np.ndarray]:
    """(inside, outside): filmed pixels within ``width`` pixels of the border, and border
    pixels within ``width`` pixels of the filmed ones, of one (height, width) mask (1 = border)."""
    border = mask > 0.5
    filmed = ~border
    return filmed & _grow(border, width), border & _grow(filmed, width)


def _grow(region: np.ndarray, steps: int) -> np.ndarray:
    """``region`` grown by ``steps`` pixels (8-neighbourhood)."""
    grown = region.copy()
    for _ in range(steps):
        padded = np.pad(grown, 1)
        grown = padded[1:-1, 1:-1].copy()
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                grown |= padded[1 + dy:padded.shape[0] - 1 + dy, 1 + dx:padded.shape[1] - 1 + dx]
    return grown
