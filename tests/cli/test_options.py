"""Option values every command parses the same way."""

from __future__ import annotations

import pytest

from sora_vfx.errors import ConfigError
from sora_vfx.settings import parse_size


@pytest.mark.parametrize(("text", "size"), [("832x480", (832, 480)), (" 64 X 32 ", (64, 32))])
def test_parse_size(text, size):
    assert parse_size(text, what="--size") == size


@pytest.mark.parametrize(("text", "message"), [
    ("0x100", "--to-size '0x100': width and height must be positive"),
    ("100x-5", "--to-size '100x-5': width and height must be positive"),
    ("100", "--to-size '100': expected WIDTHxHEIGHT"),
    ("wide", "--to-size 'wide': expected WIDTHxHEIGHT"),
])
def test_bad_sizes_name_the_option(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_size(text, what="--to-size")
