"""Options shared by every command that reads an edit (shots, render, farm export)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..editorial import DEFAULT_HANDLES, DEFAULT_START_FRAME, EditReading, read_edit_timeline
from ..editorial.shotjob import ShotJob
from .main import debug_option


def edit_options(command: Callable) -> Callable:
    """Add the edit-reading options; the command receives them as ``edit_args`` (a dict)."""
    options = [
        click.argument("edit", type=click.Path(path_type=Path)),
        click.option("--fps", default=None, metavar="RATE",
                     help="Frame rate of an EDL: 24 (default), 23.976, 25, 29.97df, 24000/1001, ..."),
        click.option("--handles", type=click.IntRange(min=0), default=DEFAULT_HANDLES, show_default=True,
                     help="Frames rendered before and after each cut."),
        click.option("--start-frame", type=click.IntRange(min=0), default=DEFAULT_START_FRAME,
                     show_default=True, help="Frame number of each shot's first frame."),
        click.option("--shot-sheet", type=click.Path(path_type=Path), default=None,
                     help="TOML shot sheet overriding names, prompts, styles, seeds."),
        click.option("--track", "tracks", multiple=True, metavar="TRACK",
                     help="Video track to read (V1, 2, or a track name); repeat for more. Default: all."),
        click.option("--shot-pattern", default=None, metavar="REGEX",
                     help="A LOC marker is a shot name only when it matches this regex."),
        click.option("--seed", "project_seed", type=click.IntRange(min=0), default=0, show_default=True,
                     help="Project seed; each shot's seed derives from it and the shot name."),
        debug_option,
    ]
    for option in reversed(options):
        command = option(command)
    return command


def pop_edit_args(kwargs: dict[str, Any]) -> dict[str, Any]:
    names = ("edit", "fps", "handles", "start_frame", "shot_sheet", "tracks", "shot_pattern", "project_seed")
    return {name: kwargs.pop(name) for name in names}


def read_edit_from_args(args: dict[str, Any]) -> list[ShotJob]:
    """Read the edit with the options ``edit_options`` collected."""
    return read_reading_from_args(args).jobs


def read_reading_from_args(args: dict[str, Any]) -> EditReading:
    """Read the edit (timeline, shots, clips) with the options ``edit_options`` collected."""
    tracks: list[str] = []
    for spec in args["tracks"] or ():
        tracks.extend(part for part in spec.split(",") if part.strip())
    return read_edit_timeline(
        args["edit"],
        fps=args["fps"],
        handles=args["handles"],
        start_frame=args["start_frame"],
        shot_sheet=args["shot_sheet"],
        tracks=tracks or None,
        shot_pattern=args["shot_pattern"],
        project_seed=args["project_seed"],
    )
