"""The ``sora-vfx`` command line: one module per noun, each command thin."""

from . import extend, farm, render, review, shots  # noqa: F401  (registers the commands)
from .main import main

__all__ = ["main"]
