"""The knobs of the two Sora nodes, declared once: what ``nodes`` adds to a Group, what ``jobs``
reads back, and what the documentation's panel pictures are drawn from.

No ``nuke`` import at module level: the definitions are plain data (the picture of the panels is
drawn from them where no Nuke is installed); ``add_knobs`` takes the ``nuke`` module to build the
real knobs.
"""

from __future__ import annotations

from dataclasses import dataclass

GENERATE = "SoraGenerate"
EXTEND = "SoraExtend"
#: Hidden knob naming which of the two a Group is (``nodes.sora_kind``).
KIND_KNOB = "sora_vfx_node"

OUTPUT_TRANSFORMS = ("inverse-view", "srgb")
SOURCES = ("prompt", "edit shot")
EXTEND_BY = ("padding", "size", "aspect")
ANCHORS = ("center", "left", "right", "top", "bottom", "top-left", "top-right", "bottom-left", "bottom-right")
#: The extension path: the model's own (a video model fills the whole shot at once, an image
#: model works frame by frame), a video model frame by frame, or one frame reused on all.
EXTENSION_PATHS = ("video", "per frame", "static")
FRAME_RANGES = ("input", "custom")
NO_VERSION = "none"


@dataclass(frozen=True)
class KnobDef:
    """One knob: its Nuke class, name, label, default value, menu items and tooltip.

    ``kind`` is the Nuke knob class (``String_Knob``, ``Int_Knob``, ...). ``command`` is the Python
    a ``PyScript_Knob`` button runs. ``hidden`` knobs hold state (saved in the script, never shown);
    ``new_line`` starts a new row in the panel; ``read_only`` knobs are set by the node itself.
    """

    kind: str
    name: str
    label: str = ""
    default: object = ""
    values: tuple = ()
    tooltip: str = ""
    command: str = ""
    hidden: bool = False
    new_line: bool = True
    read_only: bool = False


def _button(name: str, label: str, function: str, tooltip: str, new_line: bool = True) -> KnobDef:
    """A button that calls ``sora_vfx_nuke.<module>.<function>(node)``; ``function`` is ``module.function``."""
    module = function.rsplit(".", 1)[0]
    command = f"import sora_vfx_nuke.{module}; sora_vfx_nuke.{function}(nuke.thisNode())"
    return KnobDef("PyScript_Knob", name, label, tooltip=tooltip, command=command, new_line=new_line)


def _header(kind: str) -> tuple:
    """The node's tab and the hidden knob that says which Sora node it is."""
    return (KnobDef("Tab_Knob", "sora_vfx", "Sora VFX"), KnobDef("String_Knob", KIND_KNOB, "", kind, hidden=True))


_MODEL = (
    KnobDef("String_Knob", "model", "model", "tiny",
            tooltip="'tiny' or 'shapes' (built in), or a local diffusers folder"),
    KnobDef("String_Knob", "seed", "seed", "",
            tooltip="Noise seed, a whole number; empty: sora-vfx derives one from the shot or plate name"),
    _button("new_seed", "new seed", "nodes.new_seed", "A new random seed", new_line=False),
    KnobDef("Int_Knob", "steps", "steps", 0, tooltip="Denoising steps; 0: the model's"),
    KnobDef("Double_Knob", "guidance", "guidance", 5.0, tooltip="Guidance scale"),
)
_TRANSFORM = (
    KnobDef("Enumeration_Knob", "output_transform", "output transform", "inverse-view", OUTPUT_TRANSFORMS,
            tooltip="inverse-view: the inverse of the OCIO display/view, so display white becomes a "
                    "highlight; srgb: sRGB texture, white is 1.0"),
    KnobDef("String_Knob", "display", "display", "", tooltip="OCIO display; empty: the config's"),
    KnobDef("String_Knob", "view", "view", "", tooltip="OCIO view; empty: the display's", new_line=False),
)
_OUTPUT = (
    KnobDef("Text_Knob", "results_divider", "", ""),
    KnobDef("File_Knob", "output_folder", "output folder", "",
            tooltip="Where versions go (OUT/v001, OUT/v002, ...); empty: sora/<node name> beside the script"),
    _button("render", "Render", "runs.render", "Render a new version with sora-vfx (in the background)"),
    KnobDef("Enumeration_Knob", "version", "version", NO_VERSION, (NO_VERSION,),
            tooltip="The version the node shows; every render adds one", new_line=False),
)
_STATE = (
    KnobDef("Text_Knob", "status", "status", "not rendered", read_only=True),
    KnobDef("String_Knob", "last_inputs_hash", "", "", hidden=True),
    KnobDef("String_Knob", "last_version", "", "", hidden=True),
    KnobDef("String_Knob", "last_job_hash", "", "", hidden=True),
    #: The digests of the last render's input files (JSON), so a knob change can say "up to date".
    KnobDef("String_Knob", "last_inputs", "", "", hidden=True),
)

GENERATE_KNOBS = (
    *_header(GENERATE),
    KnobDef("Enumeration_Knob", "source", "shot from", "prompt", SOURCES,
            tooltip="prompt: a shot made from the knobs below; edit shot: one shot of an edit file"),
    KnobDef("File_Knob", "edit_file", "edit file", "", tooltip="EDL, OTIO or FCP XML"),
    KnobDef("Enumeration_Knob", "shot", "shot", "", ("",),
            tooltip="The edit's shots (sora-vfx shots --json); choosing one sets its prompt, seed and range"),
    _button("load_shots", "load shots", "nodes.load_shots", "Read the edit's shots again", new_line=False),
    #: The edit's shots as ``load_shots`` read them (JSON): the shot menu's ranges, prompts, seeds.
    KnobDef("String_Knob", "edit_shots", "", "", hidden=True),
    KnobDef("Int_Knob", "handles", "handles", 8, tooltip="Frames rendered before and after the cut (edit shots)"),
    KnobDef("String_Knob", "shot_name", "shot name", "",
            tooltip="Name of a prompt shot (its files and conform); empty: the node's name"),
    KnobDef("Multiline_Eval_String_Knob", "prompt", "prompt", "", tooltip="What the shot shows"),
    KnobDef("Multiline_Eval_String_Knob", "negative_prompt", "negative prompt", "", tooltip="What it should not show"),
    KnobDef("String_Knob", "style", "style", "", tooltip="A style name (sora-vfx styles) or empty"),
    *_MODEL,
    KnobDef("String_Knob", "size", "size WxH", "", tooltip="Frame size, e.g. 832x480; empty: the model's"),
    KnobDef("Int_Knob", "first", "frame range", 1001, tooltip="First frame (edit shots: head_in, set from the shot)"),
    KnobDef("Int_Knob", "last", "to", 1024, new_line=False, tooltip="Last frame (edit shots: tail_out)"),
    KnobDef("Double_Knob", "fps", "fps", 24.0, tooltip="Frame rate of a prompt shot"),
    KnobDef("String_Knob", "colorspace", "colour space", "ACEScg", tooltip="Colour space of the EXRs"),
    *_TRANSFORM,
    *_OUTPUT,
    _button("submit_to_farm", "Submit to farm", "runs.submit_to_farm",
            "Write an OpenJD job bundle and submit it with $SORA_VFX_FARM_SUBMIT", new_line=False),
    *_STATE,
)

EXTEND_KNOBS = (
    *_header(EXTEND),
    KnobDef("Enumeration_Knob", "extend_by", "extend by", "padding", EXTEND_BY,
            tooltip="padding: pixels added on each side; size: a new format; aspect: a new picture aspect"),
    KnobDef("String_Knob", "pad", "padding L,R,B,T", "256,256,0,0", tooltip="Pixels to add left, right, bottom, top"),
    KnobDef("String_Knob", "to_size", "size WxH", "2048x1152", tooltip="The new display window"),
    KnobDef("String_Knob", "to_aspect", "aspect", "2.39", tooltip="The new picture aspect, e.g. 2.39 or 16:9"),
    KnobDef("Enumeration_Knob", "anchor", "plate at", "center", ANCHORS,
            tooltip="Where the plate sits in a new size or aspect"),
    KnobDef("Multiline_Eval_String_Knob", "prompt", "prompt", "", tooltip="What the border shows"),
    KnobDef("Multiline_Eval_String_Knob", "negative_prompt", "negative prompt", "", tooltip="What it should not show"),
    *_MODEL,
    KnobDef("Enumeration_Knob", "path", "extension", "video", EXTENSION_PATHS,
            tooltip="video: a video model fills the whole shot at once (an image model always works frame "
                    "by frame); per frame: a video model on each frame alone; static: one frame, reused"),
    KnobDef("Int_Knob", "blend", "blend", 0, tooltip="Feather this many pixels of the seam, generated side only"),
    KnobDef("Boolean_Knob", "colour_match", "colour match", True,
            tooltip="Video path: match the border's colour at the seam to the plate's, its highlights "
                    "rolled off above the plate's brightest value", new_line=False),
    KnobDef("Enumeration_Knob", "frame_range", "frame range", "input", FRAME_RANGES,
            tooltip="input: the plate's own range; custom: first to last below"),
    KnobDef("Int_Knob", "first", "first", 1001, new_line=False),
    KnobDef("Int_Knob", "last", "last", 1100, new_line=False),
    *_TRANSFORM,
    *_OUTPUT,
    *_STATE,
)

KNOBS = {GENERATE: GENERATE_KNOBS, EXTEND: EXTEND_KNOBS}
#: The knobs whose values decide a render (buttons, dividers and state left out).
SETTING_KINDS = ("String_Knob", "Multiline_Eval_String_Knob", "File_Knob", "Int_Knob", "Double_Knob",
                 "Enumeration_Knob", "Boolean_Knob")


def settings_of(kind: str) -> tuple:
    """The knobs of ``kind`` that are settings (saved, read into ``jobs``)."""
    return tuple(k for k in KNOBS[kind] if k.kind in SETTING_KINDS and not k.hidden and k.name != "version")


def add_knobs(nuke, node, kind: str) -> None:
    """Add the knobs of ``kind`` (``GENERATE`` or ``EXTEND``) to ``node``, with their defaults."""
    for definition in KNOBS[kind]:
        node.addKnob(make_knob(nuke, definition))


def make_knob(nuke, definition: KnobDef):
    """One real knob from its definition."""
    make = getattr(nuke, definition.kind)
    label = definition.label or definition.name
    if definition.kind == "Enumeration_Knob":
        knob = make(definition.name, label, list(definition.values))
    elif definition.kind == "PyScript_Knob":
        knob = make(definition.name, label, definition.command)
    elif definition.kind == "Text_Knob":
        knob = make(definition.name, definition.label, str(definition.default))
    else:
        knob = make(definition.name, label)
    if definition.kind not in ("Tab_Knob", "PyScript_Knob", "Text_Knob") and definition.default not in ("", None):
        knob.setValue(definition.default)
    if definition.tooltip:
        knob.setTooltip(definition.tooltip)
    if definition.hidden:
        knob.setFlag(nuke.INVISIBLE)
    elif definition.new_line:
        knob.setFlag(nuke.STARTLINE)
    else:
        knob.clearFlag(nuke.STARTLINE)
    if definition.read_only:
        knob.setEnabled(False)
    return knob
