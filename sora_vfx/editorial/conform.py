"""Write the conform timeline: the edit with each rendered shot pointing at its EXR sequence."""

from __future__ import annotations

import copy
import logging
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import opentimelineio as otio

from ..errors import ConfigError, RenderError
from ..files import write_atomically
from ..layout import CONFORM_NAME, EDITOR_CONFORM_NAMES, FRAME_EXTENSION, FRAME_PADDING, shot_folder, sound_path
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
    """
    conformed = copy.deepcopy(timeline)
    # deepcopy keeps the tree's shape, so clips are found again by their position.
    originals = list(timeline.find_clips())
    copies = list(conformed.find_clips())
    position = {id(clip): index for index, clip in enumerate(originals)}
    for job in jobs:
        if job.name not in rendered:
            continue
        clip = copies[position[id(clips[job.name])]]
        clip.media_reference = sequence_reference(job, shot_folder(out_dir, job.name))
        clip.source_range = otio.opentime.TimeRange(
            otio.opentime.RationalTime(job.cut_in, job.fps),
            otio.opentime.RationalTime(job.duration, job.fps),
        )
        clip.effects[:] = [e for e in clip.effects if not isinstance(e, otio.schema.TimeEffect)]
        clip.metadata["sora_vfx"] = {
            "speed": job.speed,
            "shot": job.name,
            "prompt": job.prompt,
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
                    kind: str) -> otio.schema.Timeline:
    """The conform as an editor's format can hold it (``fcp_xml``, ``cmx_3600``).

    Each rendered clip is named after its shot. For FCP XML its media is the sequence's first
    frame (Premiere and Resolve import the numbered files from it); clips whose media the edit
    never located stay offline under their own name. An EDL cannot point at files: its event
    keeps the edit's reel and source timecodes (the rendered frames carry the same timecodes in
    their headers) and names the sequence in a ``FROM CLIP`` comment.
    """
    edl, aaf = kind == "edl", kind == "aaf"
    timeline = copy.deepcopy(conformed)
    # The editors' formats carry the pictures; the sound track is OTIO's (renders.otio).
    timeline.tracks[:] = [track for track in timeline.tracks if track.name != SOUND_TRACK]
    by_name = {job.name: job for job in jobs}
    _place_record_start(timeline, jobs)
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
    for clip in timeline.find_clips():
        shot = (clip.metadata.get("sora_vfx") or {}).get("shot")
        job = by_name.get(shot) if shot in rendered else None
        reference = clip.media_reference
        if job is not None:
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
            _name_marker(clip, job)
            if aaf:
                # OTIO's AAF writer keeps no markers: the shot's name, sequence, prompt and seed
                # become the master clip's user comments (Avid's bin columns), which sora_vfx reads.
                clip.metadata["AAF"] = {"UserComments": {
                    "Shot": job.name, "Prompt": job.prompt, "Seed": str(job.seed),
                    "Sequence": _sequence_path(reference)}}
        elif not edl and isinstance(reference, otio.schema.MissingReference):
            clip.media_reference = otio.schema.ExternalReference(target_url=clip.name,
                                                                 available_range=clip.source_range)
        elif not edl and reference.available_range is None:
            reference.available_range = clip.source_range
        if aaf:
            aaf_metadata = clip.metadata.setdefault("AAF", {})
            if "MobID" not in aaf_metadata:
                aaf_metadata["MobID"] = _new_mob_id()
    return timeline


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


def _place_record_start(timeline: otio.schema.Timeline, jobs: list[ShotJob]) -> None:
    """Give the timeline the edit's record start (an EDL's 01:00:00:00 is in its events, not
    in OTIO's timeline), so that an XML sequence starts at the same timecode."""
    if timeline.global_start_time is not None or not jobs:
        return
    positions = {(clip.metadata.get("sora_vfx") or {}).get("shot"): clip for clip in timeline.find_clips()}
    for job in jobs:
        clip = positions.get(job.name)
        if clip is not None:
            start = otio.opentime.from_timecode(job.record_in, job.fps) - clip.range_in_parent().start_time
            if start.value >= 0:
                timeline.global_start_time = start
            return


def _name_marker(clip: otio.schema.Clip, job: ShotJob) -> None:
    """A marker naming the shot at the clip's first frame (an EDL's LOC), unless it has one or
    its name is the one sora_vfx numbers it by anyway: an editor's format keeps markers, and
    sora_vfx reads them back as the shot's name."""
    if job.source.get("name") == NUMBERED or any(marker.name == job.name for marker in clip.markers):
        return
    clip.markers.append(otio.schema.Marker(
        name=job.name, color=otio.schema.MarkerColor.YELLOW,
        marked_range=otio.opentime.TimeRange(clip.source_range.start_time,
                                             otio.opentime.RationalTime(0, job.fps))))


def write_conforms(conformed: otio.schema.Timeline, out_dir: Path, formats: tuple[str, ...], *,
                   jobs: list[ShotJob], rendered: set[str]) -> list[Path]:
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
                timeline = editor_timeline(conformed, jobs, rendered=rendered, kind=name)
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


class _AdapterCannot(Exception):
    """An OTIO adapter refused to write a timeline (not an I/O failure)."""
