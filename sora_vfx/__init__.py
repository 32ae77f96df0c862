"""sora_vfx: generative shots and plate extensions for the VFX pipeline."""

__version__ = "0.1.0"
