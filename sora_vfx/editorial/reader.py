"""Read an edit file into an OTIO timeline through OTIO's own adapters.

OTIO's ``cmx_3600`` adapter is the EDL parser. This module only decides the adapter, turns
adapter failures into ``EditError`` with the file and line, and checks the event lines'
timecodes, which the adapter accepts even when they are impossible (``01:00:61:00``).
"""

from __future__ import annotations

import logging
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import opentimelineio as otio

from ..errors import EditError
from ..text import json_nesting_beyond
from .annotations import is_annotation_comment
from .rates import FrameRate, from_timecode, parse_fps, to_timecode

log = logging.getLogger("sora_vfx")

_EVENT_LINE = re.compile(r"^\s*(\d+)\s+\S")
_TIMECODE = re.compile(r"^(\d{1,2})([:;.])(\d{2})([:;.])(\d{2})([:;.])(\d{2})$")
_DROP_FRAME_FCM = re.compile(r"^\s*FCM\s*:\s*DROP\s+FRAME", re.I)
_CLIP_IN_MESSAGE = re.compile(r"for clip (.+)$")
_LEADING_NUMBER = re.compile(r"[0-9]+")


@dataclass
class EdlEvent:
    number: str
    line: int
    record_in: str
    video: bool


@dataclass
class EditSource:
    """What was read: the file, its format, its rate and (for EDLs) where each event is."""

    path: Path
    adapter: str
    rate: FrameRate | None
    events: list[EdlEvent] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    _by_record: dict[str, EdlEvent] | None = field(default=None, repr=False)
    #: EDL only: each video clip's annotation comments (PROMPT:, SHOT:, ...), which were
    #: read here instead of by OTIO; None when OTIO read them (they are in its metadata).
    _annotations: dict[int, list[str]] | None = field(default=None, repr=False)
    _annotated_clips: list[otio.schema.Clip] = field(default_factory=list, repr=False)

    def annotation_comments(self, clip: otio.schema.Clip) -> list[str] | None:
        """The clip's annotation comments taken from the EDL text, or None when they are in
        the clip's OTIO metadata as usual."""
        if self._annotations is None:
            return None
        return self._annotations.get(id(clip), [])

    def event_at_record(self, record_in: str) -> EdlEvent | None:
        """The last video event starting at ``record_in`` (a dissolve's D line wins)."""
        if self._by_record is None:
            # An index, not a scan per cut: edits of thousands of events stay linear.
            self._by_record = {e.record_in.replace(";", ":"): e for e in self.events if e.video}
        return self._by_record.get(record_in.replace(";", ":"))


def adapter_for(path: Path) -> str:
    """The name of the OTIO adapter that reads ``path``, chosen by its extension (e.g.
    ``cmx_3600`` for ``.edl``).

    Raises:
        EditError: ``path`` is a folder (other than an ``.otiod`` bundle) or has an
            extension no installed adapter reads; the message lists the known ones.
    """
    suffix = path.suffix.lower().lstrip(".")
    if path.is_dir() and suffix != "otiod":
        raise EditError(f"{path}: is a folder, not an edit file")
    try:
        return otio.adapters.from_filepath(str(path)).name
    except Exception:
        known = ", ".join(sorted("." + s for s in otio.adapters.suffixes_with_defined_adapters(read=True)))
        raise EditError(
            f"{path}: unknown edit format {path.suffix or '(no extension)'!r}; known: {known}"
        ) from None


#: How deep objects and lists may nest in an OTIO JSON file. Real timelines nest a few dozen
#: levels; OTIO's own reader recurses without a limit and crashes the process on deep ones.
MAX_JSON_NESTING = 1000


def _check_json_document(path: Path, adapter: str) -> None:
    """EditError when the JSON document of an OTIO file (a ``.otio`` file, the ``content.otio``
    of an ``.otiod`` folder or ``.otioz`` zip) is not UTF-8 text, which OTIO's reader takes in
    and then fails on when a name is read, or nests deeper than :data:`MAX_JSON_NESTING`."""
    where = path
    try:
        if adapter == "otio_json":
            raw = path.read_bytes()
        elif adapter == "otiod":
            where = path / "content.otio"
            raw = where.read_bytes()
        else:  # otioz
            where = path / "content.otio"
            with zipfile.ZipFile(path) as bundle:
                raw = bundle.read("content.otio")
    except FileNotFoundError:
        return  # OTIO's reader says what is missing
    except (KeyError, zipfile.BadZipFile):
        return
    except OSError as exc:
        raise EditError(f"{path}: cannot read: {exc.strerror}") from exc
    _check_utf8(where, raw)
    too_deep = json_nesting_beyond(raw, MAX_JSON_NESTING)
    if too_deep is not None:
        raise EditError(f"{where}: nests objects and lists more than {MAX_JSON_NESTING} deep "
                        f"(at byte {too_deep}); not a timeline sora-vfx reads")


def _check_utf8(path: Path, data: bytes) -> None:
    """EditError naming the byte, line and column where ``data`` stops being UTF-8."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        near = " ".join(data[max(0, exc.start - 24):exc.end + 8].decode("utf-8", "replace").split())
        raise EditError(f"{path}: not UTF-8 text at byte {exc.start} (line {line}, column {column}, near {near!r}): "
                        "an OTIO file is UTF-8 JSON; re-export it, or fix the text there") from None


def parse_edit_file(path: Path, *, fps: FrameRate | str | None = None) -> tuple[otio.schema.Timeline, EditSource]:
    """Parse any edit file OTIO reads into a timeline. ``fps`` is used for EDLs, which carry
    no rate (default 24).

    Raises:
        EditError: missing or unreadable file, or one that holds no timeline.
    """
    path = Path(path)
    if not path.exists():
        raise EditError(f"{path}: no such edit file")
    adapter = adapter_for(path)
    rate = parse_fps(fps) if fps is not None else None
    if adapter == "cmx_3600":
        return _read_edl(path, rate or parse_fps(24))
    if rate is not None:
        log.warning("%s: the frame rate given is ignored: %s files carry their own", path, adapter)
    if adapter in ("otio_json", "otiod", "otioz"):
        _check_json_document(path, adapter)
    try:
        timeline = otio.adapters.read_from_file(str(path), adapter_name=adapter)
    except Exception as exc:
        raise EditError(f"{path}: cannot read as {adapter}: {_one_line(exc)}") from exc
    if not isinstance(timeline, otio.schema.Timeline):
        raise EditError(
            f"{path}: holds a {type(timeline).__name__}, not a timeline; export the cut as a timeline"
        )
    return timeline, EditSource(path, adapter, rate)


def _read_edl(path: Path, rate: FrameRate) -> tuple[otio.schema.Timeline, EditSource]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EditError(f"{path}: cannot read: {exc.strerror}") from exc
    if b"\x00" in data:
        raise EditError(f"{path}: is not a text file (binary data), so not a CMX 3600 EDL")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Older Avid and Nucoda exports write Latin-1 clip names.
        text = data.decode("latin-1")
    lines = text.splitlines()
    semicolons = any(";" in line for line in lines if _EVENT_LINE.match(line))
    drop_frame = rate.drop_frame or any(_DROP_FRAME_FCM.match(line) for line in lines)
    if semicolons and not drop_frame and rate.rate in (parse_fps("29.97df").rate, parse_fps("59.94df").rate):
        drop_frame = True  # HH:MM:SS;FF is how drop-frame timecode is written
    if drop_frame and not rate.drop_frame:
        if parse_fps("29.97df").rate != rate.rate and parse_fps("59.94df").rate != rate.rate:
            raise EditError(
                f"{path}: the EDL says FCM: DROP FRAME, which needs a frame rate (fps) of 29.97 or 59.94, not {rate}"
            )
        rate = FrameRate(rate.rate, True)
    source = EditSource(path, "cmx_3600", rate, lines=lines)
    source.events = _check_event_lines(path, lines, rate)
    if drop_frame:
        lines = [_plain_locator_timecode(line, rate) for line in lines]
        text = "\n".join(lines)
    # OTIO keeps every comment line as clip metadata, which costs two thirds of its parse on
    # an annotated EDL; our own comments (PROMPT:, SHOT:, ...) are read here instead and
    # paired back with their clips. If the pairing does not check out, OTIO reads them all.
    split = split_annotation_comments(lines)
    if split is not None:
        kept, events = split
        timeline = _parse_edl("\n".join(kept), rate, source)
        if _pair_annotations(timeline, events, source):
            return timeline, source
    return _parse_edl(text, rate, source), source


_DROP_FRAME_LOCATOR = re.compile(r"^(\*\s*LOC:\s*)(\d\d:\d\d:\d\d[;:.,]\d\d)(.*)$", re.IGNORECASE)


def _plain_locator_timecode(line: str, rate: FrameRate) -> str:
    """A ``LOC:`` line with its drop-frame timecode (``01:00:01;14``) written as the colon
    timecode of the same frame, which is the only form OTIO's EDL reader takes (it drops the
    others, and with them the shot names they carry)."""
    match = _DROP_FRAME_LOCATOR.match(line)
    if match is None or ":" == match[2][8]:
        return line
    try:
        frames = from_timecode(match[2][:8] + ";" + match[2][9:], rate)
    except ValueError:
        return line  # not a timecode at this rate: OTIO's reader skips the line, as before
    return match[1] + to_timecode(frames, FrameRate(rate.rate, False)) + match[3]


def _parse_edl(text: str, rate: FrameRate, source: EditSource) -> otio.schema.Timeline:
    path = source.path
    try:
        return otio.adapters.read_from_string(text, adapter_name="cmx_3600", rate=rate.fps)
    except otio.exceptions.OTIOError as exc:
        raise EditError(f"{path}{_locate(exc, source)}: {_one_line(exc)}") from exc
    except Exception as exc:
        # The adapter has bugs on some malformed EDLs (split dissolves, odd fields).
        raise EditError(
            f"{path}{_locate(exc, source)}: OTIO's cmx_3600 adapter cannot read this EDL "
            f"({type(exc).__name__}: {_one_line(exc)}); check its transition events"
        ) from exc


@dataclass
class _EventComments:
    """One EDL event as OTIO's adapter groups it (its line and a transition line with the
    same number) and the annotation comments that follow it."""

    number: int
    reel: str = ""
    channel: str = ""
    comments: list[str] = field(default_factory=list)


def split_annotation_comments(lines: list[str]) -> tuple[list[str], list[_EventComments]] | None:
    """The EDL's lines without the annotation comments that follow its events, and every
    event with its annotation comments; None when there are none to take (or the EDL uses
    SPLIT, whose comments belong to two events)."""
    kept: list[str] = []
    events: list[_EventComments] = []
    taken = False
    for line in lines:
        text = line.strip()
        leading = _LEADING_NUMBER.match(text)
        if leading:
            number = int(leading.group(0))
            if not events or events[-1].number != number:
                events.append(_EventComments(number))
            tokens = text.split()  # a transition line's reel and channel are the clip's
            events[-1].reel = tokens[1] if len(tokens) > 1 else ""
            events[-1].channel = tokens[2] if len(tokens) > 2 else ""
        elif text.startswith("SPLIT"):
            return None
        elif events and text.startswith("*") and is_annotation_comment(text):
            events[-1].comments.append(text.lstrip("*").strip())
            taken = True
            continue
        kept.append(line)
    return (kept, events) if taken else None


def _pair_annotations(timeline: otio.schema.Timeline, events: list[_EventComments], source: EditSource) -> bool:
    """Give each video clip its event's comments: the adapter makes one clip per event on
    each video track the channel names, in order. Checked by count and reel per track."""
    expected: dict[str, list[_EventComments]] = {}
    for event in events:
        for track_name in _video_tracks(event.channel):
            expected.setdefault(track_name, []).append(event)
    annotations: dict[int, list[str]] = {}
    for track in timeline.tracks:
        if track.kind != otio.schema.TrackKind.Video:
            continue
        clips = [item for item in track if isinstance(item, otio.schema.Clip)]
        wanted = expected.pop(track.name, [])
        if len(clips) != len(wanted):
            return False
        for clip, event in zip(clips, wanted, strict=True):
            if _reel_of(clip) != ("" if event.reel == "AX" else event.reel):
                return False
            annotations[id(clip)] = event.comments
            source._annotated_clips.append(clip)  # keeps the ids valid
    if expected:
        return False
    source._annotations = annotations
    return True


def _video_tracks(channel: str) -> list[str]:
    # The cmx_3600 adapter's channel codes: B, A2/V and AA/V put a clip on V as well as on
    # audio tracks; a code of its own names a track, video unless it starts with A.
    if channel in ("B", "A2/V", "AA/V"):
        return ["V"]
    return [] if channel.startswith("A") else [channel]


def _reel_of(clip: otio.schema.Clip) -> str:
    metadata = clip.metadata
    edl = metadata.get("cmx_3600") if len(metadata) else None
    return str(edl.get("reel") or "") if edl is not None else ""


def _check_event_lines(path: Path, lines: list[str], rate: FrameRate) -> list[EdlEvent]:
    frames_per_second = rate.timecode_base
    events = []
    for number, line in enumerate(lines, start=1):
        match = _EVENT_LINE.match(line)
        if not match:
            continue
        tokens = line.split()
        stamps = [t for t in tokens if ":" in t or ";" in t]
        for stamp in stamps:
            problem = _timecode_problem(stamp, frames_per_second, rate)
            if problem:
                raise EditError(f"{path}, line {number} (event {match.group(1)}): {problem}")
        channel = tokens[2].upper() if len(tokens) > 2 else ""
        video = channel.startswith("V") or channel in ("B", "A/V")
        events.append(EdlEvent(match.group(1), number, stamps[-2] if len(stamps) >= 4 else "", video))
    return events


def _timecode_problem(stamp: str, frames_per_second: int, rate: FrameRate) -> str | None:
    match = _TIMECODE.match(stamp)
    if not match:
        return f"invalid timecode {stamp!r} (expected HH:MM:SS:FF)"
    minutes, seconds, frames = int(match.group(3)), int(match.group(5)), int(match.group(7))
    if minutes > 59 or seconds > 59:
        return f"invalid timecode {stamp!r}: minutes and seconds run 00-59"
    if frames >= frames_per_second:
        hint = " (is the edit at 25 fps or higher? give its frame rate)" if frames_per_second < 30 else ""
        return f"timecode {stamp!r} has frame {frames}, too high for {rate} fps{hint}"
    if ";" in stamp and not rate.drop_frame:
        return f"drop-frame timecode {stamp!r} needs a frame rate (fps) of 29.97df or 59.94df, not {rate}"
    return None


def _locate(exc: Exception, source: EditSource) -> str:
    """', line N' for the EDL line an adapter error is about, when it can be found."""
    message = str(exc)
    for fragment in (message.split("statement:")[-1].strip(),):
        if fragment and fragment != message:
            for number, line in enumerate(source.lines, start=1):
                if line.strip() == fragment:
                    return f", line {number}"
    clip = _CLIP_IN_MESSAGE.search(message)
    if clip:
        name = clip.group(1).strip()
        for number, line in enumerate(source.lines, start=1):
            match = _EVENT_LINE.match(line)
            if (match and match.group(1) == name) or line.rstrip().endswith(f"CLIP NAME: {name}") or (
                "CLIP NAME:" in line and line.split("CLIP NAME:", 1)[1].strip() == name
            ):
                return f", line {number}"
    return ""


def _one_line(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) < 300 else text[:297] + "..."
