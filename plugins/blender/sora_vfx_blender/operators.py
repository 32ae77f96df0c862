"""Video Sequencer operators: render shots from the timeline or from an edit file with sora-vfx.

Each runs ``sora-vfx shots --json`` (fast: checks the edit, counts frames) and then
``sora-vfx render --json`` in a subprocess. With a window the operator is modal: a timer polls
the process, the progress bar and status bar follow it, Esc cancels. In background mode
(``blender -b``, the bpy module) it waits for the process instead. Then each rendered shot's
EXR sequence is added as an image strip on a new channel, at the frames its shot has in the edit.
"""

from __future__ import annotations

import os

import bpy
from bpy.props import BoolProperty, StringProperty

from .preferences import get_preferences
from .process import (
    ShimError,
    SoraProcess,
    failed_shots,
    find_executable,
    frame_paths,
    read_manifest,
    render_command,
    render_progress_files,
    shot_pattern,
    shots_command,
)
from .timeline import STRIP_PROPERTIES, ShotStrip, timecode_frames, timeline_from_strips, write_timeline

TIMELINE_FILE = "sequencer.otio"
MAX_CHANNEL = 128


def sequencer_scene(context):
    # Blender 5.0 edits the workspace's sequencer scene, which may not be the active scene.
    return getattr(context, "sequencer_scene", None) or context.scene


def scene_fps(scene) -> float:
    return scene.render.fps / scene.render.fps_base


def parse_channels(text: str) -> set[int]:
    """``"1, 3-4"`` -> {1, 3, 4}."""
    channels: set[int] = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            low, _, high = part.partition("-")
            first, last = int(low), int(high or low)
        except ValueError:
            raise ShimError(f"channels: {part!r} is not a channel number or range (e.g. 1, 3-4)") from None
        if not (1 <= first <= last <= MAX_CHANNEL):
            raise ShimError(f"channels: {part!r} is outside 1-{MAX_CHANNEL}")
        channels.update(range(first, last + 1))
    return channels


def collect_strips(scene, channels: set[int]) -> list[ShotStrip]:
    """The visual strips of the chosen channels (all channels when empty), muted ones left out."""
    editor = scene.sequence_editor
    found = []
    for strip in editor.strips if editor else ():
        if strip.type == "SOUND" or strip.mute or (channels and strip.channel not in channels):
            continue
        metadata = {}
        for prop, key in STRIP_PROPERTIES.items():
            value = strip.get(prop)
            if value is not None and str(value).strip():
                metadata[key] = int(value) if key == "seed" else str(value)
        media = None
        if strip.type == "MOVIE":
            media = bpy.path.abspath(strip.filepath)
        found.append(ShotStrip(
            strip_name=strip.name, channel=strip.channel, start=strip.frame_final_start,
            end=strip.frame_final_end, source_start=int(strip.frame_offset_start), media_path=media,
            metadata=metadata,
            host_metadata={"blender": {"strip": strip.name, "channel": strip.channel,
                                       "frame_start": strip.frame_final_start}},
        ))
    return found


def free_channel(scene) -> int:
    editor = scene.sequence_editor
    used = [s.channel for s in editor.strips_all] if editor else []
    channel = max(used, default=0) + 1
    if channel > MAX_CHANNEL:
        raise ShimError(f"no free channel above {max(used)} for the rendered shots")
    return channel


def add_image_strips(scene, manifest_path: str, manifest: dict, placements: dict[str, int], channel: int) -> list:
    """One image strip per rendered shot; its cut lands on ``placements[shot]``, handles trimmed off.

    Each reads the frames where the manifest says they are (its ``frames.pattern``).
    """
    colorspace = (manifest.get("settings") or {}).get("colorspace") or "ACEScg"
    editor = scene.sequence_editor_create()
    added = []
    for entry in manifest.get("shots", []):
        name, frames = entry["name"], entry["frames"]
        if name not in placements or entry.get("status") == "failed":
            continue
        files = frame_paths(shot_pattern(manifest_path, entry), frames["first"], frames["last"])
        missing = [f for f in files if not os.path.isfile(f)]
        if missing:
            raise ShimError(f"shot {name}: {len(missing)} frames missing, e.g. {missing[0]}")
        head = frames["cut_in"] - frames["first"]
        tail = frames["last"] - frames["cut_out"]
        strip = editor.strips.new_image(name=f"{name}_render", filepath=files[0], channel=channel,
                                        frame_start=placements[name] - head, fit_method="FIT")
        for path in files[1:]:
            strip.elements.append(os.path.basename(path))
        strip.frame_offset_start, strip.frame_offset_end = head, tail
        try:
            strip.colorspace_settings.name = colorspace
        except TypeError:
            print(f"sora_vfx: colour space {colorspace!r} unknown to this Blender; {name} left as default")
        strip["sora_shot"], strip["sora_seed"] = name, str(entry.get("seed", ""))
        added.append(strip)
    return added


class _SoraRenderOperator:
    """Shared by both operators: the two sora-vfx steps, polling, cancelling, loading the result."""

    bl_options = {"REGISTER", "UNDO"}

    synchronous: BoolProperty(
        name="Wait", default=False, options={"HIDDEN", "SKIP_SAVE"},
        description="Wait for the render instead of running it in the background (scripts, tests)",
    )

    @classmethod
    def poll(cls, context):
        return sequencer_scene(context) is not None

    def start(self, context, edit: str, placements: dict[str, int] | None) -> set[str]:
        """Render ``edit``; ``placements`` maps shot names to the frame their cut starts on (None: the edit's)."""
        prefs = get_preferences(context)
        self._scene = sequencer_scene(context)
        self._placements = placements
        self._out = bpy.path.abspath(prefs.output_dir or "//sora_renders/")
        self._executable = find_executable(prefs.executable or None)
        self._edit = edit
        self._render = render_command(
            executable=self._executable, edit=edit, out=self._out, model=prefs.model or None,
            style=prefs.style or None, size=prefs.size or None, steps=prefs.steps or None, handles=prefs.handles,
        )
        self._process = SoraProcess(shots_command(executable=self._executable, edit=edit, handles=prefs.handles))
        self._process.start()
        self._stage = "shots"
        self._timer = None
        if self.waits(context):
            while True:
                self._process.wait(interval=0.1)
                result = self._step_done(context)
                if result is not None:
                    return result
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.25, window=context.window)
        wm.modal_handler_add(self)
        wm.progress_begin(0, 100)
        return {"RUNNING_MODAL"}

    def waits(self, context) -> bool:
        """Wait for the process here: asked to, or no event loop to send timer events (background mode)."""
        return self.synchronous or bpy.app.background or context.window is None

    def modal(self, context, event):
        if event.type == "ESC":
            self._process.cancel()
            self._end_ui(context)
            self.report({"WARNING"}, "Sora VFX: render cancelled (finished frames are kept and reused next time)")
            return {"CANCELLED"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        if not self._process.poll():
            context.window_manager.progress_update(int((self._process.progress or 0.0) * 100))
            stage = "reading the edit" if self._stage == "shots" else f"rendering {len(self._jobs)} shots"
            latest = f": {self._process.message[-100:]}" if self._process.message else ""
            context.workspace.status_text_set(f"Sora VFX: {stage}{latest} (Esc to cancel)")
            return {"PASS_THROUGH"}
        result = self._step_done(context)
        if result is None:
            return {"PASS_THROUGH"}
        self._end_ui(context)
        return result

    def cancel(self, context):
        # Blender calls this when the operator is stopped from outside (file load, quit).
        if getattr(self, "_process", None) is not None:
            self._process.cancel()
        if getattr(self, "_timer", None) is not None:
            self._end_ui(context)

    def _end_ui(self, context):
        if self._timer is not None:
            context.window_manager.event_timer_remove(self._timer)
            self._timer = None
            context.window_manager.progress_end()
            context.workspace.status_text_set(None)

    def _step_done(self, context) -> set[str] | None:
        """After a step: start the next one (None) or finish the operator."""
        process = self._process
        try:
            if self._stage == "shots":
                jobs = process.result(list)
                if not jobs:
                    raise ShimError(f"{self._edit}: no shots to render")
                expected = render_progress_files(self._out, jobs)
                self._jobs = jobs
                self._stage = "render"
                self._process = SoraProcess(self._render, total_shots=len(jobs), expected_files=expected).start()
                return None
            return self._load(process)
        except ShimError as exc:
            self.report({"ERROR"}, f"Sora VFX: {exc}")
            return {"CANCELLED"}
        except Exception as exc:  # noqa: BLE001  (a bug must not leave the timer and status bar behind)
            self.report({"ERROR"}, f"Sora VFX: internal error: {type(exc).__name__}: {exc}")
            return {"CANCELLED"}

    def _load(self, process: SoraProcess) -> set[str]:
        summary = process.result(dict, partial=True)
        path = summary["manifest"]
        manifest = read_manifest(path)
        placements = self._placements or self._placements_from_edit(manifest)
        channel = free_channel(self._scene)
        added = add_image_strips(self._scene, path, manifest, placements, channel)
        failed = failed_shots(summary)
        if failed:
            details = "; ".join(failed)
            self.report({"ERROR"}, f"Sora VFX: {len(failed)} shot(s) failed ({len(added)} added): {details}")
            return {"FINISHED"} if added else {"CANCELLED"}
        self.report({"INFO"}, f"Sora VFX: {len(added)} shots rendered to {self._out}, added on channel {channel}")
        return {"FINISHED"}

    def _placements_from_edit(self, manifest: dict) -> dict[str, int]:
        """Record timecodes -> frames, the edit's first cut at the scene's start frame."""
        records = {}
        for entry in manifest.get("shots", []):
            job = entry.get("job") or {}
            fps = float(job.get("fps") or scene_fps(self._scene))
            records[entry["name"]] = timecode_frames(entry["record_in"], fps, bool(job.get("drop_frame")))
        first = min(records.values(), default=0)
        return {name: self._scene.frame_start + frame - first for name, frame in records.items()}


class SEQUENCER_OT_sora_render_timeline(_SoraRenderOperator, bpy.types.Operator):
    """Render the strips of the chosen channels as shots with sora-vfx and add the results as image strips"""

    bl_idname = "sequencer.sora_render_timeline"
    bl_label = "Render Shots from Timeline"

    channels: StringProperty(
        name="Channels", default="",
        description="Channels whose strips are shots, e.g. 1 or 2-3 (empty: channels of the selected "
                    "strips, else all)",
    )

    def invoke(self, context, event):
        if not self.channels:
            editor = sequencer_scene(context).sequence_editor
            selected = sorted({s.channel for s in editor.strips if s.select}) if editor else []
            self.channels = ",".join(str(c) for c in selected)
        return context.window_manager.invoke_props_dialog(self)

    def execute(self, context):
        scene = sequencer_scene(context)
        try:
            strips = collect_strips(scene, parse_channels(self.channels))
            if not strips:
                where = f"channel(s) {self.channels}" if self.channels else "the sequencer"
                raise ShimError(f"no strips to render on {where} (sound and muted strips are left out)")
            timeline = timeline_from_strips(strips, fps=scene_fps(scene), name=scene.name, exported_from="blender")
        except (ShimError, ValueError) as exc:
            self.report({"ERROR"}, f"Sora VFX: {exc}")
            return {"CANCELLED"}
        out = bpy.path.abspath(get_preferences(context).output_dir or "//sora_renders/")
        edit = write_timeline(os.path.join(out, TIMELINE_FILE), timeline)
        try:
            return self.start(context, edit, {s.name: s.start for s in strips})
        except ShimError as exc:
            self.report({"ERROR"}, f"Sora VFX: {exc}")
            return {"CANCELLED"}


class SEQUENCER_OT_sora_render_edit(_SoraRenderOperator, bpy.types.Operator):
    """Render the shots of an edit file (EDL, OTIO, FCP XML) with sora-vfx and add them as image strips"""

    bl_idname = "sequencer.sora_render_edit"
    bl_label = "Render Shots from Edit File"

    filepath: StringProperty(name="Edit file", subtype="FILE_PATH", default="")
    filter_glob: StringProperty(default="*.edl;*.otio;*.xml;*.fcpxml", options={"HIDDEN"})

    def invoke(self, context, event):
        context.window_manager.fileselect_add(self)
        return {"RUNNING_MODAL"}

    def execute(self, context):
        edit = bpy.path.abspath(self.filepath)
        try:
            if not os.path.isfile(edit):
                raise ShimError(f"edit file not found: {edit or '(none chosen)'}")
            return self.start(context, edit, None)
        except ShimError as exc:
            self.report({"ERROR"}, f"Sora VFX: {exc}")
            return {"CANCELLED"}


class SEQUENCER_MT_sora_vfx(bpy.types.Menu):
    bl_idname = "SEQUENCER_MT_sora_vfx"
    bl_label = "Sora VFX"

    def draw(self, context):
        layout = self.layout
        layout.operator_context = "INVOKE_DEFAULT"
        layout.operator(SEQUENCER_OT_sora_render_timeline.bl_idname, text="Render Shots from Timeline...")
        layout.operator(SEQUENCER_OT_sora_render_edit.bl_idname, text="Render Shots from Edit File...")


def draw_header_menu(self, context):
    self.layout.menu(SEQUENCER_MT_sora_vfx.bl_idname)


CLASSES = (SEQUENCER_OT_sora_render_timeline, SEQUENCER_OT_sora_render_edit, SEQUENCER_MT_sora_vfx)
