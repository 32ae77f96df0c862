"""``sora-vfx render EDIT -o OUT``: every shot as a scene-linear EXR sequence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..config import load_config
from ..editorial import read_edit
from ..errors import ConfigError
from ..models.acceleration import Acceleration
from ..settings import RENDER_SETTINGS, Setting
from .main import main
from .options import edit_options, pop_edit_options
from .review import prepare_review, review_after_render

if TYPE_CHECKING:
    from ..render import RenderSettings


def render_options(command):
    """Options of ``render``: the output folder, the render settings, --force."""
    command = click.option("--force", is_flag=True, help="Re-render frames that are already complete.")(command)
    command = settings_options(command)
    return click.option("-o", "--out", type=click.Path(path_type=Path), required=True,
                        help="Output folder: OUT/<shot>/<shot>.####.exr, manifest.json, renders.otio.")(command)


def settings_options(command):
    """The render settings (``settings.RENDER_SETTINGS``) as options; ``farm export`` has them too."""
    options = [_option(setting) for setting in RENDER_SETTINGS]
    options.append(click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
                                help="Project config (default: sora_vfx.toml beside the edit or here)."))
    for option in reversed(options):
        command = option(command)
    return command


def _option(setting: Setting):
    """The click option of one setting. Every option defaults to None ("not given"), so that
    the config's ``[render]`` value or the setting's default fills it in ``settings_from_options``."""
    name = setting.name
    if setting.kind == "boolean":  # --compile gives True; --no-audio gives False (audio is on by default)
        return click.option(setting.flag, name, is_flag=True, flag_value=not setting.default, default=None,
                            help=setting.help)
    kind: Any = None
    if setting.kind == "choice":
        kind = click.Choice(setting.choices)
    elif setting.kind == "integer":
        kind = click.IntRange(min=setting.low, max=setting.high)
    elif setting.kind == "number":
        kind = click.FloatRange(min=setting.low, max=setting.high)
    elif setting.kind == "path":
        kind = click.Path(path_type=Path)
    return click.option(setting.flag, name, type=kind, default=None, metavar=setting.metavar, help=setting.help)


def settings_from_options(options: dict, edit: Path) -> RenderSettings:
    """Render settings from the options ``settings_options`` added (taken out of ``options``),
    with the project config's ``[render]`` table filling what was not given, and each
    setting's default what neither gave."""
    from ..render import RenderSettings

    config = load_config(options.pop("config_path"), edit=edit)
    values: dict[str, Any] = {}
    for setting in RENDER_SETTINGS:
        given = options.pop(setting.name)
        if given is not None and given != "":  # farm templates pass --size= when the user chose none
            value = setting.parse(given, where=setting.flag)
        else:
            value = setting.parse(config.render.get(setting.name), where=f"[render] {setting.name}")
        values[setting.name] = setting.default if value is None else value
    if values["shots"]:
        values["shots"] = [name.strip() for name in values["shots"].split(",") if name.strip()] or None
    if values["steps"] == 0:
        values["steps"] = None
    speed = Acceleration.parse(**{setting.name: values.pop(setting.name) for setting in RENDER_SETTINGS
                                  if setting.speed})
    return RenderSettings(**values, speed=speed, force=options.pop("force", False), styles=config.styles)


@main.command()
@edit_options
@render_options
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
              help="Render on this Dask scheduler's workers, one task per shot.")
@click.option("--workers", type=click.IntRange(min=1), default=None, metavar="N",
              help="Render on a local Dask cluster of N worker processes (e.g. one per GPU).")
@click.option("--conform-only", is_flag=True,
              help="Render nothing: write manifest.json and renders.otio from the frames on disk.")
@click.option("--no-review", is_flag=True, help="Skip OUT/review/ (dailies page, preview movies) afterwards.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
def render(as_json: bool, scheduler: str | None, workers: int | None, conform_only: bool, no_review: bool,
           **options) -> None:
    """Render every shot of EDIT as a scene-linear OpenEXR sequence."""
    from ..render import render_edit

    if scheduler and workers:
        raise ConfigError("--scheduler and --workers: give one (a running cluster, or a local one to start)")
    if conform_only and (scheduler or workers):
        raise ConfigError("--conform-only renders nothing: it takes no --scheduler or --workers")
    edit_path, reading = pop_edit_options(options)
    out = options.pop("out")
    review = None if no_review else prepare_review(config_path=options.get("config_path"), edit=edit_path)
    settings = settings_from_options(options, edit_path)
    edit = read_edit(edit_path, reading)
    document = None
    if scheduler or workers:
        from ..farm import render_on_cluster

        cluster = render_on_cluster(edit, out, settings, scheduler=scheduler, workers=workers)
        report, document = cluster.report, cluster.to_dict()
    elif conform_only:
        from ..farm import conform_from_disk

        report = conform_from_disk(edit, out, settings)
    else:
        report = render_edit(edit, out, settings)
    if as_json:
        click.echo(json.dumps(document or report.to_dict(), indent=2))
    else:
        for result in report.results:
            click.echo(f"{result.name:<16} {result.status:<9} {result.frames_written:>4} written "
                       f"{result.frames_reused:>4} kept  {result.seconds:6.1f} s"
                       + (f"  {result.error}" if result.error else ""))
        click.echo(f"manifest: {report.manifest}\nconform:  {', '.join(map(str, report.conforms))}")
    if review is not None:
        review_after_render(review, out)
    if report.failed:
        click.get_current_context().exit(1)
