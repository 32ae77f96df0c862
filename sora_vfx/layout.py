"""The output folder's layout: where a render puts frames, the manifest, the conform, the review.

```
OUT/<shot>/<shot>.<frame:04d>.exr    every frame head_in..tail_out
OUT/<shot>/<shot>.latents.safetensors  a shot's denoised latents, until its frames are decoded
OUT/<shot>/<shot>.wav                the shot's sound, where its model makes sound
OUT/manifest.json                    one entry per shot (render.manifest)
OUT/renders.otio                     the conform timeline
OUT/review/                          dailies page and movies (review)
```

Everything that names a path in OUT asks this module; host plugins read each shot's
``frames.pattern`` from the manifest instead of rebuilding it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

MANIFEST_NAME = "manifest.json"
CONFORM_NAME = "renders.otio"
#: The conform in editors' formats (``render --conform xml,edl``), beside ``CONFORM_NAME``.
EDITOR_CONFORM_NAMES = {"xml": "renders.xml", "edl": "renders.edl", "aaf": "renders.aaf"}
REVIEW_FOLDER = "review"
FRAME_EXTENSION = ".exr"
FRAME_PADDING = 4
LATENTS_SUFFIX = ".latents.safetensors"
SOUND_SUFFIX = ".wav"
#: Names in OUT that belong to the output itself, so no shot folder may take them. Hidden
#: names (a leading ".") are the output's temporaries and staging folders.
RESERVED_NAMES = (MANIFEST_NAME, CONFORM_NAME, *EDITOR_CONFORM_NAMES.values(), REVIEW_FOLDER)


def reserved_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a folder in OUT beside the output's own files, or None.
    Compared without case, as on the case-insensitive file systems of macOS and Windows."""
    if name.startswith("."):
        return f"shot name {name!r} must not start with '.' (hidden names in the output are its temporaries)"
    if name.casefold() in {reserved.casefold() for reserved in RESERVED_NAMES}:
        return f"shot name {name!r} is a name the output uses itself (reserved: {', '.join(RESERVED_NAMES)})"
    return None


#: The most bytes one file name (a path component, UTF-8) may have: ext4, XFS, APFS and ZFS
#: stop at 255, so a shot whose files' names are longer cannot render there.
MAX_FILE_NAME_BYTES = 255


def shot_file_names(shot: str, *, last_frame: int) -> list[str]:
    """The name (the last path component) of everything a render of ``shot`` with frames up to
    ``last_frame`` puts in OUT or its review: the shot folder, its frames, latents and sound,
    its review movies and thumbnails. The longest of them (written under a temporary name
    first) decides whether a shot name fits a file system."""
    return [
        shot_folder(Path(), shot).name,
        frame_name(shot, last_frame),
        latents_path(Path(), shot).name,
        sound_path(Path(), shot).name,
        *(Path(review_movie_name(shot, suffix)).name for suffix in REVIEW_MOVIE_SUFFIXES),
        Path(review_thumbnail_name(shot, last_frame)).name,
    ]


def shot_folder(out_dir: Path, shot: str) -> Path:
    """``OUT/<shot>``: the folder of one shot's frames."""
    return Path(out_dir) / shot


def frame_name(shot: str, frame: int) -> str:
    """``<shot>.<frame:04d>.exr``."""
    return f"{shot}.{frame:0{FRAME_PADDING}d}{FRAME_EXTENSION}"


def latents_path(out_dir: Path, shot: str) -> Path:
    """``OUT/<shot>/<shot>.latents.safetensors``: a shot's latents, kept while it is decoded."""
    return shot_folder(out_dir, shot) / f"{shot}{LATENTS_SUFFIX}"


def sound_path(out_dir: Path, shot: str) -> Path:
    """The shot's sound (head_in..tail_out), where its model makes sound."""
    return shot_folder(out_dir, shot) / f"{shot}{SOUND_SUFFIX}"


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


def paths_leading_outside(out_dir: Path, shots: Iterable[str]) -> list[Path]:
    """The paths a render of ``shots`` would write or read in OUT (shot folders and what is in
    them, the manifest, the conform, the review) that lead outside OUT through a symbolic link.
    Only what is on disk is looked at: a shot folder's entries, not every frame it could hold."""
    root = Path(out_dir).resolve()
    leading_outside = []

    def escapes(path: Path) -> bool:
        return os.path.lexists(path) and not Path(path).resolve().is_relative_to(root)

    for name in RESERVED_NAMES:
        if escapes(Path(out_dir) / name):
            leading_outside.append(Path(out_dir) / name)
    for shot in shots:
        folder = shot_folder(out_dir, shot)
        if escapes(folder):
            leading_outside.append(folder)
        elif folder.is_dir():
            with os.scandir(folder) as entries:
                leading_outside += [Path(entry.path) for entry in entries
                                    if entry.is_symlink() and escapes(Path(entry.path))]
    return leading_outside


# --- the review: OUT/review/, built in a hidden sibling folder and swapped in whole ----------

#: Inside the review folder: the page, the edit's movie, the thumbnails' and shot movies' folders.
REVIEW_PAGE_NAME = "index.html"
REVIEW_EDIT_MOVIE_NAME = "edit.mp4"
REVIEW_THUMBS_FOLDER = "thumbs"
REVIEW_MOVIES_FOLDER = "movies"
#: A shot's preview movie and its ProRes daily.
REVIEW_MOVIE_SUFFIXES = (".mp4", ".mov")
# A hand-edited manifest can name a shot anything; the review's file names keep to these.
_REVIEW_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def review_folder(out_dir: Path) -> Path:
    """``OUT/review``: the dailies page, its movies and thumbnails."""
    return Path(out_dir) / REVIEW_FOLDER


def review_temporary_folder(out_dir: Path, tag: str) -> Path:
    """``OUT/.review-<tag>``: where a new review is built, or the old one is moved aside,
    before the swap (hidden, as the output's temporaries are)."""
    return Path(out_dir) / f".{REVIEW_FOLDER}-{tag}"


def review_movie_name(shot: str, suffix: str = ".mp4") -> str:
    """``movies/<shot><suffix>``, relative to the review folder: a shot's preview movie
    (``.mp4``) or ProRes daily (``.mov``)."""
    return f"{REVIEW_MOVIES_FOLDER}/{_REVIEW_UNSAFE.sub('_', shot)}{suffix}"


def review_thumbnail_name(shot: str, frame: int) -> str:
    """``thumbs/<shot>.<frame:04d>.jpg``, relative to the review folder."""
    return f"{REVIEW_THUMBS_FOLDER}/{_REVIEW_UNSAFE.sub('_', shot)}.{frame:04d}.jpg"


def review_movie_path(out_dir: Path, shot: str, suffix: str = ".mp4") -> Path:
    """``OUT/review/movies/<shot><suffix>``: where a finished review keeps a shot's movie."""
    return review_folder(out_dir) / review_movie_name(shot, suffix)


# --- plate extension (sora-vfx extend): OUT/<plate>_ext.<frame>.exr -----------------------------

#: Follows the plate's name in the names of its extended frames.
EXTENDED_SUFFIX = "_ext"


def extended_frame_name(plate: str, frame: int | None, *, padding: int = FRAME_PADDING) -> str:
    """``<plate>_ext.<frame>.exr``, the frame number as many digits as the plate's (``padding``)
    but at least ``FRAME_PADDING``; ``<plate>_ext.exr`` for an unnumbered plate (``frame`` None)."""
    if frame is None:
        return f"{plate}{EXTENDED_SUFFIX}{FRAME_EXTENSION}"
    return f"{plate}{EXTENDED_SUFFIX}.{frame:0{max(padding, FRAME_PADDING)}d}{FRAME_EXTENSION}"


def extended_frame_path(out_dir: Path, plate: str, frame: int | None, *, padding: int = FRAME_PADDING) -> Path:
    """``OUT/<plate>_ext.<frame>.exr`` (``extended_frame_name``)."""
    return Path(out_dir) / extended_frame_name(plate, frame, padding=padding)


def extended_frame_pattern(plate: str, *, padding: int = FRAME_PADDING, numbered: bool = True) -> str:
    """An extended plate's frames relative to OUT, with ``#`` for the padded frame number, as
    ``extend --json`` reports them: ``<plate>_ext.####.exr``; an unnumbered plate's one file."""
    if not numbered:
        return extended_frame_name(plate, None)
    return f"{plate}{EXTENDED_SUFFIX}.{'#' * max(padding, FRAME_PADDING)}{FRAME_EXTENSION}"
