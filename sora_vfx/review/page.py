"""``index.html``: a static dailies page that opens from disk, with no server, script or network.

Every ``src`` and ``href`` is a relative path to a file the review wrote; a file that is not
there is never linked (a missing frame is a labelled box, not a broken image).
"""

from __future__ import annotations

import html
import time
from pathlib import Path
from typing import Any

from .. import __version__
from ..layout import REVIEW_EDIT_MOVIE_NAME
from ..render.manifest import Manifest
from .report import ReviewReport, ShotReview, frame_ranges

_CSS = """
:root { color-scheme: dark; }
body { margin: 0; background: #141414; color: #ddd; font: 14px/1.45 system-ui, sans-serif; }
header { padding: 18px 24px 12px; border-bottom: 1px solid #333; }
h1 { margin: 0 0 4px; font-size: 20px; font-weight: 600; }
.sub { color: #999; }
.notice { margin: 10px 0 0; padding: 8px 12px; border-radius: 4px; }
.ai { background: #4a1515; border: 1px solid #a33; }
.signed { background: #14301c; border: 1px solid #2d7a45; }
.unsigned { background: #3a3212; border: 1px solid #a08a2a; }
main { padding: 12px 24px 40px; }
.edit { margin: 8px 0 20px; }
.edit video { max-width: 100%; max-height: 300px; background: #000; display: block; margin-top: 6px; }
section.shot { border: 1px solid #333; border-radius: 6px; margin: 0 0 16px; padding: 12px 14px; background: #1b1b1b; }
section.shot h2 { margin: 0 0 8px; font-size: 16px; display: flex; gap: 10px; align-items: baseline; }
.index { color: #888; font-weight: 400; }
.badge { font-size: 12px; padding: 1px 8px; border-radius: 10px; text-transform: uppercase; letter-spacing: .04em; }
.badge.rendered, .badge.skipped { background: #1f4d2b; color: #bfe8c8; }
.badge.failed { background: #6b1d1d; color: #ffd0d0; }
.badge.missing { background: #6b561d; color: #fff0c0; }
.body { display: flex; gap: 20px; flex-wrap: wrap; align-items: flex-start; }
.strip { display: flex; gap: 8px; flex-wrap: wrap; }
.meta { flex: 1 1 420px; min-width: 300px; }
figure { margin: 0; }
figure img { display: block; border: 1px solid #000; image-rendering: pixelated; }
figcaption { color: #999; font-size: 12px; }
.gone { display: flex; align-items: center; justify-content: center; width: 160px; min-height: 80px;
        background: #2a2a2a; border: 1px dashed #a08a2a; color: #e0c870; font-size: 12px; text-align: center; }
table { border-collapse: collapse; }
th { width: 7em; text-align: left; color: #999; font-weight: 400; padding: 1px 14px 1px 0; vertical-align: top;
     white-space: nowrap; }
td { padding: 1px 0; }
.error { color: #ff9a9a; }
code { font-size: 12px; color: #bbb; }
a { color: #8cc4ff; }
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def edit_title(manifest: Manifest) -> str:
    """The edit's file name, as the page and the edit movie show it."""
    return Path(manifest.edit or "edit").name


def write_page(path: Path, *, manifest: Manifest, report: ReviewReport, review_dir: Path) -> None:
    """Write the page to ``path``; links are relative to ``review_dir`` and checked to exist."""

    def link(relative: str | None) -> str | None:
        return relative if relative and (review_dir / relative).is_file() else None

    edit_name = edit_title(manifest)
    shots = report.shots
    failed = sum(shot.status == "failed" for shot in shots)
    missing = sum(len(shot.missing) for shot in shots)
    counts = f"{len(shots)} shots" + (f", {failed} failed" if failed else "") + \
        (f", {missing} frames missing" if missing else "")
    models = sorted({str(s.entry.spec.model) for s in shots if s.entry.spec is not None})
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Dailies: {_e(edit_name)}</title>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<style>{_CSS}</style></head><body>",
        "<header>",
        f"<h1>Dailies: {_e(edit_name)}</h1>",
        f'<div class="sub">{_e(counts)} &middot; rendered {_e(manifest.updated)} &middot; '
        f'review {_e(time.strftime("%Y-%m-%d %H:%M"))} &middot; {_e(manifest.software)} &middot; '
        f"colour: {_e(report.display)}</div>",
        f'<p class="notice ai"><strong>AI GENERATED.</strong> Every picture here was made by a generative '
        f'model ({_e(", ".join(models) or "unknown")}); the EXRs and previews say so in their metadata '
        f"(digital source type <code>trainedAlgorithmicMedia</code>).</p>",
        _signing_notice(report),
        "</header><main>",
        _edit_movie(link(REVIEW_EDIT_MOVIE_NAME)),
    ]
    parts += [_shot(index, shot, link) for index, shot in enumerate(shots, start=1)]
    parts.append(f'<p class="sub">Made by sora_vfx {_e(__version__)}.</p></main></body></html>')
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")


def _signing_notice(report: ReviewReport) -> str:
    if report.signed:
        return (f'<p class="notice signed">Thumbnails and movies carry signed C2PA content credentials '
                f"(signer: {_e(report.signer)}). Check any file with <code>sora-vfx verify FILE</code>.</p>")
    return ('<p class="notice unsigned"><strong>Previews are unsigned:</strong> no signing certificate was '
            "configured, so thumbnails and movies carry no C2PA content credentials. Set "
            "<code>[review] certificate</code> and <code>key</code> in sora_vfx.toml, or pass "
            "<code>--certificate</code> and <code>--key</code>.</p>")


def _edit_movie(movie: str | None) -> str:
    if movie is None:
        return '<div class="edit sub">No edit movie: no shot has frames to show.</div>'
    return (f'<div class="edit"><strong>Whole edit</strong> (cuts in edit order, no handles): '
            f'<a href="{_e(movie)}">{_e(movie)}</a>'
            f'<video controls preload="metadata" width="400" src="{_e(movie)}"></video></div>')


def _shot(index: int, shot: ShotReview, link) -> str:
    entry = shot.entry
    spec, job, frames = entry.spec, entry.job, entry.frames
    status = "missing" if shot.missing and shot.status != "failed" else shot.status
    label = f"{shot.status}, frames missing" if status == "missing" else shot.status
    out = [f'<section class="shot" id="shot-{_e(shot.name)}" data-shot="{_e(shot.name)}" data-status="{_e(status)}">',
           f'<h2><span class="index">{index}</span> {_e(shot.name)} '
           f'<span class="badge {_e(status)}">{_e(label)}</span></h2>']
    out.append('<div class="body">')
    if shot.thumbnails:
        out.append('<div class="strip">')
        for thumb in shot.thumbnails:
            src = link(thumb.file)
            caption = f"{thumb.role} {thumb.frame:04d}"
            if src:
                out.append(f'<figure><img src="{_e(src)}" alt="{_e(shot.name)} frame {thumb.frame}">'
                           f"<figcaption>{_e(caption)}</figcaption></figure>")
            else:
                out.append(f'<figure><div class="gone" title="{_e(thumb.problem)}">frame {thumb.frame:04d}'
                           f"<br>missing</div><figcaption>{_e(caption)}</figcaption></figure>")
        out.append("</div>")
    rows: list[tuple[str, str]] = []
    if entry.error:
        rows.append(("Error", f'<span class="error">{_e(entry.error)}</span>'))
    rows.append(("Frames", f"{_e(frames.first)}&ndash;{_e(frames.last)} ({_e(frames.count)} frames; "
                           f"cut {_e(frames.cut_in)}&ndash;{_e(frames.cut_out)})"))
    if shot.missing:
        rows.append(("Missing", f'<span class="error">{_e(frame_ranges(shot.missing))}</span>'
                                f"<br><code>{_e(shot.problems[0] if shot.problems else '')}</code>"))
    rows.append(("Record", f"{_e(entry.record_in)} &ndash; {_e(entry.record_out)}"))
    rows.append(("Source", f"{_e(job.source_in)} &ndash; {_e(job.source_out)} "
                           f"&middot; {_e(job.clip_name or job.reel)} &middot; {_e(job.rate)} fps"))
    rows.append(("Prompt", _e((spec.prompt if spec else None) or job.prompt)))
    if spec is not None and spec.negative_prompt:
        rows.append(("Negative", _e(spec.negative_prompt)))
    rows.append(("Style", _e((spec.style if spec else None) or job.style or "none")))
    rows.append(("Seed", _e(entry.seed)))
    if spec is not None and spec.model:
        rows.append(("Model", f"{_e(spec.model)} &middot; {_e(spec.steps)} steps &middot; guidance "
                              f"{_e(spec.guidance)} &middot; {_e(spec.width)}x{_e(spec.height)}"))
    rows.append(("Render time", f"{_seconds(entry.seconds)} ({_e(entry.frames_written)} written, "
                                f"{_e(entry.frames_reused)} kept)"))
    movie = link(shot.movie)
    if movie:
        rows.append(("Movie", f'<a href="{_e(movie)}">{_e(movie)}</a>'))
    daily = link(shot.prores)
    if daily:
        rows.append(("ProRes 422 HQ", f'<a href="{_e(daily)}">{_e(daily)}</a> (to cut with: source timecode, '
                                      "no burn-ins)"))
    if entry.job_hash:
        rows.append(("Job hash", f"<code>{_e(entry.job_hash)}</code>"))
    out.append('<table class="meta">' + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows) + "</table>")
    out.append("</div></section>")
    return "\n".join(out)


def _seconds(value: Any) -> str:
    try:
        return f"{float(value):.1f} s"
    except (TypeError, ValueError):
        return "unknown"
