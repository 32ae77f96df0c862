"""Shots laid out on a host's timeline to an OpenTimelineIO timeline, and edit timecodes back to frames.

Host-neutral (one source, copied into each host's package by ``plugins/package.py``). Written as
plain OTIO JSON: opentimelineio is not importable inside Blender or Nuke, and sora-vfx reads the
file with the real library. One video track per channel; strips (Blender's sequencer strips, a
Nuke node's one shot) become clips whose ``metadata["sora_vfx"]`` carries the shot name and its
settings (prompt, seed, ...); the space between strips becomes gaps, so a clip's record time is
its strip's frame.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field

# Strip custom property -> sora_vfx metadata key (the same keys an OTIO edit may carry).
STRIP_PROPERTIES = {
    "sora_prompt": "prompt",
    "sora_negative_prompt": "negative_prompt",
    "sora_style": "style",
    "sora_seed": "seed",
    "sora_reference": "reference",
}
_NOT_IN_NAME = re.compile(r"[^A-Za-z0-9_.\-]+")


@dataclass
class ShotStrip:
    """What the export needs of one sequencer strip (read from bpy by the operator)."""

    strip_name: str
    channel: int
    start: int  # first frame shown (frame_final_start)
    end: int  # frame after the last one shown (frame_final_end)
    source_start: int = 0  # frames of the media skipped before ``start``
    media_path: str | None = None
    metadata: dict = field(default_factory=dict)
    #: The host's own record of where the shot came from, e.g. ``{"blender": {"strip": ...}}``.
    host_metadata: dict = field(default_factory=dict)
    name: str = ""  # the shot name, set by ``assign_shot_names``

    @property
    def duration(self) -> int:
        return self.end - self.start


def shot_name(strip_name: str) -> str:
    """A valid shot name from a strip name: letters, digits, ``_``, ``-``, ``.``; never ``..``."""
    name = _NOT_IN_NAME.sub("_", strip_name.strip())
    while ".." in name:
        name = name.replace("..", ".")
    return name.strip(".") or "shot"


def assign_shot_names(strips: list[ShotStrip]) -> None:
    """Each strip's shot name, unique across the export (Blender names are unique; cleaned ones may clash)."""
    taken: set[str] = set()
    for strip in strips:
        base = candidate = shot_name(strip.strip_name)
        number = 2
        while candidate in taken:
            candidate, number = f"{base}_{number}", number + 1
        strip.name = candidate
        taken.add(candidate)


def _time(value: float, rate: float) -> dict:
    return {"OTIO_SCHEMA": "RationalTime.1", "rate": float(rate), "value": float(value)}


def _range(start: float, duration: float, rate: float) -> dict:
    return {"OTIO_SCHEMA": "TimeRange.1", "duration": _time(duration, rate), "start_time": _time(start, rate)}


def _item(schema: str, name: str, source_range: dict, metadata: dict) -> dict:
    return {"OTIO_SCHEMA": schema, "metadata": metadata, "name": name, "source_range": source_range,
            "effects": [], "markers": [], "enabled": True}


def _clip(strip: ShotStrip, rate: float) -> dict:
    metadata = {"sora_vfx": {"shot": strip.name, **strip.metadata}, **strip.host_metadata}
    clip = _item("Clip.2", strip.strip_name, _range(strip.source_start, strip.duration, rate), metadata)
    if strip.media_path:
        reference = {"OTIO_SCHEMA": "ExternalReference.1", "metadata": {}, "name": "",
                     "available_range": None, "available_image_bounds": None,
                     "target_url": strip.media_path}
    else:
        reference = {"OTIO_SCHEMA": "MissingReference.1", "metadata": {}, "name": "",
                     "available_range": None, "available_image_bounds": None}
    clip["media_references"] = {"DEFAULT_MEDIA": reference}
    clip["active_media_reference_key"] = "DEFAULT_MEDIA"
    return clip


def timeline_from_strips(strips: list[ShotStrip], *, fps: float, name: str, exported_from: str) -> dict:
    """An OTIO timeline (as JSON data) starting at frame 0: one track per channel, bottom channel first.

    Raises:
        ValueError: no strips, a strip before frame 0, or two strips overlapping on a channel.
    """
    if not strips:
        raise ValueError("no strips to export")
    assign_shot_names(strips)
    tracks = []
    for channel in sorted({s.channel for s in strips}):
        children, position = [], 0
        for strip in sorted((s for s in strips if s.channel == channel), key=lambda s: s.start):
            if strip.start < position:
                where = "before frame 0" if position == 0 else "over the strip before it"
                raise ValueError(f"strip {strip.strip_name!r} on channel {channel} starts {where} "
                                 f"(frame {strip.start}); move it to export the timeline")
            if strip.start > position:
                children.append(_item("Gap.1", "", _range(0, strip.start - position, fps), {}))
            children.append(_clip(strip, fps))
            position = strip.end
        track = _item("Track.1", f"Channel {channel}", None, {})
        track.update({"color": None, "children": children, "kind": "Video"})
        tracks.append(track)
    stack = _item("Stack.1", "tracks", None, {})
    stack.update({"color": None, "children": tracks})
    return {"OTIO_SCHEMA": "Timeline.1", "metadata": {"sora_vfx": {"exported_from": exported_from}}, "name": name,
            "global_start_time": _time(0, fps), "tracks": stack}


def write_timeline(path: str, timeline: dict) -> str:
    return write_text(path, json.dumps(timeline, indent=2) + "\n")


def write_text(path: str, text: str) -> str:
    """Write ``text`` to ``path`` whole or not at all (a temporary file renamed into place);
    its folder is made if needed."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    temporary = f"{path}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)
    return path


def timecode_frames(timecode: str, fps: float, drop_frame: bool = False) -> int:
    """``HH:MM:SS:FF`` (``;`` for drop frame) as a frame count at ``fps``."""
    parts = [int(p) for p in re.split(r"[:;.]", timecode)]
    if len(parts) != 4:
        raise ValueError(f"not a timecode: {timecode!r}")
    hours, minutes, seconds, frames = parts
    nominal = round(fps)
    total = ((hours * 60 + minutes) * 60 + seconds) * nominal + frames
    if drop_frame:
        dropped = round(nominal / 15)  # 2 at 29.97, 4 at 59.94
        all_minutes = hours * 60 + minutes
        total -= dropped * (all_minutes - all_minutes // 10)
    return total
