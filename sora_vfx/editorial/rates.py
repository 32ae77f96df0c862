"""Frame rates and SMPTE timecode.

EDLs carry no frame rate, so the user names one (``--fps``). Rates are kept as exact
fractions (23.976 is 24000/1001, not 23.976) because frame counts over an hour of timecode
drift when a rounded float is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache

import opentimelineio as otio

from ..errors import ConfigError

# Nominal names editors use, mapped to the exact rate. "df" marks drop-frame timecode.
_NAMED_RATES: dict[str, Fraction] = {
    "23.976": Fraction(24000, 1001),
    "23.98": Fraction(24000, 1001),
    "24": Fraction(24),
    "25": Fraction(25),
    "29.97": Fraction(30000, 1001),
    "30": Fraction(30),
    "47.952": Fraction(48000, 1001),
    "48": Fraction(48),
    "50": Fraction(50),
    "59.94": Fraction(60000, 1001),
    "60": Fraction(60),
}
_DROP_FRAME_RATES = {Fraction(30000, 1001), Fraction(60000, 1001)}
VALID_RATE_NAMES = "23.976, 24, 25, 29.97, 29.97df, 30, 47.952, 48, 50, 59.94, 59.94df, 60, or N/D"


@dataclass(frozen=True)
class FrameRate:
    """An exact frame rate and whether its timecode drops frame numbers."""

    rate: Fraction
    drop_frame: bool = False
    #: ``float(rate)``, kept: timecode maths asks for it on every clip of an edit.
    fps: float = field(init=False, repr=False, compare=False)
    #: Frames per timecode second: the rate rounded up (24 for 23.976, 30 for 29.97).
    timecode_base: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fps", float(self.rate))
        object.__setattr__(self, "timecode_base", -(-self.rate.numerator // self.rate.denominator))

    def __str__(self) -> str:
        text = str(self.rate.numerator) if self.rate.denominator == 1 else f"{self.rate}"
        return text + (" DF" if self.drop_frame else "")


def parse_fps(text: str | float | int | Fraction) -> FrameRate:
    """Parse ``--fps``: ``24``, ``23.976``, ``29.97df``, ``24000/1001`` ...

    Raises:
        ConfigError: the rate is not one SMPTE timecode can express.
    """
    if isinstance(text, FrameRate):
        return text
    raw = str(text).strip()
    value = raw.lower().replace(" ", "")
    drop_frame = value.endswith("df")
    if drop_frame:
        value = value[:-2]
    elif value.endswith("ndf"):
        value = value[:-3]
    rate = _NAMED_RATES.get(value)
    if rate is None:
        try:
            rate = _timecode_rate(Fraction(value))
        except (ValueError, ZeroDivisionError):
            rate = None
    if rate is None:
        raise ConfigError(f"unknown frame rate {raw!r}; valid: {VALID_RATE_NAMES}")
    if drop_frame and rate not in _DROP_FRAME_RATES:
        raise ConfigError(
            f"frame rate {raw!r}: drop-frame timecode exists only at 29.97 and 59.94"
        )
    return FrameRate(rate, drop_frame)


def rate_from_float(value: float) -> Fraction:
    """The exact rate behind a float that OTIO stores (23.976023976... -> 24000/1001)."""
    exact = Fraction(value).limit_denominator(1001)
    return exact


def timecode_counts(rate: Fraction) -> bool:
    """Whether SMPTE timecode can count frames at ``rate``, by the rule ``--fps`` applies: an
    edit file's rate (OTIO, FCP XML, AAF) is held to it too, so 1/1000 or 1000000 fps is
    refused when the edit is read rather than printed as nonsense timecode."""
    return _timecode_rate(rate) is not None


def _timecode_rate(rate: Fraction) -> Fraction | None:
    """The rate timecode counts for ``rate``: itself, or the named rate nearest a rounded
    decimal (29.970 or 23.9760 is a rounded NTSC rate); None when timecode cannot count it."""
    if rate.denominator not in (1, 1001):
        rate = _nearest_named(rate)
    return rate if rate is not None and _timecode_supports(rate) else None


def _nearest_named(rate: Fraction) -> Fraction | None:
    for named in _NAMED_RATES.values():
        if abs(named - rate) < Fraction(1, 200):
            return named
    return None


def _timecode_supports(rate: Fraction) -> bool:
    if rate <= 0:
        return False
    try:
        otio.opentime.to_timecode(otio.opentime.RationalTime(0, float(rate)), float(rate))
    except ValueError:
        return False
    return True


def to_timecode(frames: int, rate: FrameRate) -> str:
    """Frame count since 00:00:00:00 as SMPTE timecode (``;`` before frames when drop-frame).

    Non-drop timecode under 24 hours is plain counting in the nominal rate (24 for 23.976)
    and is done here; drop-frame, negative counts and OTIO's own way of wrapping past 24
    hours go to OTIO.
    """
    if not rate.drop_frame and 0 <= frames < 86400 * (rate.timecode_base - 1):
        seconds, ff = divmod(frames, rate.timecode_base)
        minutes, ss = divmod(seconds, 60)
        hours, mm = divmod(minutes, 60)
        return f"{hours:02d}:{mm:02d}:{ss:02d}:{ff:02d}"
    return otio.opentime.to_timecode(otio.opentime.RationalTime(frames, rate.fps), rate.fps,
                                     drop_frame=rate.drop_frame)


def from_timecode(timecode: str, rate: FrameRate) -> int:
    """SMPTE timecode to a frame count since 00:00:00:00."""
    return round(otio.opentime.from_timecode(timecode, rate.fps).value)


@lru_cache(maxsize=16)
def frames_per_day(rate: FrameRate) -> int:
    """Frame numbers in 24 hours of timecode at ``rate`` (fewer when drop-frame skips some)."""
    last = f"23:59:59{';' if rate.drop_frame else ':'}{rate.timecode_base - 1:02d}"
    return from_timecode(last, rate) + 1


def source_timecode(frame: int, *, source_in: str, cut_in: int, rate: FrameRate) -> str:
    """The source timecode of frame number ``frame`` of a shot whose cut starts at frame ``cut_in``
    on the event's ``source_in``: handles count back from it, and timecode wraps at midnight.

    Raises:
        ValueError: ``source_in`` is not timecode at ``rate``.
    """
    return to_timecode((from_timecode(source_in, rate) + frame - cut_in) % frames_per_day(rate), rate)
