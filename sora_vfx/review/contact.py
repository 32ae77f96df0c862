"""A contact sheet: a few frames of every shot of a render in one image, a row per shot.

The frames go from the working space back to display sRGB through the same OCIO config the
renderer wrote them with, and are enlarged by whole pixels, so small renders stay crisp.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ReviewError
from ..imaging import read_display_frames, write_image
from ..layout import frame_from_pattern
from ..render.manifest import read_manifest

_GAP = 2


def write_contact_sheet(out_dir: Path, path: Path, *, columns: int = 6, scale: int = 2) -> Path:
    """Write ``columns`` frames, evenly spread over each rendered shot's cut, as one image.

    Raises:
        ReviewError: no manifest or no rendered shot in ``out_dir``, or the image cannot be written.
    """
    manifest = read_manifest(out_dir)
    entries = [entry for entry in (manifest.shots if manifest else []) if entry.done]
    if not entries:
        raise ReviewError(f"{out_dir}: no rendered shots for a contact sheet")
    rows = []
    for entry in entries:
        numbers = np.linspace(entry.frames.cut_in, entry.frames.cut_out, columns).round().astype(int)
        paths = [frame_from_pattern(out_dir, entry.frames.pattern, int(number)) for number in numbers]
        pictures = read_display_frames(paths, colorspace=entry.colorspace)
        rows.append([picture.repeat(scale, axis=0).repeat(scale, axis=1) for picture in pictures])
    height = max(picture.shape[0] for row in rows for picture in row)
    width = max(picture.shape[1] for row in rows for picture in row)
    sheet = np.ones(((height + _GAP) * len(rows) + _GAP, (width + _GAP) * columns + _GAP, 3), np.float32)
    for r, row in enumerate(rows):
        for c, picture in enumerate(row):
            y, x = _GAP + r * (height + _GAP), _GAP + c * (width + _GAP)
            sheet[y:y + picture.shape[0], x:x + picture.shape[1]] = picture
    return write_image(Path(path), sheet)
