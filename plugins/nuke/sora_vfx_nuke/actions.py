"""The batch menu command: render every shot of an edit file, one Read node per shot.

It asks for its settings in a panel, runs ``sora-vfx ... --json`` in the background (see
``background``) and, back on the main thread, creates Read nodes for what was written. One shot
with its settings kept in the script is a SoraGenerate node (``nodes``).
"""

from __future__ import annotations

import os

import nuke

from .background import BackgroundRun, show_error
from .nodes import safe_name, set_colorspace
from .process import (
    ShimError,
    SoraProcess,
    failed_shots,
    find_executable,
    read_manifest,
    render_command,
    render_progress_files,
    shot_pattern,
    shots_command,
)

RENDER_TITLE = "Render shots"
# Panel fields; tests answer panels by these names.
OUTPUT = "output folder"
MODEL = "model"
EDIT = "edit file"
STYLE = "style"
SIZE = "size WxH"
STEPS = "steps"
HANDLES = "handles"

NODE_SPACING = 120


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
    set_colorspace(read, colorspaces)
    read["label"].setValue(label)
    read.setName(safe_name(name), uncollide=True)
    read.setXYpos(int(position[0]), int(position[1]))
    return read


def _free_position() -> tuple[int, int]:
    nodes = nuke.allNodes()
    if not nodes:
        return 0, 0
    return max(n.xpos() for n in nodes) + NODE_SPACING, min(n.ypos() for n in nodes)


def _integer(text: str, name: str) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ShimError(f"{name}: {text!r} is not a whole number") from None
