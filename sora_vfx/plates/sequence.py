"""Plate inputs: one frame, a frame pattern or a folder, found on disk as a frame sequence.

Accepted forms (``#`` and ``@`` follow Nuke: one digit each, except that a lone ``#`` after an
explicit range is four digits, as in RV and ``lss``)::

    plate.1001.exr          one frame (frame number 1001)
    plate.exr               one frame without a number
    plate.####.exr          every plate.NNNN.exr on disk; gaps are missing frames
    plate.%04d.exr          the same
    plate.1001-1100#.exr    exactly frames 1001..1100, four digits
    plate.1001-1100.exr     the same, padding taken from the files
    plates/                 the one image sequence in the folder (grouped by pyseq)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import OpenImageIO as oiio
import pyseq

from ..errors import PlateError

_TOKEN = re.compile(r"(?:(?P<start>-?\d+)-(?P<end>-?\d+))?(?P<token>#+|@+|%0?(?P<width>\d*)d)")
_BARE_RANGE = re.compile(r"^(?P<head>.*?[._])(?P<start>-?\d+)-(?P<end>-?\d+)(?P<tail>\.[A-Za-z0-9]+)$")
_NUMBERED = re.compile(r"^(?P<head>.*[._])(?P<frame>-?\d+)(?P<tail>\.[A-Za-z0-9]+)$")
FORMS = "plate.####.exr, plate.%04d.exr, plate.1001-1100#.exr, a single frame or a folder"


@dataclass(frozen=True)
class PlateSequence:
    """Frames of one plate, in frame order. ``frames`` is ``(None,)`` for one unnumbered file.
    ``name`` and ``padding`` name the extended frames (``layout.extended_frame_name``)."""

    name: str
    pattern: str
    frames: tuple[int | None, ...]
    paths: tuple[Path, ...]
    padding: int

    def __len__(self) -> int:
        return len(self.frames)

    def path(self, frame: int | None) -> Path:
        """The file of ``frame`` (None for an unnumbered single file).

        Raises:
            ValueError: ``frame`` is not a frame of this plate.
        """
        return self.paths[self.frames.index(frame)]

    def describe(self) -> str:
        """e.g. ``plate.####.exr (1001-1100, 100 frames)``."""
        if self.frames == (None,):
            return self.pattern
        return f"{self.pattern} ({frame_ranges(self.frames)}, {len(self)} frame{'s' * (len(self) != 1)})"


def frame_ranges(frames) -> str:
    """Compact text for frame numbers: ``1001-1003, 1007, 1010-1012``."""
    numbers = sorted(set(frames))
    parts: list[str] = []
    start = prev = None
    for n in [*numbers, None]:
        if start is not None and (n is None or n != prev + 1):
            parts.append(str(start) if start == prev else f"{start}-{prev}")
            start = None
        if n is not None and start is None:
            start = n
        prev = n
    return ", ".join(parts)


def _plate_name(head: str, fallback: str) -> str:
    name = head.rstrip("._-")
    return name or fallback


def _single(path: Path) -> PlateSequence:
    match = _NUMBERED.match(path.name)
    if match is None:
        return PlateSequence(path.stem or path.name, str(path), (None,), (path,), 0)
    digits = match["frame"].lstrip("-")
    return PlateSequence(_plate_name(match["head"], path.stem), str(path), (int(match["frame"]),), (path,), len(digits))


def _matches_padding(digits: str, padding: int) -> bool:
    digits = digits.lstrip("-")
    if padding == 0:
        return digits == "0" or not digits.startswith("0")
    return len(digits) == padding or (len(digits) > padding and not digits.startswith("0"))


def _find_frames(folder: Path, head: str, tail: str, padding: int | None) -> dict[int, Path]:
    """Frame number -> file for ``head<digits>tail`` in ``folder``; None padding accepts any."""
    if not folder.is_dir():
        raise PlateError(f"plate folder {folder} does not exist")
    pattern = re.compile(rf"^{re.escape(head)}(-?\d+){re.escape(tail)}$")
    found: dict[int, Path] = {}
    for entry in folder.iterdir():
        match = pattern.match(entry.name)
        if match is None or not entry.is_file():
            continue
        if padding is not None and not _matches_padding(match[1], padding):
            continue
        frame = int(match[1])
        if frame in found:
            raise PlateError(f"plate frame {frame} exists twice: {found[frame].name} and {entry.name}")
        found[frame] = entry
    return found


def _pattern_padding(token: str, width: str | None, has_range: bool) -> int:
    if token.startswith("%"):
        return int(width) if width else 0
    if token == "#" and has_range:
        return 4
    return len(token)


def _from_pattern(spec: Path) -> PlateSequence:
    name = spec.name
    tokens = list(_TOKEN.finditer(name))
    if tokens:
        match = tokens[-1]
        head, tail = name[: match.start()], name[match.end():]
        has_range = match["start"] is not None
        padding: int | None = _pattern_padding(match["token"], match["width"], has_range)
    else:
        bare = _BARE_RANGE.match(name)
        if bare is None:
            raise PlateError(f"plate {spec}: no such file or folder (a plate is given as {FORMS})")
        head, tail, has_range, padding, match = bare["head"], bare["tail"], True, None, bare
    found = _find_frames(spec.parent, head, tail, padding)
    if has_range:
        first, last = int(match["start"]), int(match["end"])
        if last < first:
            raise PlateError(f"plate {spec}: frame range {first}-{last} ends before it starts")
        wanted = range(first, last + 1)
    else:
        if not found:
            raise PlateError(f"plate {spec}: no files match (looked in {spec.parent or Path('.')})")
        wanted = range(min(found), max(found) + 1)
    missing = [frame for frame in wanted if frame not in found]
    if missing:
        have = [frame for frame in wanted if frame in found]
        raise PlateError(
            f"plate {spec}: {len(missing)} missing frame{'s' * (len(missing) != 1)}: {frame_ranges(missing)}"
            + (f" (found {frame_ranges(have)})" if have else " (found none)")
        )
    if padding is None:  # a bare range: take the padding the files have
        padding = min(len(found[f].name) - len(head) - len(tail) - (f < 0) for f in wanted)
    frames = tuple(wanted)
    display = f"{head}{'#' * padding if padding else '%d'}{tail}"
    return PlateSequence(
        _plate_name(head, "plate"), str(spec.parent / display), frames, tuple(found[f] for f in frames), padding
    )


def _image_extensions() -> set[str]:
    extensions: set[str] = set()
    for entry in oiio.get_string_attribute("extension_list").split(";"):
        _, _, names = entry.partition(":")
        extensions.update(f".{ext.lower()}" for ext in names.split(",") if ext)
    return extensions


def _from_folder(folder: Path) -> PlateSequence:
    extensions = _image_extensions()
    names = sorted(
        entry.name for entry in folder.iterdir()
        if entry.is_file() and not entry.name.startswith(".") and entry.suffix.lower() in extensions
    )
    if not names:
        raise PlateError(f"plate folder {folder} holds no image files")
    sequences = pyseq.get_sequences(names)
    if len(sequences) > 1:
        listed = ", ".join(seq.format("%h%p%t") if seq.frames() else str(seq) for seq in sequences[:8])
        more = f" and {len(sequences) - 8} more" if len(sequences) > 8 else ""
        raise PlateError(f"plate folder {folder} holds {len(sequences)} sequences ({listed}{more}); name one")
    sequence = sequences[0]
    if not sequence.frames():
        return _single(folder / sequence[0].name)
    widths = {len(item.name) - len(sequence.head()) - len(sequence.tail()) for item in sequence}
    # pyseq calls 1001..1100 unpadded; frames of one width are that width's padding.
    padding = widths.pop() if len(widths) == 1 else (sequence.pad if (sequence.pad or 0) > 1 else 0)
    return _from_pattern(folder / f"{sequence.head()}{'#' * padding if padding else '%d'}{sequence.tail()}")


def read_plate_sequence(plate: Path | str) -> PlateSequence:
    """Find the frames of ``plate`` on disk.

    Args:
        plate: a file, a pattern (``plate.####.exr``, ``plate.%04d.exr``,
            ``plate.1001-1100#.exr``) or a folder holding one sequence.
    Returns:
        The plate's frames in order, with its name for output files.
    Raises:
        PlateError: nothing matches, frames are missing, or a folder holds several sequences.
    """
    path = Path(plate).expanduser()
    if path.is_dir():
        return _from_folder(path)
    if path.is_file():
        return _single(path)
    return _from_pattern(path)
