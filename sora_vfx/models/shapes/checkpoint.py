"""Training checkpoints: a long run of the ``shapes`` training script can be killed (or stop
itself after ``--stop-after`` minutes) and continued with ``--resume DIR`` to the weights a run
without interruption gives.

A stage's loop hands its whole state to :meth:`Checkpoints.step` after each training step:
the modules' weights, the optimisers, the EMA copy, every random generator it draws from
(numpy's, its torch generator, torch's global one) and the losses so far. Every
``every_seconds`` (and before stopping) that state is written to ``DIR/checkpoints/<stage>.pt``,
atomically, with the recipe it belongs to; a resumed stage loads it and goes on from the next
step. Only tensors, numbers, strings and lists are kept, so the file loads with
``torch.load(weights_only=True)``: no pickled code runs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sora_vfx.errors import ModelError
from sora_vfx.files import write_atomically

#: How often a running stage writes its state, by default.
EVERY_SECONDS = 600.0
#: Beside the checkpoints: the run's recipe and options, which ``--resume`` goes on with.
RUN_JSON = "run.json"


class Stopped(Exception):
    """The run stopped itself after its time (``--stop-after``), its state written: resume it."""


class Checkpoints:
    """Where and when a training run writes its state, and the state a resumed run starts from.

    Args:
        folder: ``DIR/checkpoints``; None keeps nothing (a run that cannot be resumed).
        recipe: the run's recipe as a dict; a checkpoint of another recipe is refused.
        run: the recipe and options a resumed run needs, written to ``RUN_JSON`` with each
            checkpoint and when a stage ends.
        every_seconds: write the state at most this often.
        stop_after_seconds: after this long, write the state and raise :class:`Stopped`.
        clock: seconds, monotonic (``time.monotonic``; tests give their own), for the stops.
        timer: seconds (``time.perf_counter``), for :meth:`minutes`.
        defaults: the value of each recipe field a checkpoint may lack: one written before a
            field was added (at the default that keeps the old behaviour) is of the same recipe.
    """

    def __init__(self, folder: Path | None, recipe: dict[str, Any], *, run: dict[str, Any] | None = None,
                 every_seconds: float = EVERY_SECONDS, stop_after_seconds: float | None = None,
                 clock: Callable[[], float] = time.monotonic, defaults: dict[str, Any] | None = None,
                 timer: Callable[[], float] = time.perf_counter):
        self.folder, self.recipe, self.run, self.defaults = folder, recipe, run, defaults or {}
        self.every, self.stop_after, self.clock = every_seconds, stop_after_seconds, clock
        self.started = self.last = clock()
        self.timer = timer  # for the minutes figures only, so that they do not move ``clock``'s stops
        self.begun: dict[str, float] = {}  # when each stage began in this run (``timer``)
        self.earlier: dict[str, float] = {}  # seconds earlier runs spent in each stage, from its checkpoint

    def begin(self, stage: str) -> None:
        """``stage`` begins (or begins again, in a resumed run) now; see :meth:`minutes`."""
        self.begun[stage] = self.timer()

    def seconds(self, stage: str) -> float:
        """Seconds spent in ``stage``: in this run since :meth:`begin`, plus what the earlier runs
        had spent when they wrote the checkpoint this one resumed from."""
        now = self.timer()
        return self.earlier.get(stage, 0.0) + now - self.begun.get(stage, now)

    def minutes(self, stage: str) -> float:
        """:meth:`seconds` in minutes, one decimal: the figure of the model card."""
        return round(self.seconds(stage) / 60, 1)

    def path(self, stage: str) -> Path | None:
        return None if self.folder is None else self.folder / f"{stage}.pt"

    def restore(self, stage: str) -> dict[str, Any] | None:
        """The state ``stage`` left in an earlier run of this recipe, or None.

        Raises:
            ModelError: the checkpoint was written by another recipe, or cannot be read.
        """
        path = self.path(stage)
        if path is None or not path.is_file():
            return None
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # a torn or foreign file: say which, rather than train from a guess
            raise ModelError(f"{path}: not a checkpoint this script can read ({exc}); remove it to start the "
                             "stage again") from None
        if {**self.defaults, **saved.get("recipe", {})} != self.recipe:
            raise ModelError(f"{path} was written by another recipe ({saved.get('recipe')}); remove "
                             f"{self.folder} or resume with the recipe it was written with")
        self.earlier[stage] = float(saved.get("seconds", 0.0))
        return saved["state"]

    def step(self, stage: str, state: Callable[[], dict[str, Any]], *, last: bool) -> None:
        """After a step of ``stage``: write ``state()`` when it is time (never after the stage's
        ``last`` step: its result is what the stage returns), and stop when the run's time is up.

        Raises:
            Stopped: ``stop_after_seconds`` have passed; the state is written.
        """
        if self.folder is None or last:
            return
        now = self.clock()
        stopping = self.stop_after is not None and now - self.started >= self.stop_after
        if stopping or now - self.last >= self.every:
            self.write(stage, state())
            self.last = now
        if stopping:
            raise Stopped(f"stopped after {self.stop_after / 60:g} min in stage {stage}; its state is in "
                          f"{self.path(stage)}: run again with --resume to go on")

    def write(self, stage: str, state: dict[str, Any]) -> None:
        path = self.path(stage)
        assert path is not None
        self._write_run()
        payload = {"recipe": self.recipe, "state": state, "seconds": self.seconds(stage)}
        write_atomically(path, lambda temporary: torch.save(payload, temporary), what="training checkpoint",
                         error=ModelError, suffix=".pt")

    def _write_run(self) -> None:
        assert self.folder is not None
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.run is not None:
            text = json.dumps(self.run, indent=2) + "\n"
            write_atomically(self.folder / RUN_JSON, lambda temporary: temporary.write_text(text),
                             what="training run", error=ModelError, suffix=".json")

    def done(self, stage: str) -> None:
        """The stage finished: its checkpoint is no longer needed."""
        path = self.path(stage)
        if path is not None:
            self._write_run()
            path.unlink(missing_ok=True)


def numpy_state(rng: np.random.Generator) -> dict[str, Any]:
    """A numpy generator's state in the types a weights-only checkpoint holds (its 128-bit
    integers as decimal strings)."""
    return _stringify(rng.bit_generator.state)


def set_numpy_state(rng: np.random.Generator, state: dict[str, Any]) -> None:
    rng.bit_generator.state = _numbers(state)


def _stringify(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _stringify(item) for key, item in value.items()}
    return f"int:{value}" if isinstance(value, int) and not isinstance(value, bool) else value


def _numbers(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _numbers(item) for key, item in value.items()}
    return int(value[4:]) if isinstance(value, str) and value.startswith("int:") else value
