"""ShotGrid (Flow Production Tracking) through its Python API, ``shotgun_api3``.

Credentials come from the environment: ``SORA_VFX_SHOTGRID_URL`` (the site, e.g.
``https://studio.shotgrid.autodesk.com``), ``SORA_VFX_SHOTGRID_SCRIPT`` and
``SORA_VFX_SHOTGRID_KEY`` (a script and its application key, from the site's Scripts page).
Scripts are how a site admits pipeline tools; a person's login is refused by sites that sign in
through SSO or Autodesk Identity, so it is not offered.

A shot is a Shot of a Sequence of the Project, with the site's standard cut fields; a version
is a Version of the shot with the EXR sequence and the movie's paths, the frame range, and the
movie uploaded to ``sg_uploaded_movie``. Its description holds its data, one ``key: value`` per
line as for Kitsu; a version is recognised by the ``job_hash`` line, which the site filters on
(``description contains``). A version whose movie is not uploaded yet is not complete: the
next publish uploads it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from . import connection
from .tracker import ShotRelease, TrackerError, credentials

ENVIRONMENT = ("SORA_VFX_SHOTGRID_URL", "SORA_VFX_SHOTGRID_SCRIPT", "SORA_VFX_SHOTGRID_KEY")
#: The File/Link field a Version's movie is uploaded to; the site transcodes it for review.
MOVIE_FIELD = "sg_uploaded_movie"
_VERSION_FIELDS = ["code", "description", MOVIE_FIELD]


def connect_site(url: str, *, script_name: str, api_key: str, timeout: float | None = None) -> Any:
    """A ``shotgun_api3.Shotgun`` whose calls give up on a silent site after ``timeout``
    seconds (default :data:`connection.TIMEOUT_SECONDS`, as for Kitsu); it first talks to the
    site on the first call."""
    shotgun_api3 = connection.import_client("shotgun_api3", "ShotGrid")
    site = shotgun_api3.Shotgun(url, script_name=script_name, api_key=api_key, connect=False)
    site.config.timeout_secs = connection.TIMEOUT_SECONDS if timeout is None else timeout
    return site


def from_environment(project: str, *, connect: Callable[..., Any] | None = None) -> ShotGridTracker:
    """A connected tracker from ``SORA_VFX_SHOTGRID_*``.

    Args:
        project: the Project's name (created when missing).
        connect: makes the connection from ``(url, script_name=, api_key=)``; default
            :func:`connect_site` (tests pass a mockgun site).

    Raises:
        ConfigError: a variable is missing, or shotgun_api3 is not installed. TrackerError: the
            site is down, silent, or refuses them.
    """
    url, script, key = credentials("ShotGrid", ENVIRONMENT)
    return ShotGridTracker(url, script, key, project=project, connect=connect)


class ShotGridTracker:
    """``Tracker`` for one ShotGrid project."""

    def __init__(self, url: str, script: str, key: str, *, project: str,
                 connect: Callable[..., Any] | None = None, timeout: float | None = None):
        self._api = connection.import_client("shotgun_api3", "ShotGrid")
        url = url.rstrip("/")
        self.where = f"ShotGrid at {connection.site(url)}"
        self._secrets = (key,)
        self._timeout = connection.TIMEOUT_SECONDS if timeout is None else timeout
        connect = connect or functools.partial(connect_site, timeout=self._timeout)
        # The first search below is the first call that shows whether the site is up and the key
        # accepted.
        self._sg = self._call(connect, url, script_name=script, api_key=key, what="connect")
        found = self._call(self._sg.find_one, "Project", [["name", "is", project]], ["name"],
                           what=f"find project {project}")
        if found is None:
            found = self._call(self._sg.create, "Project", {"name": project}, what=f"create project {project}")
        self._project = _link(found)
        self._sequences: dict[str, dict] = {}
        self._shots: dict[str, dict] = {}

    def _call(self, function: Any, *args: Any, what: str, **kwargs: Any) -> Any:
        """One API call; its failures as TrackerError saying what was being done (never the key,
        even where the site's error echoes the request)."""
        import urllib.error

        from shotgun_api3.lib import httplib2

        shotgun_api3 = self._api
        try:
            return function(*args, **kwargs)
        except shotgun_api3.AuthenticationFault:
            raise TrackerError(f"{self.where} refused the credentials ({what}): check SORA_VFX_SHOTGRID_SCRIPT and "
                               "SORA_VFX_SHOTGRID_KEY") from None
        except shotgun_api3.ProtocolError as exc:
            # A 403 carries the site's whole error page; its first line says enough.
            reason = connection.reason(str(exc.errmsg), self._secrets)
            raise TrackerError(f"{self.where} answered HTTP {exc.errcode} ({what}): {reason}") from None
        except urllib.error.HTTPError as exc:  # an upload refused by the storage it goes to
            raise TrackerError(f"{self.where}: cannot {what}: HTTP {exc.code} "
                               f"{connection.reason(str(exc.reason), self._secrets)}") from None
        except TimeoutError:
            raise TrackerError(f"{self.where} did not answer within {self._timeout:g} s ({what}): is the site "
                               "up, and the URL right?") from None
        except (OSError, httplib2.HttpLib2Error):
            raise TrackerError(f"{self.where} cannot be reached ({what}): is the site up, and the URL right?") \
                from None
        except (shotgun_api3.ShotgunError, ValueError) as exc:
            raise TrackerError(f"{self.where}: cannot {what}: {connection.reason(exc, self._secrets)}") from None

    def _sequence(self, name: str) -> dict:
        if name not in self._sequences:
            what = f"find or create sequence {name}"
            found = self._call(self._sg.find_one, "Sequence", [["project", "is", self._project], ["code", "is", name]],
                               what=what) or \
                self._call(self._sg.create, "Sequence", {"project": self._project, "code": name}, what=what)
            self._sequences[name] = _link(found)
        return self._sequences[name]

    def ensure_shot(self, release: ShotRelease) -> str:
        sequence = self._sequence(release.sequence)
        what = f"register shot {release.name}"
        # The site's standard cut fields: head in and tail out are the rendered frames, handles
        # included; the durations are what ShotGrid's own cut tools fill in beside them.
        fields = {"description": release.description, "sg_head_in": release.frame_in, "sg_cut_in": release.cut_in,
                  "sg_cut_out": release.cut_out, "sg_tail_out": release.frame_out,
                  "sg_cut_duration": release.cut_out - release.cut_in + 1,
                  "sg_working_duration": release.frame_out - release.frame_in + 1}
        shot = self._call(self._sg.find_one, "Shot", [["project", "is", self._project],
                                                      ["sg_sequence", "is", sequence], ["code", "is", release.name]],
                          what=what)
        if shot is None:
            shot = self._call(self._sg.create, "Shot", {"project": self._project, "sg_sequence": sequence,
                                                        "code": release.name, **fields}, what=what)
        else:
            self._call(self._sg.update, "Shot", shot["id"], fields, what=what)
        shot_id = str(shot["id"])
        self._shots[shot_id] = {**_link(shot), "code": release.name}
        return shot_id

    def _versions(self, shot_id: str, job_hash: str | None = None) -> list[dict]:
        """The shot's versions, oldest first; with ``job_hash``, only that render's."""
        shot = self._shots[shot_id]
        filters = [["project", "is", self._project], ["entity", "is", _link(shot)]]
        if job_hash is not None:
            filters.append(["description", "contains", f"job_hash: {job_hash}"])
        found = self._call(self._sg.find, "Version", filters, _VERSION_FIELDS, order=[{"field_name": "id",
                           "direction": "asc"}], what=f"read shot {shot['code']}'s versions")
        if job_hash is None:
            return found
        # The site's "contains" ignores case and line ends: the exact line decides.
        return [v for v in found if f"\njob_hash: {job_hash}\n" in f"\n{v.get('description') or ''}\n"]

    def has_version(self, shot_id: str, job_hash: str) -> bool:
        return any(version.get(MOVIE_FIELD) for version in self._versions(shot_id, job_hash))

    def add_version(self, shot_id: str, release: ShotRelease) -> str:
        what = f"add shot {release.name}'s version"
        # A Version left without its movie by a publish that failed part-way is completed.
        earlier = self._versions(shot_id, release.job_hash)
        version = earlier[0] if earlier else self._call(
            self._sg.create, "Version", self._version_fields(shot_id, release), what=what)
        self._call(self._sg.upload, "Version", version["id"], str(release.movie), field_name=MOVIE_FIELD,
                   display_name=release.movie.name, what=f"upload shot {release.name}'s movie")
        return str(version["id"])

    def _version_fields(self, shot_id: str, release: ShotRelease) -> dict[str, Any]:
        # Numbered after the shot's earlier sora_vfx versions: SH010_sora_v001, v002...
        pattern = re.compile(rf"{re.escape(release.name)}_sora_v(\d+)", re.IGNORECASE)
        numbers = [int(m.group(1)) for v in self._versions(shot_id) if (m := pattern.fullmatch(v.get("code") or ""))]
        return {"project": self._project, "entity": _link(self._shots[shot_id]),
                "code": f"{release.name}_sora_v{max(numbers, default=0) + 1:03d}",
                "description": release.version_text(), "sg_path_to_frames": release.frames,
                "sg_path_to_movie": str(release.movie.resolve()), "sg_first_frame": release.frame_in,
                "sg_last_frame": release.frame_out, "frame_count": release.frame_out - release.frame_in + 1,
                "frame_range": f"{release.frame_in}-{release.frame_out}"}


def _link(entity: dict) -> dict:
    """An entity as a link field takes it."""
    return {"type": entity["type"], "id": entity["id"]}
