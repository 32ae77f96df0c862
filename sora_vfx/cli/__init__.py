"""The ``sora-vfx`` command line: one module per noun, each command thin.

Commands are loaded on first use (``main.COMMAND_MODULES``); import a command's module to
reach its helpers.
"""

from .main import main

__all__ = ["main"]
