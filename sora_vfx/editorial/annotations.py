"""Annotations on a clip: prompt, negative prompt, style, seed, reference, shot name and the
shot it continues.

They come from EDL comments (``* PROMPT: ...``, any case), from OTIO clip metadata
(``metadata["sora_vfx"]``), from an Avid AAF's clip comments and user attributes (the master
clip's ``UserComments``: a column named ``Prompt``, ``Seed``, ...; or ``PROMPT: ...`` lines in
its ``Comments``), from ``PROMPT: ...`` lines in an FCP 7 XML clip item's comments (Master
Comment 1-4, Comment A and B) and from LOC markers (shot names and notes).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import opentimelineio as otio

from .shotjob import shot_name_problem

_ALIASES = {
    "shot": "shot",
    "prompt": "prompt",
    "negative": "negative_prompt",
    "negative_prompt": "negative_prompt",
    "negative prompt": "negative_prompt",
    "style": "style",
    "seed": "seed",
    "reference": "reference",
    "continues": "continues",
}
_COMMENT = re.compile(r"\s*\**\s*(shot|prompt|negative[ _]prompt|negative|style|seed|reference|continues)\s*:(.*)",
                      re.I | re.S)


#: Avid's bin column for free text; its lines may set fields as EDL comments do.
_AAF_COMMENT_COLUMNS = ("comments", "comment")


def _aaf_annotations(aaf: Mapping, clip: otio.schema.Clip, found: Annotations) -> None:
    """Fields from an AAF master clip's user comments and attributes, and its tape name.

    A column of its own (``Prompt``, ``Shot``, ...) wins over a line of the ``Comments``
    column that sets the same field, whichever comes first in the file: the conform writes
    the shot's fields as columns and keeps the editor's comments beside them."""
    user = aaf.get("UserComments")
    if isinstance(user, Mapping):
        columns: list[tuple[str, str]] = []
        for key, value in user.items():
            name = str(key).strip().lower()
            text = str(value).strip() if value is not None else ""
            if not text:
                continue
            if name in _AAF_COMMENT_COLUMNS:
                _comment_lines(text, found, "aaf comment")
            elif name.replace("_", " ") in _ALIASES:
                columns.append((_ALIASES[name.replace("_", " ")], text))
        for field_name, text in columns:
            found.values[field_name] = text
            found.origin[field_name] = "aaf comment"
    # The tape name is the key of the clip's media reference other than its default one.
    tapes = [key for key in clip.media_references() if key != otio.schema.Clip.DEFAULT_MEDIA_KEY]
    if tapes and not found.reel:
        found.reel = str(tapes[0])


#: FCP 7 XML's comment fields of a clip item (``<comments>``), in the order they are read.
FCP_COMMENT_SLOTS = ("mastercomment1", "mastercomment2", "mastercomment3", "mastercomment4", "clipcommenta",
                     "clipcommentb")


def _fcp_annotations(fcp: Mapping, found: Annotations) -> None:
    """Fields from the ``PROMPT: ...`` lines of an FCP 7 XML clip item's comments."""
    comments = fcp.get("comments")
    if not isinstance(comments, Mapping):
        return
    for slot in FCP_COMMENT_SLOTS:
        text = comments.get(slot)
        if isinstance(text, str):
            _comment_lines(text, found, "fcp xml comment")


def _comment_lines(text: str, found: Annotations, origin: str) -> None:
    """Each line of a free-text comment: one that sets a field as an EDL comment does sets it,
    any other is a comment."""
    for line in text.splitlines():
        match = _COMMENT.match(line)
        if match:
            found.set(_field_of(match), match.group(2).strip(), origin)
        elif line.strip():
            found.comments.append(line.strip())


def is_annotation_comment(text: str) -> bool:
    """Whether an EDL comment line sets one of our fields (``* PROMPT: ...``)."""
    return _COMMENT.match(text) is not None


def comment_field(text: str) -> str | None:
    """The field an EDL comment line sets (``"negative_prompt"`` for ``* NEGATIVE: ...``), or None."""
    match = _COMMENT.match(text)
    return _field_of(match) if match else None


def _field_of(match: re.Match[str]) -> str:
    """The field a :data:`_COMMENT` match sets, by its key's name in any case (``"negative_prompt"``
    for ``NEGATIVE:``)."""
    return _ALIASES[match.group(1).lower().replace("_", " ")]


# Long prompts wrap over several comment lines; those join with a space.
_JOINED = {"prompt", "negative_prompt"}


@dataclass
class Annotations:
    values: dict[str, str] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    reel: str = ""  # the EDL event's reel (tape) name

    def set(self, key: str, value: str, origin: str) -> None:
        """Set field ``key`` from ``origin`` (e.g. ``"edl comment"``), replacing an earlier value.

        A prompt or negative prompt that already has a value from the same origin is extended
        instead (joined with a space), so a long prompt can wrap over several EDL comments.
        """
        if key in _JOINED and self.origin.get(key) == origin and self.values.get(key):
            self.values[key] = f"{self.values[key]} {value}"
        else:
            self.values[key] = value
        self.origin[key] = origin


def read_annotations(clip: otio.schema.Clip, *, shot_pattern: re.Pattern[str] | None = None,
                     edl_comments: list[str] | None = None) -> Annotations:
    """Collect a clip's annotations; OTIO metadata wins over EDL comments, both over markers.

    ``edl_comments``: the clip's annotation comments when the reader took them out of the
    EDL before OTIO read it (they come before the comments OTIO kept, as in the file).
    """
    found = Annotations()
    marked = [text for text in ((marker.name or "").strip() for marker in items_of(clip.markers)) if text]
    metadata = clip.metadata
    keys = len(metadata)
    edl = metadata.get("cmx_3600") if keys else None
    comments: Any = None
    if isinstance(edl, Mapping):
        reel = edl.get("reel")
        found.reel = str(reel or "")
        if len(edl) > (reel is not None):  # the adapter writes reel and comments only
            comments = edl.get("comments")
    if not isinstance(comments, Sequence) or isinstance(comments, str):
        comments = [comments] if isinstance(comments, str) and comments else []
    # Not _comment_lines: an EDL comment is one entry, and sets a field only from its start,
    # even where an OTIO file's comment holds a line break (tests/hostile/test_one_line_writers).
    for comment in [*(edl_comments or ()), *items_of(comments)]:
        match = _COMMENT.match(str(comment))
        if match:
            key = _field_of(match)
            found.set(key, match.group(2).strip(), "edl comment")
        else:
            found.comments.append(str(comment))
    aaf = metadata.get("AAF") if keys else None
    if isinstance(aaf, Mapping):
        _aaf_annotations(aaf, clip, found)
    fcp = metadata.get("fcp_xml") if keys else None
    if isinstance(fcp, Mapping):
        _fcp_annotations(fcp, found)
    # An EDL clip holds the adapter's entry alone: do not ask for ours.
    ours = metadata.get("sora_vfx") if keys > (edl is not None) else None
    if ours:
        for key, value in dict(ours).items():
            field_name = _ALIASES.get(str(key).lower())
            if field_name and value is not None and str(value) != "":
                found.values[field_name] = str(value)
                found.origin[field_name] = "otio metadata"
    _marked_name_and_notes(found, marked, clip, shot_pattern)
    return found


def _marked_name_and_notes(found: Annotations, marked: list[str], clip: otio.schema.Clip,
                           pattern: re.Pattern[str] | None) -> None:
    """The shot's name from its markers when nothing else named it, and the notes.

    A one-word marker that can be a shot name (and matches ``pattern``) names the shot: the
    one that is the clip's own name first (a conform names each rendered clip after its
    shot), else the first. Every other marker is a note, one-word ones included (an editor's
    ``PICKUP`` beside a ``SHOT:`` comment), except those that repeat the name."""
    if "shot" not in found.values:
        names = [text for text in marked if _is_shot_name(text, pattern)]
        if names:
            found.set("shot", clip.name if clip.name in names else names[0], "loc marker")
    name = found.values.get("shot", "").casefold()
    found.notes.extend(text for text in marked if text.casefold() != name)


# Reading OTIO containers: iterating one, or asking for a key it lacks, ends in a C++
# exception that costs ~10 us to cross into Python; over thousands of clips that is most of
# the time `shots` spends beyond OTIO's own parse. Index by position, and count the keys
# before asking for one (``get`` of an absent key pays that exception).


def items_of(vector: Any) -> list[Any]:
    """The items of an OTIO vector (markers, effects, a metadata list), by index."""
    return vector[:] if len(vector) else []


def _is_shot_name(text: str, pattern: re.Pattern[str] | None) -> bool:
    if not text or len(text.split()) != 1 or shot_name_problem(text):
        return False
    return pattern is None or bool(pattern.search(text))
