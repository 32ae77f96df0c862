# sora_vfx for Nuke: loaded by every Nuke session, GUI or not (render nodes, `nuke -t`).
#
# This folder is on the plugin path (NUKE_PATH or nuke.pluginAddPath), so the
# `sora_vfx_nuke` package beside this file is importable; the menu is made by menu.py,
# which Nuke only loads with a GUI. Nothing here touches the UI or starts a process.
