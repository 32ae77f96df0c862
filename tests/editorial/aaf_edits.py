"""Avid-style AAF cuts made with pyaaf2 for the tests: a sequence with a timecode track at
01:00:00:00, one video track of master clips (each from a file mob, from a tape mob with its
source timecode), locators (DescriptiveMarkers) on the clips, and bin columns (the master
clips' UserComments): what Media Composer exports for a simple cut."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

FPS = 24


def frames(timecode: str) -> int:
    hours, minutes, seconds, frame = map(int, timecode.split(":"))
    return ((hours * 60 + minutes) * 60 + seconds) * FPS + frame


@dataclass
class AafClip:
    name: str  # the master clip
    tape: str
    media_start: str  # the tape's timecode at the media's first frame
    source_in: str
    duration: int
    comments: dict[str, str] = field(default_factory=dict)  # bin columns
    markers: list[tuple[int, str]] = field(default_factory=list)  # (frame in the clip, text)


CUT = [
    AafClip("A001C003_230101_R1AB", "A001_R1AB", "14:22:09:00", "14:22:10:00", 48,
            {"Comments": "SHOT: ABC_0010\nPROMPT: a lighthouse at dusk\nhero take", "Seed": "7"},
            [(10, "VFX REMOVE RIG")]),
    AafClip("A002C001_230101_R1AB", "A002_R1AB", "15:01:00:00", "15:01:00:12", 36,
            {"Prompt": "gulls over a cliff"}, [(0, "ABC_0020")]),
    AafClip("B001C010_230102_R2CD", "B001_R2CD", "10:00:00:00", "10:00:05:00", 60, {}, []),
]


def write_aaf(path: Path, clips: list[AafClip] = CUT, *, name: str = "SEQ_ABC", start: str = "01:00:00:00",
              fps: int | str = FPS) -> Path:
    """The cut as an AAF; ``fps`` is its edit rate (timecodes still count 24 frames a second)."""
    import aaf2

    with aaf2.open(str(path), "w") as f:
        masters = []
        for clip in clips:
            length = frames(clip.source_in) - frames(clip.media_start) + clip.duration + 100
            tape = f.create.SourceMob()
            tape_slot, timecode_slot = tape.create_tape_slots(clip.tape, fps, fps, media_kind="picture")
            timecode_slot.segment.start, timecode_slot.segment.length = frames(clip.media_start), length
            # The reader takes timecode only from slots on physical track 1.
            timecode_slot["PhysicalTrackNumber"].value = 1
            tape_slot["PhysicalTrackNumber"].value = 1
            f.content.mobs.append(tape)
            file_mob = f.create.SourceMob(clip.name)
            descriptor = f.create.CDCIDescriptor()
            for key, value in dict(ComponentWidth=8, HorizontalSubsampling=2, ImageAspectRatio="16/9",
                                   StoredWidth=1920, StoredHeight=1080, FrameLayout="FullFrame", VideoLineMap=[42, 0],
                                   SampleRate=fps, Length=length).items():
                descriptor[key].value = value
            locator = f.create.NetworkLocator()
            locator["URLString"].value = f"file:///media/{clip.name}.mxf"
            descriptor["Locator"].append(locator)
            file_mob.descriptor = descriptor
            file_slot = file_mob.create_timeline_slot(fps)
            file_slot.segment = tape.create_source_clip(slot_id=1, start=0, length=length)
            f.content.mobs.append(file_mob)
            master = f.create.MasterMob(clip.name)
            master_slot = master.create_timeline_slot(fps)
            master_slot.segment = file_mob.create_source_clip(slot_id=file_slot.slot_id, start=0, length=length)
            for key, value in clip.comments.items():
                master.comments[key] = value
            f.content.mobs.append(master)
            masters.append((master, master_slot))
        sequence = f.create.CompositionMob(name)
        sequence.usage = "Usage_TopLevel"
        f.content.mobs.append(sequence)
        timecode_track = sequence.create_timeline_slot(fps, slot_id=1)
        timecode_track.name = "TC1"
        timecode_track["PhysicalTrackNumber"].value = 1
        timecode = f.create.Sequence(media_kind="timecode")
        timecode.components.append(f.create.Timecode(fps, drop=False, length=sum(c.duration for c in clips)))
        timecode.components[0].start = frames(start)
        timecode_track.segment = timecode
        video = sequence.create_timeline_slot(fps, slot_id=2)
        video.name = "V1"
        video["PhysicalTrackNumber"].value = 1
        cuts = f.create.Sequence(media_kind="picture")
        for clip, (master, master_slot) in zip(clips, masters, strict=True):
            cuts.components.append(master.create_source_clip(
                slot_id=master_slot.slot_id, start=frames(clip.source_in) - frames(clip.media_start),
                length=clip.duration))
        video.segment = cuts
        events = f.create.EventMobSlot()
        events["SlotID"].value, events["EditRate"].value, events["PhysicalTrackNumber"].value = 1000, fps, 1
        locators = f.create.Sequence(media_kind="DescriptiveMetadata")
        record = 0
        for clip in clips:
            for offset, text in clip.markers:
                marker = f.create.DescriptiveMarker()
                marker["Position"].value, marker["Length"].value, marker["Comment"].value = record + offset, 1, text
                marker["CommentMarkerUser"].value = "editor"
                marker["CommentMarkerColor"].value = {"red": 65535, "green": 65535, "blue": 0}
                marker["DescribedSlots"].value = {video.slot_id}
                locators.components.append(marker)
            record += clip.duration
        events.segment = locators
        sequence.slots.append(events)
    return Path(path)
