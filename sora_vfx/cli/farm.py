"""``sora-vfx farm export EDIT -o BUNDLE``: an Open Job Description job bundle for a farm."""

from __future__ import annotations

import json
import logging
import shlex
from pathlib import Path

import click

from ..editorial import read_edit
from .main import main
from .options import edit_options, pop_edit_options
from .render import settings_from_options, settings_options

log = logging.getLogger("sora_vfx")

#: Version of the ``farm export --json`` document (docs/schemas/farm-export.schema.json).
JSON_VERSION = 1


@main.group()
def farm() -> None:
    """Render on a farm: Open Job Description job bundles (Deadline Cloud, openjd run).

    To render through a Dask cluster instead, use `sora-vfx render --scheduler tcp://HOST:PORT`.
    """


@farm.command("export")
@edit_options
@settings_options
@click.option("-o", "--out", "bundle", type=click.Path(path_type=Path), required=True,
              help="Bundle folder: template.yaml, parameter_values.yaml, asset_references.yaml.")
@click.option("--render-out", type=click.Path(path_type=Path), default=None,
              help="Folder the farm renders into (default: 'renders' beside the bundle folder).")
@click.option("--gpus", type=click.IntRange(min=0), default=0, show_default=True,
              help="GPUs each render task's host must have (a host requirement; 0 asks for none).")
@click.option("--sora-vfx", "command", default="sora-vfx", show_default=True,
              help="The sora-vfx command on the farm's workers (the SoraVfx job parameter).")
@click.option("--force", is_flag=True, help="Write the bundle into a folder that is not empty.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
def export(bundle: Path, render_out: Path | None, gpus: int, command: str, force: bool, as_json: bool,
           **options) -> None:
    """Write an Open Job Description job bundle that renders EDIT on a farm, one task per shot.

    Submit it with `deadline bundle submit BUNDLE`, or run it here with `openjd run`.
    """
    from ..farm import export_bundle, plan_without_weights
    from ..farm.bundle import absolute, check_bundle_folder, render_step_name

    bundle = absolute(bundle)
    check_bundle_folder(folder=bundle, force=force)  # before anything is read or created
    edit_path, reading = pop_edit_options(options)
    edit_path = absolute(edit_path)
    config = options.get("config_path")
    settings = settings_from_options(options, edit_path)
    edit = read_edit(edit_path, reading)
    out_dir = absolute(render_out or bundle.parent / "renders")
    plan = plan_without_weights(edit, out_dir, settings)
    result = export_bundle(plan=plan, reading=reading, folder=bundle, config=config, command=command, gpus=gpus,
                           force=force)
    for warning in result.warnings:
        log.warning(warning)
    run = result.openjd_run_args()
    if as_json:
        click.echo(json.dumps({
            "version": JSON_VERSION,
            "bundle": str(result.folder),
            "files": [str(path) for path in result.files],
            "shots": list(result.render.shots),
            "output": str(result.render.out_dir),
            "parameter_values": result.parameter_values,
            "submit": ["deadline", "bundle", "submit", str(result.folder)],
            "openjd_run": run,
            "warnings": result.warnings,
        }, indent=2))
        return
    shots = result.render.shots
    click.echo(f"bundle:   {result.folder} ({', '.join(path.name for path in result.files)})")
    steps = result.render.render_steps()
    if len(steps) == 1:
        click.echo(f"job:      {len(shots)} render task{'s' if len(shots) != 1 else ''} "
                   f"({', '.join(shots)}), then Conform")
    else:  # shots that continue others render in later steps
        listed = "; then ".join(f"{render_step_name(depth)}: {', '.join(step)}" for depth, step in enumerate(steps))
        click.echo(f"job:      {len(shots)} render tasks in {len(steps)} steps ({listed}), then Conform")
    click.echo(f"output:   {result.render.out_dir}")
    click.echo(f"submit:   deadline bundle submit {shlex.quote(str(result.folder))}")
    click.echo(f"run here: {shlex.join(run)}")
