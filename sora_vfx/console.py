"""What the user sees on stderr while work runs: progress, and quiet third-party loggers.

Standard output is for results (``--json`` documents, tables); everything here writes to
stderr, bars only when it is a terminal.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from typing import Any

log = logging.getLogger("sora_vfx")


class Progress:
    """Overall and per-shot progress in frames. Bars only when stderr is a terminal."""

    def __init__(self, total_frames: int, *, enabled: bool | None = None):
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._overall: Any = None
        self._shot: Any = None
        if self.enabled:
            from tqdm import tqdm

            self._tqdm = tqdm
            self._overall = tqdm(total=total_frames, desc="all shots", unit="frame", position=0)

    def start_shot(self, name: str, frames: int) -> None:
        """Open a bar for one shot of ``frames`` frames, below the overall bar (when enabled)."""
        if self.enabled:
            self._shot = self._tqdm(total=frames, desc=name, unit="frame", position=1, leave=False)

    def frames_done(self, count: int = 1) -> None:
        """Advance the shot's and the overall bar by ``count`` frames (done or kept from disk)."""
        if self._shot is not None:
            self._shot.update(count)
        if self._overall is not None:
            self._overall.update(count)

    def end_shot(self, message: str, level: int = logging.INFO) -> None:
        """Close the shot's bar and report ``message`` about it.

        With bars the message is written above them so it does not break them up (``level``
        is then not used); without bars it is logged at ``level``.
        """
        if self._shot is not None:
            self._shot.close()
            self._shot = None
            self._tqdm.write(f"sora-vfx: {message}", file=sys.stderr)
        else:
            log.log(level, message)

    def close(self) -> None:
        """Close the overall bar; call once when the work ends, also on failure."""
        if self._overall is not None:
            self._overall.close()


@contextlib.contextmanager
def quiet_progress_bars() -> Iterator[None]:
    """Hide diffusers' and transformers' per-component bars while saving or loading: these
    are quick, and stderr belongs to the command line's own progress."""
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    states = [(m, m.is_progress_bar_enabled()) for m in (diffusers_logging, transformers_logging)]
    for module, _ in states:
        module.disable_progress_bar()
    try:
        yield
    finally:
        for module, enabled in states:
            if enabled:
                module.enable_progress_bar()


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Importing the Stable Diffusion pipelines makes transformers warn that torchvision is
    missing (image processors we never use), and diffusers warns that its guiders (HunyuanVideo
    1.5's guidance) are experimental each time one is made; keep both off stderr."""
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    levels = [(module, module.get_verbosity()) for module in (transformers_logging, diffusers_logging)]
    for module, _level in levels:
        module.set_verbosity_error()
    try:
        yield
    finally:
        for module, level in levels:
            module.set_verbosity(level)
