"""What a review made: per shot its thumbnails, movie and missing frames; the page; the signer.

The review's files (``OUT/review/``: ``index.html``, ``edit.mp4``, ``thumbs/``, ``movies/``)
are named by ``sora_vfx.layout``. ``review --json`` prints
``ReviewReport.to_dict()``; its shape is published in ``docs/schemas/review.schema.json``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..render.manifest import ManifestEntry, ShotStatus

#: Version of the ``review --json`` document (docs/schemas/review.schema.json).
JSON_VERSION = 1

@dataclass
class Thumbnail:
    frame: int
    role: str  # "first", "middle" or "last" frame of the cut
    file: str | None = None  # relative to the review folder; None when the frame is missing
    problem: str | None = None


@dataclass
class ShotReview:
    """One shot on the page: its manifest entry and the review files made for it."""

    name: str
    status: ShotStatus  # the render's: rendered, skipped (already rendered) or failed
    entry: ManifestEntry = field(repr=False)
    thumbnails: list[Thumbnail] = field(default_factory=list)
    movie: str | None = None  # relative to the review folder
    prores: str | None = None  # the ProRes 422 HQ daily, relative to the review folder (--prores)
    missing: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The shot in ``review --json``."""
        return {
            "name": self.name, "status": self.status, "error": self.entry.error,
            "movie": self.movie, "prores": self.prores, "thumbnails": [asdict(t) for t in self.thumbnails],
            "missing_frames": self.missing, "problems": self.problems,
        }


@dataclass
class ReviewReport:
    out_dir: Path
    folder: Path
    page: Path
    edit_movie: Path | None
    signer: str | None  # "common name (issuer)" of the signing certificate; None: unsigned
    display: str  # the OCIO view transform used
    ai_mark: bool
    shots: list[ShotReview]

    @property
    def signed(self) -> bool:
        return self.signer is not None

    @property
    def missing(self) -> dict[str, list[int]]:
        """Shot name -> frames that are missing or unreadable, for shots that have any."""
        return {shot.name: shot.missing for shot in self.shots if shot.missing}

    def to_dict(self) -> dict[str, Any]:
        """The ``review --json`` document."""
        return {
            "version": JSON_VERSION,
            "out": str(self.out_dir), "review": str(self.folder), "page": str(self.page),
            "edit_movie": str(self.edit_movie) if self.edit_movie else None,
            "signed": self.signed, "signer": self.signer, "display": self.display, "ai_mark": self.ai_mark,
            "shots": [shot.to_dict() for shot in self.shots],
        }


def frame_ranges(frames: list[int]) -> str:
    """[1001, 1002, 1003, 1007] -> "1001-1003, 1007"."""
    parts: list[str] = []
    start = None
    for index, frame in enumerate(frames):
        if start is None:
            start = frame
        if index + 1 == len(frames) or frames[index + 1] != frame + 1:
            parts.append(f"{start}-{frame}" if frame != start else f"{frame}")
            start = None
    return ", ".join(parts)
