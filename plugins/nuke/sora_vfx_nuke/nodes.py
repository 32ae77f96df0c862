"""The SoraGenerate and SoraExtend nodes: Group nodes whose knobs hold every setting.

Everything a node knows lives in its knobs, so it is saved in the .nk and comes back when the
script is reopened: the settings, the versions rendered so far, which one it shows, and the
inputs hash of its last render. Inside the Group: an Input (the plate, or a reference image), a
Read of the version shown, and the Output. The buttons (``render``, ``submit_to_farm``,
``new_seed``, ``load_shots``) are module functions a ``PyScript_Knob`` calls with the node;
``knob_changed`` follows edits (``nuke.addKnobChanged``, installed by the menu).
"""

from __future__ import annotations

import json
import os
import random
import re
import traceback

import nuke

from . import jobs, knobs
from .process import ShimError, SoraProcess, find_executable, shots_command

RESULT_READ = "result"
#: The Input nodes inside each kind of node, in input order: SoraGenerate's 0 is the reference
#: image; SoraExtend's 0 is the plate, 1 an optional matte of filmed pixels to generate too.
INPUT_NAMES = {knobs.GENERATE: ("reference",), knobs.EXTEND: ("plate", "mask")}
#: Colour space names tried in order for the Reads and Writes the nodes make (an ACES config
#: has ACEScg; nuke-default's "linear" is the nearest).
WORKING_COLORSPACES = ("ACEScg", "scene_linear", "linear")
_LABEL_WIDTH = 60


def create_generate():
    """A SoraGenerate node (a shot from a prompt or from an edit), connected to the selection."""
    return create(knobs.GENERATE)


def create_extend():
    """A SoraExtend node (extends the plate on its input), connected to the selection."""
    return create(knobs.EXTEND)


def create(kind: str):
    node = nuke.createNode("Group", inpanel=False)
    node.setName(f"{kind}1", uncollide=True)
    knobs.add_knobs(nuke, node, kind)
    node.begin()
    try:
        for index, name in enumerate(INPUT_NAMES[kind]):
            nuke.nodes.Input(name=name).setXYpos(120 * index, 0)
        read = nuke.nodes.Read(name=RESULT_READ)
        nuke.nodes.Output(inputs=[read]).setXYpos(0, 200)
        read.setXYpos(0, 100)
    finally:
        node.end()
    update_knob_states(node)
    update_label(node)
    return node


def sora_kind(node) -> str | None:
    """``GENERATE``, ``EXTEND`` or None for any other node."""
    knob = node.knob(knobs.KIND_KNOB) if node is not None else None
    value = knob.value() if knob is not None else None
    return value if value in knobs.KNOBS else None


def sora_nodes(names: list[str] | None = None) -> list:
    """The script's Sora nodes (in groups too), or those of ``names``; an unknown name is an error."""
    found = [n for n in nuke.allNodes(recurseGroups=True) if sora_kind(n)]
    if not names:
        return found
    by_name = {n.fullName(): n for n in found}
    missing = [name for name in names if name not in by_name]
    if missing:
        raise ShimError(f"no Sora node named {', '.join(missing)} (there are: {', '.join(sorted(by_name)) or 'none'})")
    return [by_name[name] for name in names]


def settings(node) -> dict:
    """The node's settings, by knob name (what ``jobs`` builds the command line from)."""
    values = {}
    for definition in knobs.settings_of(sora_kind(node)):
        knob = node[definition.name]
        values[definition.name] = knob.evaluate() if definition.kind == "File_Knob" else knob.value()
    return values


def output_root(node) -> str:
    """The node's output folder: its knob, else ``sora/<node name>`` beside the saved script."""
    folder = node["output_folder"].evaluate().strip()
    if folder:
        return os.path.abspath(os.path.expanduser(folder))
    script = nuke.root().name()
    if not script or script == "Root":
        raise ShimError("set the output folder, or save the script (versions go to sora/<node> beside it)")
    return os.path.join(os.path.dirname(os.path.abspath(script)), "sora", node.name())


# --- buttons ------------------------------------------------------------------------------------

def guarded(function):
    """A button's work: a ``ShimError`` or a bug becomes the node's error, never a traceback dialog."""
    def call(node, *args, **kwargs):
        try:
            return function(node, *args, **kwargs)
        except ShimError as exc:
            show_failure(node, str(exc))
        except Exception as exc:  # noqa: BLE001
            traceback.print_exc()
            show_failure(node, f"internal error in the Sora VFX plugin: {type(exc).__name__}: {exc}")
        return None
    call.__name__ = function.__name__
    call.__doc__ = function.__doc__
    return call


@guarded
def new_seed(node) -> None:
    """A new random seed in the seed knob."""
    node["seed"].setValue(str(random.SystemRandom().randrange(0, 2 ** 31)))
    update_status(node)


@guarded
def load_shots(node) -> list[dict]:
    """Read the edit file's shots (``sora-vfx shots --json``) into the shot menu."""
    edit = jobs.edit_file(settings(node))
    command = shots_command(executable=find_executable(), edit=edit, handles=int(node["handles"].value()))
    process = SoraProcess(command).start().wait()
    shots = [{key: shot.get(key) for key in ("name", "head_in", "tail_out", "prompt", "negative_prompt",
                                             "style", "seed", "fps")}
             for shot in process.result(list)]
    if not shots:
        raise ShimError(f"{edit}: the edit has no shots")
    node["edit_shots"].setValue(json.dumps(shots))
    names = [shot["name"] for shot in shots]
    node["shot"].setValues(names)
    chosen = node["shot"].value()
    node["shot"].setValue(chosen if chosen in names else names[0])
    use_shot(node)
    return shots


def use_shot(node) -> None:
    """Set the knobs from the chosen shot of the edit: range with handles, prompt, seed, style."""
    try:
        shots = json.loads(node["edit_shots"].value() or "[]")
    except ValueError:
        shots = []
    shot = next((s for s in shots if s.get("name") == node["shot"].value()), None)
    if shot is None:
        return
    node["first"].setValue(int(shot["head_in"]))
    node["last"].setValue(int(shot["tail_out"]))
    for knob in ("prompt", "negative_prompt", "style"):
        node[knob].setValue(shot.get(knob) or "")
    node["seed"].setValue("" if shot.get("seed") is None else str(shot["seed"]))
    if shot.get("fps"):
        node["fps"].setValue(float(shot["fps"]))
    update_label(node)
    update_status(node)


# --- what the node shows ------------------------------------------------------------------------

def knob_changed() -> None:
    """``nuke.addKnobChanged`` callback for Groups: keeps a Sora node's panel, Read and label right."""
    node, knob = nuke.thisNode(), nuke.thisKnob()
    if not sora_kind(node) or knob is None:
        return
    name = knob.name()
    if name == "version":
        show_version(node, knob.value())
    elif name == "edit_file":
        load_shots(node)
    elif name == "shot":
        use_shot(node)
    elif name in ("source", "extend_by", "frame_range"):
        update_knob_states(node)
    if name in {d.name for d in knobs.settings_of(sora_kind(node))}:
        update_label(node)
        update_status(node)


def update_knob_states(node) -> None:
    """Enable the knobs the node's choices use; the others are greyed out."""
    kind = sora_kind(node)
    if kind == knobs.GENERATE:
        edit = node["source"].value() == "edit shot"
        for name in ("edit_file", "shot", "load_shots", "handles"):
            node[name].setEnabled(edit)
        for name in ("shot_name", "fps", "first", "last"):
            node[name].setEnabled(not edit)
    else:
        by = node["extend_by"].value()
        node["pad"].setEnabled(by == "padding")
        node["to_size"].setEnabled(by == "size")
        node["to_aspect"].setEnabled(by == "aspect")
        node["anchor"].setEnabled(by != "padding")
        custom = node["frame_range"].value() == "custom"
        node["first"].setEnabled(custom)
        node["last"].setEnabled(custom)


def show_version(node, version: str) -> dict | None:
    """Point the node's Read at ``version``'s frames, range and colour space."""
    read = inner(node, RESULT_READ)
    record = jobs.read_record(os.path.join(output_root(node), version)) if version != knobs.NO_VERSION else None
    if record is None or not record.get("pattern"):
        read["file"].setValue("")
        return None
    read["file"].setValue(record["pattern"].replace("\\", "/"))
    for name, value in (("first", record["first"]), ("origfirst", record["first"]),
                        ("last", record["last"]), ("origlast", record["last"])):
        read[name].setValue(int(value))
    set_colorspace(read, [record.get("colorspace")])
    update_label(node)
    return record


def refresh_versions(node, select: str | None = None) -> list[str]:
    """The version menu from the output folder (finished renders), ``select`` chosen."""
    shown = jobs.shown_versions(output_root(node)) or [knobs.NO_VERSION]
    current = select or node["version"].value()
    node["version"].setValues(shown)
    node["version"].setValue(current if current in shown else shown[-1])
    show_version(node, node["version"].value())
    return shown


def update_label(node) -> None:
    """The node's label: shot (or plate), seed, model and the version shown."""
    values = settings(node)
    if sora_kind(node) == knobs.GENERATE:
        try:
            first = jobs.shot_name_of(values, node.name())
        except ShimError:
            first = "no shot"
    else:
        first = "extend " + {"padding": values["pad"], "size": values["to_size"],
                             "aspect": values["to_aspect"]}[values["extend_by"]]
    seed = str(values.get("seed") or "").strip() or "auto"
    model = os.path.basename(str(values["model"]).rstrip("/\\")) or "?"
    lines = [first, f"seed {seed}  model {model}"]
    version = node["version"].value()
    if version != knobs.NO_VERSION:
        lines.append(version)
    node["label"].setValue("\n".join(line[:_LABEL_WIDTH] for line in lines))


def update_status(node) -> None:
    """The status line after a knob changed: up to date with the last render, or changed since."""
    last = node["last_version"].value()
    if not last or not node["last_inputs_hash"].value():
        return
    try:
        inputs = json.loads(node["last_inputs"].value() or "{}")
        current = jobs.inputs_hash(sora_kind(node), settings(node), executable=find_executable(), inputs=inputs)
    except (ShimError, ValueError):
        return
    if current == node["last_inputs_hash"].value():
        set_status(node, f"{last} is up to date (the inputs are checked again on Render)")
    else:
        set_status(node, f"settings changed since {last}: Render makes a new version")


def set_status(node, text: str) -> None:
    node["status"].setValue(text)


def show_failure(node, message: str) -> None:
    """A failed render or button: sora-vfx's own one line on the node and in the script editor."""
    line = message.strip().splitlines()[0] if message.strip() else "failed"
    print(f"sora_vfx: {node.name()}: {message}")
    set_status(node, f"ERROR: {line}")
    update_label(node)
    node["label"].setValue(node["label"].value() + "\nERROR: " + line[:_LABEL_WIDTH])


def inner(node, name: str):
    """A node inside the Group."""
    node.begin()
    try:
        found = nuke.toNode(name)
    finally:
        node.end()
    if found is None:
        raise ShimError(f"{node.name()} has no node {name} inside: recreate it from the Sora VFX menu")
    return found


def set_colorspace(node, names: list[str | None]) -> str | None:
    """The first colour space of ``names`` (then the working ones) this Nuke's OCIO config knows."""
    candidates = [n for n in names if n] + list(WORKING_COLORSPACES)
    for name in candidates:
        try:
            node["colorspace"].setValue(name)
            return name
        except (ValueError, RuntimeError, TypeError):
            continue
    print(f"sora_vfx: {node.name()}: none of the colour spaces {candidates} exists here; left as default")
    return None


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)
