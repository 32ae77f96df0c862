"""``sora-vfx review OUT`` (dailies page, preview movies) and ``sora-vfx verify FILE`` (C2PA)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import click

from ..config import load_config
from ..errors import ReviewError, SoraVfxError
from ..text import printable
from .main import debug_option, main

log = logging.getLogger("sora_vfx")


def review_options(command):
    """Options shared by ``review`` (and read from ``[review]`` in sora_vfx.toml)."""
    options = [
        click.option("--certificate", type=click.Path(path_type=Path), default=None, metavar="PEM",
                     help="Signing certificate chain (PEM, signer first) for C2PA content credentials."),
        click.option("--key", type=click.Path(path_type=Path), default=None, metavar="PEM",
                     help="The certificate's private key (unencrypted PEM)."),
        click.option("--ai-mark/--no-ai-mark", default=None,
                     help="Burn a visible 'AI GENERATED' mark into the movies (default: on)."),
        click.option("--display", default=None,
                     help="OCIO display (default: the render's --display, else the config's, sRGB - Display)."),
        click.option("--view", default=None,
                     help="OCIO view (default: the render's --view, else the display's, ACES 2.0 - SDR 100 nits)."),
        click.option("--prores/--no-prores", default=None,
                     help="Also write each shot as a ProRes 422 HQ movie with its source timecode, to cut with "
                          "(default: [review] prores, else no)."),
        click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
                     help="Project config (default: sora_vfx.toml beside the edit or here)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _settings(config_path: Path | None, *, edit: Path | None, **options):
    from ..review import review_settings

    return review_settings(load_config(config_path, edit=edit), **options)


@main.command()
@click.argument("out", type=click.Path(path_type=Path))
@review_options
@click.option("--contact-sheet", type=click.Path(path_type=Path), default=None, metavar="PNG",
              help="Also write a contact sheet: six frames of every shot's cut, a row per shot.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
@debug_option
def review(out: Path, as_json: bool, config_path: Path | None, contact_sheet: Path | None, **options) -> None:
    """Write OUT/review/index.html: thumbnails, preview movies and provenance for a render."""
    from ..review import build_review, edit_of

    settings = _settings(config_path, edit=edit_of(out), **options)
    report = build_review(out, settings)
    if contact_sheet is not None:
        from ..review.contact import write_contact_sheet

        write_contact_sheet(out, contact_sheet)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        for shot in report.shots:
            files = len([t for t in shot.thumbnails if t.file]) + bool(shot.movie)
            note = shot.entry.error if shot.status == "failed" else (
                f"{len(shot.missing)} frames missing" if shot.missing else "")
            click.echo(f"{shot.name:<16} {shot.status:<9} {files:>2} files  {note}".rstrip())
        click.echo(f"page:   {report.page}")
        if report.edit_movie:
            click.echo(f"movie:  {report.edit_movie}")
        click.echo(f"signed: {report.signer}" if report.signed else
                   "signed: no (previews are unsigned: no certificate and key configured)")
    if report.missing:
        listed = "; ".join(f"{name} {_ranges(frames)}" for name, frames in report.missing.items())
        raise ReviewError(f"{out}: frames missing or unreadable ({listed}); the page shows them as missing: "
                          f"{report.page}")


def _ranges(frames: list[int]) -> str:
    from ..review.report import frame_ranges

    return frame_ranges(frames)


def prepare_review(*, config_path: Path | None, edit: Path) -> tuple[Any, Any]:
    """Before a render: read the review settings and check the signing key, so that a bad
    certificate fails (exit 2) before hours of rendering rather than after."""
    from ..review import check_review

    settings = _settings(config_path, edit=edit)
    return settings, check_review(settings)


def review_after_render(prepared: tuple[Any, Any], out: Path) -> None:
    """Build the review after a render. Never raises: the render's result and exit code stand."""
    from ..review import build_review

    settings, identity = prepared
    try:
        report = build_review(out, settings, identity=identity)
    except SoraVfxError as exc:
        log.error("review failed: %s (the render is fine; run `sora-vfx review %s` again)", exc, out)
        return
    except Exception as exc:  # a bug in review must not hide a finished render
        log.error("review failed: internal error %s: %s (this is a bug; the render is fine)",
                  type(exc).__name__, exc, exc_info=log.isEnabledFor(logging.DEBUG))
        return
    signed = f"signed by {report.signer}" if report.signed else "previews unsigned"
    log.info("review: %s (%s)", report.page, signed)
    if report.missing:
        log.warning("review: frames missing or unreadable: %s",
                    "; ".join(f"{name} {_ranges(frames)}" for name, frames in report.missing.items()))


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--trust-anchors", type=click.Path(path_type=Path), default=None, metavar="PEM",
              help="Root certificates to trust (default: [review] trust_anchors). Without any, trust is not "
                   "checked, only the signature.")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="Project config (default: sora_vfx.toml here).")
@click.option("--json", "as_json", is_flag=True, help="Print what the manifest says as JSON on stdout.")
@debug_option
def verify(file: Path, trust_anchors: Path | None, config_path: Path | None, as_json: bool) -> None:
    """Print what FILE's C2PA manifest says and whether its signature holds.

    Exit 0 when it holds (and the signer is trusted, if trust anchors are given); 1 when the
    file has no manifest, was changed after signing, or its signer is not trusted.
    """
    from ..review import read_credentials

    anchors = trust_anchors or _settings(config_path, edit=None).trust_anchors
    credentials = read_credentials(file, trust_anchors=anchors)
    if as_json:
        click.echo(json.dumps(credentials.to_dict(), indent=2, default=str))
    else:
        click.echo(_describe(credentials, anchors))
    if not credentials.holds:
        click.get_current_context().exit(1)


def _describe(credentials, anchors: Path | None) -> str:
    """What ``verify`` prints: each line escaped (:func:`sora_vfx.text.printable`), for the text
    comes from the file, and a damaged or hostile one can hold terminal escape sequences."""
    return "\n".join(printable(line) for line in _lines(credentials, anchors))


def _lines(credentials, anchors: Path | None) -> list[str]:
    lines = [str(credentials.path)]
    if not credentials.present:
        return [*lines, "  content credentials: none (no C2PA manifest in this file)"]
    broken = [f for f in credentials.failures if f["code"] != "signingCredential.untrusted"]
    if not credentials.manifest:
        reasons = "; ".join(f["explanation"] for f in broken)
        return [*lines, f"  content credentials: PRESENT BUT INVALID ({reasons})"]
    if credentials.valid:
        lines.append("  signature: holds (the file is as it was signed)")
    else:
        reasons = "; ".join(f"{f['code']}: {f['explanation']}" for f in broken) or credentials.state
        lines.append(f"  signature: DOES NOT HOLD ({reasons})")
    if credentials.trusted is None:
        lines.append("  trust: not checked (no trust anchors; give --trust-anchors or [review] trust_anchors)")
    else:
        lines.append(f"  trust: {'trusted' if credentials.trusted else 'NOT TRUSTED'} (anchors: {anchors})")
    signer = credentials.signer
    if signer:
        lines.append(f"  signed by: {signer.get('common_name') or '?'} ({signer.get('issuer') or '?'}), "
                     f"{signer.get('alg') or '?'}" + (f", at {signer['time']}" if signer.get("time") else ""))
    if credentials.generator:
        lines.append(f"  made with: {credentials.generator}")
    if credentials.source_type:
        kind = credentials.source_type.rsplit("/", 1)[-1]
        lines.append(f"  source type: {kind}" + (" (AI generated)" if "Algorithmic" in kind else ""))
    if credentials.actions:
        lines.append(f"  actions: {', '.join(credentials.actions)}")
    generation = dict(credentials.generation)
    shots = generation.pop("shots", None)
    for key in ("edit", "shot", "frame", "model", "seed", "style", "steps", "prompt", "negative_prompt", "job_hash"):
        if generation.get(key) not in (None, ""):
            lines.append(f"  {key.replace('_', ' ')}: {generation[key]}")
    for shot in shots or []:
        lines.append(f"  shot {shot.get('shot')}: model {shot.get('model')}, seed {shot.get('seed')}, "
                     f"prompt: {shot.get('prompt')}")
    return lines
