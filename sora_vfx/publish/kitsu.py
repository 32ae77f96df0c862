"""Kitsu (CGWire) through its Python client, ``gazu``.

Credentials come from the environment: ``SORA_VFX_KITSU_URL`` (the API root, e.g.
``https://kitsu.studio.example/api``), ``SORA_VFX_KITSU_EMAIL`` and
``SORA_VFX_KITSU_PASSWORD``. In Kitsu a shot belongs to a sequence of a project; a version is
a comment on the shot's task (``--task-type``, default Compositing) with the preview movie
attached as its preview file. The comment's text holds the version's data, one ``key: value``
per line, with the ``job_hash`` that recognises it.
"""

from __future__ import annotations

import logging
from typing import Any

from ..errors import redact
from ..text import shortened
from . import connection
from .tracker import VERSION_FIRST_LINE, ShotRelease, TrackerError, credentials

ENVIRONMENT = ("SORA_VFX_KITSU_URL", "SORA_VFX_KITSU_EMAIL", "SORA_VFX_KITSU_PASSWORD")
#: The status a new version's comment sets on the task: "waiting for approval".
VERSION_STATUS = "wfa"
#: What each kind of answer must look like (see ``KitsuTracker._call``'s ``expect``).
_EXPECTED = {
    "tokens": "a log-in answer with an access_token",
    "entity": "an entity (a JSON object with an id)",
    "entity or nothing": "an entity (a JSON object with an id) or nothing",
    "entities": "a list of JSON objects",
}


def from_environment(project: str, *, task_type: str = "Compositing") -> KitsuTracker:
    """A logged-in tracker from ``SORA_VFX_KITSU_*``.

    Raises:
        ConfigError: a variable is missing, or gazu is not installed. TrackerError: Kitsu is
            down, silent, not Kitsu, or refuses them.
    """
    url, email, password = credentials("Kitsu", ENVIRONMENT)
    return KitsuTracker(url, email, password, project=project, task_type=task_type)


class KitsuTracker:
    """``Tracker`` for one Kitsu project.

    Every request gives up after ``timeout`` seconds of silence (default
    :data:`connection.TIMEOUT_SECONDS`, as for ShotGrid)."""

    def __init__(self, url: str, email: str, password: str, *, project: str, task_type: str = "Compositing",
                 timeout: float | None = None):
        gazu = connection.import_client("gazu", "Kitsu")
        # gazu logs a server's whole answer when it is not JSON; with no handler of its own,
        # Python would print that to stderr beside the one-line error.
        if not logging.getLogger("gazu").handlers:
            logging.getLogger("gazu").addHandler(logging.NullHandler())
        self.where = f"Kitsu at {connection.site(url)}"
        self._secrets = (password,)
        self._timeout = connection.TIMEOUT_SECONDS if timeout is None else timeout
        self._gazu = gazu
        self._client = gazu.client.create_client(url.rstrip("/"))
        _time_out(self._client.session, self._timeout)
        self._call(gazu.log_in, email, password, what=f"log in as {email}", expect="tokens")
        self._project = self._call(gazu.project.get_project_by_name, project, what=f"find project {project}",
                                   expect="entity or nothing")
        if not self._project:
            self._project = self._call(gazu.project.new_project, project, what=f"create project {project}")
        self._task_type = self._call(gazu.task.get_task_type_by_name, task_type, what=f"find task type {task_type}",
                                     expect="entity or nothing")
        if not self._task_type:
            raise TrackerError(f"{self.where}: no task type {task_type!r} (--task-type); Kitsu's defaults include "
                               "Compositing, FX, Animation")
        self._status = self._call(gazu.task.get_task_status_by_short_name, VERSION_STATUS,
                                  what=f"find task status {VERSION_STATUS}", expect="entity or nothing")
        self._sequences: dict[str, dict] = {}
        self._tasks: dict[str, dict] = {}

    def _call(self, function: Any, *args: Any, what: str, expect: str = "entity", **kwargs: Any) -> Any:
        """One gazu call; its failures as TrackerError saying what was being done (no
        credential in it), and its answer checked against ``expect`` (a key of ``_EXPECTED``):
        a server that answers, but not as Kitsu does, is a TrackerError too."""
        import requests

        exceptions = self._gazu.exception
        try:
            result = function(*args, client=self._client, **kwargs)
        except exceptions.AuthFailedException:
            raise TrackerError(f"{self.where} refused the credentials ({what}): check SORA_VFX_KITSU_EMAIL and "
                               "SORA_VFX_KITSU_PASSWORD") from None
        except requests.exceptions.Timeout:
            raise TrackerError(f"{self.where} did not answer within {self._timeout:g} s ({what}): is the server up, "
                               "and the URL right?") from None
        except requests.exceptions.ConnectionError:
            raise TrackerError(f"{self.where} cannot be reached ({what}): is the server up, and the URL right?") \
                from None
        except requests.exceptions.JSONDecodeError:
            raise self._not_kitsu(what, expect, "an answer that is not JSON") from None
        except (exceptions.GazuException, requests.exceptions.RequestException, ValueError) as exc:
            raise TrackerError(f"{self.where}: cannot {what}: {connection.reason(exc, self._secrets)}") from None
        except (KeyError, IndexError, TypeError, AttributeError):
            # gazu reading an answer that is not shaped as Kitsu's (``entries[0]`` of a dict...)
            raise self._not_kitsu(what, expect, "an answer gazu cannot read") from None
        if not _shaped(result, expect):
            raise self._not_kitsu(what, expect, f"{type(result).__name__} {_sample(result)}")
        return result

    def _not_kitsu(self, what: str, expect: str, got: str) -> TrackerError:
        return TrackerError(redact(f"{self.where} answered, but not as Kitsu's API does ({what}): expected "
                                   f"{_EXPECTED[expect]}, got {got}; is SORA_VFX_KITSU_URL the API root, e.g. "
                                   "https://kitsu.studio.example/api?", self._secrets))

    def ensure_shot(self, release: ShotRelease) -> str:
        gazu = self._gazu
        sequence = self._sequences.get(release.sequence)
        if sequence is None:
            sequence = self._call(gazu.shot.get_sequence_by_name, self._project, release.sequence,
                                  what=f"find sequence {release.sequence}", expect="entity or nothing") or \
                self._call(gazu.shot.new_sequence, self._project, release.sequence,
                           what=f"create sequence {release.sequence}")
            self._sequences[release.sequence] = sequence
        what = f"register shot {release.name}"
        data = {"cut_in": release.cut_in, "cut_out": release.cut_out, "handles": release.handles,
                "record_in": release.record_in, "record_out": release.record_out}
        shot = self._call(gazu.shot.get_shot_by_name, sequence, release.name, what=what, expect="entity or nothing")
        if shot is None:
            shot = self._call(gazu.shot.new_shot, self._project, sequence, release.name, frame_in=release.frame_in,
                              frame_out=release.frame_out, nb_frames=release.frame_out - release.frame_in + 1,
                              description=release.description, data=data, what=what)
        else:
            shot["description"] = release.description
            shot["nb_frames"] = release.frame_out - release.frame_in + 1
            shot["data"] = {**(shot.get("data") or {}), **data, "frame_in": release.frame_in,
                            "frame_out": release.frame_out}
            shot = self._call(gazu.shot.update_shot, shot, what=what)
        task = self._call(gazu.task.get_task_by_entity, shot, self._task_type, what=f"{what}'s task",
                          expect="entity or nothing") or \
            self._call(gazu.task.new_task, shot, self._task_type, what=f"{what}'s task")
        self._tasks[shot["id"]] = task
        return shot["id"]

    def _versions(self, shot_id: str, job_hash: str) -> list[dict]:
        comments = self._call(self._gazu.task.all_comments_for_task, self._tasks[shot_id], what="read versions",
                              expect="entities")
        return [c for c in comments if f"\njob_hash: {job_hash}\n" in f"\n{c.get('text') or ''}\n"
                and (c.get("text") or "").startswith(VERSION_FIRST_LINE)]

    def has_version(self, shot_id: str, job_hash: str) -> bool:
        return any(comment.get("previews") for comment in self._versions(shot_id, job_hash))

    def add_version(self, shot_id: str, release: ShotRelease) -> str:
        gazu, task = self._gazu, self._tasks[shot_id]
        what = f"add shot {release.name}'s version"
        # A comment left without its movie by a publish that failed part-way is completed.
        earlier = self._versions(shot_id, release.job_hash)
        comment = earlier[0] if earlier else self._call(
            gazu.task.add_comment, task, self._status, release.version_text(), what=what)
        self._call(gazu.task.add_preview, task, comment, str(release.movie), what=f"{what}'s movie")
        return comment["id"]


def _shaped(result: Any, expect: str) -> bool:
    """Whether a gazu call's answer looks like ``expect`` (a key of ``_EXPECTED``)."""
    if expect == "tokens":
        return isinstance(result, dict) and bool(result.get("access_token"))
    if expect == "entities":
        return isinstance(result, list) and all(isinstance(item, dict) for item in result)
    if expect == "entity or nothing" and not result:
        return True
    return isinstance(result, dict) and "id" in result


def _sample(result: Any) -> str:
    """The start of an unexpected answer, for a message (never a token: ``redact`` sees it)."""
    return shortened(repr(result), 80)


def _time_out(session: Any, seconds: float) -> None:
    """Make every request of a ``requests`` session (gazu sets none) give up after ``seconds``
    without an answer: connecting, or between two reads of the answer."""
    from requests.adapters import HTTPAdapter

    class TimeoutAdapter(HTTPAdapter):
        def send(self, request, *args: Any, timeout: Any = None, **kwargs: Any):
            return super().send(request, *args, timeout=seconds if timeout is None else timeout, **kwargs)

    for prefix in ("http://", "https://"):
        session.mount(prefix, TimeoutAdapter())
