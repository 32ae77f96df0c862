"""The "Sora VFX" menu in Nuke's menu bar."""

from __future__ import annotations

import nuke

from . import actions

MENU = "Sora VFX"
EXTEND_ITEM = "Extend plate..."
RENDER_ITEM = "Render shots from edit..."


def install() -> None:
    """Add the menu; called by menu.py, which Nuke only runs with a GUI."""
    menu = nuke.menu("Nuke").addMenu(MENU)
    menu.addCommand(EXTEND_ITEM, actions.extend_selected_plate)
    menu.addCommand(RENDER_ITEM, actions.render_edit)
