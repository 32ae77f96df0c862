"""Build ``OUT/review/`` from a render: thumbnails, preview movies and ``index.html``.

Every EXR is read once; its display picture feeds the shot's thumbnails, the shot's movie and
(for frames inside the cut) the movie of the whole edit. The review is built in a hidden
folder beside the old one and swapped in at the end, so the page never links to a file that
is not there, and a failed review leaves the previous one untouched.
"""

from __future__ import annotations

import logging
import secrets
import shutil
from pathlib import Path

from ..console import Progress
from ..errors import RenderError, ReviewError
from ..layout import (
    MANIFEST_NAME,
    REVIEW_EDIT_MOVIE_NAME,
    REVIEW_MOVIES_FOLDER,
    REVIEW_PAGE_NAME,
    REVIEW_THUMBS_FOLDER,
    review_folder,
    review_temporary_folder,
)
from ..render.manifest import Manifest, manifest_path, read_manifest
from .edit_movie import EditMovie
from .frames import ShotFrames
from .page import edit_title, write_page
from .provenance import SigningIdentity, load_signing_identity
from .report import ReviewReport, ShotReview, frame_ranges
from .settings import ReviewSettings

log = logging.getLogger("sora_vfx")

def edit_of(out_dir: Path) -> Path | None:
    """The edit a render folder was made from, as its manifest records it (None if unknown)."""
    try:
        manifest = read_manifest(Path(out_dir))
    except RenderError:
        return None
    return Path(manifest.edit) if manifest is not None and manifest.edit else None


def check_review(settings: ReviewSettings) -> SigningIdentity | None:
    """Check what can be checked before a render or review: the encoder, the OCIO display and
    view, and the signing certificate and key (by signing a probe).

    Raises:
        ReviewError: with the file or name at fault.
    """
    from .display import DisplayTransform
    from .movies import H264, PRORES_HQ, check_encoder

    for movie_format in (H264, PRORES_HQ) if settings.prores else (H264,):
        check_encoder(movie_format)
    DisplayTransform(display=settings.display, view=settings.view)
    if settings.certificate is None or settings.key is None:
        return None
    return load_signing_identity(certificate=settings.certificate, key=settings.key)


def build_review(out_dir: Path, settings: ReviewSettings, *, identity: SigningIdentity | None = None,
                 progress: bool | None = None) -> ReviewReport:
    """Write ``OUT/review/`` for the render in ``out_dir``.

    Shots whose frames are missing or unreadable are shown as missing (the report lists them);
    they do not stop the review.

    Raises:
        ReviewError: no readable manifest, a bad certificate or key, an unknown display or view,
            or a review folder that cannot be written.
    """
    from .display import DisplayTransform

    out_dir = Path(out_dir)
    manifest = _manifest(out_dir)
    if identity is None and settings.signs:
        identity = check_review(settings)
    rendered_display, rendered_view = _render_view(manifest)
    display = DisplayTransform(display=settings.display or rendered_display, view=settings.view or rendered_view)
    final = review_folder(out_dir)
    if final.exists() and not final.is_dir():
        raise ReviewError(f"cannot write the review: {final} exists and is not a folder")
    staging = review_temporary_folder(out_dir, secrets.token_hex(4))
    try:
        (staging / REVIEW_THUMBS_FOLDER).mkdir(parents=True)
        (staging / REVIEW_MOVIES_FOLDER).mkdir()
    except OSError as exc:
        raise ReviewError(f"cannot write the review in {out_dir}: {exc.strerror or exc}") from None
    try:
        shots = _build(out_dir, staging, manifest, settings, identity, display, progress)
        edit_movie = staging / REVIEW_EDIT_MOVIE_NAME
        report = ReviewReport(out_dir, final, final / REVIEW_PAGE_NAME,
                              final / REVIEW_EDIT_MOVIE_NAME if edit_movie.exists() else None,
                              identity.signer if identity else None, display.describe(), settings.ai_mark, shots)
        write_page(staging / REVIEW_PAGE_NAME, manifest=manifest, report=report, review_dir=staging)
        _swap(staging, final, review_temporary_folder(out_dir, f"old-{secrets.token_hex(4)}"))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return report


def _render_view(manifest: Manifest) -> tuple[str | None, str | None]:
    """The display and view the render's model pictures went through (``inverse-view``), so that
    the review shows each frame as the model drew it; (None, None) for other renders."""
    for entry in manifest.shots:
        if entry.spec is not None and entry.spec.output_transform == "inverse-view" and entry.spec.display:
            return entry.spec.display, entry.spec.view
    return None, None


def _manifest(out_dir: Path) -> Manifest:
    if not out_dir.is_dir():
        raise ReviewError(f"{out_dir}: no such folder")
    try:
        manifest = read_manifest(out_dir)
    except RenderError as exc:
        # The decoder's message already names the file, the shot and everything wrong with it.
        raise ReviewError(str(exc)) from None
    if manifest is None:
        raise ReviewError(f"{out_dir}: no {MANIFEST_NAME}, so not a sora_vfx render folder "
                          f"(make one with: sora-vfx render EDIT -o {out_dir})")
    bad = [i for i, entry in enumerate(manifest.shots) if not entry.name]
    if bad:
        raise ReviewError(f"{manifest_path(out_dir)}: shot entries {bad} have no name")
    return manifest


def _build(out_dir: Path, staging: Path, manifest: Manifest, settings: ReviewSettings,
           identity: SigningIdentity | None, display, progress: bool | None) -> list[ShotReview]:
    entries = manifest.shots
    bar = Progress(sum(entry.frames.count for entry in entries if entry.status != "failed"), enabled=progress)
    edit = EditMovie(staging / REVIEW_EDIT_MOVIE_NAME, entries, title=edit_title(manifest),
                     ai_mark=settings.ai_mark, display=display, identity=identity)
    shots: list[ShotReview] = []
    try:
        for entry in entries:
            shot = ShotReview(entry.name, entry.status, entry)
            shots.append(shot)
            if shot.status == "failed":
                edit.add_failed(entry)
                log.info("review: shot %s failed in the render: %s", shot.name, entry.error)
                continue
            frames = ShotFrames(out_dir, entry, display=display, prores=settings.prores,
                                ai_mark=settings.ai_mark, identity=identity)
            bar.start_shot(shot.name, frames.count)
            frames.write(staging, shot, edit, on_frame=bar.frames_done)
            message = f"review: shot {shot.name}: {frames.readable} of {frames.declared} frames"
            if shot.missing:
                message += f", MISSING {frame_ranges(shot.missing)}"
                if frames.declared - frames.readable > len(shot.missing):
                    message += f" and more ({frames.declared - frames.readable} in all)"
            bar.end_shot(message, level=logging.WARNING if shot.missing else logging.INFO)
        edit.close()
    finally:
        edit.abort()
        bar.close()
    return shots


def _swap(staging: Path, final: Path, aside: Path) -> None:
    """Put ``staging`` in ``final``'s place; the old review goes ``aside`` until it is removed."""
    old = aside if final.exists() else None
    try:
        if old is not None:
            final.rename(old)
        staging.rename(final)
    except OSError as exc:
        if old is not None and not final.exists():
            old.rename(final)
        raise ReviewError(f"cannot write the review {final}: {exc.strerror or exc}") from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


__all__ = ["build_review", "check_review", "edit_of"]
