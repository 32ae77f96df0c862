"""Cuts that continue: a shot marked ``CONTINUES: <shot>`` starts from that shot's frames.

The links form chains (a shot continues at most one other; several may continue the same
one). They are checked when the edit is read, so that a link to a missing shot or a loop
fails before anything renders, and they decide the order shots render in.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..errors import EditError
from .shotjob import ShotJob


def check_links(jobs: list[ShotJob], path: Path | str) -> None:
    """EditError naming the shot when a ``continues`` link names no shot of the edit, the
    shot itself, or closes a loop.

    Each shot is visited once (a chain of thousands of shots is checked in linear time): a
    walk along the links stops at the first shot already known to lead to a shot that
    continues none.
    """
    by_name = {job.name: job for job in jobs}
    for job in jobs:
        if job.continues is None:
            continue
        if job.continues == job.name:
            raise EditError(f"{path}, {job.where}: shot {job.name} continues itself")
        if job.continues not in by_name:
            raise EditError(f"{path}, {job.where}: shot {job.name} continues {job.continues!r}, which is not a shot "
                            f"of this edit")
    sound: set[str] = set()  # shots whose links end at a shot that continues none
    for job in jobs:
        chain: dict[str, int] = {}  # the walk from ``job``: name -> place in it
        current: ShotJob | None = job
        while current is not None and current.name not in sound:
            if current.name in chain:
                loop = _loop_text([*list(chain)[chain[current.name]:], current.name])
                raise EditError(f"{path}, {job.where}: shots continue each other in a loop: {loop}")
            chain[current.name] = len(chain)
            current = by_name[current.continues] if current.continues is not None else None
        sound.update(chain)


def _loop_text(names: list[str]) -> str:
    """``A -> B -> A``; a long loop with its middle left out, so the message stays one line."""
    if len(names) > 12:
        names = [*names[:6], f"... ({len(names) - 10} more) ...", *names[-4:]]
    return " -> ".join(names)


def with_predecessors(jobs: list[ShotJob], wanted: Iterable[str]) -> set[str]:
    """The names in ``wanted`` and every shot they continue, directly or through others."""
    by_name = {job.name: job for job in jobs}
    needed: set[str] = set()
    for name in wanted:
        while name is not None and name not in needed:
            needed.add(name)
            name = by_name[name].continues
    return needed


def continuation_order(jobs: list[ShotJob]) -> list[ShotJob]:
    """The jobs in edit order, except that a shot comes after the shot it continues.

    Links to shots outside ``jobs`` are left out (those shots are rendered already); the
    links must hold no loop (``check_links``). Iterative: a chain of any length is ordered in
    linear time, without recursion.
    """
    by_name = {job.name: job for job in jobs}
    ordered: list[ShotJob] = []
    placed: set[str] = set()
    for job in jobs:
        # The shots ``job`` continues, directly or through others, not yet placed: the
        # nearest first; they are placed from the far end of the chain back to ``job``.
        waiting: list[ShotJob] = []
        current: ShotJob | None = job
        while current is not None and current.name not in placed:
            waiting.append(current)
            placed.add(current.name)
            current = by_name.get(current.continues) if current.continues is not None else None
        ordered.extend(reversed(waiting))
    return ordered


def continuation_depth(jobs: list[ShotJob]) -> dict[str, int]:
    """Per shot, how many links lead back from it to a shot that continues none (0 for those).

    Shots of one depth need nothing from each other, so a farm renders them side by side once
    the depth before is done.
    """
    by_name = {job.name: job for job in jobs}
    depth: dict[str, int] = {}
    for job in continuation_order(jobs):
        previous = by_name.get(job.continues) if job.continues else None
        depth[job.name] = 0 if previous is None else depth[previous.name] + 1
    return depth


def continued_frame(previous: ShotJob, job: ShotJob) -> int:
    """The frame of ``previous`` that ``job`` starts from: its first rendered frame is drawn
    from that image.

    ``job``'s first cut frame follows ``previous``'s last cut frame, so its first rendered frame,
    ``head_handles`` frames before its cut, is the frame of ``previous`` that many frames
    before the frame after its cut; clamped to the frames ``previous`` renders.
    """
    frame = previous.cut_out + 1 - (job.cut_in - job.head_in)
    return min(max(frame, previous.head_in), previous.tail_out)
