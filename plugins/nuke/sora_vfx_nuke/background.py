"""Run sora-vfx commands on a worker thread with a Nuke progress task; results go back to the main thread.

Nuke's UI and node graph may only be touched from the main thread: the worker reports
through ``nuke.executeInMainThread``. Cancelling the task (its Cancel button) stops the process.
Without a GUI (``nuke -t``) the steps run on the calling thread instead, with progress printed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import nuke

from .process import ShimError, SoraProcess


class BackgroundRun:
    """The steps of one command; ``join()`` waits for it (tests, scripts).

    ``on_done(result)`` runs on the main thread when the steps worked; ``on_error(message)``
    when they failed (default: a message box), ``on_cancel()`` when the artist cancelled.
    """

    def __init__(self, title: str, steps: Callable[[BackgroundRun], object],
                 on_done: Callable[[object], None], *, on_error: Callable[[str], None] | None = None,
                 on_cancel: Callable[[], None] | None = None, poll_interval: float = 0.2):
        self.title = title
        self.poll_interval = poll_interval
        self.cancelled = False
        self.error: str | None = None
        self.processes: list[SoraProcess] = []
        self.inline = False
        self._steps = steps
        self._on_done = on_done
        self._on_error = on_error or (lambda message: show_error(f"{title}: {message}"))
        self._on_cancel = on_cancel
        self._task = None
        self._printed = ""
        self._thread = threading.Thread(target=self._run, name=f"sora_vfx: {title}", daemon=True)

    def start(self, *, inline: bool = False) -> BackgroundRun:
        """Start the steps on a worker thread, or with ``inline`` run them here to the end."""
        self.inline = inline
        if inline:
            self._run()
        else:
            self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        if not self.inline:
            self._thread.join(timeout)

    def run_process(self, process: SoraProcess, message: str) -> SoraProcess:
        """Start ``process`` and follow it until it ends or the artist cancels the task."""
        self._set_message(message)
        self.processes.append(process)
        process.start()
        while not process.poll():
            if self._task is not None and self._task.isCancelled():
                self.cancelled = True
                process.cancel()
                break
            if process.progress is not None and self._task is not None:
                self._task.setProgress(int(process.progress * 100))
            if process.message:
                self._set_message(f"{message}: {process.message[-120:]}")
            time.sleep(self.poll_interval)
        process.poll()
        return process

    def _set_message(self, text: str) -> None:
        if self._task is not None:
            self._task.setMessage(text)
        elif self.inline and text != self._printed:
            self._printed = text
            print(f"sora_vfx: {self.title}: {text}")

    def _deliver(self, call: Callable, *args) -> None:
        if self.inline:
            call(*args)
        else:
            nuke.executeInMainThread(call, args=args)

    def _run(self) -> None:
        self._task = None if self.inline else nuke.ProgressTask(f"Sora VFX: {self.title}")
        try:
            result = self._steps(self)
        except ShimError as exc:
            self.error = str(exc)
            result = None
        except Exception as exc:  # noqa: BLE001  (a bug must reach the artist, not a dead thread)
            self.error = f"{type(exc).__name__}: {exc}"
            result = None
        finally:
            self._task = None  # deleting the task closes Nuke's progress bar
        if self.cancelled:
            print(f"sora_vfx: {self.title}: cancelled")
            if self._on_cancel is not None:
                self._deliver(self._on_cancel)
            return
        if self.error:
            self._deliver(self._on_error, self.error)
            return
        self._deliver(self._finish, result)

    def _finish(self, result: object) -> None:
        try:
            self._on_done(result)
        except ShimError as exc:
            self._on_error(str(exc))
        except Exception as exc:  # noqa: BLE001  (on the main thread a bug would open a traceback dialog)
            self._on_error(f"internal error in the Sora VFX plugin: {type(exc).__name__}: {exc}")


def show_error(message: str) -> None:
    print(f"sora_vfx: {message}")
    nuke.message(f"Sora VFX: {message}")
