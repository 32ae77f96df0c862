"""The movie of the whole edit: every shot's cut (no handles) in edit order, at the edit's rate.

Gaps between shots in record time are black, so the movie runs with the edit; a failed shot
is a slate for its cut length. Burn-ins add the record timecode. Overlapping shots (dissolves,
upper tracks) play one after the other: this is a dailies movie, not a conform.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..editorial.rates import FrameRate, to_timecode
from ..render.manifest import ManifestEntry
from .burnins import BurnInLayout, bottom_bar, compose, slate, top_bar
from .display import DisplayTransform, preview_size, resize
from .frames import (
    MOVIE_WIDTH,
    SLATE_ALLOWANCE,
    generation_of,
    movie_tags,
    picture_size,
    rate_of,
    record_frame,
    view_actions,
)
from .movies import MovieWriter
from .provenance import SigningIdentity, manifest_definition, sign_file

#: A gap longer than this (in seconds) is shortened, so a stray record timecode cannot make an
#: hour of black.
MAX_GAP_SECONDS = 10


class EditMovie:
    """Collects every shot's cut frames, in the manifest's order, into one movie."""

    def __init__(self, path: Path, entries: list[ManifestEntry], *, title: str, ai_mark: bool,
                 display: DisplayTransform, identity: SigningIdentity | None) -> None:
        self.path, self.entries, self.title = Path(path), entries, title
        self.ai_mark, self.display, self.identity = ai_mark, display, identity
        sizes = [size for size in map(picture_size, entries) if size is not None]
        self.rate: FrameRate | None = rate_of(entries[0]) if entries else None
        self.layout = BurnInLayout.for_picture(*preview_size(*sizes[0], min_width=MOVIE_WIDTH[0],
                                                             max_width=MOVIE_WIDTH[1])) if sizes else None
        self._writer: MovieWriter | None = None
        self._record: int | None = None  # record frame of the next frame written
        self._top: np.ndarray | None = None
        self._cut = (0, -1)
        self._shown: list[ManifestEntry] = []
        self.closed = False

    def _write(self, picture: np.ndarray, top: np.ndarray, frame: int | None, timecode: str | None) -> None:
        assert self.layout is not None and self.rate is not None
        if self._writer is None:
            self._writer = MovieWriter(self.path, size=self.layout.frame_size, rate=self.rate.rate,
                                       metadata=movie_tags(self.title, self._generation()))
        record = to_timecode(self._record, self.rate) if self._record is not None else None
        self._writer.write(compose(top, picture, bottom_bar(self.layout, frame, timecode, record)))
        if self._record is not None:
            self._record += 1

    def _advance_to(self, entry: ManifestEntry) -> None:
        """Write black for the gap in record time before ``entry``; set the record position."""
        if self.layout is None or self.rate is None:
            return
        record_in = record_frame(entry, self.rate)
        if record_in is None:
            return
        if self._record is not None and record_in > self._record:
            gap = min(record_in - self._record, int(MAX_GAP_SECONDS * self.rate.rate))
            black = np.zeros((self.layout.height, self.layout.width, 3), np.uint8)
            top = top_bar(self.layout, "", ai_mark=False, note="GAP")
            for _ in range(gap):
                self._write(black, top, None, None)
        self._record = record_in

    def start_shot(self, entry: ManifestEntry) -> None:
        """The next shot's frames follow (after black for any gap in record time)."""
        self._advance_to(entry)
        if self.layout is not None:
            self._top = top_bar(self.layout, entry.name, ai_mark=self.ai_mark)
            self._cut = (entry.frames.cut_in, entry.frames.cut_out)
            self._shown.append(entry)

    def add_frame(self, entry: ManifestEntry, frame: int, picture: np.ndarray | None, timecode: str | None) -> None:
        """One frame of the current shot (ignored outside its cut)."""
        if self.layout is None or self._top is None or not self._cut[0] <= frame <= self._cut[1]:
            return
        shown = resize(picture, (self.layout.width, self.layout.height)) if picture is not None else \
            slate(self.layout, "MISSING FRAME", f"{entry.name} {frame:04d}")
        self._write(shown, self._top, frame, timecode)

    def add_failed(self, entry: ManifestEntry) -> None:
        """A slate for the cut length of a shot that failed to render."""
        self._advance_to(entry)
        if self.layout is None:
            return
        # At most SLATE_ALLOWANCE frames: a damaged manifest can declare any cut.
        duration = min(entry.frames.cut_out - entry.frames.cut_in + 1, SLATE_ALLOWANCE)
        top = top_bar(self.layout, entry.name, ai_mark=self.ai_mark)
        picture = slate(self.layout, f"{entry.name} FAILED TO RENDER")
        for _ in range(max(0, duration)):
            self._write(picture, top, None, None)

    def _generation(self) -> dict[str, Any]:
        shots = [generation_of(entry) for entry in self.entries if entry.status != "failed"]
        models = {shot.get("model") for shot in shots}
        generation: dict[str, Any] = {"edit": self.title, "shots": shots}
        if len(models) == 1 and None not in models:
            generation["model"] = models.pop()
        return generation

    def close(self) -> Path | None:
        """Finish the movie and sign it; None when there was nothing to show."""
        if self._writer is None or self.closed:
            return None
        self._writer.close()
        self.closed = True
        if self.identity is not None:
            colorspace = self.entries[0].colorspace
            manifest = manifest_definition(title=self.path.name, generation=self._generation(),
                                           extra_actions=view_actions(self.display, colorspace, burnins=True))
            sign_file(self.identity, self.path, manifest)
        return self.path

    def abort(self) -> None:
        """Drop an unfinished movie (no-op once closed)."""
        if self._writer is not None and not self.closed:
            self._writer.abort()
            self.closed = True
