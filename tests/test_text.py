"""The JSON depth check that guards the OTIO and manifest readers, whose JSON parsers recurse."""

import json

from sora_vfx.text import json_nesting_beyond


def test_brackets_inside_strings_do_not_count_and_the_offset_is_the_bracket():
    raw = json.dumps({"prompt": "[[[[{{{{ not nesting", "tracks": [[[1]]]}).encode()
    assert json_nesting_beyond(raw, 4) is None
    offset = json_nesting_beyond(raw, 3)
    assert offset is not None and raw[offset:offset + 3] == b"[1]"


def test_an_escaped_quote_does_not_end_a_string():
    raw = b'{"a": "\\"[[[[", "b": [1]}'
    assert json_nesting_beyond(raw, 2) is None
    assert json_nesting_beyond(b"[" * 101 + b"]" * 101, 100) == 100
