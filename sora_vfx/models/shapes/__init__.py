"""The built-in ``shapes`` model: its components (:mod:`.model`), its training script
(:mod:`.train`) and the weights it ships with (``weights/``).

The world it draws and the grammar of its prompts are :mod:`sora_vfx.shapes`.
"""
