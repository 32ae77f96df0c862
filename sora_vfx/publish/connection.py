"""What every tracker's connection shares: its client library (the ``publish`` extra), one
timeout for a silent server, and messages that never hold a credential."""

from __future__ import annotations

import importlib
from types import ModuleType

from ..errors import EXTRAS, ConfigError, redact
from ..text import shortened

#: Seconds a call may wait on a silent tracker (connecting, or between two reads of an answer)
#: before the publish fails; the clients' own default is to wait for ever.
TIMEOUT_SECONDS = 60.0


def import_client(module: str, tracker: str) -> ModuleType:
    """The client library ``module`` of ``tracker`` (``gazu``, ``shotgun_api3``).

    Raises:
        ConfigError: it (or a library it needs) is not installed; says which extra installs it.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        missing = exc.name or module
        needed = module if missing == module or missing.startswith(f"{module}.") else f"{module} (it needs {missing})"
        raise ConfigError(f"publishing to {tracker} needs {needed}, which is not installed: "
                          f"pip install 'sora_vfx[{EXTRAS.get(module, 'publish')}]'") from None


def site(url: str) -> str:
    """A tracker's URL as messages show it: its userinfo (``user:password@``) redacted."""
    return redact(url.rstrip("/"))


def reason(error: BaseException | str, secrets: tuple[str, ...]) -> str:
    """An error's text (an exception's arguments, or a site's answer), first line, for a
    message: credentials redacted, at most 300 characters (a site's error page can be long,
    and may echo the request)."""
    text = error if isinstance(error, str) else " ".join(str(part) for part in error.args)
    first = (text.strip().splitlines() or [""])[0] or (type(error).__name__ if not isinstance(error, str) else "")
    first = redact(first, secrets)
    return shortened(first, 300)
