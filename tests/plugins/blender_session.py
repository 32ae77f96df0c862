"""Runs inside the real ``bpy`` module (the Blender venv), started by test_blender.py.

Installs the built extension zip the way Blender does, builds a sequencer timeline, runs both
operators synchronously against the real sora-vfx, then disables the extension. Everything the
test checks is written to a JSON file; the test asserts on it.

    python blender_session.py EXTENSION_ZIP WORK_DIR SORA_VFX RESULT_JSON FAKE_SORA_VFX

FAKE_SORA_VFX runs fake_sora_vfx.py: a manifest of an unknown version, frames outside OUT/<shot>/.
"""

import json
import os
import sys

import bpy

zip_path, work, sora_vfx, result_path, fake_sora_vfx = sys.argv[1:6]
MODULE = "bl_ext.user_default.sora_vfx"
result = {"errors": []}


def check(condition, message):
    if not condition:
        result["errors"].append(message)


def strips_on(scene, channel):
    found = []
    for strip in sorted(scene.sequence_editor.strips, key=lambda s: s.frame_final_start):
        if strip.channel != channel:
            continue
        info = {"name": strip.name, "type": strip.type, "channel": strip.channel,
                "frame_start": strip.frame_start, "final_start": strip.frame_final_start,
                "final_end": strip.frame_final_end, "offset_start": strip.frame_offset_start,
                "offset_end": strip.frame_offset_end}
        if strip.type == "IMAGE":
            info.update(directory=bpy.path.abspath(strip.directory),
                        files=[e.filename for e in strip.elements],
                        colorspace=strip.colorspace_settings.name,
                        sora_shot=strip.get("sora_shot"), sora_seed=strip.get("sora_seed"))
        found.append(info)
    return found


def run(operator, **properties):
    """Run an operator; an ERROR report comes back as RuntimeError from bpy.ops, kept as text."""
    try:
        return {"result": sorted(operator(**properties)), "error": None}
    except RuntimeError as exc:
        return {"result": None, "error": str(exc)}


# -- install and enable, as Edit > Preferences > Get Extensions > Install from Disk does --------
result["install"] = sorted(bpy.ops.extensions.package_install_files(
    filepath=zip_path, repo="user_default", enable_on_install=True))
check(MODULE in bpy.context.preferences.addons, "extension not enabled after install")
check(hasattr(bpy.types, "SEQUENCER_OT_sora_render_timeline"), "timeline operator not registered")
check(hasattr(bpy.types, "SEQUENCER_MT_sora_vfx"), "menu not registered")

prefs = bpy.context.preferences.addons[MODULE].preferences
prefs.executable = sora_vfx
prefs.output_dir = os.path.join(work, "renders") + os.sep
prefs.size, prefs.steps, prefs.handles = "32x32", 2, 1

# -- a fresh scene: three shots on channel 2, a background strip on channel 1 -------------------
scene = bpy.data.scenes.new("sora_test")
bpy.context.window.scene = scene
scene.render.fps, scene.render.fps_base = 24, 1.0
scene.frame_start = 1
editor = scene.sequence_editor_create()
editor.strips.new_effect("BG", "COLOR", 1, 1, length=60)
for name, start, length, prompt in (("SH_0010", 10, 5, "fog over a harbour"),
                                    ("SH 0020", 15, 7, "a lighthouse beam at night"),
                                    ("SH_0030", 30, 9, "")):
    strip = editor.strips.new_effect(name, "COLOR", 2, start, length=length)
    if prompt:
        strip["sora_prompt"] = prompt
editor.strips["SH_0030"]["sora_seed"] = 42

# -- render shots from the timeline ----------------------------------------------------------
result["timeline_run"] = run(bpy.ops.sequencer.sora_render_timeline, channels="2", synchronous=True)
result["timeline_otio"] = os.path.join(work, "renders", "sequencer.otio")
result["timeline_strips"] = strips_on(scene, 3)

# -- render shots from an edit file: the OTIO just written, placed from the scene start -------
result["edit_run"] = run(bpy.ops.sequencer.sora_render_edit, filepath=result["timeline_otio"], synchronous=True)
result["edit_strips"] = strips_on(scene, 4)

# -- the modal path, driven by hand: the bpy module has no event loop to send timer events ------
import importlib  # noqa: E402
import time  # noqa: E402
import types  # noqa: E402

operators = importlib.import_module(f"{MODULE}.operators")


class StubWindowManager:
    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        return lambda *args, **kwargs: self.calls.append([name, *[str(a) for a in args]]) or "timer"


class StubWorkspace:
    def __init__(self):
        self.status = []

    def status_text_set(self, text):
        self.status.append(text)


class ModalRun(operators._SoraRenderOperator):
    """The operators' shared code on a plain object, as Blender would drive it with a window."""

    synchronous = False

    def __init__(self):
        self.reports = []

    def waits(self, context):
        return False  # as with a window: poll from timer events

    def report(self, kind, message):
        self.reports.append([sorted(kind)[0], message])


def modal_context():
    return types.SimpleNamespace(scene=scene, sequencer_scene=scene, window=object(),
                                 window_manager=StubWindowManager(), workspace=StubWorkspace(),
                                 preferences=bpy.context.preferences)


timer, escape = types.SimpleNamespace(type="TIMER"), types.SimpleNamespace(type="ESC")
context, modal = modal_context(), ModalRun()
edit = result["timeline_otio"]
started = modal.start(context, edit, {"SH_0010": 100, "SH_0020": 105, "SH_0030": 120})
returned, deadline = None, time.time() + 300
while time.time() < deadline:
    returned = modal.modal(context, timer)
    if returned != {"PASS_THROUGH"}:
        break
    time.sleep(0.1)
result["modal"] = {"started": sorted(started), "returned": sorted(returned), "reports": modal.reports,
                   "wm_calls": sorted({c[0] for c in context.window_manager.calls}),
                   "last_status": context.workspace.status[-1] if context.workspace.status else "unset",
                   "statuses": len(context.workspace.status),
                   "status_texts": context.workspace.status[:3] + context.workspace.status[-3:],
                   "strips": strips_on(scene, 5)}
context, modal = modal_context(), ModalRun()
modal.start(context, edit, None)
result["modal_escape"] = {"returned": sorted(modal.modal(context, escape)), "reports": modal.reports,
                          "returncode": modal._process.returncode, "cancelled": modal._process.cancelled,
                          "wm_calls": [c[0] for c in context.window_manager.calls]}

# -- failures are reported and cancel ------------------------------------------------------------
result["empty_channel_run"] = run(bpy.ops.sequencer.sora_render_timeline, channels="9", synchronous=True)
prefs.model = os.path.join(work, "no_such_model")
result["bad_model_run"] = run(bpy.ops.sequencer.sora_render_timeline, channels="2", synchronous=True)
prefs.model = "tiny"
prefs.executable = os.path.join(work, "nowhere", "sora-vfx")
result["missing_executable_run"] = run(bpy.ops.sequencer.sora_render_timeline, channels="2", synchronous=True)
result["missing_edit_run"] = run(bpy.ops.sequencer.sora_render_edit, filepath=os.path.join(work, "nope.edl"),
                                 synchronous=True)
prefs.executable, prefs.output_dir = fake_sora_vfx, os.path.join(work, "fake_renders") + os.sep
os.environ["FAKE_SORA_VFX_MANIFEST_VERSION"] = "3"  # the sora-vfx process inherits os.environ
result["unknown_manifest_run"] = run(bpy.ops.sequencer.sora_render_edit, filepath=edit, synchronous=True)
result["channels_after_failures"] = sorted({s.channel for s in editor.strips})

# -- frames where the manifest says, not where OUT/<shot>/ would put them -------------------------
os.environ["FAKE_SORA_VFX_MANIFEST_VERSION"] = "1"
os.environ["FAKE_SORA_VFX_FRAME"] = os.path.join(work, "renders", "SH_0010", "SH_0010.1001.exr")  # a real EXR
result["elsewhere_run"] = run(bpy.ops.sequencer.sora_render_edit, filepath=edit, synchronous=True)
result["elsewhere_strips"] = strips_on(scene, 6)

# -- disable (unregister) cleanly, then enable and disable again --------------------------------
def registered():
    draw_funcs = getattr(bpy.types.SEQUENCER_MT_editor_menus.draw, "_draw_funcs", [])
    return {
        "addon": MODULE in bpy.context.preferences.addons,
        "operators": [n for n in ("SEQUENCER_OT_sora_render_timeline", "SEQUENCER_OT_sora_render_edit",
                                  "SEQUENCER_MT_sora_vfx") if hasattr(bpy.types, n)],
        "header_menu": [f.__module__ for f in draw_funcs if f.__module__.startswith(MODULE)],
    }


result["registered"] = registered()
bpy.ops.preferences.addon_disable(module=MODULE)
result["after_disable"] = registered()
bpy.ops.preferences.addon_enable(module=MODULE)
result["after_enable"] = registered()
bpy.ops.preferences.addon_disable(module=MODULE)
result["after_second_disable"] = registered()

with open(result_path, "w", encoding="utf-8") as handle:
    json.dump(result, handle, indent=2)
