"""``sora-vfx extend PLATE -o OUT``: a wider or taller plate, filmed pixels untouched."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..defaults import GUIDANCE, MODEL, OUTPUT_TRANSFORM, OUTPUT_TRANSFORMS
from ..settings import parse_size
from .main import debug_option, main


@main.command()
@click.argument("plate")
@click.option("-o", "--out", type=click.Path(path_type=Path), required=True,
              help="Output folder: OUT/<plate name>_ext.####.exr.")
@click.option("--pad", default=None, metavar="L,R,B,T", help="Pixels to add left, right, bottom, top.")
@click.option("--to-size", default=None, metavar="WxH", help="New display window size.")
@click.option("--to-aspect", default=None, metavar="RATIO", help="New picture aspect, e.g. 2.39 or 16:9.")
@click.option("--anchor", default="center", show_default=True,
              help="Where the plate sits with --to-size/--to-aspect: center, left, top-right, ...")
@click.option("--model", default=MODEL, show_default=True,
              help="'shapes' (built in, trained: fills the whole shot at once), 'tiny' (built in, random weights, "
                   "frame by frame), or a local diffusers folder: a video outpainting pipeline (VACE) "
                   "or an image inpainting one.")
@click.option("--prompt", default="", help="What the border shows.")
@click.option("--negative-prompt", default="", help="What it should not show.")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Noise seed (default: from the plate name).")
@click.option("--steps", type=click.IntRange(min=1), default=None, help="Denoising steps (default: the model's).")
@click.option("--guidance", type=float, default=GUIDANCE, show_default=True, help="Guidance scale.")
@click.option("--blend", type=click.IntRange(min=0), default=0, show_default=True,
              help="Feather this many pixels of the seam, on the generated side only.")
@click.option("--mask", default=None, metavar="MATTE",
              help="Filmed pixels to generate too (a rig, a boom, a soft edge): a matte (its alpha, else its first "
                   "channel) over the plate, a frame per plate frame or one for all; 1 = generated, 0 = kept bit "
                   "for bit. The output's mask channel holds it.")
@click.option("--static", is_flag=True, help="Locked-off plate: generate once, reuse on every frame.")
@click.option("--per-frame", is_flag=True,
              help="Run a video outpainting model on each frame alone, from the same noise (as image models do).")
@click.option("--colour-match/--no-colour-match", default=True, show_default=True,
              help="Video path: match the border's mean colour at the seam to the plate's, per window, "
                   "and roll off its highlights above the plate's brightest value.")
@click.option("--ref-frame", type=int, default=None, help="Frame to generate from with --static (default: first).")
@click.option("--plate-colorspace", default=None,
              help="The plate's colour space (default: its header, else ACEScg).")
@click.option("--work-size", default=None, metavar="WxH", help="The model's working size (default: the model's).")
@click.option("--keep-channels", is_flag=True,
              help="Keep the plate's other channels (Z, vectors, views), zero in the border.")
@click.option("--compression", default=None, help="EXR compression (default: the plate's if lossless, else zip).")
@click.option("--output-transform", type=click.Choice(OUTPUT_TRANSFORMS), default=OUTPUT_TRANSFORM, show_default=True,
              help="Between the plate's scene-linear pixels and the model's pictures: the OCIO --display/--view "
                   "(inverse-view: the border keeps the plate's highlights) or sRGB texture (srgb).")
@click.option("--display", default=None, help="OCIO display of inverse-view (default: the config's).")
@click.option("--view", default=None, help="OCIO view of inverse-view (default: the display's).")
@click.option("--device", default=None, help="cuda, cuda:1, mps or cpu (default: best available).")
@click.option("--force", is_flag=True, help="Regenerate frames that are already complete.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
@debug_option
def extend(plate: str, out: Path, as_json: bool, **options) -> None:
    """Extend PLATE (a frame, plate.####.exr, plate.%04d.exr, plate.1001-1100#.exr or a folder).

    The filmed pixels are copied bit for bit; the border around them is generated and marked
    1 in the output's `mask` channel.
    """
    from ..plates import ExtendSettings, ExtensionPath, extend_plate, parse_aspect, parse_pad

    pad, to_size, to_aspect, work_size = (options.pop(k) for k in ("pad", "to_size", "to_aspect", "work_size"))
    static, per_frame = options.pop("static"), options.pop("per_frame")
    if static and per_frame:
        raise click.UsageError("--static and --per-frame: give one of them")
    settings = ExtendSettings(
        path=ExtensionPath.STATIC if static else ExtensionPath.PER_FRAME if per_frame else None,
        pad=parse_pad(pad) if pad is not None else None,
        to_size=parse_size(to_size, what="--to-size") if to_size is not None else None,
        to_aspect=parse_aspect(to_aspect) if to_aspect is not None else None,
        work_size=parse_size(work_size, what="--work-size") if work_size is not None else None,
        keep_extra_channels=options.pop("keep_channels"),
        **options,
    )
    report = extend_plate(plate, out, settings)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        summary = report.to_dict()
        click.echo(f"{report.plate.describe()} -> {summary['pattern']}")
        click.echo(f"{summary['written']} written, {summary['kept']} kept, {len(report.failed)} failed, "
                   f"{report.seconds:.1f} s; display window {summary['display_window']}, mask channel "
                   f"'{summary['mask_channel']}'")
        for frame, error in report.failed.items():
            click.echo(f"frame {frame}: {error}")
    if report.failed:
        click.get_current_context().exit(1)
