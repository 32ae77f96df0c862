from fractions import Fraction

import pytest

from sora_vfx.editorial.rates import FrameRate, from_timecode, parse_fps, source_timecode, to_timecode
from sora_vfx.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "rate", "drop"),
    [
        ("24", Fraction(24), False),
        ("23.976", Fraction(24000, 1001), False),
        ("23.98", Fraction(24000, 1001), False),
        ("24000/1001", Fraction(24000, 1001), False),
        ("25", Fraction(25), False),
        ("29.97", Fraction(30000, 1001), False),
        ("29.97df", Fraction(30000, 1001), True),
        ("29.97 DF", Fraction(30000, 1001), True),
        ("30000/1001", Fraction(30000, 1001), False),
        ("30", Fraction(30), False),
        ("48", Fraction(48), False),
        ("50", Fraction(50), False),
        ("59.94", Fraction(60000, 1001), False),
        ("59.94df", Fraction(60000, 1001), True),
        ("60", Fraction(60), False),
        ("29.970", Fraction(30000, 1001), False),
    ],
)
def test_parse_fps_accepts_editorial_rates(text, rate, drop):
    parsed = parse_fps(text)
    assert parsed.rate == rate
    assert parsed.drop_frame is drop


@pytest.mark.parametrize("text", ["23.9", "0", "-24", "abc", "24/0", "1000", "24df"])
def test_parse_fps_rejects_with_the_valid_list(text):
    with pytest.raises(ConfigError) as err:
        parse_fps(text)
    assert repr(text) in str(err.value)
    assert "29.97" in str(err.value)


def test_drop_frame_timecode_round_trips():
    rate = parse_fps("29.97df")
    frames = from_timecode("01:00:00;00", rate)
    assert frames == 107892  # an hour of drop-frame timecode is 107892 frames, not 108000
    assert to_timecode(frames, rate) == "01:00:00;00"
    assert to_timecode(1800, rate) == "00:01:00;02"


def test_non_drop_timecode():
    rate = FrameRate(Fraction(24))
    assert to_timecode(86400 + 25, rate) == "01:00:01:01"
    assert str(parse_fps("23.976")) == "24000/1001"


@pytest.mark.parametrize("name", ["23.976", "24", "25", "29.97", "30", "47.952", "48", "50", "59.94", "60"])
def test_non_drop_timecode_agrees_with_otio(name):
    """Non-drop timecode is counted here, not by OTIO: both must give the same string,
    across hours and past the 24-hour wrap."""
    import random

    import opentimelineio as otio

    rate = parse_fps(name)
    day = int(86400 * rate.fps)
    frames = [0, 1, rate.timecode_base - 1, rate.timecode_base, day - 1, day, day + 1, 86400 * rate.timecode_base]
    frames += random.Random(name).sample(range(3 * day), 300)
    for frame in frames:
        expected = otio.opentime.to_timecode(otio.opentime.RationalTime(frame, rate.fps), rate.fps, drop_frame=False)
        assert to_timecode(frame, rate) == expected, frame


@pytest.mark.parametrize(
    ("rate", "source_in", "frame", "expected"),
    [
        (parse_fps("24"), "01:00:00:00", 1009, "01:00:00:00"),  # the cut's first frame: the event's source in
        (parse_fps("24"), "01:00:00:00", 1001, "00:59:59:16"),  # handles count back
        (parse_fps("24"), "00:00:00:04", 1001, "23:59:59:20"),  # and wrap past midnight
        (parse_fps("23.976"), "23:59:59:23", 1010, "00:00:00:00"),
        (parse_fps("29.97df"), "00:00:59;29", 1010, "00:01:00;02"),  # drop frame skips ;00 and ;01
        (parse_fps("29.97df"), "00:00:00;00", 1008, "23:59:59;29"),
    ],
)
def test_source_timecode(rate, source_in, frame, expected):
    assert source_timecode(frame, source_in=source_in, cut_in=1009, rate=rate) == expected
