"""``sora-vfx publish OUT``: a render's shots and versions into a production tracker."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .main import debug_option, main


@main.command()
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--tracker", type=click.Choice(["kitsu", "shotgrid"]), default="kitsu", show_default=True,
              help="The production tracker; credentials from the environment: kitsu: SORA_VFX_KITSU_URL, "
                   "SORA_VFX_KITSU_EMAIL, SORA_VFX_KITSU_PASSWORD; shotgrid: SORA_VFX_SHOTGRID_URL, "
                   "SORA_VFX_SHOTGRID_SCRIPT, SORA_VFX_SHOTGRID_KEY (a script's key).")
@click.option("--project", required=True, help="The tracker's project (created when missing).")
@click.option("--sequence", default=None, help="The shots' sequence (default: the edit file's name).")
@click.option("--task-type", default="Compositing", show_default=True,
              help="Kitsu: the task each shot's versions are published on (ShotGrid links them to the shot).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
@debug_option
def publish(out: Path, tracker: str, project: str, sequence: str | None, task_type: str, as_json: bool) -> None:
    """Register the shots rendered into OUT (name, sequence, frames with handles, cut in and out,
    prompt) and add one version per shot (its review movie, EXR sequence, seed, model, job hash).
    A version already published for the same job hash is not added again; a publish that failed
    part-way completes when run again."""
    from ..publish import publish_releases, releases_of

    # Read first: nothing to publish fails before the tracker is asked.
    releases = releases_of(out, sequence=sequence)
    if tracker == "shotgrid":
        from ..publish import shotgrid

        target = shotgrid.from_environment(project)
    else:
        from ..publish import kitsu

        target = kitsu.from_environment(project, task_type=task_type)
    report = publish_releases(releases, target)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
        return
    for name, result in report.shots.items():
        click.echo(f"{name:<16} {result}")
    click.echo(f"published to {report.where}, project {project}")
