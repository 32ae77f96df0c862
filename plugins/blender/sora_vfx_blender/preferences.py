"""Add-on preferences: where sora-vfx is and how to render (Edit > Preferences > Add-ons > Sora VFX)."""

from __future__ import annotations

import bpy
from bpy.props import IntProperty, StringProperty

from .process import EXECUTABLE_ENV


class SoraVfxPreferences(bpy.types.AddonPreferences):
    bl_idname = __package__

    executable: StringProperty(
        name="sora-vfx executable", subtype="FILE_PATH", default="",
        description=f"Path to the sora-vfx program (empty: ${EXECUTABLE_ENV}, else sora-vfx on PATH)",
    )
    model: StringProperty(name="Model", default="tiny",
                          description="'tiny' (built in) or a local diffusers pipeline folder")
    style: StringProperty(name="Style", default="", description="Style for shots that name none (empty: none)")
    output_dir: StringProperty(
        name="Output folder", subtype="DIR_PATH", default="//sora_renders/",
        description="Where frames, manifest.json and renders.otio go (// is the .blend file's folder)",
    )
    size: StringProperty(name="Size", default="", description="WIDTHxHEIGHT (empty: the model's size)")
    steps: IntProperty(name="Steps", default=0, min=0, description="Denoising steps (0: the style or model decides)")
    handles: IntProperty(name="Handles", default=8, min=0, description="Frames rendered before and after each cut")

    def draw(self, context):
        layout = self.layout
        layout.use_property_split = True
        for name in ("executable", "model", "style", "output_dir", "size", "steps", "handles"):
            layout.prop(self, name)


def get_preferences(context) -> SoraVfxPreferences:
    return context.preferences.addons[__package__].preferences
