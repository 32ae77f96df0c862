"""Publish a render to a production tracker: the edit's shots, and one version per shot.

``publish_render(out_dir, tracker, project=..., sequence=...)`` reads ``OUT/manifest.json`` and
the review's preview movies and, through a ``Tracker`` (``kitsu.KitsuTracker``,
``shotgrid.ShotGridTracker``), registers each rendered shot (name, sequence, frame range with
handles, cut in and out, the prompt as its description) and adds one version per shot: the
preview movie, the EXR sequence's path, and the seed, model and job hash in its data. A version
is recognised by its job hash, so a second publish of the same render adds nothing and a
changed render adds a version; a publish that failed part-way is completed by running it again.
Credentials come from the environment (each tracker module's ``from_environment``), never from
the command line or a log.
"""

from .publish import PublishReport, publish_releases, publish_render, releases_of
from .tracker import ShotRelease, Tracker, TrackerError

__all__ = ["PublishReport", "ShotRelease", "Tracker", "TrackerError", "publish_releases", "publish_render",
           "releases_of"]
