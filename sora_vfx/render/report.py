"""What a render did: each shot's result, the manifest entries made from them, the conform."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..editorial.conform import add_sound_track, conform_formats, conform_timeline, write_conforms
from ..layout import frame_pattern, sound_path
from .manifest import FrameRange, ManifestEntry, ShotStatus, manifest_path, merge_manifest
from .plan import RenderPlan, ShotPlan

#: Version of the ``render --json`` document (docs/schemas/render.schema.json).
JSON_VERSION = 1


@dataclass
class ShotResult:
    """One shot's outcome: ``rendered``, ``skipped`` (every frame already there) or ``failed``
    (``error`` says why; the other shots still render)."""

    shot: ShotPlan
    status: ShotStatus = "rendered"
    frames_written: int = 0
    frames_reused: int = 0
    seconds: float = 0.0
    error: str | None = None
    #: The windows the shot was rendered in, as (first, last) frame numbers; None where unknown.
    windows: list[tuple[int, int]] | None = None
    #: The memory plan the shot was rendered with: the model's, or the next one down after it
    #: ran out of memory (``models.memory``); None where no model was used.
    memory_plan: str | None = None

    @property
    def name(self) -> str:
        return self.shot.name

    def manifest_entry(self) -> ManifestEntry:
        """The shot's entry in ``manifest.json``."""
        job, spec = self.shot.job, self.shot.spec
        return ManifestEntry(
            name=job.name,
            index=job.index,
            status=self.status,
            error=self.error,
            seed=job.seed,
            job_hash=spec.job_hash,
            frames=FrameRange(first=job.head_in, last=job.tail_out, count=job.frame_count, cut_in=job.cut_in,
                              cut_out=job.cut_out, pattern=frame_pattern(job.name)),
            frames_written=self.frames_written,
            frames_reused=self.frames_reused,
            seconds=round(self.seconds, 3),
            record_in=job.record_in,
            record_out=job.record_out,
            spec=spec,
            job=job,
            windows=None if self.windows is None else [list(window) for window in self.windows],
            memory_plan=self.memory_plan,
        )

    def to_dict(self) -> dict[str, Any]:
        """The shot in ``render --json``."""
        return {"name": self.name, "status": self.status, "frames_written": self.frames_written,
                "frames_reused": self.frames_reused, "seconds": round(self.seconds, 3), "error": self.error,
                "job_hash": self.shot.spec.job_hash, "memory_plan": self.memory_plan}


@dataclass
class RenderReport:
    """A finished render: its results and the files that describe it."""

    out_dir: Path
    results: list[ShotResult]
    manifest: Path
    #: Every conform file written: the OTIO timeline first, then the editors' formats.
    conforms: list[Path]

    @property
    def conform(self) -> Path:
        """The OTIO conform timeline (``renders.otio``)."""
        return self.conforms[0]

    @property
    def failed(self) -> list[ShotResult]:
        return [r for r in self.results if r.status == "failed"]

    def to_dict(self) -> dict[str, Any]:
        """The ``render --json`` document."""
        return {
            "version": JSON_VERSION,
            "out": str(self.out_dir),
            "manifest": str(self.manifest),
            "conform": str(self.conform),
            "conforms": [str(path) for path in self.conforms],
            "shots": [result.to_dict() for result in self.results],
        }


def finish_render(plan: RenderPlan, results: list[ShotResult]) -> RenderReport:
    """Merge the results into ``manifest.json`` and write the conform timeline.

    Shots rendered earlier into the same folder (other ``--shots``, other farm tasks) stay in
    the manifest; the conform plays every shot of the edit whose frames are all there.

    Raises:
        RenderError: the manifest or the conform cannot be written.
    """
    edit, out_dir = plan.edit, plan.out_dir
    manifest = merge_manifest(
        out_dir, edit=edit.path, order=[job.name for job in edit.jobs],
        entries=[result.manifest_entry() for result in results], settings=plan.settings.summary(),
    )
    names = {job.name for job in edit.jobs}
    current = [entry for entry in manifest.shots if entry.name in names]
    extra = {entry.name: {"job_hash": entry.job_hash, "status": entry.status} for entry in current}
    rendered = {entry.name for entry in current if entry.done}
    conform = conform_timeline(edit.timeline, edit.clips, edit.jobs, out_dir, rendered=rendered, extra=extra)
    add_sound_track(conform, edit.jobs, out_dir,
                    sounded={name for name in rendered if sound_path(out_dir, name).is_file()})
    written = write_conforms(conform, out_dir, conform_formats(plan.settings.conform, edit.path), jobs=edit.jobs,
                             rendered=rendered, record_rate=edit.record_rate)
    return RenderReport(out_dir, results, manifest_path(out_dir), written)
