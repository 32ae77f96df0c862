"""The output folder's layout: where a render puts frames, the manifest, the conform, the review.

```
OUT/<shot>/<shot>.<frame:04d>.exr    every frame head_in..tail_out
OUT/manifest.json                    one entry per shot (render.manifest)
OUT/renders.otio                     the conform timeline
OUT/review/                          dailies page and movies (review)
```

Everything that names a path in OUT asks this module; host plugins read each shot's
``frames.pattern`` from the manifest instead of rebuilding it.
"""

from __future__ import annotations

import re
from pathlib import Path

MANIFEST_NAME = "manifest.json"
CONFORM_NAME = "renders.otio"
REVIEW_FOLDER = "review"
FRAME_EXTENSION = ".exr"
FRAME_PADDING = 4


def shot_folder(out_dir: Path, shot: str) -> Path:
    """``OUT/<shot>``: the folder of one shot's frames."""
    return Path(out_dir) / shot


def frame_name(shot: str, frame: int) -> str:
    """``<shot>.<frame:04d>.exr``."""
    return f"{shot}.{frame:0{FRAME_PADDING}d}{FRAME_EXTENSION}"


def frame_path(out_dir: Path, shot: str, frame: int) -> Path:
    """``OUT/<shot>/<shot>.<frame:04d>.exr``."""
    return shot_folder(out_dir, shot) / frame_name(shot, frame)


def frame_from_pattern(out_dir: Path, pattern: str, frame: int) -> Path:
    """The file of ``frame`` in a manifest's ``frames.pattern`` (relative to ``out_dir``): the
    run of ``#`` becomes the frame number padded to its length.

    Raises:
        ValueError: the pattern is absolute or climbs out of ``out_dir`` with ``..``.
    """
    relative = re.sub(r"#+", lambda m: f"{frame:0{len(m.group())}d}", pattern)
    if Path(relative).is_absolute() or ".." in Path(relative).parts:
        raise ValueError(f"frame pattern {pattern!r} points outside {out_dir}")
    return Path(out_dir) / relative


def frame_pattern(shot: str) -> str:
    """The shot's frames relative to OUT, with ``#`` for the padded frame number, as the
    manifest records it: ``<shot>/<shot>.####.exr``."""
    return f"{shot}/{shot}.{'#' * FRAME_PADDING}{FRAME_EXTENSION}"
