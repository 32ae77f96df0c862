"""``sora-vfx models``: the model families sora_vfx renders with, and its built-in models."""

from __future__ import annotations

import json
from typing import Any

import click

from .main import main


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the families and built-in models as one JSON document.")
def models(as_json: bool) -> None:
    """List every model family (built in or from an installed package) with its kinds, frame
    and size rules, and the built-in models that --model names."""
    document = models_document()
    if as_json:
        click.echo(json.dumps(document, indent=2))
        return
    for family in document["families"]:
        origin = "" if family["origin"] == "sora_vfx" else f"  (from {family['origin']})"
        click.echo(f"{family['name']}{origin}")
        click.echo(f"  pipelines: {', '.join(family['pipelines'])}")
        click.echo(f"  kinds:     {', '.join(family['kinds'])}")
        click.echo(f"  rules:     {family['rules']}")
        if family["windows"]:
            click.echo(f"  windows:   {', '.join(family['windows'])}")
        if family["outputs"]:
            click.echo(f"  outputs:   frames, {', '.join(family['outputs'])}")
        if family["full_sizes"]:
            click.echo(f"  full size: {', '.join(family['full_sizes'])} (random weights, benchmarks/gpu.py)")
    click.echo("built-in models (--model NAME):")
    for model in document["builtin"]:
        click.echo(f"  {model['name']:<16} {model['family']} {model['kind']}{'' if model['present'] else ' (missing)'}")


def models_document() -> dict[str, Any]:
    """The families and built-in models, as ``sora-vfx models --json`` prints them."""
    from ..models.families import families
    from ..models.folders import builtin_models

    return {
        "families": [family.describe() for family in families()],
        "builtin": builtin_models(),
    }
