"""The ``sora-vfx`` command line: one module per noun, each command thin."""

from . import shots  # noqa: F401  (registers the command)
from .main import main

__all__ = ["main"]
