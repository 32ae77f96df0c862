"""``OUT/manifest.json``: one typed entry per shot with its spec, seed, frames, job_hash, timings.

The manifest is a contract with code we do not control (host plugins, farm scripts): its
shape is published as a JSON schema (``docs/schemas/manifest.schema.json``) and carries a
``version``. It is written from ``ManifestEntry`` objects and read back into them: readers
inside sora_vfx never look up raw keys. Renders of a subset of shots (``--shots``, farm
tasks) merge into the manifest already there.
"""

from __future__ import annotations

import json
import os
import re
import time
import types
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from .. import __version__, defaults
from ..editorial.shotjob import ShotJob, shot_name_problem
from ..errors import RenderError
from ..files import exclusive_lock, write_json_atomically
from ..imaging.exr import MAX_DECODE_VALUES
from ..layout import MANIFEST_NAME, frame_from_pattern
from ..text import json_nesting_beyond, shortened
from .spec import RenderSpec

MANIFEST_VERSION = 2
#: Versions this release reads: version 1 lacks each shot's ``windows`` and the spec's window
#: method and links.
READABLE_VERSIONS = (1, 2)

ShotStatus = Literal["rendered", "skipped", "failed"]
#: Statuses whose frames are all on disk.
DONE_STATUSES = ("rendered", "skipped")
#: How deep objects and lists may nest in a manifest: its own documents nest less than ten
#: deep; Python's JSON reader recurses, so deeper ones are refused before it reads them.
MAX_MANIFEST_NESTING = 100
#: The most pixels a shot's frames may have: sora_vfx writes them RGBA and reads back no
#: frame of more than ``imaging.exr.MAX_DECODE_VALUES`` values.
MAX_FRAME_PIXELS = MAX_DECODE_VALUES // 4


@dataclass(frozen=True)
class FrameRange:
    """A shot's frames: ``first``..``last`` with handles, ``cut_in``..``cut_out`` in the edit,
    and where they are (``pattern``, relative to the manifest's folder, ``#`` for digits)."""

    first: int
    last: int
    count: int
    cut_in: int
    cut_out: int
    pattern: str

    def path(self, out_dir: Path, frame: int) -> Path:
        """The file of ``frame``: the pattern's run of ``#`` as the padded frame number."""
        return frame_from_pattern(out_dir, self.pattern, frame)

    def on_disk(self, out_dir: Path) -> list[int]:
        """The frames ``first``..``last`` whose files are there, in order: one listing of the
        pattern's folder, so the cost is what the folder holds, never the range the manifest
        declares (a damaged one can declare a billion frames)."""
        folder, _, name = self.pattern.rpartition("/")
        if "#" not in name:
            return []
        # A number where each run of '#' is; the name it makes is checked against the file's.
        number = re.compile("".join(r"(-?\d+)" if part.startswith("#") else re.escape(part)
                                    for part in re.split(r"(#+)", name) if part))
        found = set()
        try:
            with os.scandir(Path(out_dir) / folder) as entries:
                names = [entry.name for entry in entries]
        except (OSError, ValueError):  # no folder (nothing rendered), or not one
            return []
        for file in names:
            match = number.fullmatch(file)
            try:
                frame = int(match.group(1)) if match else None
                if frame is not None and self.first <= frame <= self.last and self.path(out_dir, frame).name == file:
                    found.add(frame)
            except ValueError:  # more digits than a number converts, or a pattern outside OUT
                continue
        return sorted(found)


@dataclass
class ManifestEntry:
    """One shot of a render, as ``manifest.json`` records it.

    ``spec`` is None only for a shot that failed before its spec was built. ``windows``: the
    windows (first, last frame) the shot was rendered in with ``spec.windows``' method; None
    where not known (a shot that failed before rendering, a version 1 manifest).
    """

    name: str
    index: int
    status: ShotStatus
    error: str | None
    seed: int
    job_hash: str | None
    frames: FrameRange
    frames_written: int
    frames_reused: int
    seconds: float
    record_in: str
    record_out: str
    spec: RenderSpec | None
    job: ShotJob
    windows: list[list[int]] | None = None
    #: The memory plan the shot was rendered with (``models.memory``); None where not known.
    memory_plan: str | None = None

    @property
    def colorspace(self) -> str:
        """The colour space the shot's frames were written in."""
        return self.spec.colorspace if self.spec is not None and self.spec.colorspace else defaults.COLORSPACE

    @property
    def done(self) -> bool:
        """Every frame of the shot is on disk (rendered now or earlier)."""
        return self.status in DONE_STATUSES

    def to_dict(self) -> dict[str, Any]:
        """The entry as JSON-ready values, keys in the published order."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["frames"] = {f.name: getattr(self.frames, f.name) for f in fields(FrameRange)}
        data["spec"] = self.spec.to_dict() if self.spec else None
        data["job"] = self.job.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: Any, *, where: str) -> ManifestEntry:
        """Decode one entry; ``where`` names it in the error.

        Raises:
            RenderError: every problem found in the entry, in one message.
        """
        problems: list[str] = []
        if not isinstance(data, dict):
            raise RenderError(f"{where}: a shot entry has to be a JSON object, not {type(data).__name__}")
        values = {name: _field(data, name, kind, problems) for name, kind in _ENTRY_TYPES.items()}
        if isinstance(values["name"], str) and (problem := shot_name_problem(values["name"])):
            problems.append(problem)  # a hand-edited name must not lead the review outside OUT
        if values["status"] is not None and values["status"] not in get_args(ShotStatus):
            problems.append(f"status {values['status']!r} is not one of {', '.join(get_args(ShotStatus))}")
        frames = _object(data, "frames", problems)
        frame_values = {name: _field(frames, f"frames.{name}", kind, problems, key=name)
                        for name, kind in _FRAME_TYPES.items()} if frames is not None else {}
        if frame_values and None not in frame_values.values():
            problems += _frame_problems(**frame_values)
        job = _object(data, "job", problems)
        missing_job = [name for name in _JOB_REQUIRED if job is not None and name not in job]
        if missing_job:
            problems.append(f"job lacks {', '.join(missing_job)}")
        if job is not None:
            problems += _type_problems(job, _JOB_TYPES, "job")
        spec = data.get("spec")
        missing_spec = [name for name in _SPEC_REQUIRED if isinstance(spec, dict) and name not in spec]
        if spec is not None and not isinstance(spec, dict):
            problems.append("spec has to be an object or null")
        elif missing_spec:
            problems.append(f"spec lacks {', '.join(missing_spec)}")
        if isinstance(spec, dict):
            spec_problems = _type_problems(spec, _SPEC_TYPES, "spec")
            problems += spec_problems or ([] if missing_spec else _size_problems(spec))
        windows = data.get("windows")
        if windows is not None and not (isinstance(windows, list) and all(
                isinstance(w, list) and len(w) == 2 and all(type(n) is int for n in w) for w in windows)):
            problems.append(f"windows has to be a list of [first, last] frame pairs or null, not {_short(windows)}")
        memory_plan = data.get("memory_plan")
        if memory_plan is not None and not isinstance(memory_plan, str):
            problems.append(f"memory_plan has to be a string or null, not {_short(memory_plan)}")
        if problems:
            name = data.get("name")
            label = f"shot {name}" if isinstance(name, str) else "a shot entry"
            raise RenderError(f"{where}: {label}: {'; '.join(problems)}")
        return cls(
            **values,
            frames=FrameRange(**frame_values),
            spec=RenderSpec.from_dict(spec) if isinstance(spec, dict) else None,
            job=ShotJob.from_dict(job),
            windows=windows,
            memory_plan=memory_plan,
        )


@dataclass
class Manifest:
    """The whole ``manifest.json``: the render's settings and its shots in edit order."""

    edit: str
    settings: dict[str, Any]
    shots: list[ManifestEntry] = field(default_factory=list)
    software: str = f"sora_vfx {__version__}"
    updated: str = ""
    version: int = MANIFEST_VERSION

    def entry(self, name: str) -> ManifestEntry | None:
        """The shot called ``name``, or None."""
        return next((entry for entry in self.shots if entry.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        """The document as written."""
        return {
            "version": self.version,
            "software": self.software,
            "edit": self.edit,
            "updated": self.updated,
            "settings": self.settings,
            "shots": [entry.to_dict() for entry in self.shots],
        }

    @classmethod
    def from_dict(cls, data: Any, *, where: str) -> Manifest:
        """Decode a manifest document; ``where`` (its path) names it in errors.

        Raises:
            RenderError: not a manifest, a version this release cannot read, or bad entries.
        """
        if not isinstance(data, dict) or not isinstance(data.get("shots"), list):
            raise RenderError(f"{where}: not a sora_vfx manifest (no 'shots' list)")
        version = data.get("version")
        if version not in READABLE_VERSIONS:
            raise RenderError(f"{where}: manifest version {version!r}; this sora_vfx {__version__} reads "
                              f"versions {', '.join(map(str, READABLE_VERSIONS))}")
        shots, problems = [], []
        for entry in data["shots"]:
            try:
                shots.append(ManifestEntry.from_dict(entry, where=where))
            except RenderError as exc:
                problems.append(str(exc).removeprefix(f"{where}: "))
        if problems:
            raise RenderError(f"{where}: {'; '.join(problems)}")
        settings = data.get("settings")
        return cls(
            edit=str(data.get("edit") or ""),
            settings=settings if isinstance(settings, dict) else {},
            shots=shots,
            software=str(data.get("software") or ""),
            updated=str(data.get("updated") or ""),
            version=version,
        )


def manifest_path(out_dir: Path) -> Path:
    """``OUT/manifest.json``."""
    return Path(out_dir) / MANIFEST_NAME


def read_manifest(out_dir: Path) -> Manifest | None:
    """The manifest of a render folder, or None when it has none.

    Raises:
        RenderError: the file is unreadable, not JSON, nests deeper than
            :data:`MAX_MANIFEST_NESTING`, or not a manifest this release reads (every problem
            of its entries, each field named: types, frame ranges, patterns leading outside
            the folder, frame sizes past :data:`MAX_FRAME_PIXELS`).
    """
    path = manifest_path(out_dir)
    if not path.exists():
        return None
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RenderError(f"{path}: not a readable sora_vfx manifest: {exc}") from None
    # Refused before the JSON reader, which recurses as deep as the text nests.
    if json_nesting_beyond(raw, MAX_MANIFEST_NESTING) is not None:
        raise RenderError(f"{path}: not a readable sora_vfx manifest: objects and lists nest more than "
                          f"{MAX_MANIFEST_NESTING} deep")
    try:
        data = json.loads(raw.decode("utf-8"))
    except ValueError as exc:  # not UTF-8, not JSON, or a number of more digits than Python converts
        raise RenderError(f"{path}: not a readable sora_vfx manifest: {exc}") from None
    return Manifest.from_dict(data, where=str(path))


def merge_manifest(out_dir: Path, *, edit: Path, order: list[str], entries: list[ManifestEntry],
                   settings: dict[str, Any]) -> Manifest:
    """Write the manifest with ``entries`` replacing same-named shots; shots in edit ``order``.

    The read, merge and write happen under the manifest's lock (``files.exclusive_lock``), so
    processes rendering other shots into the same folder at once keep each other's entries.
    A damaged or older manifest is replaced: its shots are rendered again or read back from
    their frames (``render --conform-only``).

    Raises:
        RenderError: the manifest cannot be written.
    """
    path = manifest_path(out_dir)
    with exclusive_lock(path, what="manifest", error=RenderError):
        try:
            existing = read_manifest(out_dir)
        except RenderError:
            existing = None
        by_name = {entry.name: entry for entry in (existing.shots if existing else [])}
        by_name.update({entry.name: entry for entry in entries})
        ranked = {name: index for index, name in enumerate(order)}
        manifest = Manifest(
            edit=str(Path(edit).resolve()),
            settings=settings,
            shots=sorted(by_name.values(), key=lambda e: (ranked.get(e.name, len(ranked)), e.name)),
            updated=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        )
        write_json_atomically(path, manifest.to_dict(), what="manifest", error=RenderError)
    return manifest


_ENTRY_TYPES: dict[str, Any] = {
    "name": str, "index": int, "status": str, "error": (str, type(None)), "seed": int,
    "job_hash": (str, type(None)), "frames_written": int, "frames_reused": int, "seconds": (int, float),
    "record_in": str, "record_out": str,
}
_FRAME_TYPES: dict[str, Any] = {
    "first": int, "last": int, "count": int, "cut_in": int, "cut_out": int, "pattern": str,
}
# What ShotJob and RenderSpec cannot be built without.
_JOB_REQUIRED = tuple(f.name for f in fields(ShotJob) if f.default is MISSING and f.default_factory is MISSING)
_SPEC_REQUIRED = tuple(f.name for f in fields(RenderSpec) if f.default is MISSING and f.default_factory is MISSING)
# The types of their fields, which the readers after the render rely on.
_JOB_TYPES = get_type_hints(ShotJob)
_SPEC_TYPES = get_type_hints(RenderSpec)


def _frame_problems(*, first: int, last: int, count: int, cut_in: int, cut_out: int, pattern: str) -> list[str]:
    """What is wrong with a shot's frame range and pattern, taken together."""
    problems = []
    if not first <= cut_in <= cut_out <= last:
        problems.append(f"frames {first}-{last} do not hold the cut {cut_in}-{cut_out}")
    elif count != last - first + 1:
        problems.append(f"frames.count {count} is not the {last - first + 1} frames of {first}-{last}")
    problem = _pattern_problem(pattern)
    if problem is not None:
        problems.append(f"frames.pattern {_short(pattern)} {problem}")
    return problems


def _pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot name a shot's frames inside the render folder, or None."""
    folder, _, name = pattern.rpartition("/")
    if "\0" in pattern:
        return "holds a NUL character"
    try:
        frame_from_pattern(Path("."), pattern, 0)
    except ValueError:
        return "points outside the render folder"
    if "#" not in name:
        return "has no run of '#' for the frame number in its file name"
    if "#" in folder:
        return "has '#' outside its file name"
    return None


def _size_problems(spec: dict) -> list[str]:
    """What is wrong with a spec's frame size (its fields' types already checked)."""
    width, height = spec["width"], spec["height"]
    if width < 1 or height < 1:
        return [f"spec size {width}x{height} is not a picture"]
    if width * height > MAX_FRAME_PIXELS:
        return [f"spec size {width}x{height} is larger than any frame sora_vfx reads "
                f"({MAX_FRAME_PIXELS} pixels at most)"]
    return []


def _type_problems(data: dict, types_: dict[str, Any], label: str) -> list[str]:
    """The fields of ``data`` whose values do not have the types of ``types_`` (a dataclass's
    type hints, as JSON holds them: lists for tuples); missing fields are not problems here."""
    return [f"{label}.{name} has to be {_describe(hint)}, not {_short(data[name])}"
            for name, hint in types_.items() if name in data and not _fits(data[name], hint)]


def _fits(value: Any, hint: Any) -> bool:
    """Whether a JSON value fits a type hint (str, int, float, bool, None, unions, lists,
    tuples as lists, dicts); anything else fits."""
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        return any(_fits(value, arg) for arg in args)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if hint in (list, tuple) or origin in (list, tuple):
        if not isinstance(value, list):
            return False
        if origin is tuple and args and args[-1] is not Ellipsis:
            return len(value) == len(args) and all(_fits(v, a) for v, a in zip(value, args, strict=True))
        return not args or all(_fits(v, args[0]) for v in value)
    if hint is dict or origin is dict:
        return isinstance(value, dict) and (not args or all(_fits(v, args[1]) for v in value.values()))
    return True


def _describe(hint: Any) -> str:
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(arg) for arg in args)
    if hint is type(None):
        return "null"
    if hint in (list, tuple) or origin in (list, tuple):
        return "a list"
    if hint is dict or origin is dict:
        return "an object"
    return getattr(hint, "__name__", str(hint))


def _short(value: Any) -> str:
    """``repr(value)``, cut short: a damaged manifest's values can be long."""
    return shortened(repr(value), 80)


def _field(data: dict, label: str, kind: Any, problems: list[str], *, key: str | None = None) -> Any:
    key = key or label
    if key not in data:
        problems.append(f"{label} is missing")
        return None
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, kind):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        expected = " or ".join("null" if k is type(None) else k.__name__ for k in kinds)
        problems.append(f"{label} has to be {expected}, not {_short(value)}")
        return None
    return value


def _object(data: dict, name: str, problems: list[str]) -> dict | None:
    value = data.get(name)
    if not isinstance(value, dict):
        problems.append(f"{name} has to be an object, not {_short(value)}")
        return None
    return value
