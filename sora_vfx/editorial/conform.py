"""Write the conform timeline: the edit with each rendered shot pointing at its EXR sequence."""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import opentimelineio as otio

from ..errors import ConfigError, RenderError
from ..files import write_atomically
from ..layout import CONFORM_NAME, EDITOR_CONFORM_NAMES, FRAME_EXTENSION, FRAME_PADDING, shot_folder, sound_path
from ..text import multi_line, one_line
from .annotations import FCP_COMMENT_SLOTS, comment_field
from .rates import FrameRate
from .shotjob import ShotJob
from .shots import NUMBERED

log = logging.getLogger("sora_vfx")

#: Conform formats: name -> (OTIO adapter, file name in OUT). ``otio`` is always written.
CONFORM_FORMATS = {"otio": ("otio_json", CONFORM_NAME), "xml": ("fcp_xml", EDITOR_CONFORM_NAMES["xml"]),
                   "edl": ("cmx_3600", EDITOR_CONFORM_NAMES["edl"]), "aaf": ("AAF", EDITOR_CONFORM_NAMES["aaf"])}
#: The conform format of an edit's own file type, written besides OTIO by default.
EDIT_FORMATS = {".edl": "edl", ".xml": "xml", ".aaf": "aaf"}


def conform_formats(requested: str | None, edit: Path) -> tuple[str, ...]:
    """The formats to write: ``requested`` ("otio,xml,edl"), or OTIO plus the edit's own
    format. OTIO always comes first: the farm and ``--conform-only`` read it.

    Raises:
        ConfigError: an unknown format.
    """
    if requested is None or not str(requested).strip():
        names = ["otio", EDIT_FORMATS.get(Path(edit).suffix.lower(), "otio")]
    else:
        names = [name.strip().lower() for name in str(requested).split(",") if name.strip()]
    unknown = [name for name in names if name not in CONFORM_FORMATS]
    if unknown:
        raise ConfigError(f"--conform {', '.join(unknown)}: choose from {', '.join(CONFORM_FORMATS)} "
                          "(comma-separated)")
    return tuple(dict.fromkeys(["otio", *names]))


def sequence_reference(job: ShotJob, shot_dir: Path) -> otio.schema.ImageSequenceReference:
    """An OTIO reference to the shot's frames in ``shot_dir``, ``head_in..tail_out``."""
    rate = job.fps
    return otio.schema.ImageSequenceReference(
        target_url_base=shot_dir.resolve().as_uri() + "/",
        name_prefix=f"{job.name}.",
        name_suffix=FRAME_EXTENSION,
        start_frame=job.head_in,
        frame_step=1,
        rate=rate,
        frame_zero_padding=FRAME_PADDING,
        available_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(job.head_in, rate),
            otio.opentime.RationalTime(job.frame_count, rate),
        ),
    )


def conform_timeline(
    timeline: otio.schema.Timeline,
    clips: dict[str, otio.schema.Clip],
    jobs: list[ShotJob],
    out_dir: Path,
    *,
    rendered: set[str],
    extra: dict[str, dict] | None = None,
) -> otio.schema.Timeline:
    """A copy of ``timeline`` whose rendered shots' clips play their EXR sequences.

    The clip keeps its place and length in the edit; its source range now runs from the
    shot's ``cut_in`` frame, so handles stay available for trims. Speed effects are dropped:
    the render already has one frame per frame of the cut (the speed stays in metadata).
    A shot not rendered keeps its clip, and gets its name and prompt in ``metadata["sora_vfx"]``,
    so that the conform read as an edit names it as the edit did (and seeds it the same).
    """
    conformed = copy.deepcopy(timeline)
    # deepcopy keeps the tree's shape, so clips are found again by their position.
    originals = list(timeline.find_clips())
    copies = list(conformed.find_clips())
    position = {id(clip): index for index, clip in enumerate(originals)}
    for job in jobs:
        clip = copies[position[id(clips[job.name])]]
        if job.name not in rendered:
            fields = _shot_fields(job, rendered=False)
            if "prompt" in fields:
                fields["prompt"] = multi_line(fields["prompt"])
            clip.metadata["sora_vfx"] = {**_metadata_copy(clip.metadata, "sora_vfx"), **fields}
            continue
        clip.media_reference = sequence_reference(job, shot_folder(out_dir, job.name))
        clip.source_range = otio.opentime.TimeRange(
            otio.opentime.RationalTime(job.cut_in, job.fps),
            otio.opentime.RationalTime(job.duration, job.fps),
        )
        clip.effects[:] = [e for e in clip.effects if not isinstance(e, otio.schema.TimeEffect)]
        clip.metadata["sora_vfx"] = {
            "speed": job.speed,
            "shot": job.name,
            "prompt": multi_line(job.prompt),
            "seed": job.seed,
            "first_frame": job.head_in,
            "last_frame": job.tail_out,
            **((extra or {}).get(job.name, {})),
        }
    return conformed


#: The name of the audio track that plays the shots' sound in the conform.
SOUND_TRACK = "sora_vfx sound"


def add_sound_track(timeline: otio.schema.Timeline, jobs: list[ShotJob], out_dir: Path, *,
                    sounded: set[str]) -> None:
    """Add an audio track playing each ``sounded`` shot's sound (``OUT/<shot>/<shot>.wav``,
    head_in..tail_out) under its clip: at the clip's record time, the cut's part of the sound,
    so that handles stay available as they do for the frames. Shots whose clips overlap on
    other video tracks keep the sound of the first; nothing is added when no shot has sound."""
    by_name = {job.name: job for job in jobs}
    placed: list[tuple[otio.opentime.RationalTime, ShotJob]] = []
    for clip in timeline.find_clips():
        shot = (clip.metadata.get("sora_vfx") or {}).get("shot")
        if shot in sounded and shot in by_name and isinstance(clip.parent(), otio.schema.Track) \
                and clip.parent().kind == otio.schema.TrackKind.Video:
            placed.append((clip.range_in_parent().start_time, by_name[shot]))
    if not placed:
        return
    track = otio.schema.Track(name=SOUND_TRACK, kind=otio.schema.TrackKind.Audio)
    end = None
    for start, job in sorted(placed, key=lambda item: item[0].to_seconds()):
        rate = job.fps
        start = start.rescaled_to(rate)
        if end is not None and start < end:
            continue
        gap = start - (end if end is not None else otio.opentime.RationalTime(0, rate))
        if gap.value > 0:
            track.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(duration=gap)))
        reference = otio.schema.ExternalReference(
            target_url=sound_path(out_dir, job.name).resolve().as_uri(),
            available_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, rate),
                                                    otio.opentime.RationalTime(job.frame_count, rate)))
        track.append(otio.schema.Clip(
            name=job.name, media_reference=reference, metadata={"sora_vfx": {"shot": job.name, "sound": True}},
            source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(job.cut_in - job.head_in, rate),
                                                 otio.opentime.RationalTime(job.duration, rate))))
        end = start + otio.opentime.RationalTime(job.duration, rate)
    timeline.tracks.append(track)


def write_conform(timeline: otio.schema.Timeline, path: Path) -> Path:
    """Write the conform timeline as an .otio file, atomically.

    Raises:
        RenderError: the file cannot be written.
    """
    return write_atomically(
        Path(path), lambda temporary: otio.adapters.write_to_file(timeline, str(temporary), adapter_name="otio_json"),
        what="conform timeline", error=RenderError)


def editor_timeline(conformed: otio.schema.Timeline, jobs: list[ShotJob], *, rendered: set[str],
                    kind: str, record_rate: FrameRate | None = None) -> otio.schema.Timeline:
    """The conform as an editor's format can hold it (``fcp_xml``, ``cmx_3600``, ``AAF``).

    Each rendered clip is named after its shot. For FCP XML its media is the sequence's first
    frame (Premiere and Resolve import the numbered files from it); clips whose media the edit
    never located stay offline under their own name. An EDL cannot point at files: its event
    keeps the edit's reel and source timecodes (the rendered frames carry the same timecodes in
    their headers) and names the sequence in a ``FROM CLIP`` comment.

    Every shot, rendered or not, keeps its name when the file is read back as an edit: a
    marker with the name at the clip's record position comes before the editor's markers (an
    EDL also gets ``* SHOT:``, ``* PROMPT:`` and ``* SEED:`` comments, an AAF the ``Shot``,
    ``Prompt`` and ``Seed`` bin columns beside the editor's own). Every text the file holds
    follows the one-line rule (:mod:`sora_vfx.text`).

    ``record_rate``: the rate the jobs' record timecodes are counted in (``Edit.record_rate``);
    None where every clip plays at it (each job's own ``fps`` is taken).
    """
    edl, aaf = kind == "edl", kind == "aaf"
    timeline = copy.deepcopy(conformed)
    # The editors' formats carry the pictures; the sound track is OTIO's (renders.otio).
    timeline.tracks[:] = [track for track in timeline.tracks if track.name != SOUND_TRACK]
    by_name = {job.name: job for job in jobs}
    _place_record_start(timeline, jobs, record_rate)
    if edl and timeline.global_start_time is not None:
        # OTIO's CMX 3600 writer reads the record start from each track's trim, as its reader writes it.
        for track in timeline.tracks:
            if track.source_range is None:
                track.source_range = otio.opentime.TimeRange(-timeline.global_start_time, track.duration())
        timeline.global_start_time = None
    if not edl:
        # FCP XML and AAF get no generated black: an EDL's black event (BL) becomes the gap it shows.
        for clip in list(timeline.find_clips()):
            if isinstance(clip.media_reference, otio.schema.GeneratorReference):
                track = clip.parent()
                track[track.index(clip)] = otio.schema.Gap(source_range=clip.source_range)
    mob_ids: set[str] = set()
    for clip in timeline.find_clips():
        ours = clip.metadata.get("sora_vfx")
        job = by_name.get(ours.get("shot")) if isinstance(ours, Mapping) else None
        done = job is not None and job.name in rendered
        reference = clip.media_reference
        if done:
            clip.name = job.name
            if edl and isinstance(reference, otio.schema.ImageSequenceReference):
                start = otio.opentime.from_timecode(job.source_in, job.fps)
                clip.source_range = otio.opentime.TimeRange(start, otio.opentime.RationalTime(job.duration, job.fps))
                # The cut's frames, as the adapter names a sequence: .../SH010.[1009-1056].exr
                padding = reference.frame_zero_padding
                frames = f"[{job.cut_in:0{padding}d}-{job.cut_out:0{padding}d}]"
                clip.media_reference = otio.schema.ExternalReference(
                    target_url=f"{reference.target_url_base}{reference.name_prefix}{frames}{reference.name_suffix}")
            elif isinstance(reference, otio.schema.ImageSequenceReference):
                clip.media_reference = otio.schema.ExternalReference(
                    target_url=reference.target_url_for_image_number(0), available_range=reference.available_range)
        elif not edl and isinstance(reference, otio.schema.MissingReference):
            clip.media_reference = otio.schema.ExternalReference(target_url=clip.name,
                                                                 available_range=clip.source_range)
        elif not edl and reference.available_range is None:
            reference.available_range = clip.source_range
        if job is not None:
            _name_marker(clip, job, record_rate)
            fields = _shot_fields(job, rendered=done)
            if edl:
                _edl_comments(clip, fields)
            if kind == "xml":
                _fcp_comments(clip, fields)
            if aaf:
                # OTIO's AAF writer keeps no markers: the shot's name, sequence, prompt and seed
                # become the master clip's user comments (Avid's bin columns), which sora_vfx reads.
                _aaf_columns(clip, fields, _sequence_path(reference) if done else None)
        if edl:
            _edl_reel(clip, job)
        if aaf:
            aaf_metadata = clip.metadata.setdefault("AAF", {})
            # A master clip holds one set of bin columns: a shot whose clip shares its master
            # clip with an earlier shot's gets a master clip of its own, or it reads back with
            # the other shot's name.
            if "MobID" not in aaf_metadata or (job is not None and str(aaf_metadata["MobID"]) in mob_ids):
                aaf_metadata["MobID"] = _new_mob_id()
            if job is not None:
                mob_ids.add(str(aaf_metadata["MobID"]))
    _one_line_texts(timeline, kind)
    return timeline


def _metadata_copy(metadata: Mapping, namespace: str) -> dict:
    """A copy of ``metadata[namespace]`` to change and put back; empty when it is missing or
    is not a mapping (an edit's metadata is the editor's, and may hold anything)."""
    value = metadata.get(namespace)
    return dict(value) if isinstance(value, Mapping) else {}


def _shot_fields(job: ShotJob, *, rendered: bool) -> dict[str, object]:
    """What the conform says of a shot besides its pictures: its name, its prompt (when it has
    one) and its seed (when rendered, or when the edit or shot sheet gave it), as read back."""
    fields: dict[str, object] = {"shot": job.name}
    if job.prompt:
        fields["prompt"] = job.prompt
    if rendered or not str(job.source.get("seed", "")).startswith("derived from"):
        fields["seed"] = job.seed
    return fields


def _edl_comments(clip: otio.schema.Clip, fields: dict[str, object]) -> None:
    """``* SHOT:``, ``* PROMPT:`` and ``* SEED:`` comments (one line each) for the EDL, in place
    of any the edit's own comments set the same fields with (a prompt would be read twice)."""
    edl = _metadata_copy(clip.metadata, "cmx_3600")
    comments = edl.get("comments")
    comments = [comments] if isinstance(comments, str) else list(comments) if isinstance(comments, Sequence) else []
    kept = [str(comment) for comment in comments if not _sets_one_of(str(comment), fields)]
    edl["comments"] = [*kept, *_field_lines(fields)]
    clip.metadata["cmx_3600"] = edl


def _field_lines(fields: dict[str, object]) -> list[str]:
    """``SHOT: ...``, ``PROMPT: ...``, ``SEED: ...``: the shot's fields as comment lines, one line each."""
    return [f"{key.upper()}: {one_line(value).strip()}" for key, value in fields.items() if one_line(value).strip()]


def _sets_one_of(line: str, fields: dict[str, object]) -> bool:
    """Whether an edit's comment line sets one of ``fields``, judged as written: the one-line
    rule can make a line that set no field (a control character before ``* SHOT:``) into one
    that does."""
    return comment_field(one_line(line).strip()) in fields


def _fcp_comments(clip: otio.schema.Clip, fields: dict[str, object]) -> None:
    """``SHOT:``, ``PROMPT:`` and ``SEED:`` lines in the clip item's comments (the first free of
    Master Comment 1-4 and Comment A and B), in place of any lines of the edit's own comments
    that set the same fields; the editor's other lines stay where they were."""
    fcp = _metadata_copy(clip.metadata, "fcp_xml")
    comments = _metadata_copy(fcp, "comments")
    for slot in FCP_COMMENT_SLOTS:
        if isinstance(comments.get(slot), str):
            comments[slot] = "\n".join(line for line in comments[slot].splitlines() if not _sets_one_of(line, fields))
    ours = "\n".join(_field_lines(fields))
    free = next((slot for slot in FCP_COMMENT_SLOTS if not str(comments.get(slot) or "").strip()), None)
    if free is None:  # every slot holds the editor's text: ours follow it in the last
        free = FCP_COMMENT_SLOTS[-1]
        ours = f"{comments[free]}\n{ours}"
    comments[free] = ours
    fcp["comments"] = {slot: text for slot, text in comments.items() if text != ""}
    clip.metadata["fcp_xml"] = fcp


_NOT_REEL = re.compile(r"[^\w.-]+")
_NOT_WORD = re.compile(r"\W+")


def _edl_reel(clip: otio.schema.Clip, job: ShotJob | None) -> None:
    """The event's reel as one word of letters, digits, ``_``, ``-`` and ``.``, other runs
    written ``_`` (a space would shift the event's fields, a colon read as a timecode): the
    edit's reel, else the shot's tape name, else AX (no known source). A reel that reads as
    black or bars (BL, BLACK, BARS) is AX unless the clip is black or bars."""
    edl = _metadata_copy(clip.metadata, "cmx_3600")
    reel = _NOT_REEL.sub("_", one_line(edl.get("reel") or (job.reel if job is not None else ""))).strip("_")
    generated = isinstance(clip.media_reference, otio.schema.GeneratorReference)
    if not reel or (reel.upper() in ("BL", "BLACK", "BARS") and not generated):
        reel = "AX"
    edl["reel"] = reel
    clip.metadata["cmx_3600"] = edl


#: Avid's bin column the conform writes for each field of :func:`_shot_fields`.
_AAF_COLUMNS = {"shot": "Shot", "prompt": "Prompt", "seed": "Seed"}


def _aaf_columns(clip: otio.schema.Clip, fields: dict[str, object], sequence: str | None) -> None:
    """The shot's bin columns on its master clip, beside the editor's own (``Comments`` too);
    an editor's column of the same name (any case) gives way to ours."""
    aaf = _metadata_copy(clip.metadata, "AAF")
    ours = {_AAF_COLUMNS[key]: str(value) for key, value in fields.items()}
    if sequence is not None:
        ours["Sequence"] = sequence
    taken = {name.lower() for name in ours}
    kept = {key: value for key, value in _metadata_copy(aaf, "UserComments").items()
            if str(key).strip().lower() not in taken}
    aaf["UserComments"] = {**kept, **ours}
    clip.metadata["AAF"] = aaf


#: Avid's bin columns whose text is lines (sora_vfx reads ``PROMPT:`` lines from them).
_AAF_LINE_COLUMNS = ("comments", "comment")


def _one_line_texts(timeline: otio.schema.Timeline, kind: str) -> None:
    """Apply the one-line rule (:mod:`sora_vfx.text`) to every text of ``timeline`` that the
    ``kind`` writer puts in a file: names of the timeline, tracks, items, markers and media,
    media URLs, marker colours, and the writer's metadata (an EDL's comments, reel and CDL; an
    AAF's bin columns, ``Comments`` keeping its lines; FCP XML's own metadata, keeping lines)."""
    timeline.name = one_line(timeline.name)
    for item in [timeline.tracks, *timeline.tracks.find_children()]:
        item.name = one_line(item.name)
        for marker in getattr(item, "markers", ()):
            marker.name = one_line(marker.name)
            # An EDL locator's colour is one word before its text.
            marker.color = _NOT_WORD.sub("_", one_line(marker.color)).strip("_") if kind == "edl" \
                else one_line(marker.color)
            _clean_metadata(marker.metadata, kind)
        _clean_metadata(item.metadata, kind)
        if isinstance(item, otio.schema.Clip):
            for reference in item.media_references().values():
                reference.name = one_line(reference.name)
                if isinstance(reference, otio.schema.ExternalReference):
                    reference.target_url = one_line(reference.target_url)
                _clean_metadata(reference.metadata, kind)


#: The metadata each editor's writer reads: namespace -> the rule its text follows.
_WRITTEN_METADATA = {"edl": {"cmx_3600": one_line, "cdl": one_line},
                     "xml": {"fcp_xml": multi_line},
                     "aaf": {"AAF": one_line}}


def _clean_metadata(metadata, kind: str) -> None:
    for namespace, rule in _WRITTEN_METADATA.get(kind, {}).items():
        value = metadata.get(namespace)
        if value is not None:
            metadata[namespace] = _cleaned(value, rule)


def _cleaned(value, rule, key: str = ""):
    """``value`` with every text in it through ``rule``; an AAF ``Comments`` column keeps its lines."""
    if isinstance(value, str):
        return (multi_line if key.strip().lower() in _AAF_LINE_COLUMNS else rule)(value)
    if isinstance(value, Mapping):
        return {one_line(name): _cleaned(item, rule, str(name)) for name, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, bytes):
        return [_cleaned(item, rule) for item in value]
    return value


def _sequence_path(reference: otio.schema.MediaReference) -> str:
    """``/renders/SH010/SH010.####.exr`` of an image sequence reference; "" for other media."""
    if not isinstance(reference, otio.schema.ImageSequenceReference):
        return ""
    folder = url2pathname(urlparse(reference.target_url_base).path)
    return f"{folder}{reference.name_prefix}{'#' * reference.frame_zero_padding}{reference.name_suffix}"


def _new_mob_id() -> str:
    """A new SMPTE UMID for a master clip the AAF writer makes (it needs one per clip)."""
    from aaf2.mobid import MobID

    return str(MobID.new())


def _record_time(job: ShotJob, record_rate: FrameRate | None) -> otio.opentime.RationalTime:
    """Where ``job``'s cut starts in the edit: its record timecode, read at the rate it is
    counted in (the timeline's, which a clip at another rate does not share)."""
    return otio.opentime.from_timecode(job.record_in, record_rate.fps if record_rate is not None else job.fps)


def _place_record_start(timeline: otio.schema.Timeline, jobs: list[ShotJob], record_rate: FrameRate | None) -> None:
    """Give the timeline the edit's record start (an EDL's 01:00:00:00 is in its events, not
    in OTIO's timeline), so that an XML sequence starts at the same timecode."""
    if timeline.global_start_time is not None or not jobs:
        return
    positions = {(clip.metadata.get("sora_vfx") or {}).get("shot"): clip for clip in timeline.find_clips()}
    for job in jobs:
        clip = positions.get(job.name)
        if clip is not None:
            start = _record_time(job, record_rate) - clip.range_in_parent().start_time
            if start.value >= 0:
                timeline.global_start_time = start
            return


def _name_marker(clip: otio.schema.Clip, job: ShotJob, record_rate: FrameRate | None) -> None:
    """A marker naming the shot, first among the clip's markers (so that an editor's one-word
    note does not name the shot when the file is read back), at the clip's record position,
    as an editor's locator sits; unless its name is the one sora_vfx numbers it by anyway."""
    if job.source.get("name") == NUMBERED:
        return
    others = [marker for marker in clip.markers if marker.name != job.name]
    start = _record_time(job, record_rate)
    clip.markers[:] = [otio.schema.Marker(
        name=job.name, color=otio.schema.MarkerColor.YELLOW,
        marked_range=otio.opentime.TimeRange(start, otio.opentime.RationalTime(0, start.rate))), *others]


def write_conforms(conformed: otio.schema.Timeline, out_dir: Path, formats: tuple[str, ...], *,
                   jobs: list[ShotJob], rendered: set[str], record_rate: FrameRate | None = None) -> list[Path]:
    """Write the conform in each format into ``out_dir``; returns the files written.

    OTIO failing is an error; an editor's format that OTIO's adapter cannot write for this edit
    (a construct it does not support) is a warning naming it, and the render still succeeds.

    Raises:
        RenderError: the OTIO conform cannot be written.
    """
    written = [write_conform(conformed, Path(out_dir) / CONFORM_NAME)]
    for name in formats:
        if name == "otio":
            continue
        adapter, file_name = CONFORM_FORMATS[name]

        def write(temporary: Path, name: str = name, adapter: str = adapter) -> None:
            try:
                timeline = editor_timeline(conformed, jobs, rendered=rendered, kind=name, record_rate=record_rate)
                if name == "edl":
                    # One rate for every event: the edit's record rate. OTIO's writer would take
                    # the first track's, which a clip at another rate can change (29.97 on a 24 cut).
                    rate = {"rate": record_rate.fps} if record_rate is not None else {}
                    text = otio.adapters.write_to_string(timeline, adapter_name=adapter, **rate)
                    Path(temporary).write_text(_once_per_shot(text), encoding="utf-8")
                else:
                    otio.adapters.write_to_file(timeline, str(temporary), adapter_name=adapter)
            except OSError:
                raise
            except Exception as exc:  # an adapter's limits surface as many exception types
                first = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
                raise _AdapterCannot(f"{type(exc).__name__}: {first}" if first else type(exc).__name__) from exc

        try:
            written.append(write_atomically(Path(out_dir) / file_name, write, what=f"conform {file_name}",
                                            error=RenderError, suffix=Path(file_name).suffix))
        except RenderError as exc:
            if not isinstance(exc.__cause__, _AdapterCannot):
                raise
            log.warning("conform %s not written: OTIO's %s adapter cannot write this edit: %s", file_name, adapter,
                        exc.__cause__)
    return written


_EVENT_NUMBER = re.compile(r"(\d+)\s")
#: The comments :func:`_edl_comments` writes after ``* SHOT:``, in that order.
_SHOT_LINES = ("* PROMPT: ", "* SEED: ")


def _once_per_shot(edl: str) -> str:
    """The EDL without a shot's ``* SHOT:`` block (and its ``PROMPT``, ``SEED``) in an event
    after the shot's own, nor its name locator there: OTIO's writer repeats a dissolve's
    outgoing clip's comments in the dissolve's event, whose comments all belong to the incoming
    clip when the EDL is read (the locator would read back as a note on the incoming shot)."""
    kept: list[str] = []
    earlier: set[str] = set()  # the shots of the events before this one, casefolded
    this_event: set[str] = set()
    number, skipping, outgoing = None, False, False
    for line in edl.split("\n"):
        event = _EVENT_NUMBER.match(line)
        if event and event.group(1) != number:
            earlier |= this_event
            this_event, number, outgoing = set(), event.group(1), False
        elif event:  # the event's second line: a dissolve, whose outgoing clip's comments follow
            outgoing = True
        elif line.startswith("* TO CLIP NAME:"):
            outgoing = False
        if line.startswith("* SHOT: "):
            shot = line.removeprefix("* SHOT: ").strip()
            skipping = shot.casefold() in earlier
            this_event.add(shot.casefold())
        elif not (skipping and line.startswith(_SHOT_LINES)):
            skipping = False
        repeated_name = outgoing and line.startswith("* LOC: ") and line.split()[-1].casefold() in earlier
        if not skipping and not repeated_name:
            kept.append(line)
    return "\n".join(kept)


class _AdapterCannot(Exception):
    """An OTIO adapter refused to write a timeline (not an I/O failure)."""
