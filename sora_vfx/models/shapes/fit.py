"""``--fit MINUTES``: the recipe's step and clip counts scaled, as ``--budget`` scales them, so
that the stages a run trains take about MINUTES on the machine it runs on.

A step's time on a card cannot be told from a CPU (for a model this small it is mostly kernel
launches), so the GPU recipe's counts are estimates; run with ``--fit``, a lent card's minutes
end in trained folders instead of a run stopped half-way. Before the run, ``train.probe`` times
each stage here: it trains throwaway models of the recipe's shapes on a few clips, one step to
warm up and then ``PROBE_STEPS`` timed in each phase of each stage (the VAE's crops and whole
frames, the transformer's short and whole clips, the outpainting transformer's), and encodes a
batch of clips twice. Its random draws are its own, so the run after it is exactly the run of
the recipe it records: the model card's command line trains the same weights without ``--fit``.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from .checkpoint import Checkpoints

#: The step and clip counts of each stage, which ``--budget`` and ``--fit`` scale.
STAGE_COUNTS: dict[str, tuple[str, ...]] = {
    "vae": ("vae_crop_steps", "vae_full_steps"),
    "transformer": ("clips", "dit_steps", "dit_warmup"),
    "refine": ("refine_steps", "refine_clips", "refine_warmup"),
    "outpaint": ("outpaint_clips", "outpaint_steps", "outpaint_warmup"),
}
#: The stages that each ``--stage`` trains (``i2v`` trains none).
STAGES_RUN: dict[str, tuple[str, ...]] = {"all": tuple(STAGE_COUNTS), "base": ("vae", "transformer", "refine"),
                                          "refine": ("refine",), "outpaint": ("outpaint",)}
#: Timed steps in each phase of each stage, after one step to warm up.
PROBE_STEPS = 4
#: Clips encoded in the probe, twice (the first warms up): one batch of the encoding loops.
PROBE_CLIPS = 16
#: The budgets ``--fit`` chooses from: below the least, the stages cannot be fitted (nearly
#: every count at its least, 2); above the most, the encoded clips, which are held in memory and
#: written with the checkpoints (3.5 GB for the GPU recipe's at budget 1), grow past what was tried.
LEAST_BUDGET, MOST_BUDGET = 0.001, 2.0


class StepTimes(Checkpoints):
    """Keeps no state; notes when each step of each stage ends (the loops call ``step`` after every one)."""

    def __init__(self) -> None:
        super().__init__(None, {})
        self.ends: dict[str, list[float]] = {}

    def step(self, stage: str, state: Any, *, last: bool) -> None:
        self.ends.setdefault(stage, []).append(time.perf_counter())

    def phases(self, stage: str) -> tuple[float, float]:
        """The median seconds of a step in each of the two phases the probe ran (``PROBE_STEPS``
        each, after a step that warms up; a step lasts from the end of the step before it)."""
        ends = np.asarray(self.ends[stage])
        warm = PROBE_STEPS + 1
        first = np.diff(ends[:warm])
        second = np.diff(ends[warm + 1:])
        return float(np.median(first)), float(np.median(second))


def estimate(recipe: Any, stages: tuple[str, ...], seconds: dict[str, float]) -> float:
    """Seconds that ``stages`` (keys of :data:`STAGE_COUNTS`) take with ``recipe``, a step and a
    clip taking what ``train.probe`` measured."""
    total = 0.0
    if "vae" in stages:
        total += (recipe.vae_crop_steps * seconds["vae_crop"] + recipe.vae_full_steps * seconds["vae_full"]
                  + seconds["vae_measure"])
    if "transformer" in stages:
        short = round(recipe.dit_steps * recipe.dit_short_share)
        total += (recipe.clips * seconds["encode"] + short * seconds["dit_short"]
                  + (recipe.dit_steps - short) * seconds["dit_long"])
    if "refine" in stages and recipe.refine_steps:  # whole clips only
        total += recipe.refine_clips * seconds["encode"] + recipe.refine_steps * seconds["dit_long"]
    if "outpaint" in stages:
        short = round(recipe.outpaint_steps * recipe.outpaint_short_share)
        total += (recipe.outpaint_clips * seconds["outpaint_encode"] + short * seconds["outpaint_short"]
                  + (recipe.outpaint_steps - short) * seconds["outpaint_long"])
    return total


def fitted_budget(recipe: Any, stages: tuple[str, ...], seconds_left: float, seconds: dict[str, float]) -> float:
    """The largest budget, to four decimals and at most ``MOST_BUDGET``, at which the counts of
    ``stages`` take at most ``seconds_left`` by :func:`estimate`.

    Raises:
        ValueError: not even ``LEAST_BUDGET`` fits; says how long that would take.
    """
    def takes(budget: float) -> float:
        return estimate(recipe.scaled(budget, stages), stages, seconds)

    if takes(MOST_BUDGET) <= seconds_left:
        return MOST_BUDGET
    if takes(LEAST_BUDGET) > seconds_left:
        raise ValueError(f"even at budget {LEAST_BUDGET} these stages take about {takes(LEAST_BUDGET) / 60:.1f} "
                         f"minutes here, and {max(0.0, seconds_left) / 60:.1f} are left after timing them")
    fits, over = LEAST_BUDGET, MOST_BUDGET
    while over - fits > 1e-5:
        middle = (fits + over) / 2
        fits, over = (middle, over) if takes(middle) <= seconds_left else (fits, middle)
    return math.floor(fits * 1e4) / 1e4

