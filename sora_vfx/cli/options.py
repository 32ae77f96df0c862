"""Options shared by every command that reads an edit (shots, render, farm export)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .. import defaults
from ..editorial import EditOptions
from .main import debug_option


def edit_options(command: Callable) -> Callable:
    """Add the edit-reading options; ``pop_edit_options`` takes them out as ``EditOptions``."""
    options = [
        click.argument("edit", type=click.Path(path_type=Path)),
        click.option("--fps", default=None, metavar="RATE",
                     help="Frame rate of an EDL: 24 (default), 23.976, 25, 29.97df, 24000/1001, ..."),
        click.option("--handles", type=click.IntRange(min=0), default=defaults.HANDLES, show_default=True,
                     help="Frames rendered before and after each cut."),
        click.option("--start-frame", type=click.IntRange(min=0), default=defaults.START_FRAME,
                     show_default=True, help="Frame number of each shot's first frame."),
        click.option("--shot-sheet", type=click.Path(path_type=Path), default=None,
                     help="TOML shot sheet overriding names, prompts, styles, seeds."),
        click.option("--track", "tracks", multiple=True, metavar="TRACK",
                     help="Video track to read (V1, 2, or a track name); repeat for more. Default: all."),
        click.option("--shot-pattern", default=None, metavar="REGEX",
                     help="A LOC marker is a shot name only when it matches this regex."),
        click.option("--seed", "project_seed", type=click.IntRange(min=0), default=0, show_default=True,
                     help="Project seed; each shot's seed derives from it and the shot name."),
        click.option("--max-shot-frames", type=click.IntRange(min=1), default=defaults.MAX_SHOT_FRAMES,
                     show_default=True, help="Refuse an edit with a shot longer than this (handles included)."),
        debug_option,
    ]
    for option in reversed(options):
        command = option(command)
    return command


def pop_edit_options(kwargs: dict[str, Any]) -> tuple[Path, EditOptions]:
    """Take the edit file and its reading options out of a command's keyword arguments."""
    tracks = tuple(part.strip() for spec in kwargs.pop("tracks") or () for part in spec.split(",") if part.strip())
    options = EditOptions(
        fps=kwargs.pop("fps"),
        handles=kwargs.pop("handles"),
        start_frame=kwargs.pop("start_frame"),
        shot_sheet=kwargs.pop("shot_sheet"),
        tracks=tracks,
        shot_pattern=kwargs.pop("shot_pattern"),
        project_seed=kwargs.pop("project_seed"),
        max_shot_frames=kwargs.pop("max_shot_frames"),
    )
    return kwargs.pop("edit"), options
