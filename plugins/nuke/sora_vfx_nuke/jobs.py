"""What a Sora node asks of sora-vfx, from its knob values alone (a plain dict: no ``nuke`` here).

- the command line (``extend_command``, ``generate_command``), the same ``sora-vfx`` options a
  terminal user types;
- versioned output folders: ``OUT/v001``, ``OUT/v002``, ... each with a record,
  ``sora_node.json``, of the render it holds (command, inputs hash, frames, job hash, status);
- the inputs hash: the settings and the content of every input file (the plate written from the
  node's input, the reference image, the edit file, the model folder's files). The same hash as
  the last finished version means that render is up to date.
"""

from __future__ import annotations

import hashlib
import json
import os
import re

from .process import ShimError, frame_paths, options_list
from .timeline import ShotStrip, shot_name, timeline_from_strips, write_text, write_timeline

RECORD = "sora_node.json"
RECORD_VERSION = 1
_VERSION = re.compile(r"^v(\d{3,})$")
_SEED = re.compile(r"^\d{1,19}$")
_SIZE = re.compile(r"^\d+x\d+$")
#: Statuses of a version; only these are offered in the node's version menu.
SHOWN = ("done", "submitted")


# --- versions ------------------------------------------------------------------------------

def version_name(number: int) -> str:
    return f"v{number:03d}"


def read_record(folder: str) -> dict | None:
    """A version folder's record, or None when it has none or it cannot be read."""
    try:
        with open(os.path.join(folder, RECORD), encoding="utf-8") as handle:
            record = json.load(handle)
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("record") == RECORD_VERSION else None


def write_record(folder: str, record: dict) -> None:
    text = json.dumps(dict(record, record=RECORD_VERSION), indent=2, sort_keys=True)
    write_text(os.path.join(folder, RECORD), text + "\n")


def version_folders(root: str) -> list[tuple[int, str]]:
    """(number, name) of every ``vNNN`` folder under ``root``, oldest first."""
    try:
        names = os.listdir(root)
    except OSError:
        return []
    found = [(int(m.group(1)), name) for name in names for m in [_VERSION.match(name)]
             if m and os.path.isdir(os.path.join(root, name))]
    return sorted(found)


def shown_versions(root: str) -> list[str]:
    """The versions a node offers: finished renders (and farm submissions), oldest first."""
    return [name for _, name in version_folders(root)
            if (read_record(os.path.join(root, name)) or {}).get("status") in SHOWN]


def version_for(root: str, inputs_hash: str) -> tuple[str, bool]:
    """The folder the next render goes to, and whether it resumes one.

    A render that was cancelled or failed part way, with the same inputs, is taken up in its own
    folder (sora-vfx keeps its finished frames); anything else is a new version.
    """
    folders = version_folders(root)
    if folders:
        name = folders[-1][1]
        record = read_record(os.path.join(root, name)) or {}
        if record.get("status") in ("started", "failed", "cancelled") and record.get("inputs_hash") == inputs_hash:
            return name, True
    return version_name(folders[-1][0] + 1 if folders else 1), False


def frames_exist(record: dict) -> bool:
    """Whether every frame a finished record names is on disk."""
    pattern, first, last = record.get("pattern"), record.get("first"), record.get("last")
    if not pattern or first is None or last is None:
        return False
    return all(os.path.isfile(path) for path in frame_paths(pattern, int(first), int(last)))


# --- the inputs hash -------------------------------------------------------------------------

def file_digest(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def files_digest(paths: list[str]) -> str:
    """One digest of the content of ``paths``, in order (a written plate's frames)."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(os.path.basename(path).encode())
        digest.update(file_digest(path).encode())
    return digest.hexdigest()


def model_fingerprint(model: str) -> object:
    """A built-in model's name, or a local folder's files with their sizes and times (cheap:
    no weight is read; a changed or replaced file changes it)."""
    if not os.path.isdir(model):
        return model
    files = []
    for folder, subfolders, names in os.walk(model):
        subfolders.sort()
        for name in sorted(names):
            path = os.path.join(folder, name)
            try:
                stat = os.stat(path)
            except OSError:
                continue
            files.append([os.path.relpath(path, model), stat.st_size, stat.st_mtime_ns])
    return {"folder": os.path.abspath(model), "files": files}


def inputs_hash(kind: str, settings: dict, *, executable: str, inputs: dict[str, str | None]) -> str:
    """The hash of everything that decides a node's render: its settings, the sora-vfx it runs,
    the model, and the digests of its input files (``inputs``: role -> digest, None when absent)."""
    try:
        stat = os.stat(executable)
        program = [os.path.abspath(executable), stat.st_size, stat.st_mtime_ns]
    except OSError:
        program = [executable]
    payload = {"kind": kind, "settings": settings, "sora_vfx": program,
               "model": model_fingerprint(str(settings.get("model") or "")), "inputs": inputs}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


# --- checks ------------------------------------------------------------------------------------

def seed_of(settings: dict) -> int | None:
    text = str(settings.get("seed") or "").strip()
    if not text:
        return None
    if not _SEED.match(text) or int(text) >= 2 ** 63:
        raise ShimError(f"seed: {text!r} is not a whole number from 0 to {2 ** 63 - 1}")
    return int(text)


def _size(settings: dict, knob: str) -> str | None:
    text = "".join(str(settings.get(knob) or "").split()).lower()
    if text and not _SIZE.match(text):
        raise ShimError(f"{knob}: {text!r} is not a size WxH, e.g. 832x480")
    return text or None


def _common(settings: dict) -> list[str]:
    """The options both nodes share: model, sampling and output transform."""
    model = str(settings.get("model") or "").strip()
    if not model:
        raise ShimError("model: give 'tiny', 'shapes' or a local diffusers folder")
    steps = int(settings.get("steps") or 0)
    if steps < 0:
        raise ShimError(f"steps: {steps} is below 0")
    return options_list(model=model, steps=steps or None, guidance=repr(float(settings.get("guidance", 5.0))),
                    output_transform=settings.get("output_transform"), display=settings.get("display"),
                    view=settings.get("view"))


# --- SoraExtend --------------------------------------------------------------------------------

def extend_command(settings: dict, *, executable: str, plate: str, out: str, plate_colorspace: str,
                   mask: str | None = None) -> list[str]:
    """``sora-vfx extend PLATE -o OUT ... --json`` for a SoraExtend node's settings.

    ``plate``: the written plate, ``plate.FIRST-LAST####.exr``; ``plate_colorspace``: what it was
    written in; ``mask``: the written matte of filmed pixels to generate too, or None.
    """
    by = settings.get("extend_by", "padding")
    if by == "padding":
        value = "".join(str(settings.get("pad") or "").split())
        if not value:
            raise ShimError("padding L,R,B,T: give the pixels to add, e.g. 256,256,0,0")
        geometry = ["--pad", value]
    elif by == "size":
        value = _size(settings, "to_size")
        if not value:
            raise ShimError("size WxH: give the new format, e.g. 2048x1152")
        geometry = ["--to-size", value, "--anchor", settings.get("anchor", "center")]
    else:
        value = "".join(str(settings.get("to_aspect") or "").split())
        if not value:
            raise ShimError("aspect: give the new picture aspect, e.g. 2.39 or 16:9")
        geometry = ["--to-aspect", value, "--anchor", settings.get("anchor", "center")]
    seed = seed_of(settings)
    path = settings.get("path", "video")
    command = [executable, "extend", plate, "-o", os.path.abspath(out)] + geometry
    command += options_list(prompt=settings.get("prompt"), negative_prompt=settings.get("negative_prompt"),
                        seed=seed)
    command += _common(settings)
    if int(settings.get("blend") or 0):
        command += ["--blend", str(int(settings["blend"]))]
    command += {"video": [], "per frame": ["--per-frame"], "static": ["--static"]}[path]
    if not settings.get("colour_match", True):
        command.append("--no-colour-match")
    if mask:
        command += ["--mask", mask]
    return command + ["--plate-colorspace", plate_colorspace, "--json"]


# --- SoraGenerate ------------------------------------------------------------------------------

def shot_overrides(settings: dict, reference: str | None) -> dict:
    """The node's prompt, negative prompt, style, seed and reference: what it says of its shot."""
    values = {"prompt": str(settings.get("prompt") or "").strip(),
              "negative_prompt": str(settings.get("negative_prompt") or "").strip(),
              "style": str(settings.get("style") or "").strip(), "seed": seed_of(settings),
              "reference": reference}
    return {key: value for key, value in values.items() if value not in ("", None)}


def edit_file(settings: dict) -> str:
    """The edit file knob's path, which must be a file."""
    edit = str(settings.get("edit_file") or "").strip()
    if not edit:
        raise ShimError("edit file: choose an EDL, OTIO or FCP XML file")
    if not os.path.isfile(edit):
        raise ShimError(f"edit file: not found: {edit}")
    return edit


def shot_name_of(settings: dict, node_name: str) -> str:
    if settings.get("source") == "edit shot":
        name = str(settings.get("shot") or "").strip()
        if not name:
            raise ShimError("shot: load the edit's shots and choose one")
        return name
    return str(settings.get("shot_name") or "").strip() or node_name


def generate_command(settings: dict, *, executable: str, out: str, node_name: str,
                     reference: str | None = None) -> list[str]:
    """``sora-vfx render EDIT -o OUT --shots SHOT ... --json`` for a SoraGenerate node.

    A prompt shot becomes a one-clip OTIO timeline, ``OUT/sora_node.otio``, its settings in the
    clip's ``sora_vfx`` metadata, rendered without handles from the node's first frame. An edit
    shot is rendered from the edit with the node's settings in a shot sheet,
    ``OUT/sora_node_shots.toml``. Both files are written here.
    """
    overrides = shot_overrides(settings, reference)
    shot = shot_name_of(settings, node_name)
    out = os.path.abspath(out)
    size = _size(settings, "size")
    if settings.get("source") == "edit shot":
        edit = edit_file(settings)
        handles = int(settings.get("handles") or 0)
        if handles < 0:
            raise ShimError(f"handles: {handles} is below 0")
        sheet = os.path.join(out, "sora_node_shots.toml")
        write_shot_sheet(sheet, shot, overrides)
        command = [executable, "render", os.path.abspath(edit), "-o", out, "--shots", shot,
                   "--handles", str(handles), "--shot-sheet", sheet]
    else:
        if not overrides.get("prompt"):
            raise ShimError("prompt: say what the shot shows")
        first, last = int(settings.get("first", 1001)), int(settings.get("last", 1001))
        if first < 0 or last < first:
            raise ShimError(f"frame range {first}-{last}: the first frame must be 0 or more and not after the last")
        fps = float(settings.get("fps") or 0)
        if not 0 < fps <= 1000:
            raise ShimError(f"fps: {fps} is not a frame rate")
        if shot_name(shot) != shot:
            raise ShimError(f"shot name: {shot!r} may hold only letters, digits, '_', '-' and '.' "
                            f"(e.g. {shot_name(shot)!r})")
        strip = ShotStrip(strip_name=shot, channel=1, start=0, end=last - first + 1, metadata=overrides,
                          host_metadata={"nuke": {"node": node_name}})
        edit = write_timeline(os.path.join(out, "sora_node.otio"),
                              timeline_from_strips([strip], fps=fps, name=node_name, exported_from="nuke"))
        command = [executable, "render", edit, "-o", out, "--handles", "0", "--start-frame", str(first)]
    command += options_list(size=size) + _common(settings)
    command += options_list(colorspace=settings.get("colorspace"))
    return command + ["--no-review", "--json"]


def write_shot_sheet(path: str, shot: str, overrides: dict) -> str:
    """A shot sheet with one entry (TOML; JSON strings are valid TOML basic strings)."""
    lines = ["# Written by the SoraGenerate node: its settings for this shot.", f"[shots.{json.dumps(shot)}]"]
    for key, value in overrides.items():
        lines.append(f"{key} = {value if isinstance(value, int) else json.dumps(str(value))}")
    return write_text(path, "\n".join(lines) + "\n")


def farm_command(render: list[str], *, bundle: str, render_out: str) -> list[str]:
    """``sora-vfx farm export`` of the same shot: the render command's edit and options, the
    bundle folder for ``-o`` and the version folder as the farm's output."""
    edit, options = render[2], list(render[3:])
    at = options.index("-o")
    del options[at:at + 2]
    options.remove("--no-review")  # the farm's render task makes no review page either
    return [render[0], "farm", "export", edit, "-o", os.path.abspath(bundle),
            "--render-out", os.path.abspath(render_out), "--force"] + options
