"""Editorial: read an edit into shot jobs, and write the conform timeline back."""

from .rates import FrameRate, parse_fps
from .reader import read_timeline
from .shotjob import ShotJob, shot_name_problem
from .shots import DEFAULT_HANDLES, DEFAULT_START_FRAME, EditReading, read_edit, read_edit_timeline

__all__ = [
    "DEFAULT_HANDLES",
    "DEFAULT_START_FRAME",
    "EditReading",
    "FrameRate",
    "ShotJob",
    "parse_fps",
    "read_edit",
    "read_edit_timeline",
    "read_timeline",
    "shot_name_problem",
]
