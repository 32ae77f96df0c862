"""The small interface every production tracker implements for ``publish``, and what it is given
(``ShotRelease``: one rendered shot)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..errors import ConfigError, SoraVfxError
from ..text import one_line

#: The first line of a version's text (:meth:`ShotRelease.version_text`).
VERSION_FIRST_LINE = "sora_vfx render"


@dataclass(frozen=True)
class ShotRelease:
    """One rendered shot as a tracker gets it."""

    name: str
    sequence: str
    frame_in: int  # head_in: the first rendered frame, handles included
    frame_out: int  # tail_out
    cut_in: int
    cut_out: int
    handles: int
    record_in: str
    record_out: str
    description: str  # the prompt
    movie: Path  # the review's preview movie
    frames: str  # the EXR sequence, e.g. /renders/SH010/SH010.####.exr
    seed: int
    model: str
    job_hash: str

    def data(self) -> dict[str, Any]:
        """What a version records besides its movie."""
        return {"frames": self.frames, "seed": self.seed, "model": self.model, "job_hash": self.job_hash,
                "frame_in": self.frame_in, "frame_out": self.frame_out}

    def version_text(self) -> str:
        """The version's data as trackers keep it in a comment or description: a first line
        that marks it as a sora_vfx render, then one ``key: value`` per line, then the prompt.

        Each value is one line (:func:`sora_vfx.text.one_line`): a prompt, or a path, with line
        breaks cannot add a ``job_hash:`` line of its own, by which trackers recognise the
        version of a render (a later render would be taken as published already)."""
        lines = [VERSION_FIRST_LINE, *(f"{key}: {one_line(value)}" for key, value in self.data().items()),
                 f"prompt: {one_line(self.description)}"]
        return "\n".join(lines)


class TrackerError(SoraVfxError):
    """The tracker is down, refused the credentials or refused a request (exit 2)."""


def credentials(tracker: str, names: tuple[str, ...]) -> tuple[str, ...]:
    """The values of the environment variables ``names``, in order, for publishing to ``tracker``.

    Raises:
        ConfigError: one or more are missing or empty (all of them named).
    """
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        raise ConfigError(f"publishing to {tracker} needs {', '.join(missing)} in the environment "
                          "(credentials are never taken from the command line)")
    return tuple(os.environ[name] for name in names)


class Tracker(Protocol):
    """What ``publish_render`` needs of a tracker. Every call is idempotent: it finds what is
    there before it creates anything, so a publish that failed part-way completes when run again."""

    #: The tracker and where it is, for messages: "Kitsu at http://...".
    where: str

    def ensure_shot(self, release: ShotRelease) -> str:
        """Find or create the shot (and its project, sequence and task); update its frame
        range and description; return its id."""

    def has_version(self, shot_id: str, job_hash: str) -> bool:
        """Whether the shot has a complete version (its movie attached) of this render."""

    def add_version(self, shot_id: str, release: ShotRelease) -> str:
        """Add the version (movie, sequence path, seed, model, job hash); complete a version of
        the same job hash whose movie is missing; return the version's id."""
