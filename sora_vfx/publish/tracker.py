"""The small interface every production tracker implements for ``publish``."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Protocol

from ..errors import ConfigError, SoraVfxError

if TYPE_CHECKING:
    from .publish import ShotRelease


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
