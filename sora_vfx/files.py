"""Writing files so that no reader ever sees half of one: the one atomic write of sora_vfx.

Frames, the manifest, the conform timeline, farm bundles, signed review files and the cached
built-in model folders are all written to a temporary name in the destination's folder and
renamed into place. A failure leaves the previous file (or nothing) and removes the temporary
one; the error names the file and what it is.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .errors import SoraVfxError

#: The writing host, as it appears in temporary names (``.`` and ``-`` would split them).
HOST = socket.gethostname().replace(".", "_").replace("-", "_") or "host"

# A temporary file from another host (a farm on shared storage) is stale after a day.
_STALE_SECONDS = 24 * 3600
#: A lock is held for the milliseconds of a read-modify-write; one from another host that is
#: older than this was left by a process that died holding it.
STALE_LOCK_SECONDS = 600


#: The longest host name and process id a temporary name may carry: Linux's HOST_NAME_MAX
#: (farm nodes are named by others) and the 7 digits of its largest process id (2**22).
_LONGEST_HOST = max(64, len(HOST))
_LONGEST_PID = 4_194_304


def temporary_name(path: Path, *, suffix: str = "") -> Path:
    """``.<name>.<host>-<pid>.<token>.tmp<suffix>`` beside ``path``.

    The same folder makes the final rename atomic; the host and process id tell
    ``remove_stale_temporaries`` whose file it is; ``suffix`` keeps the extension last for
    writers that choose the format by it (OIIO: ``.exr``).
    """
    return path.with_name(_temporary_file_name(path.name, HOST, os.getpid(), secrets.token_hex(4), suffix))


def longest_temporary_name(name: str, *, suffix: str = "") -> str:
    """The longest name ``temporary_name`` can give a file called ``name`` on any host: what
    must fit a file system's limit on a name for the file to be written at all."""
    return _temporary_file_name(name, "h" * _LONGEST_HOST, _LONGEST_PID, secrets.token_hex(4), suffix)


def _temporary_file_name(name: str, host: str, pid: int, token: str, suffix: str) -> str:
    return f".{name}.{host}-{pid}.{token}.tmp{suffix}"


def write_atomically(path: Path, write: Callable[[Path], None], *, what: str,
                     error: type[SoraVfxError], suffix: str = "") -> Path:
    """Call ``write(temporary)`` and rename the result to ``path``.

    Args:
        path: the destination; its folder must exist.
        write: writes the whole file at the path it is given (or makes a whole folder there:
            a folder is renamed into place only when ``path`` is missing or an empty folder).
        what: what the file is, for the error ("manifest", "EXR frame", ...).
        error: the error raised when writing fails.
        suffix: the temporary name's last suffix, for writers that need the extension.
    Returns:
        ``path``.
    Raises:
        error: the file could not be written; the message names ``what`` and ``path``. A
            ``KeyboardInterrupt`` or ``SystemExit`` still passes through, after cleaning up.
    """
    path = Path(path)
    temporary = temporary_name(path, suffix=suffix)
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException as exc:
        _remove(temporary)
        if isinstance(exc, Exception):
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise error(f"cannot write {what} {path}: {reason}") from exc
        raise
    return path


def write_text_atomically(path: Path, text: str, *, what: str, error: type[SoraVfxError]) -> Path:
    """``write_atomically`` for UTF-8 text."""
    return write_atomically(path, lambda temporary: temporary.write_text(text, encoding="utf-8"),
                            what=what, error=error)


def write_json_atomically(path: Path, data: Any, *, what: str, error: type[SoraVfxError]) -> Path:
    """``write_atomically`` for a JSON document (indented, ending in a newline)."""
    return write_text_atomically(path, json.dumps(data, indent=2, default=str) + "\n", what=what, error=error)


def lock_name(path: Path) -> Path:
    """``.<name>.lock`` beside ``path``: the lock of a file that several processes update."""
    return Path(path).with_name(f".{Path(path).name}.lock")


@contextlib.contextmanager
def exclusive_lock(path: Path, *, what: str, error: type[SoraVfxError], timeout: float = 300.0) -> Iterator[None]:
    """Hold the lock of ``path`` (:func:`lock_name`) while the caller reads, changes and
    rewrites it, so that farm tasks sharing one output folder do not lose each other's updates.

    The lock is a file created with ``O_EXCL``, which is atomic on local and NFS (v3 and later)
    file systems alike, holding ``<host>-<pid>``. A lock whose process is gone (on this host) or
    older than :data:`STALE_LOCK_SECONDS` (from another host) is broken.

    Raises:
        error: the lock could not be taken within ``timeout`` seconds, or not made at all.
    """
    lock = lock_name(path)
    owner = f"{HOST}-{os.getpid()}-{secrets.token_hex(4)}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            descriptor = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _read_holder(lock)
            if holder is not None and _lock_is_stale(lock, holder) and _read_holder(lock) == holder:
                lock.unlink(missing_ok=True)
                continue
            if time.monotonic() > deadline:
                raise error(f"cannot lock {what} {path}: {lock} is held by {holder or 'another process'}; "
                            f"remove it if no sora-vfx process is running") from None
            time.sleep(0.02 + secrets.randbelow(50) / 1000)
            continue
        except OSError as exc:
            raise error(f"cannot lock {what} {path}: {exc.strerror or exc}") from None
        with os.fdopen(descriptor, "w") as handle:
            handle.write(owner + "\n")
        break
    try:
        yield
    finally:
        if _read_holder(lock) == owner:
            lock.unlink(missing_ok=True)


def _read_holder(lock: Path) -> str | None:
    try:
        return lock.read_text().strip() or None
    except OSError:
        return None


def _lock_is_stale(lock: Path, holder: str) -> bool:
    host, _, rest = holder.partition("-")
    return _abandoned(lock, host, rest.partition("-")[0], max_age=STALE_LOCK_SECONDS)


def _abandoned(path: Path, host: str, pid: str, *, max_age: float) -> bool:
    """Whether the process that made ``path`` (a temporary file or a lock) is gone: asked
    directly on this host; from another host, which cannot be asked, once ``path`` is older
    than ``max_age`` seconds. False when ``path`` has vanished meanwhile."""
    if host == HOST and pid.isdigit():
        return not _process_alive(int(pid))
    try:
        return time.time() - path.stat().st_mtime > max_age
    except OSError:
        return False


def remove_stale_temporaries(folder: Path | str, pattern: str) -> list[Path]:
    """Remove temporary files matching ``pattern`` (a glob of ``temporary_name`` names) left in
    ``folder`` by killed writers; return what was removed.

    On this host a temporary file is stale once its writer's process is gone; from another
    host only after a day, since that process cannot be asked.
    """
    removed = []
    for temporary in Path(folder).glob(pattern):
        owner = temporary.name.rsplit(".tmp", 1)[0].split(".")
        host, _, pid = (owner[-2] if len(owner) >= 3 else "").rpartition("-")
        if _abandoned(temporary, host, pid, max_age=_STALE_SECONDS):
            _remove(temporary)
            removed.append(temporary)
    return removed


def _remove(path: Path) -> None:
    """Remove the temporary file or folder ``path``, if it is there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def ensure_writable_folder(folder: Path, error: type[SoraVfxError]) -> None:
    """Create ``folder`` and prove a file can be made in it, or raise ``error`` naming it."""
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".sora_vfx-probe-", dir=folder)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise error(f"output folder {folder} is not writable: {exc.strerror or exc}") from None


#: What a path that is not a regular file is, for messages (by ``stat``'s file type).
_SPECIAL_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                  (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))


def special_file(path: Path | str) -> str | None:
    """What ``path`` is when it is there and is not a regular file ("a FIFO", "a character
    device", "a folder"...), else None (a regular file, or nothing there: the reader's own
    error says so). Asked without opening it: opening a FIFO that nobody writes to waits for
    ever, and reading a device may never end, so a reader checks first."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    if stat.S_ISREG(mode):
        return None
    return next((kind for test, kind in _SPECIAL_KINDS if test(mode)), "not a regular file")
