"""The "Sora VFX" menu in Nuke's menu bar, the nodes in the Nodes toolbar (and so the Tab menu),
and the callback that keeps Sora nodes' panels, Reads and labels right."""

from __future__ import annotations

import nuke

from . import actions, knobs, nodes

MENU = "Sora VFX"
RENDER_ITEM = "Render shots from edit..."


def install() -> None:
    """Add the menus and the knob callback; called by menu.py, which Nuke only runs with a GUI."""
    menu = nuke.menu("Nuke").addMenu(MENU)
    toolbar = nuke.menu("Nodes").addMenu(MENU)
    for kind, create in ((knobs.GENERATE, nodes.create_generate), (knobs.EXTEND, nodes.create_extend)):
        menu.addCommand(kind, create)
        toolbar.addCommand(kind, create)
    menu.addSeparator()
    menu.addCommand(RENDER_ITEM, actions.render_edit)
    nuke.addKnobChanged(nodes.knob_changed, nodeClass="Group")
