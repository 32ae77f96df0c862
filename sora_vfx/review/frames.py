"""One shot's pass over its EXR frames: display pictures for its thumbnails, its movie and the
edit movie. A frame that is missing or unreadable becomes a slate, never an exception."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ..editorial.rates import FrameRate, from_timecode, source_timecode
from ..errors import ImagingError, ReviewError, SoraVfxError
from ..imaging import read_exr
from ..imaging.wav import Audio, read_wav
from ..layout import frame_from_pattern, review_movie_name, review_thumbnail_name, sound_path
from ..render.manifest import ManifestEntry
from ..text import one_line
from .burnins import BurnInLayout, bottom_bar, compose, slate, top_bar
from .display import DisplayTransform, preview_size, resize
from .movies import PRORES_HQ, MovieWriter
from .provenance import SigningIdentity, manifest_definition, sign_file
from .report import ShotReview, Thumbnail

log = logging.getLogger("sora_vfx")

MOVIE_WIDTH = (480, 1920)  # smallest and largest preview movie width
THUMB_WIDTH = (160, 320)
#: A slate stands in for each missing frame, so the movies keep their length, while a shot
#: misses at most this many frames more than it has on disk; past that (a damaged manifest can
#: declare a billion frames) its movies hold the frames on disk alone, and the review costs
#: what is on disk. Also the longest slate of a shot that failed to render, in frames.
SLATE_ALLOWANCE = 2400
#: The most missing frames a shot's review lists one by one (``ShotReview.missing``); its
#: problems say how many there are in all.
MAX_LISTED_MISSING = 1000


def rate_of(entry: ManifestEntry) -> FrameRate:
    """A shot's exact frame rate (and drop frame) from its manifest entry; 24 if it has none."""
    job = entry.job
    # The manifest decoder checks that the job's fields are there, not their types.
    try:
        rate = Fraction(str(job.rate or job.fps or 24))
    except (ValueError, ZeroDivisionError):
        raise ReviewError(f"shot {entry.name}: bad frame rate {job.rate!r} in the manifest") from None
    if rate <= 0:
        raise ReviewError(f"shot {entry.name}: bad frame rate {rate} in the manifest")
    return FrameRate(rate, bool(job.drop_frame))


def record_frame(entry: ManifestEntry, rate: FrameRate) -> int | None:
    """The entry's record-in timecode as a frame count at ``rate`` (None if bad)."""
    try:
        return from_timecode(entry.record_in, rate)
    except (SoraVfxError, ValueError):
        return None


def generation_of(entry: ManifestEntry) -> dict[str, Any]:
    """What made a shot, for provenance: from its manifest entry's resolved spec."""
    spec = entry.spec
    values = {"shot": entry.name, "seed": entry.seed, "job_hash": entry.job_hash}
    if spec is not None:
        values.update(model=spec.model, prompt=spec.prompt, negative_prompt=spec.negative_prompt, style=spec.style,
                      steps=spec.steps, guidance=spec.guidance, colorspace=spec.colorspace)
    order = ("shot", "model", "seed", "prompt", "negative_prompt", "style", "steps", "guidance", "job_hash",
             "colorspace")
    return {key: values[key] for key in order if values.get(key) is not None}


def picture_size(entry: ManifestEntry) -> tuple[int, int] | None:
    """The rendered frames' (width, height) from the entry's spec; None without a usable one."""
    if entry.spec is None:
        return None
    try:
        width, height = int(entry.spec.width), int(entry.spec.height)
    except (TypeError, ValueError):
        return None
    return (width, height) if width > 0 and height > 0 else None


def view_actions(display: DisplayTransform, colorspace: str, *, burnins: bool) -> list[dict]:
    """C2PA actions that say how a preview was made from the EXRs (view transform, burn-ins)."""
    actions = [
        {"action": "c2pa.color_adjustments",
         "parameters": {"description": f"OCIO view transform {display.describe(colorspace)}"}},
        {"action": "c2pa.transcoded", "parameters": {"description": "scene-linear OpenEXR to an 8-bit preview"}},
    ]
    if burnins:
        actions.append({"action": "c2pa.edited",
                        "parameters": {"description": "burn-ins: shot name, frame number, timecode, AI mark"}})
    return actions


def movie_tags(title: str, generation: dict[str, Any]) -> dict[str, str]:
    """MP4 tags that say what the movie is even where no C2PA reader looks."""
    details = ", ".join(f"{key} {generation[key]}" for key in ("model", "seed", "style") if key in generation)
    comment = f"AI GENERATED (trainedAlgorithmicMedia) by sora_vfx; {details}" if details else \
        "AI GENERATED (trainedAlgorithmicMedia) by sora_vfx"
    if generation.get("prompt"):
        comment += f"; prompt: {generation['prompt']}"
    # One line each, as every one-line field (the JPEG comment of thumbnails too).
    return {"title": one_line(title), "comment": one_line(comment)}


class ShotFrames:
    """Reads one shot's frames once and writes its thumbnails and movie (and feeds the edit movie)."""

    def __init__(self, out_dir: Path, entry: ManifestEntry, *, display: DisplayTransform,
                 ai_mark: bool, identity: SigningIdentity | None, prores: bool = False) -> None:
        self.out_dir, self.entry = Path(out_dir), entry
        self.prores = prores
        self.name = entry.name
        self.display, self.ai_mark, self.identity = display, ai_mark, identity
        frames = entry.frames
        self.first, self.last, self.cut_in, self.cut_out = frames.first, frames.last, frames.cut_in, frames.cut_out
        self.pattern = frames.pattern
        if not self.first <= self.cut_in <= self.cut_out <= self.last:
            raise ReviewError(f"shot {self.name}: bad frame range in the manifest: frames {self.first}-{self.last}, "
                              f"cut {self.cut_in}-{self.cut_out}")
        self.declared = self.last - self.first + 1
        # One listing of the shot's folder: the pass below costs what is on disk.
        self.on_disk = frames.on_disk(self.out_dir)
        self.not_on_disk = self.declared - len(self.on_disk)
        slated = self.not_on_disk <= len(self.on_disk) + SLATE_ALLOWANCE
        #: The frames the pass goes through: every frame of the shot, a slate for each missing
        #: one; or, with too many missing, the frames on disk alone.
        self.frames: Sequence[int] = range(self.first, self.last + 1) if slated else self.on_disk
        self.count = len(self.frames)
        self.readable = 0
        self.rate = rate_of(entry)
        self.sound = self._read_sound()
        self.generation = generation_of(entry)
        self.colorspace = entry.colorspace

    def _read_sound(self) -> Audio | None:
        """The shot's sound (``OUT/<shot>/<shot>.wav``, from its first frame), where its model
        made any; a damaged file is reported and the movies go without it."""
        path = sound_path(self.out_dir, self.name)
        if not path.is_file():
            return None
        try:
            return read_wav(path)
        except ImagingError as exc:
            log.warning("review: shot %s: its sound is left out: %s", self.name, exc)
            return None

    def frame_path(self, frame: int) -> Path:
        """The frame's file: the manifest's ``frames.pattern`` with its ``#`` run as the padded number."""
        try:
            return frame_from_pattern(self.out_dir, self.pattern, frame)
        except ValueError as exc:
            raise ReviewError(f"shot {self.name}: {exc}") from None

    def _timecode(self, frame: int) -> str | None:
        try:
            return source_timecode(frame, source_in=str(self.entry.job.source_in), cut_in=self.cut_in, rate=self.rate)
        except (SoraVfxError, ValueError):
            return None

    def read(self, frame: int) -> tuple[np.ndarray | None, str | None, str | None]:
        """(display picture or None, timecode, problem) for one frame."""
        path = self.frame_path(frame)
        try:
            header, pixels = read_exr(path)
        except ImagingError as exc:
            return None, self._timecode(frame), str(exc)
        colorspace = str(header.get("sora_vfx:colorspace") or header.get("oiio:ColorSpace") or self.colorspace)
        timecode = header.get("timeCode")
        picture = self.display(pixels, colorspace)
        return picture, str(timecode) if timecode else self._timecode(frame), None

    def write(self, staging: Path, shot: ShotReview, edit, *, on_frame: Callable[[], None]) -> None:
        """Write thumbnails and the shot movie into ``staging``; fill in ``shot``."""
        roles = {self.cut_in: "first", (self.cut_in + self.cut_out) // 2: "middle", self.cut_out: "last"}
        thumbnails = {frame: Thumbnail(frame, role) for frame, role in sorted(roles.items())}
        shot.thumbnails = list(thumbnails.values())
        size = picture_size(self.entry)
        movie = None
        daily: MovieWriter | None = None
        readable = 0
        edit.start_shot(self.entry)
        unslated = len(self.frames) < self.declared
        if unslated:
            shot.problems.append(f"{self.not_on_disk} of its {self.declared} frames ({self.first}-{self.last}) are "
                                 f"not on disk: its movies hold the {len(self.on_disk)} that are, without slates")
        try:
            for frame in self.frames:
                picture, timecode, problem = self.read(frame)
                if picture is None:
                    if len(shot.missing) < MAX_LISTED_MISSING:
                        shot.missing.append(frame)
                    if len(shot.problems) < 5:
                        shot.problems.append(problem or f"frame {frame} is missing")
                else:
                    readable += 1
                    size = size or (picture.shape[1], picture.shape[0])
                if frame in thumbnails:
                    self._thumbnail(staging, thumbnails[frame], picture, problem)
                if movie is None and size is not None:
                    movie = self._open_movie(staging, size)
                if movie is not None:
                    writer, layout, top = movie
                    shown = resize(picture, (layout.width, layout.height)) if picture is not None else \
                        slate(layout, "MISSING FRAME", f"{self.name} {frame:04d}")
                    writer.write(compose(top, shown, bottom_bar(layout, frame, timecode)))
                if self.prores and daily is None and size is not None:
                    daily = self._open_daily(staging, size)
                if daily is not None:
                    width, height = daily.size
                    daily.write(resize(picture, (width, height)) if picture is not None else
                                slate(BurnInLayout.for_picture(width, height), "MISSING FRAME",
                                      f"{self.name} {frame:04d}"))
                edit.add_frame(self.entry, frame, picture, timecode)
                on_frame()
            self.readable = readable
            if unslated:
                self._not_passed(shot, thumbnails)
            if movie is not None:
                if readable:
                    movie[0].close()
                    self._sign(movie[0].path, f"{self.name}.mp4", burnins=True, extra={
                        "frames": {"first": self.first, "last": self.last, "cut_in": self.cut_in,
                                   "cut_out": self.cut_out}, "fps": str(self.rate.rate)})
                    shot.movie = review_movie_name(self.name)
                else:
                    movie[0].abort()
            if daily is not None:
                if readable:
                    daily.close()
                    self._sign(daily.path, daily.path.name, burnins=False, extra={
                        "frames": {"first": self.first, "last": self.last}, "fps": str(self.rate.rate)})
                    shot.prores = review_movie_name(self.name, ".mov")
                else:
                    daily.abort()
        except BaseException:
            if movie is not None:
                movie[0].abort()
            if daily is not None:
                daily.abort()
            raise

    def _not_passed(self, shot: ShotReview, thumbnails: dict[int, Thumbnail]) -> None:
        """Record the frames the pass left out (not on disk): in ``shot.missing`` up to
        ``MAX_LISTED_MISSING`` in all, found between the frames on disk without going through
        the range, and as missing thumbnails."""
        for thumbnail in thumbnails.values():
            if thumbnail.file is None and thumbnail.problem is None:
                thumbnail.problem = f"frame {thumbnail.frame} is not on disk"
        missing = set(shot.missing)
        bounds = [self.first - 1, *self.on_disk, self.last + 1]
        for before, after in zip(bounds, bounds[1:], strict=False):
            if len(missing) >= MAX_LISTED_MISSING:
                break
            missing.update(range(before + 1, min(after, before + 1 + MAX_LISTED_MISSING - len(missing))))
        shot.missing = sorted(missing)[:MAX_LISTED_MISSING]

    def _open_movie(self, staging: Path, size: tuple[int, int]):
        layout = BurnInLayout.for_picture(*preview_size(*size, min_width=MOVIE_WIDTH[0], max_width=MOVIE_WIDTH[1]))
        writer = MovieWriter(staging / review_movie_name(self.name), size=layout.frame_size,
                             rate=self.rate.rate, metadata=movie_tags(self.name, self.generation), audio=self.sound)
        return writer, layout, top_bar(layout, self.name, ai_mark=self.ai_mark)

    def _open_daily(self, staging: Path, size: tuple[int, int]) -> MovieWriter:
        """The ProRes 422 HQ daily: every frame (handles too) at the render's size (even: 4:2:2),
        no burn-ins, starting at its first frame's source timecode on the edit's reel."""
        width, height = size[0] - size[0] % 2, size[1] - size[1] % 2
        return MovieWriter(staging / review_movie_name(self.name, ".mov"), size=(width, height),
                           rate=self.rate.rate, metadata=movie_tags(self.name, self.generation),
                           movie_format=PRORES_HQ, timecode=self._timecode(self.first),
                           reel=str(self.entry.job.reel or "") or None, audio=self.sound)

    def _thumbnail(self, staging: Path, thumbnail: Thumbnail, picture: np.ndarray | None,
                   problem: str | None) -> None:
        from PIL import Image

        if picture is None:
            thumbnail.problem = problem or "missing"
            return
        size = preview_size(picture.shape[1], picture.shape[0], min_width=THUMB_WIDTH[0], max_width=THUMB_WIDTH[1])
        relative = review_thumbnail_name(self.name, thumbnail.frame)
        path = staging / relative
        tags = movie_tags(self.name, self.generation)
        try:
            Image.fromarray(resize(picture, size)).save(path, format="JPEG", quality=92,
                                                         comment=tags["comment"].encode("utf-8"))
        except OSError as exc:
            raise ReviewError(f"cannot write {path}: {exc.strerror or exc}") from None
        self._sign(path, path.name, burnins=False, extra={"frame": thumbnail.frame})
        thumbnail.file = relative

    def _sign(self, path: Path, title: str, *, burnins: bool, extra: dict[str, Any]) -> None:
        if self.identity is None:
            return
        manifest = manifest_definition(title=title, generation={**self.generation, **extra},
                                       extra_actions=view_actions(self.display, self.colorspace, burnins=burnins))
        sign_file(self.identity, path, manifest)
