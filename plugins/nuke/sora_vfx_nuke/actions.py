"""The two menu commands: extend the selected plate, render the shots of an edit.

Each asks for its settings in a panel, runs ``sora-vfx ... --json`` in the background (see
``background``) and, back on the main thread, creates Read nodes for what was written.
"""

from __future__ import annotations

import os
import re

import nuke

from .background import BackgroundRun, show_error
from .process import (
    ShimError,
    SoraProcess,
    extend_command,
    failed_shots,
    find_executable,
    frame_paths,
    read_manifest,
    render_command,
    render_progress_files,
    shot_pattern,
    shots_command,
)

EXTEND_TITLE = "Extend plate"
RENDER_TITLE = "Render shots"
# Panel fields; tests answer panels by these names.
PAD = "padding L,R,B,T"
TO_SIZE = "or extend to size WxH"
PROMPT = "prompt"
OUTPUT = "output folder"
MODEL = "model"
EDIT = "edit file"
STYLE = "style"
SIZE = "size WxH"
STEPS = "steps"
HANDLES = "handles"

_FRAME_TOKEN = re.compile(r"#+|@+|%0?\d*d")
NODE_SPACING = 120


def extend_selected_plate() -> BackgroundRun | None:
    """Extend the selected Read node's plate; a new Read for the result appears beside it."""
    try:
        source = nuke.selectedNode()
    except ValueError:
        source = None
    if source is None or source.Class() != "Read":
        show_error(f"{EXTEND_TITLE}: select the Read node of the plate to extend.")
        return None
    pattern = nuke.filename(source)
    if not pattern:
        show_error(f"{EXTEND_TITLE}: {source.name()} has no file.")
        return None
    first, last = int(source["first"].value()), int(source["last"].value())
    colorspace = source["colorspace"].value()

    panel = nuke.Panel(f"Sora VFX: {EXTEND_TITLE}")
    panel.addSingleLineInput(PAD, "256,256,0,0")
    panel.addSingleLineInput(TO_SIZE, "")
    panel.addSingleLineInput(PROMPT, "")
    panel.addFilenameSearch(OUTPUT, os.path.join(os.path.dirname(pattern), "extended") + "/")
    panel.addSingleLineInput(MODEL, "tiny")
    panel.addSingleLineInput(STEPS, "")
    if not panel.show():
        return None
    to_size = panel.value(TO_SIZE).strip()
    out = panel.value(OUTPUT).strip()
    try:
        if not out:
            raise ShimError("choose an output folder")
        extra = ["--prompt", panel.value(PROMPT)] if panel.value(PROMPT).strip() else []
        steps = _integer(panel.value(STEPS), STEPS)
        extra += ["--steps", str(steps)] if steps else []
        if not colorspace.startswith("default"):
            extra += ["--plate-colorspace", colorspace]
        command = extend_command(
            executable=find_executable(), plate=plate_with_range(pattern, first, last), out=out,
            pad=None if to_size else panel.value(PAD), to_size=to_size or None,
            model=panel.value(MODEL), extra=extra,
        )
    except ShimError as exc:
        show_error(f"{EXTEND_TITLE}: {exc}")
        return None
    expected = frame_paths(os.path.join(os.path.abspath(out), f"{plate_name(pattern)}_ext.####.exr"), first, last)

    def work(run: BackgroundRun):
        return run.run_process(SoraProcess(command, expected_files=expected), "extending")

    def finish(process: SoraProcess) -> None:
        document = process.result(dict, partial=True)
        read = create_read(
            path=document["pattern"], first=document["frames"]["first"] or first,
            last=document["frames"]["last"] or last,
            colorspaces=[colorspace, document.get("colorspace")],
            label=f"extended {document.get('pad', '')}\nmask: {document.get('mask_channel', 'mask')}",
            name=f"{source.name()}_ext",
            position=(source.xpos() + NODE_SPACING, source.ypos()),
        )
        failed = document.get("failed") or []
        if failed:
            frames = ", ".join(str(item.get("frame")) for item in failed)
            show_error(f"{EXTEND_TITLE}: {read.name()} is missing frames {frames}:\n{process.error_message}")

    return BackgroundRun(EXTEND_TITLE, work, finish).start()


def render_edit() -> BackgroundRun | None:
    """Render every shot of an edit file; one Read node per shot, labelled with its name and seed."""
    panel = nuke.Panel(f"Sora VFX: {RENDER_TITLE}")
    panel.addFilenameSearch(EDIT, "")
    panel.addFilenameSearch(OUTPUT, "")
    panel.addSingleLineInput(MODEL, "tiny")
    panel.addSingleLineInput(STYLE, "")
    panel.addSingleLineInput(SIZE, "")
    panel.addSingleLineInput(STEPS, "")
    panel.addSingleLineInput(HANDLES, "8")
    if not panel.show():
        return None
    edit = panel.value(EDIT).strip()
    out = panel.value(OUTPUT).strip() or os.path.join(os.path.dirname(edit), "renders")
    try:
        if not edit or not os.path.isfile(edit):
            raise ShimError(f"choose an edit file (EDL, OTIO or FCP XML){': not found: ' + edit if edit else ''}")
        executable = find_executable()
        handles = _integer(panel.value(HANDLES), HANDLES)
        list_shots = shots_command(executable=executable, edit=edit, handles=handles)
        render = render_command(
            executable=executable, edit=edit, out=out, model=panel.value(MODEL), style=panel.value(STYLE),
            size=panel.value(SIZE), steps=_integer(panel.value(STEPS), STEPS), handles=handles,
        )
    except ShimError as exc:
        show_error(f"{RENDER_TITLE}: {exc}")
        return None

    def work(run: BackgroundRun):
        listing = run.run_process(SoraProcess(list_shots), "reading the edit")
        if run.cancelled:
            return None
        jobs = listing.result(list)
        process = SoraProcess(render, total_shots=len(jobs), expected_files=render_progress_files(out, jobs))
        return run.run_process(process, f"rendering {len(jobs)} shots")

    def finish(process: SoraProcess) -> None:
        document = process.result(dict, partial=True)
        reads = create_shot_reads(document)
        failed = failed_shots(document)
        if failed:
            lines = "\n".join(failed)
            show_error(f"{RENDER_TITLE}: {len(failed)} shot(s) failed ({len(reads)} loaded):\n{lines}")

    return BackgroundRun(RENDER_TITLE, work, finish).start()


def create_shot_reads(document: dict) -> list:
    """One Read per rendered shot of a ``render --json`` summary, in a row right of the graph;
    each reads the frames where the manifest says they are (its ``frames.pattern``)."""
    manifest_path = document["manifest"]
    manifest = read_manifest(manifest_path)
    wanted = {shot["name"] for shot in document.get("shots", []) if shot.get("status") != "failed"}
    colorspace = (manifest.get("settings") or {}).get("colorspace") or "ACEScg"
    x, y = _free_position()
    reads = []
    for entry in manifest.get("shots", []):
        if entry["name"] not in wanted:
            continue
        frames = entry["frames"]
        reads.append(create_read(
            path=shot_pattern(manifest_path, entry), first=frames["first"], last=frames["last"],
            colorspaces=[colorspace], label=f"{entry['name']}\nseed {entry['seed']}",
            name=f"sora_{entry['name']}", position=(x, y),
        ))
        x += NODE_SPACING
    return reads


def create_read(*, path: str, first: int, last: int, colorspaces: list[str | None], label: str,
                name: str, position: tuple[int, int]):
    """A Read node for a frame sequence, its range, colour space, label and place set."""
    read = nuke.nodes.Read()
    read["file"].setValue(path.replace("\\", "/"))
    for knob, value in (("first", first), ("origfirst", first), ("last", last), ("origlast", last)):
        read[knob].setValue(int(value))
    _set_colorspace(read, colorspaces)
    read["label"].setValue(label)
    read.setName(re.sub(r"[^A-Za-z0-9_]", "_", name), uniquify=True)
    read.setXYpos(int(position[0]), int(position[1]))
    return read


def _set_colorspace(read, names: list[str | None]) -> None:
    # The first name this Nuke's OCIO config knows; nuke-default has no ACEScg, its "linear" is close.
    candidates = [n for n in names if n] + ["scene_linear", "linear"]
    for name in candidates:
        try:
            read["colorspace"].setValue(name)
            return
        except (ValueError, RuntimeError, TypeError):
            continue
    print(f"sora_vfx: {read.name()}: none of the colour spaces {candidates} exists here; left as default")


def _free_position() -> tuple[int, int]:
    nodes = nuke.allNodes()
    if not nodes:
        return 0, 0
    return max(n.xpos() for n in nodes) + NODE_SPACING, min(n.ypos() for n in nodes)


def plate_with_range(pattern: str, first: int, last: int) -> str:
    """``plate.%04d.exr`` with the Read's range written in: ``plate.1001-1100%04d.exr``."""
    tokens = list(_FRAME_TOKEN.finditer(pattern))
    if not tokens:
        return pattern
    token = tokens[-1]
    return f"{pattern[: token.start()]}{first}-{last}{pattern[token.start():]}"


def plate_name(pattern: str) -> str:
    """The name sora-vfx gives a plate: its file name up to the frame number."""
    base = os.path.basename(pattern)
    tokens = list(_FRAME_TOKEN.finditer(base))
    head = base[: tokens[-1].start()] if tokens else os.path.splitext(base)[0]
    return head.rstrip("._-") or "plate"


def _integer(text: str, name: str) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ShimError(f"{name}: {text!r} is not a whole number") from None
