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
    shot itself, or closes a loop."""
    by_name = {job.name: job for job in jobs}
    for job in jobs:
        if job.continues is None:
            continue
        if job.continues == job.name:
            raise EditError(f"{path}, {job.where}: shot {job.name} continues itself")
        if job.continues not in by_name:
            raise EditError(f"{path}, {job.where}: shot {job.name} continues {job.continues!r}, which is not a shot "
                            f"of this edit")
    for job in jobs:
        chain = [job.name]
        current = job
        while current.continues is not None:
            current = by_name[current.continues]
            if current.name in chain:
                loop = " -> ".join([*chain[chain.index(current.name):], current.name])
                raise EditError(f"{path}, {job.where}: shots continue each other in a loop: {loop}")
            chain.append(current.name)


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
    """The jobs in edit order, except that a shot comes after the shot it continues."""
    by_name = {job.name: job for job in jobs}
    ordered: list[ShotJob] = []
    placed: set[str] = set()

    def place(job: ShotJob) -> None:
        if job.name in placed:
            return
        if job.continues in by_name:
            place(by_name[job.continues])
        placed.add(job.name)
        ordered.append(job)

    for job in jobs:
        place(job)
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
