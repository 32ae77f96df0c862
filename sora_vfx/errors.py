"""Errors that reach the user.

Every error raised for bad input is a ``SoraVfxError``; the command line turns it into one
readable message and exit code 2. Messages name the file, line, event, shot or value at fault
and, where there is a short list of valid choices, list them.
"""

from __future__ import annotations


class Terminated(KeyboardInterrupt):
    """SIGTERM (what farm schedulers send on cancel), raised in the main thread by the command
    line's handler; a ``KeyboardInterrupt``, so everything that cleans up after Ctrl-C cleans
    up after it too."""


class SoraVfxError(Exception):
    """Root of every error the user can cause and fix."""

    exit_code = 2


class ConfigError(SoraVfxError):
    """A bad option value, project config or environment setting."""


class EditError(SoraVfxError):
    """An edit file (EDL, OTIO, FCP XML) that cannot be read or has bad events."""


class ShotSheetError(SoraVfxError):
    """A shot sheet that cannot be read or names shots that do not exist."""


class ModelError(SoraVfxError):
    """A model folder that is missing, not a diffusers pipeline, or unsafe to load."""


class StyleError(SoraVfxError):
    """An unknown style or a bad style definition."""


class ImagingError(SoraVfxError):
    """An image that cannot be read or written, or a bad colour space."""


class RenderError(SoraVfxError):
    """A render that cannot start: bad size, unwritable output folder."""


class PlateError(SoraVfxError):
    """A plate that cannot be extended as asked."""


class FarmError(SoraVfxError):
    """A farm export or cluster that cannot be used."""


class PromptError(SoraVfxError, ValueError):
    """A prompt outside the shapes grammar, or a scene the shapes world cannot draw."""


class EvalError(SoraVfxError, ValueError):
    """Frames or a prompt that cannot be measured, or a render folder with nothing to measure."""


class ReviewError(SoraVfxError):
    """A review that cannot be built or a file that cannot be verified: no manifest, bad key."""

