"""Text that sora_vfx writes into a field another program reads, and file text it prints.

One rule for every writer (issue 32: one value in one field):

* a one-line field (an EDL line, the name of a clip, marker, track or timeline, a reel or tape
  name, an Avid bin column, an EXR header string, a movie tag, a tracker's ``key: value`` line)
  gets :func:`one_line`: control characters (U+0000-U+001F, U+007F-U+009F, so tab, CR, LF, NUL,
  ESC and NEL among them), the line and paragraph separators U+2028 and U+2029, and the
  noncharacters U+FFFE and U+FFFF become spaces, a run of them one space. A value can then never
  end its line, start another field or record, or cut the file short;
* a field that holds lines (the prompt in ``renders.otio``, an Avid ``Comments`` column, FCP XML
  metadata text) gets :func:`multi_line`: its line breaks and tabs stay, the rest of that set
  becomes spaces (OTIO and XML cannot hold U+0000, nor XML the other control characters);
* text read from a file and printed on a terminal (``sora-vfx verify``) gets :func:`printable`:
  those characters, and the bidirectional overrides, are written as escapes (``\\x1b``), so a
  terminal never interprets them.
"""

from __future__ import annotations

import re

_NOT_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff]+")
# What a multi-line field keeps of that set: tab and the line breaks XML and OTIO hold.
_NOT_MULTI_LINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]+")
# Control characters, separators, noncharacters, lone surrogates (undecodable bytes) and the
# bidirectional embeddings, overrides and isolates, which reorder what a terminal shows.
_NOT_PRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff\ud800-\udfff"
                            r"\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def one_line(text: object) -> str:
    """``text`` as one line: control characters, line and paragraph separators and U+FFFE/U+FFFF
    become spaces (a run of them one space). Nothing else changes; None is ""."""
    return "" if text is None else _NOT_ONE_LINE.sub(" ", str(text))


def multi_line(text: object) -> str:
    """``text`` with its line breaks (LF, CR, NEL, U+2028, U+2029) and tabs kept and the other
    characters :func:`one_line` replaces turned into spaces; None is ""."""
    return "" if text is None else _NOT_MULTI_LINE.sub(" ", str(text))


def printable(text: object) -> str:
    """``text`` safe to print on a terminal: control characters, separators, noncharacters,
    lone surrogates and bidirectional controls written as Python writes them in a string's repr
    (``\\n``, ``\\x1b``, ``\\u2028``); everything else as it is."""
    return _NOT_PRINTABLE.sub(_escape, "" if text is None else str(text))


def _escape(match: re.Match[str]) -> str:
    character = match.group()
    code = ord(character)
    return _ESCAPES.get(character) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


def json_nesting_beyond(raw: bytes, limit: int) -> int | None:
    """The byte offset in JSON text ``raw`` where objects and lists first nest deeper than
    ``limit`` (brackets inside strings do not count), or None. Python's JSON reader, and
    OTIO's, recurse as deep as the text nests: deeper documents are refused before they read them."""
    depth = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub(lambda string: b"_" * len(string.group()), raw)):
        depth += 1 if match.group() in b"[{" else -1
        if depth > limit:
            return match.start()
    return None


def shortened(text: str, limit: int) -> str:
    """``text`` as it is when it has at most ``limit`` characters, else its start and ``...``,
    ``limit`` characters in all: a message quotes a value it cannot trust to be short."""
    return text if len(text) <= limit else text[:limit - 3] + "..."
