"""The shot job: one shot of the edit, as every later stage sees it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import PurePath
from typing import Any

from ..files import longest_temporary_name
from ..layout import MAX_FILE_NAME_BYTES, reserved_name_problem, shot_file_names
from ..text import shortened

_SHOT_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")


def shot_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a shot name (it becomes a folder and file names), or None."""
    if not name:
        return "a shot name cannot be empty"
    if ".." in name or "/" in name or "\\" in name:
        return f"shot name {name!r} must not contain '..', '/' or '\\'"
    if not _SHOT_NAME.match(name):
        return f"shot name {name!r} may only use letters, digits, '_', '-' and '.'"
    return reserved_name_problem(name)


def shot_name_length_problem(name: str, *, last_frame: int) -> str | None:
    """Why ``name`` is too long for a shot whose frames run up to ``last_frame``, or None: the
    longest name of its files (``layout.shot_file_names``, each written under a temporary
    name first) must fit in ``layout.MAX_FILE_NAME_BYTES``, counted in UTF-8."""
    size = len(name.encode())
    longest, extra = "", 0
    for file in shot_file_names(name, last_frame=last_frame):
        more = len(longest_temporary_name(file, suffix=PurePath(file).suffix).encode()) - size
        if more > extra:
            longest, extra = file, more
    if size + extra <= MAX_FILE_NAME_BYTES:
        return None
    shown = shortened(name, 40)
    return (f"shot name {shown!r} is {size} bytes long, too long for its files: the longest, "
            f"{longest.replace(name, '<shot>', 1)!r} under its temporary name, adds {extra} bytes to the shot name, "
            f"and a file name may have at most {MAX_FILE_NAME_BYTES}; use a shot name of at most "
            f"{MAX_FILE_NAME_BYTES - extra} bytes")


@dataclass
class ShotJob:
    """One shot to render. Frame numbers are inclusive; timecode outs are exclusive (as in EDLs).

    ``head_in`` is the first frame written (default 1001); ``cut_in = head_in + head_handles``;
    ``cut_out = cut_in + duration - 1``; ``tail_out = cut_out + tail_handles``. The head and
    tail handles equal ``handles`` unless a dissolve needs more media on that side.
    """

    name: str
    index: int
    track: str
    clip_name: str
    reel: str
    record_in: str
    record_out: str
    source_in: str
    source_out: str
    fps: float
    rate: str
    drop_frame: bool
    duration: int
    handles: int
    head_handles: int
    tail_handles: int
    head_in: int
    cut_in: int
    cut_out: int
    tail_out: int
    speed: float = 1.0
    prompt: str = ""
    negative_prompt: str = ""
    style: str | None = None
    seed: int = 0
    reference: str | None = None
    #: The shot this one carries on from (``CONTINUES:``): it starts from that shot's frames.
    continues: str | None = None
    notes: list[str] = field(default_factory=list)
    source: dict[str, str] = field(default_factory=dict)
    where: str = ""

    @property
    def frame_count(self) -> int:
        return self.tail_out - self.head_in + 1

    @property
    def frames(self) -> range:
        return range(self.head_in, self.tail_out + 1)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values; the lists and dicts are copies (``asdict`` without its
        deep copy of every string, which costs seconds on edits of thousands of shots)."""
        data = dict(vars(self))  # the fields, in order
        data["notes"] = list(self.notes)
        data["source"] = dict(self.source)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ShotJob:
        """The job ``to_dict`` wrote. Unknown keys are ignored; values are not checked.

        Raises:
            TypeError: a field without a default is missing (callers check for these first).
        """
        return cls(**{k: v for k, v in data.items() if k in _FIELD_NAMES})


_FIELD_NAMES = tuple(f.name for f in fields(ShotJob))
