"""Editorial: read an edit into shot jobs, and write the conform timeline back."""

from .rates import FrameRate, parse_fps
from .reader import parse_edit_file
from .shotjob import ShotJob, shot_name_problem
from .shots import Edit, EditOptions, read_edit, read_shots

__all__ = [
    "Edit",
    "EditOptions",
    "FrameRate",
    "ShotJob",
    "parse_edit_file",
    "parse_fps",
    "read_edit",
    "read_shots",
    "shot_name_problem",
]
