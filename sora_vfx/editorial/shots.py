"""Turn an edit into shot jobs: every video clip on the chosen video tracks is one shot."""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path

import opentimelineio as otio

from .. import defaults
from ..errors import ConfigError, EditError, ShotSheetError
from ..seeds import parse_seed, shot_seed
from .annotations import Annotations, items_of, read_annotations
from .links import check_links
from .rates import VALID_RATE_NAMES, FrameRate, rate_from_float, timecode_counts, to_timecode
from .reader import EditSource, parse_edit_file
from .shotjob import ShotJob, shot_name_length_problem, shot_name_problem
from .shotsheet import read_shot_sheet

log = logging.getLogger("sora_vfx")



@dataclass
class _Cut:
    """A video clip's place in the edit, before names and annotations are resolved."""

    clip: otio.schema.Clip
    track: str
    track_order: int
    rate: FrameRate
    #: The rate record positions are counted in (the timeline's): ``record_in``, ``record_out``.
    record_rate: FrameRate
    record_in: int
    record_out: int
    duration: int
    source_in: int
    head_extra: int
    tail_extra: int
    speed: float
    where: str
    record_timecode: str
    edl_comments: list[str] | None  # annotation comments the reader took out of the EDL


@dataclass(frozen=True)
class EditOptions:
    """How an edit is read into shots; the same for ``shots``, ``render`` and a farm export.

    Attributes:
        fps: frame rate of an EDL (24 when None); files that carry a rate use their own.
        handles: extra frames rendered before and after the cut.
        start_frame: frame number of each shot's first frame (``head_in``).
        shot_sheet: a TOML shot sheet whose entries override the edit's annotations.
        tracks: video tracks to read, by name or ``V1``/``1``; all video tracks when empty.
        shot_pattern: a regex a LOC marker's text must match to be taken as a shot name.
        project_seed: the seed every shot's seed is derived from.
        max_shot_frames: the most frames a shot may have, handles included: a longer one is
            refused when the edit is read (a damaged or hostile edit can claim 10^12 frames).
    """

    fps: FrameRate | str | float | None = None
    handles: int = defaults.HANDLES
    start_frame: int = defaults.START_FRAME
    shot_sheet: Path | None = None
    tracks: tuple[str, ...] = ()
    shot_pattern: str | None = None
    project_seed: int = 0
    max_shot_frames: int = defaults.MAX_SHOT_FRAMES


@dataclass
class Edit:
    """An edit as read: the OTIO timeline, its shots, and each shot's clip in that timeline."""

    path: Path
    timeline: otio.schema.Timeline
    jobs: list[ShotJob]
    clips: dict[str, otio.schema.Clip]
    #: The rate the shots' ``record_in`` and ``record_out`` are counted in (the timeline's; a
    #: clip's own ``fps`` may differ), which the conform places them with.
    record_rate: FrameRate


def read_shots(path: str | Path, **options) -> list[ShotJob]:
    """The shots of an edit in edit order; ``options`` are ``EditOptions`` fields.

    Raises:
        EditError, ShotSheetError, ConfigError: as ``read_edit``.
    """
    if "tracks" in options:
        options["tracks"] = tuple(options["tracks"] or ())
    return read_edit(path, EditOptions(**options)).jobs


def read_edit(path: str | Path, options: EditOptions | None = None) -> Edit:
    """Read an edit (EDL, OTIO, FCP XML, ...): its timeline and its shots in edit order.

    Raises:
        EditError, ShotSheetError, ConfigError: bad input, with the file and event named.
    """
    options = options or EditOptions()
    path = Path(path)
    if options.handles < 0:
        raise ConfigError(f"handles must be 0 or more, not {options.handles}")
    if options.start_frame < 0:
        raise ConfigError(f"start frame must be 0 or more, not {options.start_frame}")
    pattern = _compile_pattern(options.shot_pattern)
    timeline, source = parse_edit_file(path, fps=options.fps)
    cuts, skipped = _find_cuts(timeline, source, list(options.tracks) or None)
    if not cuts:
        detail = ", ".join(f"{count} {what}" for what, count in skipped.items() if count)
        raise EditError(f"{path}: no video shots in this edit" + (f" ({detail} skipped)" if detail else ""))
    jobs = [
        _make_job(cut, index, path, pattern, options.handles, options.start_frame)
        for index, cut in enumerate(cuts, start=1)
    ]
    for job, cut in zip(jobs, cuts, strict=True):
        if job.frame_count > options.max_shot_frames:
            raise EditError(f"{path}, {cut.where}: shot {job.name} is {job.frame_count} frames long with its "
                            f"handles, more than the {options.max_shot_frames} a shot may have (max shot frames)")
    if options.shot_sheet is not None:
        _apply_shot_sheet(jobs, Path(options.shot_sheet))
    for job in jobs:
        _finish_seed(job, options.project_seed)
    _check_unique(jobs, path)
    check_links(jobs, path)
    return Edit(path, timeline, jobs, {job.name: cut.clip for job, cut in zip(jobs, cuts, strict=True)},
                cuts[0].record_rate)


def _compile_pattern(shot_pattern: str | None) -> re.Pattern[str] | None:
    if not shot_pattern:
        return None
    try:
        return re.compile(shot_pattern)
    except re.error as exc:
        raise ConfigError(f"--shot-pattern {shot_pattern!r} is not a valid regex: {exc}") from None


def _tracks(timeline: otio.schema.Timeline, path: Path) -> list[otio.schema.Track]:
    """The timeline's tracks, with the tracks of stacks nested among them (legal OTIO) in
    their place; a nested stack starts where the timeline does, so times need no shift."""
    found: list[otio.schema.Track] = []

    def visit(stack: otio.schema.Stack) -> None:
        for child in stack:
            if isinstance(child, otio.schema.Track):
                found.append(child)
            elif isinstance(child, otio.schema.Stack):
                trim = child.source_range
                if trim is not None and trim.start_time.value != 0:
                    raise EditError(f"{path}: nested stack {child.name!r} starts {trim.start_time.value} frames in; "
                                    "flatten it in the editor")
                visit(child)

    visit(timeline.tracks)
    return found


def _select_tracks(timeline: otio.schema.Timeline, wanted: list[str] | None, path: Path):
    video = [t for t in _tracks(timeline, path) if t.kind == otio.schema.TrackKind.Video]
    labelled = [(f"V{n}", track) for n, track in enumerate(video, start=1)]
    if not wanted:
        return labelled
    chosen = []
    for spec in wanted:
        key = spec.strip()
        match = [
            (label, t) for label, t in labelled
            if key.upper() in (label, label[1:]) or key == t.name
        ]
        if not match:
            names = ", ".join(f"{label} ({t.name!r})" if t.name else label for label, t in labelled)
            raise EditError(f"{path}: no video track {spec!r}; video tracks: {names or 'none'}")
        chosen.extend(m for m in match if m not in chosen)
    return chosen


def _find_cuts(timeline: otio.schema.Timeline, source: EditSource, wanted: list[str] | None):
    skipped = {"audio clips": 0, "black/bars events": 0, "gaps": 0, "nested sequences": 0}
    tracks = _tracks(timeline, source.path)
    for track in tracks:
        if track.kind != otio.schema.TrackKind.Video:
            skipped["audio clips"] += sum(1 for c in track if isinstance(c, otio.schema.Clip))
    global_start = _global_start(timeline, source)
    record_rate = _record_rate(global_start, tracks, source)
    cuts: list[_Cut] = []
    for order, (label, track) in enumerate(_select_tracks(timeline, wanted, source.path)):
        ranges = _ranges_of_children(track, label, source)
        trim_start = track.source_range.start_time if track.source_range else None
        children = list(track)
        for position, item in enumerate(children):
            _check_not_backwards(ranges[item], item, children[:position], label, source)
            if isinstance(item, otio.schema.Gap):
                skipped["gaps"] += 1
                continue
            if isinstance(item, otio.core.Composition):
                skipped["nested sequences"] += 1
                log.warning("%s: nested sequence %r on %s is skipped; flatten it in the editor",
                            source.path, item.name, label)
                continue
            if not isinstance(item, otio.schema.Clip):
                continue
            if isinstance(item.media_reference, otio.schema.GeneratorReference):
                skipped["black/bars events"] += 1
                continue
            span = ranges[item]
            _check_span(span, item, label, source)
            rate = _rate_of(span.duration, source, f"clip {item.name!r} on {label}")
            record = span.start_time
            if trim_start is not None:
                record = record - trim_start
            if global_start is not None:
                record = record + global_start
            duration = _frames(span.duration, rate)
            if duration == 0:
                continue
            before = children[position - 1] if position > 0 else None
            after = children[position + 1] if position + 1 < len(children) else None
            # The record side is counted in the timeline's rate, the source side (the frames
            # rendered) in the clip's own: a 29.97 clip on a 24 fps timeline keeps its place.
            on_record = record_rate or rate
            record_in = _frames(record, on_record)
            cut = _Cut(
                clip=item,
                track=track.name or label,
                track_order=order,
                rate=rate,
                record_rate=on_record,
                record_in=record_in,
                record_out=_frames(record + span.duration, on_record),
                duration=duration,
                source_in=_frames(item.trimmed_range().start_time, rate),
                head_extra=_frames(before.in_offset, rate) if isinstance(before, otio.schema.Transition) else 0,
                tail_extra=_frames(after.out_offset, rate) if isinstance(after, otio.schema.Transition) else 0,
                speed=_speed(item),
                where="",
                record_timecode=to_timecode(record_in, on_record),
                edl_comments=source.annotation_comments(item),
            )
            cut.where = _where(cut, label, source)
            cuts.append(cut)
    cuts.sort(key=lambda c: (c.record_in, c.track_order))
    return cuts, skipped


def _global_start(timeline: otio.schema.Timeline, source: EditSource) -> otio.opentime.RationalTime | None:
    """The timeline's start time (its record timecode at the first frame), or None; EditError
    when it is not a finite time at or after 00:00:00:00."""
    start = timeline.global_start_time
    if start is not None and not (math.isfinite(start.value) and start.value >= 0 and math.isfinite(start.rate)
                                  and start.rate > 0):
        raise EditError(f"{source.path}: the timeline starts at {start.value} at rate {start.rate}; a timeline "
                        "starts at a finite time, 00:00:00:00 or later, at a positive rate")
    return start


def _record_rate(global_start: otio.opentime.RationalTime | None, tracks: list[otio.schema.Track],
                 source: EditSource) -> FrameRate | None:
    """The rate record positions are counted in: an EDL's; else the timeline's, which is its
    start time's, or where it has none, the first video clip's. None: no clip has a rate."""
    if source.adapter == "cmx_3600" and source.rate is not None:
        return source.rate
    if global_start is not None:
        return _rate_of(global_start, source, "the timeline")
    video = [track for track in tracks if track.kind == otio.schema.TrackKind.Video]
    for number, track in enumerate(video, start=1):
        for item in track:
            if isinstance(item, otio.schema.Clip) and not isinstance(item.media_reference,
                                                                     otio.schema.GeneratorReference):
                try:
                    duration = item.trimmed_range().duration
                except Exception:  # no length: refused with its name when its track is read
                    return None
                if math.isfinite(duration.rate) and duration.rate > 0:
                    return _rate_of(duration, source, f"clip {item.name!r} on V{number}")
                return None
    return None


def _ranges_of_children(track: otio.schema.Track, label: str, source: EditSource) -> dict:
    """Each child's place in ``track``; EditError naming the clip that has no length (no
    source range and no media range), where OTIO's own error names neither."""
    try:
        return track.range_of_all_children()
    except Exception as exc:  # OTIO raises its own types (CannotComputeAvailableRangeError, ...)
        for item in track:
            try:
                item.trimmed_range()
            except Exception:
                raise EditError(f"{source.path}: clip {item.name!r} on {label}: it has no length (no source "
                                "range, and no media range to take one from)") from None
        raise EditError(f"{source.path}: track {label}: cannot place its clips: {exc}") from None


def _check_not_backwards(span: otio.opentime.TimeRange, item, before: list, label: str,
                         source: EditSource) -> None:
    """EditError naming the clip (or the gap, with the clip before it) whose duration is
    negative: it would be dropped and pull every later cut on its track back in time."""
    duration = span.duration
    if not duration.value < 0:
        return
    if isinstance(item, otio.schema.Gap):
        named = [child.name for child in before if isinstance(child, otio.schema.Clip)]
        what = "a gap" + (f" after clip {named[-1]!r}" if named else " at the start")
    else:
        what = f"{type(item).__name__.lower()} {item.name!r}"
    raise EditError(f"{source.path}: {what} on {label} has a negative duration ({duration.value:g} frames at "
                    f"{duration.rate:g} fps); a cut cannot run backwards")


def _check_span(span: otio.opentime.TimeRange, clip: otio.schema.Clip, label: str, source: EditSource) -> None:
    """EditError naming the clip when its place in the edit has no finite time or rate."""
    for what, time in (("start", span.start_time), ("duration", span.duration)):
        if not (math.isfinite(time.value) and math.isfinite(time.rate) and time.rate > 0):
            raise EditError(f"{source.path}: clip {clip.name!r} on {label}: its {what} is {time.value} at rate "
                            f"{time.rate}; a clip needs a finite time at a positive rate")


def _rate_of(time: otio.opentime.RationalTime, source: EditSource, what: str) -> FrameRate:
    """The exact rate of ``time`` (a clip's duration, the timeline's start); an EDL's own.

    Raises:
        EditError: naming ``what``, when SMPTE timecode cannot count frames at that rate (the
            rule ``--fps`` applies).
    """
    if source.adapter == "cmx_3600" and source.rate is not None:
        return source.rate
    exact = rate_from_float(time.rate)
    if not timecode_counts(exact):
        raise EditError(f"{source.path}: {what} is at {time.rate:.10g} fps, a rate SMPTE timecode cannot count; "
                        f"valid: {VALID_RATE_NAMES}")
    drop = bool(source.rate and source.rate.drop_frame and source.rate.rate == exact)
    return FrameRate(exact, drop)


def _frames(time: otio.opentime.RationalTime, rate: FrameRate) -> int:
    return round(time.rescaled_to(rate.fps).value)


def _speed(clip: otio.schema.Clip) -> float:
    speed = 1.0
    for effect in items_of(clip.effects):
        if isinstance(effect, otio.schema.FreezeFrame):
            speed = 0.0
        elif isinstance(effect, otio.schema.LinearTimeWarp):
            speed *= effect.time_scalar
    return speed


def _where(cut: _Cut, label: str, source: EditSource) -> str:
    timecode = cut.record_timecode
    if source.events:
        event = source.event_at_record(timecode)
        if event is not None:
            return f"event {event.number} (line {event.line})"
    return f"clip {cut.clip.name!r} on {label} at {timecode}"


#: Where a shot's name came from when the edit gave it none (``ShotJob.source["name"]``).
NUMBERED = "numbered in edit order"


def _make_job(cut: _Cut, index: int, path: Path, pattern, handles: int, start_frame: int) -> ShotJob:
    found: Annotations = read_annotations(cut.clip, shot_pattern=pattern, edl_comments=cut.edl_comments)
    values, origin = found.values, dict(found.origin)
    head_handles = max(handles, cut.head_extra)
    tail_handles = max(handles, cut.tail_extra)
    cut_in = start_frame + head_handles
    cut_out = cut_in + cut.duration - 1
    name = values.get("shot")
    if name is None:
        name = f"sh{index * 10:03d}"
        origin["shot"] = NUMBERED
    problem = shot_name_problem(name) or shot_name_length_problem(name, last_frame=cut_out + tail_handles)
    if problem:
        raise EditError(f"{path}, {cut.where}: {problem}")
    origin["name"] = origin.pop("shot")
    reference = values.get("reference")
    if reference:
        reference = str((path.parent / reference).resolve())
    job = ShotJob(
        name=name,
        index=index,
        track=cut.track,
        clip_name=cut.clip.name,
        reel=found.reel,
        record_in=cut.record_timecode,
        record_out=to_timecode(cut.record_out, cut.record_rate),
        source_in=to_timecode(cut.source_in, cut.rate),
        source_out=to_timecode(cut.source_in + cut.duration, cut.rate),
        fps=cut.rate.fps,
        rate=str(cut.rate.rate),
        drop_frame=cut.rate.drop_frame,
        duration=cut.duration,
        handles=handles,
        head_handles=head_handles,
        tail_handles=tail_handles,
        head_in=start_frame,
        cut_in=cut_in,
        cut_out=cut_out,
        tail_out=cut_out + tail_handles,
        speed=cut.speed,
        prompt=values.get("prompt", ""),
        negative_prompt=values.get("negative_prompt", ""),
        style=values.get("style") or None,
        reference=reference or None,
        continues=values.get("continues") or None,
        notes=found.notes,
        source=origin,
        where=cut.where,
    )
    if "seed" in values:
        try:
            job.seed = parse_seed(values["seed"])
        except ValueError as exc:
            raise EditError(f"{path}, {cut.where}: shot {name}: {exc}") from None
    return job


def _apply_shot_sheet(jobs: list[ShotJob], sheet: Path) -> None:
    entries = read_shot_sheet(sheet)
    by_name = {job.name: job for job in jobs}
    for key, entry in entries.items():
        job = by_name.get(key)
        if job is None:
            known = ", ".join(list(by_name)[:20]) + (", ..." if len(by_name) > 20 else "")
            raise ShotSheetError(f"{sheet}: [shots.{key}] names a shot that is not in the edit; shots: {known}")
        for field_name, value in entry.items():
            if field_name == "name":
                problem = shot_name_problem(value) or shot_name_length_problem(value, last_frame=job.tail_out)
                if problem:
                    raise ShotSheetError(f"{sheet}: [shots.{key}] {problem}")
            setattr(job, field_name, value)
            job.source[field_name] = f"shot sheet {sheet.name}"


def _finish_seed(job: ShotJob, project_seed: int) -> None:
    if "seed" not in job.source:
        job.seed = shot_seed(project_seed, job.name)
        job.source["seed"] = f"derived from project seed {project_seed}"


def _check_unique(jobs: list[ShotJob], path: Path) -> None:
    """Each shot has a folder of its own, also on the case-insensitive file systems of macOS
    and Windows, where ``SH010`` and ``sh010`` are one folder."""
    seen: dict[str, ShotJob] = {}
    for job in jobs:
        first = seen.setdefault(job.name.casefold(), job)
        if first is job:
            continue
        if first.name == job.name:
            raise EditError(f"{path}: shot name {job.name!r} is used twice: {first.where} and {job.where}")
        raise EditError(f"{path}: shot names {first.name!r} ({first.where}) and {job.name!r} ({job.where}) "
                        "differ only in case, and would share one folder on macOS and Windows")
