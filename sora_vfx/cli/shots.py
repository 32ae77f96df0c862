"""``sora-vfx shots EDIT``: list the shots an edit becomes."""

from __future__ import annotations

import json

import click

from ..editorial import read_edit
from ..editorial.shotjob import ShotJob
from ..text import shortened
from .main import main
from .options import edit_options, pop_edit_options


@main.command()
@edit_options
@click.option("--json", "as_json", is_flag=True, help="Print the shot jobs as one JSON document.")
def shots(as_json: bool, **kwargs) -> None:
    """List the shots of EDIT with frame ranges, timecodes and prompts."""
    jobs = read_edit(*pop_edit_options(kwargs)).jobs
    if as_json:
        click.echo(jobs_json(jobs))
    else:
        click.echo(format_table(jobs))


def jobs_json(jobs: list[ShotJob]) -> str:
    """One JSON array with one shot per line: greppable and diffable, and written by the
    json module's C encoder (``indent`` falls back to its slow pure-Python one)."""
    encode = json.JSONEncoder().encode
    return "[\n" + ",\n".join("  " + encode(job.to_dict()) for job in jobs) + "\n]"


def format_table(jobs: list[ShotJob], prompt_width: int = 48) -> str:
    """The shots as an aligned text table for a terminal, ending with a line that totals the
    cut's frames and running time (at the first shot's rate).

    Prompts longer than ``prompt_width`` are cut short with "..."; SPEED is empty at normal
    speed and "freeze" for a freeze frame.
    """
    header = ("#", "SHOT", "TRACK", "FRAMES", "CUT", "DUR", "RECORD IN", "SPEED", "PROMPT")
    rows = [header]
    for job in jobs:
        prompt = shortened(job.prompt, prompt_width)
        speed = "freeze" if job.speed == 0 else ("" if job.speed == 1 else f"{job.speed:.3g}x")
        rows.append((
            str(job.index), job.name, job.track, f"{job.head_in}-{job.tail_out}",
            f"{job.cut_in}-{job.cut_out}", str(job.duration), job.record_in, speed, prompt,
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    total = sum(job.duration for job in jobs)
    fps = jobs[0].fps if jobs else 24
    lines.append(f"{len(jobs)} shots, {total} frames in the cut ({total / fps:.1f} s at {fps:.6g} fps)")
    return "\n".join(lines)
