"""sora_vfx inside Nuke: menu commands that run the ``sora-vfx`` executable and load what it wrote.

Torch never loads inside Nuke: the work happens in a ``sora-vfx`` process (found through
``$SORA_VFX_EXECUTABLE`` or ``PATH``), whose ``--json`` output says what to load.
"""

__version__ = "0.1.0"
