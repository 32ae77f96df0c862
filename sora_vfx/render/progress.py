"""Progress for long work: bars on a terminal, one log line per shot otherwise."""

from __future__ import annotations

import logging
import sys
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
        if self.enabled:
            self._shot = self._tqdm(total=frames, desc=name, unit="frame", position=1, leave=False)

    def frames_done(self, count: int = 1) -> None:
        if self._shot is not None:
            self._shot.update(count)
        if self._overall is not None:
            self._overall.update(count)

    def end_shot(self, message: str, level: int = logging.INFO) -> None:
        if self._shot is not None:
            self._shot.close()
            self._shot = None
            self._tqdm.write(f"sora-vfx: {message}", file=sys.stderr)
        else:
            log.log(level, message)

    def close(self) -> None:
        if self._overall is not None:
            self._overall.close()
