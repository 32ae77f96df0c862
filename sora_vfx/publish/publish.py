"""What a render publishes (its ``ShotRelease``s, read from the manifest) and the publish loop."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..layout import frame_pattern, review_movie_path
from ..render.manifest import read_manifest
from .tracker import ShotRelease, Tracker

log = logging.getLogger("sora_vfx")

@dataclass
class PublishReport:
    """What a publish did: per shot ``added`` (a new version) or ``unchanged`` (this render's
    version was there already)."""

    where: str
    shots: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"version": 1, "tracker": self.where,
                "shots": [{"name": name, "result": result, "version": self.versions.get(name)}
                          for name, result in self.shots.items()]}


def releases_of(out_dir: Path, *, sequence: str | None = None) -> list[ShotRelease]:
    """The rendered shots of ``OUT`` (every frame on disk), in edit order.

    Raises:
        ConfigError: no manifest, no rendered shot, or a shot without its review movie.
    """
    out_dir = Path(out_dir)
    manifest = read_manifest(out_dir)
    if manifest is None:
        raise ConfigError(f"{out_dir}: no manifest.json: render into it first")
    sequence = sequence or Path(manifest.edit).stem
    releases, missing = [], []
    for entry in manifest.shots:
        if not entry.done or entry.spec is None or entry.job_hash is None:
            log.info("publish: shot %s is not rendered (%s); left out", entry.name, entry.status)
            continue
        movie = review_movie_path(out_dir, entry.name)
        if not movie.is_file():
            missing.append(entry.name)
            continue
        frames = entry.frames
        releases.append(ShotRelease(
            name=entry.name, sequence=sequence, frame_in=frames.first, frame_out=frames.last,
            cut_in=frames.cut_in, cut_out=frames.cut_out, handles=frames.cut_in - frames.first,
            record_in=entry.record_in, record_out=entry.record_out, description=entry.spec.prompt, movie=movie,
            frames=str((out_dir / frame_pattern(entry.name)).resolve()), seed=entry.seed, model=entry.spec.model,
            job_hash=entry.job_hash))
    if missing:
        raise ConfigError(f"{out_dir}: no preview movie for shot(s) {', '.join(missing)}: run `sora-vfx review "
                          f"{out_dir}` first (publish sends the review's movies)")
    if not releases:
        raise ConfigError(f"{out_dir}: no rendered shot to publish")
    return releases


def publish_render(out_dir: Path, tracker: Tracker, *, sequence: str | None = None) -> PublishReport:
    """``publish_releases`` of every rendered shot of ``OUT`` (``releases_of``).

    Raises:
        ConfigError: nothing to publish.
        TrackerError: the tracker failed; what was published stays, and a retry completes it.
    """
    return publish_releases(releases_of(out_dir, sequence=sequence), tracker)


def publish_releases(releases: list[ShotRelease], tracker: Tracker) -> PublishReport:
    """Register every shot, then add each shot's version unless the tracker has it.

    Raises:
        TrackerError: the tracker failed; what was published stays, and a retry completes it.
    """
    report = PublishReport(tracker.where)
    shot_ids = {release.name: tracker.ensure_shot(release) for release in releases}
    for release in releases:
        shot_id = shot_ids[release.name]
        if tracker.has_version(shot_id, release.job_hash):
            report.shots[release.name] = "unchanged"
            log.info("publish: shot %s: version of job %s is there already", release.name, release.job_hash)
            continue
        report.versions[release.name] = tracker.add_version(shot_id, release)
        report.shots[release.name] = "added"
        log.info("publish: shot %s: added a version (job %s)", release.name, release.job_hash)
    return report


__all__ = ["PublishReport", "publish_releases", "publish_render", "releases_of"]
