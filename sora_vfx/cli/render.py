"""``sora-vfx render EDIT -o OUT``: every shot as a scene-linear EXR sequence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .. import defaults
from ..config import load_config
from ..defaults import OUTPUT_TRANSFORMS, WINDOW_METHODS
from ..editorial import read_edit
from ..errors import ConfigError
from ..imaging import COMPRESSIONS
from ..models.acceleration import Acceleration
from ..models.memory import check_memory_choice
from .main import main
from .options import edit_options, parse_size, pop_edit_options
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
    """Render settings that ``farm export`` passes on to each task."""
    options = [
        click.option("--model", default=None, help="'tiny' (built in, default) or a local diffusers folder."),
        click.option("--style", default=None, help="Style for shots whose edit names none."),
        click.option("--shots", default=None, metavar="A,B", help="Render only these shots."),
        click.option("--size", default=None, metavar="WxH", help="Frame size (default: the model's)."),
        click.option("--steps", type=click.IntRange(min=0), default=None,
                     help="Denoising steps (0: each shot's style or the model decides)."),
        click.option("--guidance", type=float, default=None, help="Guidance scale (default 5.0)."),
        click.option("--colorspace", default=None, help="Output colour space (default ACEScg)."),
        click.option("--compression", default=None, help=f"EXR compression: {', '.join(COMPRESSIONS)}."),
        click.option("--window", "max_window", type=click.IntRange(min=1), default=None,
                     help="Frames per model call for long shots (default: the model's limit)."),
        click.option("--windows", "windows", type=click.Choice(WINDOW_METHODS), default=None,
                     help="How long shots join their windows: context (denoised as one, default), continue "
                          "(each window from the end of the one before), crossfade (independent windows) or "
                          "forcing (the model carries the shot itself; `sora-vfx models` lists who can). A model that "
                          "cannot uses its own, else crossfade."),
        click.option("--output-transform", "output_transform", type=click.Choice(OUTPUT_TRANSFORMS), default=None,
                     help="How the model's picture becomes scene-linear: inverse-view (default: the inverse of "
                          "--display/--view, so display white is a highlight) or srgb (sRGB texture, white is 1.0)."),
        click.option("--display", default=None, help="OCIO display of inverse-view (default: the config's)."),
        click.option("--view", default=None, help="OCIO view of inverse-view (default: the display's)."),
        click.option("--device", default=None, help="cuda, cuda:1, mps or cpu (default: best available)."),
        click.option("--memory", default=None, metavar="PLAN",
                     help="Where the weights live: auto (default: the fastest plan that fits the device), fast "
                          "(all on the device), balanced (each model moves to the device when it runs) or low "
                          "(block by block). A shot that runs out of memory retries once on the next plan down."),
        click.option("--cache", default=None, metavar="NAME[:VALUE]",
                     help="Step cache (changes pixels a little): first-block[:THRESHOLD] or taylorseer[:INTERVAL]."),
        click.option("--attention", default=None, metavar="BACKEND",
                     help="Attention backend (diffusers'): native, flex, flash, sage, ... where installed."),
        click.option("--compile", "compile_", is_flag=True, default=None,
                     help="torch.compile the transformer's blocks (slow first shot, faster after)."),
        click.option("--conform", default=None, metavar="FORMATS",
                     help="Conform timelines to write: otio, xml (FCP 7 XML: Premiere, Resolve), edl (CMX 3600), "
                          "aaf (Avid), comma-separated; OTIO always. Default: OTIO plus the edit's own format."),
        click.option("--quantize", default=None, type=click.Choice(("none", "int8", "fp8")),
                     help="Quantise the transformer's weights with torchao: int8, or fp8 on CUDA."),
        click.option("--reference-render", "reference_render", type=click.Path(path_type=Path), default=None,
                     metavar="OUT",
                     help="A render of the same edit whose frames a video-to-video model remakes (an HDR model: "
                          "an SDR render, remade as scene-linear HDR light)."),
        click.option("--no-audio", "no_audio", is_flag=True, default=False,
                     help="Do not write the sound of models that make it (OUT/<shot>/<shot>.wav)."),
        click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
                     help="Project config (default: sora_vfx.toml beside the edit or here)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def settings_from_options(options: dict, edit: Path) -> RenderSettings:
    """Render settings from the options ``settings_options`` added (taken out of ``options``),
    with the project config's ``[render]`` table filling what was not given."""
    from ..render import RenderSettings

    config = load_config(options.pop("config_path"), edit=edit)
    shots = options.pop("shots")
    return RenderSettings(
        model=options.pop("model") or config.render.get("model", defaults.MODEL),
        device=options.pop("device") or config.render.get("device"),
        size=_size(options.pop("size"), config.render.get("size")),
        steps=options.pop("steps") or config.render.get("steps"),
        guidance=_first(options.pop("guidance"), config.render.get("guidance")),
        style=options.pop("style") or None,
        colorspace=options.pop("colorspace") or config.render.get("colorspace", defaults.COLORSPACE),
        compression=options.pop("compression") or config.render.get("compression", defaults.COMPRESSION),
        force=options.pop("force", False),
        shots=[s.strip() for s in shots.split(",") if s.strip()] if shots else None,
        max_window=options.pop("max_window"),
        windows=_window_method(options.pop("windows"), config.render.get("windows")),
        output_transform=_output_transform(options.pop("output_transform"), config.render.get("output_transform")),
        display=options.pop("display") or config.render.get("display"),
        view=options.pop("view") or config.render.get("view"),
        memory=check_memory_choice(options.pop("memory") or config.render.get("memory", "auto")),
        speed=Acceleration.parse(
            cache=_first(options.pop("cache"), config.render.get("cache")),
            attention=_first(options.pop("attention"), config.render.get("attention")),
            compile=bool(_first(options.pop("compile_"), config.render.get("compile"), False)),
            quantize=_first(options.pop("quantize"), config.render.get("quantize"))),
        conform=options.pop("conform") or None,
        audio=not options.pop("no_audio", False),
        reference_render=options.pop("reference_render", None),
        styles=config.styles,
    )


def _size(option: str | None, configured: str | None) -> tuple[int, int] | None:
    # An empty option means "not given": farm templates pass --size= when the user chose none.
    if option:
        return parse_size(option, what="--size")
    if configured:
        return parse_size(configured, what="[render] size")
    return None


def _window_method(option: str | None, configured: str | None) -> str:
    method = option or configured or defaults.WINDOWS
    if method not in WINDOW_METHODS:
        raise ConfigError(f"[render] windows = {method!r}: choose one of {', '.join(WINDOW_METHODS)}")
    return method


def _output_transform(option: str | None, configured: str | None) -> str:
    transform = option or configured or defaults.OUTPUT_TRANSFORM
    if transform not in OUTPUT_TRANSFORMS:
        raise ConfigError(f"[render] output_transform = {transform!r}: choose one of {', '.join(OUTPUT_TRANSFORMS)}")
    return transform


def _first(*values):
    return next((v for v in values if v is not None), None)


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
    from ..imaging import COMPRESSIONS as _known  # noqa: F401  (fail early on a broken install)
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
