"""Run the ``sora-vfx`` executable for a host application, follow its progress, read what it wrote.

Host-neutral (no ``nuke``, no ``bpy``, no torch). The one source is ``plugins/common/process.py``;
``plugins/package.py`` (``make plugins``) copies it into each host's package as ``process.py``
(``sora_vfx_nuke.process``, the Blender extension's ``.process``): edit it there, never a copy.
The host polls a ``SoraProcess`` from its own loop (a Nuke thread, a Blender modal timer) and never
blocks its UI on it. Works on the Python of Nuke 13+ (3.7) and Blender 4.2+.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time

EXECUTABLE_ENV = "SORA_VFX_EXECUTABLE"
# A host's own Python settings would point the sora-vfx interpreter at the wrong libraries.
_HOST_PYTHON_VARIABLES = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONEXECUTABLE", "PYTHONNOUSERSITE")
_LOG_PREFIX = re.compile(r"^sora-vfx:\s*(?:INFO:\s*)?")
_SHOT_DONE = re.compile(r"\bshot (?P<name>[A-Za-z0-9_.\-]+): ")
# The manifest.json versions this plugin reads: sora_vfx.render.manifest.MANIFEST_VERSION, the
# "version" of docs/schemas/manifest.schema.json (tests/plugins/test_package.py keeps them in step).
MANIFEST_VERSIONS = (1, 2)
# Where ``sora-vfx render -o OUT`` puts a shot's frames, relative to OUT. Only to follow progress
# while it renders (``shots --json`` does not say where frames go); results are loaded from each
# manifest entry's ``frames.pattern`` (see ``shot_pattern``), never from this.
_RENDER_FRAMES = "{shot}/{shot}.####.exr"


class ShimError(Exception):
    """A problem to show the artist in one message (missing executable, bad input, failed run)."""


def find_executable(configured: str | None = None) -> str:
    """The ``sora-vfx`` executable: ``configured``, else ``$SORA_VFX_EXECUTABLE``, else ``PATH``."""
    for candidate in (configured, os.environ.get(EXECUTABLE_ENV)):
        if candidate:
            candidate = os.path.expanduser(candidate)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
            found = shutil.which(candidate)
            if found:
                return found
            raise ShimError(f"sora-vfx executable not found at {candidate!r} (set in the plugin "
                            f"preferences or ${EXECUTABLE_ENV})")
    found = shutil.which("sora-vfx")
    if not found:
        raise ShimError(f"sora-vfx executable not found on PATH: set ${EXECUTABLE_ENV} to its full path, "
                        "e.g. /opt/sora_vfx/.venv/bin/sora-vfx")
    return found


def render_command(*, executable: str, edit: str, out: str, model: str | None = None,
                   style: str | None = None, size: str | None = None, steps: int | None = None,
                   handles: int | None = None, shots: list[str] | None = None) -> list[str]:
    """``sora-vfx render EDIT -o OUT --json`` with the options that are set."""
    command = [executable, "render", os.path.abspath(edit), "-o", os.path.abspath(out)]
    command += options_list(model=model, style=style, size=size, steps=steps, handles=handles,
                        shots=",".join(shots) if shots else None)
    return command + ["--json"]


def shots_command(*, executable: str, edit: str, handles: int | None = None) -> list[str]:
    """``sora-vfx shots EDIT --json``: the shot jobs, fast, without rendering."""
    return [executable, "shots", os.path.abspath(edit)] + options_list(handles=handles) + ["--json"]


def options_list(**values) -> list[str]:
    """``--name value`` for each value that is set (not None, not blank); ``_`` becomes ``-``."""
    options: list[str] = []
    for name, value in values.items():
        if value is not None and str(value).strip() != "":
            options += [f"--{name.replace('_', '-')}", str(value).strip()]
    return options


def frame_paths(pattern: str, first: int, last: int) -> list[str]:
    """The files of ``plate.####.exr`` or ``plate.%04d.exr`` for frames ``first..last``."""
    hashes = re.search(r"#+", pattern)
    printf = re.search(r"%0?(\d*)d", pattern)
    if hashes:
        head, tail, width = pattern[: hashes.start()], pattern[hashes.end():], len(hashes.group())
    elif printf:
        head, tail, width = pattern[: printf.start()], pattern[printf.end():], int(printf.group(1) or 1)
    else:
        return [pattern]
    return [f"{head}{frame:0{width}d}{tail}" for frame in range(first, last + 1)]


def render_progress_files(out: str, jobs: list[dict]) -> list[str]:
    """The frames ``sora-vfx render -o OUT`` is expected to write for the ``shots --json`` jobs,
    to follow its progress by the files that appear (an estimate: see ``_RENDER_FRAMES``)."""
    files: list[str] = []
    for job in jobs:
        pattern = os.path.join(os.path.abspath(out), _RENDER_FRAMES.format(shot=job["name"]))
        files += frame_paths(pattern, job["head_in"], job["tail_out"])
    return files


def read_manifest(path: str) -> dict:
    """A render's ``manifest.json``, checked: a version this plugin reads and a list of shots.

    Raises:
        ShimError: unreadable, not a manifest, or written by a sora-vfx this plugin does not know.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            manifest = json.load(handle)
    except (OSError, ValueError) as exc:
        raise ShimError(f"cannot read {path}: {exc}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("shots"), list):
        raise ShimError(f"{path} is not a sora-vfx manifest (no list of shots)")
    version = manifest.get("version")
    if version not in MANIFEST_VERSIONS:
        known = ", ".join(str(v) for v in MANIFEST_VERSIONS)
        writer = manifest.get("software") or "the sora-vfx that wrote it"
        plural = "s" if len(MANIFEST_VERSIONS) > 1 else ""
        raise ShimError(f"{path}: manifest version {version!r} is unknown to this plugin (it reads "
                        f"version{plural} {known}); install the Sora VFX plugin that comes with {writer}")
    return manifest


def shot_pattern(manifest_path: str, entry: dict) -> str:
    """A manifest entry's frames as an absolute ``####`` pattern (``frames.pattern`` is relative
    to the manifest's folder)."""
    return os.path.join(os.path.dirname(os.path.abspath(manifest_path)), entry["frames"]["pattern"])


def failed_shots(summary: dict) -> list[str]:
    """``name: error`` for each shot that failed in a ``render --json`` summary."""
    return [f"{shot['name']}: {shot.get('error') or 'failed'}"
            for shot in summary.get("shots", []) if shot.get("status") == "failed"]


def subprocess_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The host's environment without its Python settings; output unbuffered for progress."""
    env = dict(os.environ if base is None else base)
    for name in _HOST_PYTHON_VARIABLES:
        env.pop(name, None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class SoraProcess:
    """One ``sora-vfx ... --json`` run in the background.

    ``poll()`` says whether it has ended; ``progress`` (0..1 or None) and ``message`` follow
    its log on stderr; ``document`` is the JSON it printed; ``cancel()`` stops it.
    """

    def __init__(self, command: list[str], *, total_shots: int | None = None,
                 expected_files: list[str] | None = None, cwd: str | None = None):
        self.command = list(command)
        self.total_shots = total_shots
        # Frames are renamed into place when complete, so a new file is a finished frame.
        self.expected_files = list(expected_files or ())
        self.cwd = cwd
        self.started = 0.0
        self.returncode: int | None = None
        self.cancelled = False
        self.progress: float | None = None
        self.message = ""
        self.stderr_lines: list[str] = []
        self.shots_done: list[str] = []
        self._stdout: list[str] = []
        self._popen: subprocess.Popen | None = None
        self._readers: list[threading.Thread] = []
        self._lock = threading.Lock()

    def start(self) -> SoraProcess:
        self.started = time.time()
        try:
            self._popen = subprocess.Popen(
                self.command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                cwd=self.cwd, env=subprocess_env(), text=True, encoding="utf-8", errors="replace",
                start_new_session=(os.name == "posix"),
            )
        except OSError as exc:
            raise ShimError(f"cannot run {self.command[0]}: {exc.strerror or exc}") from None
        for stream, sink in ((self._popen.stdout, self._read_stdout), (self._popen.stderr, self._read_stderr)):
            reader = threading.Thread(target=sink, args=(stream,), daemon=True)
            reader.start()
            self._readers.append(reader)
        return self

    def poll(self) -> bool:
        """True once the process has ended and its output is read."""
        if self._popen is None:
            return True
        if self._popen.poll() is None:
            self._count_files()
            return False
        for reader in self._readers:
            reader.join()
        self.returncode = self._popen.returncode
        return True

    def wait(self, *, interval: float = 0.2, should_cancel=None) -> SoraProcess:
        """Block until the end (for threads and tests), cancelling when ``should_cancel()`` says so."""
        while not self.poll():
            if should_cancel is not None and should_cancel() and not self.cancelled:
                self.cancel()
            time.sleep(interval)
        return self

    def cancel(self, *, grace: float = 5.0) -> None:
        """Stop the run (frames already written stay: sora-vfx resumes them next time)."""
        self.cancelled = True
        popen = self._popen
        if popen is None or popen.poll() is not None:
            return
        self._signal(signal.SIGTERM)
        try:
            popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self._signal(getattr(signal, "SIGKILL", signal.SIGTERM))
            popen.wait()
        self.poll()

    def _signal(self, number: int) -> None:
        popen = self._popen
        try:
            if os.name == "posix":
                os.killpg(popen.pid, number)
            elif number == signal.SIGTERM:
                popen.terminate()
            else:
                popen.kill()
        except (ProcessLookupError, PermissionError):
            pass

    @property
    def output(self) -> str:
        """What the command printed on stdout."""
        return "".join(self._stdout)

    @property
    def document(self):
        """The JSON document the command printed on stdout, or None."""
        text = self.output.strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            return None

    def result(self, kind: type = dict, *, partial: bool = False):
        """The JSON document of a run that worked, else ``ShimError`` with the command's own error.

        ``kind``: what the document must be (``dict``, ``list``); ``partial``: exit code 1 (some
        shots or frames failed, the rest were written) counts as a result too.
        """
        document = self.document
        if self.returncode not in ((0, 1) if partial else (0,)) or not isinstance(document, kind):
            raise ShimError(self.error_message)
        return document

    @property
    def error_message(self) -> str:
        """The command's own error lines (``sora-vfx: error: ...``), else the end of its log."""
        errors = [line for line in self.stderr_lines if "error" in line.lower()]
        lines = errors or self.stderr_lines[-5:]
        text = "\n".join(lines).strip()
        return text or f"sora-vfx exited with code {self.returncode}"

    def _read_stdout(self, stream) -> None:
        for chunk in iter(lambda: stream.read(65536), ""):
            self._stdout.append(chunk)
        stream.close()

    def _read_stderr(self, stream) -> None:
        for line in stream:
            line = line.rstrip("\r\n")
            # tqdm bars redraw with carriage returns; the last state is the one to show.
            line = line.rsplit("\r", 1)[-1].strip()
            if not line:
                continue
            with self._lock:
                self.stderr_lines.append(line)
                self.message = _LOG_PREFIX.sub("", line)
                self._follow(line)
        stream.close()

    def _follow(self, line: str) -> None:
        shot = _SHOT_DONE.search(line)
        if shot and self.total_shots:
            if shot.group("name") not in self.shots_done:
                self.shots_done.append(shot.group("name"))
            self._advance(len(self.shots_done) / self.total_shots)

    def _count_files(self) -> None:
        if not self.expected_files:
            return
        done = 0
        for path in self.expected_files:
            try:
                done += os.stat(path).st_mtime >= self.started - 1.0
            except OSError:
                pass
        self._advance(done / len(self.expected_files))

    def _advance(self, fraction: float) -> None:
        self.progress = max(self.progress or 0.0, min(1.0, fraction))
