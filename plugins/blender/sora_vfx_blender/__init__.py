"""Sora VFX for Blender's Video Sequencer: render generative shots with the sora-vfx program.

Everything heavy runs in a ``sora-vfx`` process (torch never loads inside Blender); this
extension exports strips, follows the process and adds the EXR sequences it wrote as strips.
"""

from __future__ import annotations

import bpy

from . import operators, preferences

_CLASSES = (preferences.SoraVfxPreferences, *operators.CLASSES)


def register() -> None:
    for cls in _CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.SEQUENCER_MT_editor_menus.append(operators.draw_header_menu)


def unregister() -> None:
    bpy.types.SEQUENCER_MT_editor_menus.remove(operators.draw_header_menu)
    for cls in reversed(_CLASSES):
        bpy.utils.unregister_class(cls)
