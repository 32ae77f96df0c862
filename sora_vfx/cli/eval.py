"""``sora-vfx eval OUT``: measure a render's pictures against its prompts (shapes grammar)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .main import debug_option, main


@main.command(name="eval")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--shots", default=None, metavar="A,B", help="Measure only these shots.")
@click.option("--json", "as_json", is_flag=True, help="Print every shot's measures and the totals as JSON.")
@debug_option
def eval_command(out: Path, shots: str | None, as_json: bool) -> None:
    """Measure the shots rendered into OUT: background and object colour, motion, pan, ghosting,
    jumps and flicker, for prompts written in the shapes grammar."""
    from ..review.figures import evaluate_render

    names = [name.strip() for name in shots.split(",") if name.strip()] if shots else None
    result = evaluate_render(out, shots=names)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    click.echo(format_table(result))


def format_table(result) -> str:
    """One row per shot (a check mark per property measured right) and the totals."""
    from ..eval import summarize

    def mark(ok: bool) -> str:
        return "ok" if ok else "NO"

    rows = [("SHOT", "BACKGROUND", "COLOUR", "MOTION", "PAN", "GHOST FRAMES", "JUMP", "FLICKER")]
    for name, shot in result.shots.items():
        rows.append((name, mark(shot.background_ok), mark(shot.colour_ok), mark(shot.motion_ok), mark(shot.pan_ok),
                     str(len(shot.ghost_frames)), f"{shot.jump_ratio:.2f}", f"{shot.temporal_flicker:.4f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    for name, reason in result.skipped.items():
        lines.append(f"{name}: not measured: {reason}")
    if result.shots:
        summary = summarize(list(result.shots.values()))
        lines.append(f"{summary.shots} shots: background {summary.background_correct:.0%}, object colour "
                     f"{summary.object_colour_correct:.0%}, motion {summary.motion_correct:.0%}, "
                     f"ghosting {summary.ghosting:.0%} of shots")
    return "\n".join(lines)
