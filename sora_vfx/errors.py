"""Errors that reach the user.

Every error raised for bad input is a ``SoraVfxError``; the command line turns it into one
readable message and exit code 2. Messages name the file, line, event, shot or value at fault
and, where there is a short list of valid choices, list them. They never hold a credential:
:func:`redact` takes them out of every message and log line that reaches the user.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from urllib.parse import quote


class Terminated(KeyboardInterrupt):
    """SIGTERM (what farm schedulers send on cancel), raised in the main thread by the command
    line's handler; a ``KeyboardInterrupt``, so everything that cleans up after Ctrl-C cleans
    up after it too."""


class SoraVfxError(Exception):
    """Root of every error the user can cause and fix."""

    exit_code = 2


class ConfigError(SoraVfxError):
    """A bad option value, project config or environment setting."""


class EditError(SoraVfxError):
    """An edit file (EDL, OTIO, FCP XML) that cannot be read or has bad events."""


class ShotSheetError(SoraVfxError):
    """A shot sheet that cannot be read or names shots that do not exist."""


class ModelError(SoraVfxError):
    """A model folder that is missing, not a diffusers pipeline, or unsafe to load."""


class StyleError(SoraVfxError):
    """An unknown style or a bad style definition."""


class ImagingError(SoraVfxError):
    """An image that cannot be read or written, or a bad colour space."""


class RenderError(SoraVfxError):
    """A render that cannot start: bad size, unwritable output folder."""


class PlateError(SoraVfxError):
    """A plate that cannot be extended as asked."""


class FarmError(SoraVfxError):
    """A farm export or cluster that cannot be used."""


class PromptError(SoraVfxError, ValueError):
    """A prompt outside the shapes grammar, or a scene the shapes world cannot draw."""


class EvalError(SoraVfxError, ValueError):
    """Frames or a prompt that cannot be measured, or a render folder with nothing to measure."""


class ReviewError(SoraVfxError):
    """A review that cannot be built or a file that cannot be verified: no manifest, bad key."""


#: The extra of pyproject.toml that installs each optional library a command imports when it
#: runs (by top-level module): a missing one is named with ``pip install 'sora_vfx[EXTRA]'``.
EXTRAS = {"dask": "farm", "distributed": "farm", "openjd": "farm", "yaml": "farm", "torchao": "speed",
          "gazu": "publish", "shotgun_api3": "publish"}
#: What a credential is replaced with.
REDACTED = "***"
#: A known secret shorter than this is not searched for in messages (it would blank out
#: ordinary words and numbers); the patterns below still hide it where it is written.
MIN_SECRET_LENGTH = 6
#: Environment variables whose values are secrets (``SORA_VFX_KITSU_PASSWORD``,
#: ``SORA_VFX_SHOTGRID_KEY``, any ``..._TOKEN`` or ``..._SECRET``).
_SECRET_VARIABLE = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|(?:^|_)(?:API_?|SCRIPT_?)?KEY$", re.I)
# The userinfo of a URL (``scheme://user:password@host``): everything between ``//`` and the
# authority's last ``@``.
_USERINFO = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)[^/?#\s@]*(?:@[^/?#\s@]*)*@", re.I)
# ``password=...``, ``"script_key": "..."``, ``'api_key': '...'``, ``token: ...``,
# ``SORA_VFX_SHOTGRID_KEY=...``: the value of a field whose name says it is a secret (quoted,
# or up to the next space; after ``=``, as in a query string, up to the next ``&`` too).
_FIELD = re.compile(
    r"""(?P<name>["']?\b[\w-]*?(?:password|passwd|secret|token|credentials?|[_-]key|apikey)["']?\s*"""
    r"""(?P<separator>[:=])\s*)(?P<value>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\S+)""", re.I)
# An HTTP authorisation header's value (after its scheme), and a bearer token anywhere.
_AUTHORIZATION = re.compile(r"""(?P<head>\bauthorization["']?\s*[:=]\s*["']?(?:(?:Basic|Bearer|Digest|Token)\s+)?"""
                            r"""|\bBearer\s+)[^\s"]+""", re.I)


def secrets_in_environment(environ: dict[str, str] | None = None) -> list[str]:
    """The values of the environment variables that hold secrets (by their names)."""
    environ = os.environ if environ is None else environ
    return [value for name, value in environ.items() if value and _SECRET_VARIABLE.search(name)]


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without credentials: URL userinfo, the values of secret-named fields
    (``password=``, ``"script_key": ...``, ``token:``), authorisation headers, and every
    occurrence of a known secret (``secrets`` and :func:`secrets_in_environment`, as written,
    URL-quoted or JSON-escaped) become :data:`REDACTED`.

    The one redaction of sora_vfx: tracker errors, the command line's error messages and its
    log lines all go through it.
    """
    text = str(text)
    known = {variant for secret in (*secrets, *secrets_in_environment()) if len(secret) >= MIN_SECRET_LENGTH
             for variant in (secret, quote(secret, safe=""), quote(secret), json.dumps(secret)[1:-1])}
    # Longest first, so that a secret containing another is replaced whole.
    for secret in sorted(known, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{REDACTED}@", text)
    # Headers first: ``Authorization: Bearer x`` is a header, not an ``authorization:`` field.
    text = _AUTHORIZATION.sub(lambda m: m["head"] + REDACTED, text)
    return _FIELD.sub(_blank, text)


def _blank(field: re.Match) -> str:
    """A secret field with its value redacted, its quotes kept (and, in a query string, the
    parameters after it)."""
    value = field["value"]
    if value[:1] in "\"'" and len(value) >= 2 and value[-1] == value[0]:
        return f"{field['name']}{value[0]}{REDACTED}{value[0]}"
    rest = ""
    if field["separator"] == "=" and "&" in value[1:]:
        rest = value[value.index("&", 1):]
    return f"{field['name']}{REDACTED}{rest}"
